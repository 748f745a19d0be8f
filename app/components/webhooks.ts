/**
 * Webhooks: events (session.closed from the relay, usage.* from the limiter) are stored in the
 * outbox and delivered with retries. Started before signaling and the relay, stopped after them,
 * so the last session.closed and usage events of a shutdown are stored and get a moment to go out.
 */
import type { LoadedConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/logger.js';
import type { FerryMetrics } from '../../src/metrics/index.js';
import type { Storage } from '../../src/store/storage.js';
import { WebhookDispatcher } from '../../src/webhooks/index.js';
import type { Component } from './component.js';

export const WEBHOOKS_KEYS = ['webhooks'] as const;

export interface WebhooksDeps {
  readonly config: LoadedConfig;
  readonly storage: Storage;
  readonly metrics: FerryMetrics;
  readonly log: Logger;
}

export class WebhooksComponent implements Component {
  readonly name = 'webhooks';
  readonly keys = WEBHOOKS_KEYS;
  readonly dispatcher: WebhookDispatcher;
  readonly #log: Logger;
  readonly #unobserve: () => void;

  constructor(deps: WebhooksDeps) {
    this.#log = deps.log;
    const dispatcher = new WebhookDispatcher({ hooks: deps.config.config.webhooks, outbox: deps.storage.outbox, log: deps.log.child({ component: 'webhooks' }) });
    this.dispatcher = dispatcher;
    // The gauge is read synchronously at scrape time: the figure the dispatcher keeps up to date.
    this.#unobserve = deps.metrics.observe({ webhookBacklog: () => dispatcher.lastBacklog });
  }

  async start(): Promise<void> {
    this.dispatcher.start();
  }

  /** Delivers what is due for a moment (the last session.closed events); the rest stays stored. */
  stop(): Promise<void> {
    this.#unobserve();
    return this.dispatcher.stop();
  }

  validate(next: LoadedConfig): void {
    WebhookDispatcher.validate(next.config.webhooks);
    // The dispatcher refuses changes once stopping; the check belongs to validate so apply cannot throw.
    if (this.dispatcher.stopping) throw new Error('Ferry is stopping');
  }

  apply(next: LoadedConfig, changed: ReadonlySet<string>): void {
    const hooks = this.dispatcher.update(next.config.webhooks);
    if (changed.has('webhooks')) {
      const { added, removed, changed: n } = hooks;
      // The kept count is read from the outbox (across the network with Redis): logged once known.
      void hooks.kept.then((count) => {
        const kept = count === undefined ? ' (undelivered events of removed URLs kept stored)' : count > 0 ? ` (${count} undelivered events of removed URLs kept stored)` : '';
        this.#log.info({ added, removed, changed: n, kept: count ?? null }, `webhooks reloaded: ${added} added, ${removed} removed${kept}, ${n} changed`);
      });
    }
  }
}
