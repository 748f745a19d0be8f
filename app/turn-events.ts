/**
 * Composes TurnEvents listeners: the engine takes one `events` object, the composition root has
 * several consumers (metrics, webhooks, metering). Each listener is isolated: one that throws does
 * not keep the others from running, and nothing reaches the engine.
 */
import type { TurnEvents } from '../turn/index.js';

export function combineTurnEvents(...parts: readonly (TurnEvents | undefined)[]): TurnEvents {
  const list = parts.filter((p): p is TurnEvents => p !== undefined);
  const call = <A extends unknown[]>(pick: (e: TurnEvents) => ((...args: A) => void) | undefined) => {
    const fns = list.map(pick).filter((f): f is (...args: A) => void => f !== undefined);
    return (...args: A) => {
      for (const f of fns) {
        try {
          f(...args);
        } catch {
          // Listeners must not throw; a faulty one must not break the others or the engine.
        }
      }
    };
  };
  return {
    allocationCreated: call((e) => e.allocationCreated?.bind(e)),
    allocationClosed: call((e) => e.allocationClosed?.bind(e)),
    authFailure: call((e) => e.authFailure?.bind(e)),
    peerRefused: call((e) => e.peerRefused?.bind(e)),
    connectionRefused: call((e) => e.connectionRefused?.bind(e)),
    rateLimited: call((e) => e.rateLimited?.bind(e)),
  };
}
