/**
 * The overview's two tables: the accounts near or over their limit, and the relays of the fleet.
 * Both are small (at most 100 accounts are listed, a fleet is a handful of nodes) and rebuilt when
 * an answer changes them; the focus, when it was on one of their links (or on the scrolling box),
 * is put back on the same one in the new table.
 */
import { h, replace, type Child } from '../dom.js';
import { formatAge, formatBytes, formatCount, formatRate, formatShare, formatTime } from '../format.js';

/** One entry of GET /v1/overview `accounts.at_limit`. */
export interface AtLimit {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
  readonly limit: number;
  readonly used_bytes: number;
  readonly used: number;
  readonly state: 'near' | 'soft_limit' | 'hard_limit';
}

/** One relay of GET /v1/overview `relays` (as GET /v1/relays). */
export interface Relay {
  readonly node_id: string;
  readonly public_host: string;
  readonly region: string | null;
  readonly state: 'active' | 'draining';
  readonly transports: readonly string[];
  readonly load: { readonly allocations: number; readonly bps: number };
  readonly started_at: string;
  readonly version: string;
  readonly self: boolean;
}

const STATE_WORDS: Record<AtLimit['state'], string> = { near: 'near the limit', soft_limit: 'soft limit', hard_limit: 'hard limit' };

export function badge(kind: string, text: string): HTMLElement {
  return h('span', { class: `badge ${kind}` }, text);
}

function table(caption: string, head: readonly (readonly [string, boolean])[], rows: readonly HTMLTableRowElement[]): HTMLElement {
  return h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption },
    h(
      'table',
      { class: 'data' },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, ...head.map(([text, num]) => h('th', { scope: 'col', class: num ? 'num' : undefined }, text)))),
      h('tbody', {}, ...rows),
    ),
  );
}

function td(content: Child, opts: { num?: boolean; title?: string } = {}): HTMLTableCellElement {
  return h('td', { class: opts.num === true ? 'num' : undefined, title: opts.title }, content);
}

/** Runs `build` (which refills `into`) and puts the focus back where it was inside `into`. */
function keepingFocus(into: HTMLElement, build: () => void): void {
  const active = document.activeElement;
  const href = active instanceof HTMLElement && into.contains(active) ? (active.getAttribute('href') ?? (active.classList.contains('table-wrap') ? '' : null)) : null;
  build();
  if (href === null) return;
  const again = href === '' ? into.querySelector<HTMLElement>('.table-wrap') : [...into.querySelectorAll<HTMLElement>('a[href]')].find((a) => a.getAttribute('href') === href);
  again?.focus({ preventScroll: true });
}

/** What was last drawn in each container: an answer that changes nothing rebuilds nothing. */
const drawn = new WeakMap<HTMLElement, string>();

function changed(into: HTMLElement, data: unknown): boolean {
  const key = JSON.stringify(data);
  if (drawn.get(into) === key) return false;
  drawn.set(into, key);
  return true;
}

/** Fills `into` with the accounts table, or a sentence when there is none. */
export function renderAtLimit(into: HTMLElement, list: readonly AtLimit[], total: number, withLimit: number): void {
  if (!changed(into, [list, total, withLimit])) return;
  keepingFocus(into, () => drawAtLimit(into, list, total, withLimit));
}

function drawAtLimit(into: HTMLElement, list: readonly AtLimit[], total: number, withLimit: number): void {
  if (total === 0) {
    replace(into, h('p', { class: 'help' }, withLimit === 0 ? 'No account has a limit.' : `None of the ${formatCount(withLimit)} accounts with a limit is near it.`));
    return;
  }
  const rows = list.map((a) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('a', { href: `#/accounts/${encodeURIComponent(a.id)}` }, a.name)),
      td(`${formatBytes(a.used_bytes)} of ${formatBytes(a.limit)}`, { num: true, title: `${formatCount(a.used_bytes)} of ${formatCount(a.limit)} bytes` }),
      td(formatShare(a.used), { num: true }),
      td(h('span', { class: 'badges' }, badge(a.state, STATE_WORDS[a.state]), a.disabled ? badge('disabled', 'disabled') : null)),
    ),
  );
  const more = total - list.length;
  replace(
    into,
    table('Accounts near or over their limit', [['Account', false], ['Used', true], ['Share', true], ['State', false]], rows),
    more > 0 ? h('p', { class: 'help' }, `${formatCount(more)} more not listed.`) : null,
  );
}

/** Fills `into` with the relays table; null: the registry could not be read. */
export function renderRelays(into: HTMLElement, relays: readonly Relay[] | null, nowMs: number): void {
  if (!changed(into, relays)) return;
  keepingFocus(into, () => drawRelays(into, relays, nowMs));
}

function drawRelays(into: HTMLElement, relays: readonly Relay[] | null, nowMs: number): void {
  if (relays === null) {
    replace(into, h('p', { class: 'warn' }, 'The relay registry is unreachable: the fleet\'s relays cannot be listed right now.'));
    return;
  }
  if (relays.length === 0) {
    replace(into, h('p', { class: 'help' }, 'No live relay is registered.'));
    return;
  }
  const rows = relays.map((r) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('span', { class: 'mono' }, r.node_id), r.self ? h('span', { class: 'help' }, ' (this node)') : null),
      td(badge(r.state === 'active' ? 'ok' : r.state, r.state)),
      td(r.region ?? '–'),
      td(h('span', { class: 'mono' }, r.public_host)),
      td(formatCount(r.load.allocations), { num: true }),
      td(formatRate(r.load.bps), { num: true }),
      td(r.version),
      td(formatTime(r.started_at), { title: `up ${formatAge((nowMs - Date.parse(r.started_at)) / 1000)}` }),
    ),
  );
  replace(
    into,
    table(
      'Relays of the fleet',
      [['Node', false], ['State', false], ['Region', false], ['Public host', false], ['Allocations', true], ['Load', true], ['Version', false], ['Started', false]],
      rows,
    ),
  );
}
