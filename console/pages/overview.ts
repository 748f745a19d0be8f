/**
 * Overview: what the relay is doing now, from GET /v1/overview every POLL_MS. The node answers
 * byte counters since its start; the rate each way is the difference between two answers of the
 * same node (and the same start) over the time between their `at`. Behind a load balancer the
 * answers come from several nodes: the figures are those of the node that answered, named, and
 * the chart follows one node (the first that answered, until it stops answering), keeping the
 * last few minutes in memory (nothing is stored: a page opened now starts empty). The chart's
 * latest figures are also on the page as text.
 */
import { ApiError } from '../api.js';
import { chart } from '../chart.js';
import { h, replace, setText } from '../dom.js';
import { formatBytes, formatCount, formatRate, formatShare, formatTime } from '../format.js';
import { POLL_MS, type PageContext } from '../page.js';
import { NodeReadings, RateHistory } from '../rates.js';
import { errorText } from './error.js';
import { badge, renderAtLimit, renderRelays, type AtLimit, type Relay } from './overview-tables.js';

/** GET /v1/overview, the parts the page shows. */
interface Overview {
  readonly at: string;
  readonly node_id: string | null;
  readonly node: {
    readonly started_at: string;
    readonly allocations: number;
    readonly bytes_to_peer: number;
    readonly bytes_to_client: number;
    readonly webhook_backlog: number;
    readonly signaling_connections: number;
  };
  readonly timeframe: { readonly start: string; readonly end: string };
  readonly usage: { readonly total_bytes: number; readonly bytes_to_peer: number; readonly bytes_to_client: number; readonly accounts: number };
  readonly limits: {
    readonly soft_limit: number;
    readonly hard_limit: number;
    readonly global: { readonly limit_bytes: number; readonly used: number; readonly state: 'ok' | 'soft_limit' | 'hard_limit' } | null;
  };
  readonly accounts: { readonly total: number; readonly with_limit: number; readonly at_limit_total: number; readonly at_limit: readonly AtLimit[] };
  readonly relays: readonly Relay[] | null;
  readonly problems: readonly string[];
}

/** The chart's span: five minutes of answers, one every POLL_MS (and some room for late ones). */
const WINDOW_MS = 5 * 60_000;
const MAX_POINTS = Math.ceil(WINDOW_MS / POLL_MS) + 30;
/** The chart moves to the node that answers when the one it follows has not answered for this long. */
const FOLLOW_MS = 30_000;
/** Where `near` starts, as GET /v1/overview documents it: this share of the soft threshold. */
const NEAR_SOFT = 0.8;

interface Stat {
  readonly card: HTMLElement;
  readonly value: HTMLElement;
  readonly sub: HTMLElement;
}

function stat(id: string, label: string): Stat {
  const value = h('p', { class: 'value', id: `${id}-value` }, '–');
  const sub = h('p', { class: 'sub' });
  const card = h('div', { class: 'card stat', id, role: 'group', 'aria-labelledby': `${id}-label` }, h('p', { class: 'label', id: `${id}-label` }, label), value, sub);
  return { card, value, sub };
}

function section(id: string, title: string, ...content: HTMLElement[]): HTMLElement {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...content);
}

export function overviewPage(ctx: PageContext): void {
  const toPeer = stat('rate-to-peer', 'Relayed now, to peers');
  const toClient = stat('rate-to-client', 'Relayed now, to clients');
  const allocations = stat('allocations', 'Live allocations');
  const backlog = stat('webhook-backlog', 'Webhook backlog');
  const signaling = stat('signaling', 'Signaling connections');
  const usage = stat('usage', 'Usage this timeframe');
  const global = stat('global-limit', 'Global limit');
  const accounts = stat('accounts', 'Accounts');
  const updated = h('p', { class: 'help', id: 'overview-updated' }, 'Loading…');
  const failure = h('div', { class: 'error', role: 'alert', hidden: true });
  const problems = h('div', { class: 'warn-box', role: 'status', hidden: true });
  const chartBox = h('div', { class: 'chart-box' });
  const chartNote = h('p', { class: 'help' }, 'The rate appears after two answers.');
  const atLimit = h('div', {}, h('p', { class: 'help' }, 'Loading…'));
  const atLimitNote = h('p', { class: 'help' });
  const relays = h('div', {}, h('p', { class: 'help' }, 'Loading…'));

  replace(
    ctx.main,
    h('div', { class: 'row spread page-head' }, h('h1', {}, 'Overview'), updated),
    failure,
    problems,
    h('div', { class: 'grid overview-stats' }, toPeer.card, toClient.card, allocations.card, usage.card, global.card, accounts.card, backlog.card, signaling.card),
    section('rate-chart-title', 'Relayed bytes per second, last 5 minutes', chartBox, chartNote),
    section('at-limit-title', 'Accounts near or over their limit', atLimitNote, atLimit),
    section('relays-title', 'Relays', relays),
  );

  const rates = chart(chartBox, {
    label: 'Relayed bytes per second over the last 5 minutes, to peers and to clients (the current figures are in the text above)',
    series: [
      { label: 'To peers', stroke: '#0b5cad' },
      { label: 'To clients', stroke: '#b35900' },
    ],
    unit: 'rate',
    height: 240,
  });
  ctx.onLeave(() => rates.destroy());

  const history = new RateHistory(WINDOW_MS, MAX_POINTS);
  const readings = new NodeReadings();
  /** The node the chart follows, and when (its `at`) it last answered. */
  let charted: { node: string | null; lastMs: number } | undefined;
  let shownProblems = '';
  const nodeName = (id: string | null) => (id === null ? 'this node' : `node ${id}`);

  const show = (o: Overview) => {
    const atMs = Date.parse(o.at);
    const taken = readings.take(o.node_id, o.node.started_at, { atMs, toPeer: o.node.bytes_to_peer, toClient: o.node.bytes_to_client });
    // The same reading again (an answer made in the same millisecond): nothing new to show.
    if (!taken.fresh) return;
    const { rate } = taken;
    setText(toPeer.value, rate === null ? '–' : formatRate(rate.toPeer));
    setText(toClient.value, rate === null ? '–' : formatRate(rate.toClient));
    if (charted !== undefined && charted.node !== o.node_id && atMs - charted.lastMs > FOLLOW_MS) {
      // The followed node is gone (drained, or the load balancer left it): follow this one.
      charted = undefined;
      history.clear();
    }
    if (charted === undefined || charted.node === o.node_id) {
      charted = { node: o.node_id, lastMs: atMs };
      // A reading without a rate (the first of this node, or since it restarted) is a gap.
      if (history.length > 0 || rate !== null) history.push(atMs, rate);
      const s = history.series();
      rates.setData(s.x, [s.toPeer, s.toClient]);
      setText(
        chartNote,
        history.rates === 0
          ? `The rate of ${nodeName(o.node_id)} appears after two answers.`
          : `${nodeName(o.node_id)[0]!.toUpperCase()}${nodeName(o.node_id).slice(1)}: ${formatCount(history.rates)} readings, asked every ${POLL_MS / 1000} s, kept in this page only.`,
      );
    }
    setText(toPeer.sub, `${formatBytes(o.node.bytes_to_peer)} since ${nodeName(o.node_id)} started`);
    setText(toClient.sub, `${formatBytes(o.node.bytes_to_client)} since ${nodeName(o.node_id)} started`);
    setText(allocations.value, formatCount(o.node.allocations));
    setText(allocations.sub, `on ${nodeName(o.node_id)}`);
    setText(backlog.value, formatCount(o.node.webhook_backlog));
    setText(backlog.sub, o.node.webhook_backlog === 0 ? 'all delivered' : 'events not yet delivered');
    setText(signaling.value, formatCount(o.node.signaling_connections));
    setText(signaling.sub, `WebSocket peers on ${nodeName(o.node_id)}`);
    setText(usage.value, formatBytes(o.usage.total_bytes));
    setText(usage.sub, `${formatTime(o.timeframe.start)} to ${formatTime(o.timeframe.end)}`);
    usage.value.title = `${formatCount(o.usage.total_bytes)} bytes (${formatCount(o.usage.bytes_to_peer)} to peers, ${formatCount(o.usage.bytes_to_client)} to clients)`;
    setText(accounts.value, formatCount(o.accounts.total));
    setText(accounts.sub, `${formatCount(o.accounts.with_limit)} with a limit; ${formatCount(o.usage.accounts)} relayed this timeframe`);
    const g = o.limits.global;
    if (g === null) {
      setText(global.value, 'None');
      setText(global.sub, 'network_usage.global_limit is not set');
    } else {
      replace(global.value, formatShare(g.used), ' ', badge(g.state, g.state === 'ok' ? 'ok' : g.state.replace('_', ' ')));
      setText(global.sub, `of ${formatBytes(g.limit_bytes)} this timeframe`);
    }
    setText(
      atLimitNote,
      `Soft limit at ${formatShare(o.limits.soft_limit)} of an account's limit (no new allocations), hard limit at ${formatShare(o.limits.hard_limit)} (live ones closed); near: ${formatShare(NEAR_SOFT)} of the way to the soft limit.`,
    );
    renderAtLimit(atLimit, o.accounts.at_limit, o.accounts.at_limit_total, o.accounts.with_limit);
    renderRelays(relays, o.relays, atMs);
    // A live region: filled again only when the problems change, so they are read once.
    const problemsKey = o.problems.join('\n');
    if (problemsKey !== shownProblems) {
      shownProblems = problemsKey;
      problems.hidden = o.problems.length === 0;
      replace(problems, ...(o.problems.length === 0 ? [] : [h('h2', {}, 'Problems'), h('ul', {}, ...o.problems.map((p) => h('li', {}, p)))]));
    }
    setText(updated, `Updated ${o.at.slice(11, 19)} UTC`);
  };

  ctx.every(POLL_MS, async () => {
    try {
      show(await ctx.api.get<Overview>('/v1/overview'));
      failure.hidden = true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // signed out already
      // The figures on screen stay (marked as old by the time above); the next poll tries again.
      failure.hidden = false;
      setText(failure, `Could not update: ${errorText(err)}. Trying again every ${POLL_MS / 1000} s.`);
    }
  });
}
