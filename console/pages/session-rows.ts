/**
 * One live session as a table row, made once and then updated cell by cell on each poll: the row
 * stays the same element while its session lives, so a keyboard user on its Close button keeps
 * the focus, and a screen reader is not sent back to the top of the table every two seconds.
 */
import { h, setText } from '../dom.js';
import { formatAge, formatBytes, formatCount, formatRate, formatTime } from '../format.js';
import { rateBetween, type Reading } from '../rates.js';

/** One entry of GET /v1/sessions, the parts the page shows. */
export interface Session {
  readonly id: number;
  readonly account: string;
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly client: string;
  readonly relayed: readonly { readonly address: string; readonly port: number; readonly family: 4 | 6 }[];
  readonly started_at: string;
  readonly age_seconds: number;
  readonly bytes_to_peer: number;
  readonly bytes_to_client: number;
  readonly packets_to_peer: number;
  readonly packets_to_client: number;
}

/** The columns, in order: header text, numeric (right-aligned). */
export const COLUMNS: readonly { readonly text: string; readonly num?: boolean }[] = [
  { text: 'Session' },
  { text: 'Account' },
  { text: 'Transport' },
  { text: 'Client' },
  { text: 'Relayed' },
  { text: 'Age', num: true },
  { text: 'To peer', num: true },
  { text: 'To client', num: true },
  { text: 'Rate to peer', num: true },
  { text: 'Rate to client', num: true },
  { text: 'Action' },
];

export interface SessionRow {
  readonly id: number;
  readonly account: string;
  /** As listed: with the id and the node, what names this session (ids start again when a node restarts). */
  readonly startedAt: string;
  readonly tr: HTMLTableRowElement;
  readonly close: HTMLButtonElement;
  /** Takes a newer reading of the same session (read at `atMs`, the answer's `at`). */
  update(s: Session, atMs: number): void;
}

/** An account id (acc_…) links to its page; other names (static users, REST names) do not. */
function accountCell(account: string): HTMLElement {
  if (/^acc_[A-Za-z0-9_-]+$/.test(account)) return h('a', { href: `#/accounts/${encodeURIComponent(account)}` }, account);
  return h('span', {}, account);
}

function relayed(s: Session): string {
  return s.relayed.map((r) => (r.family === 6 ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`)).join(', ');
}

/**
 * A cell of column `i`. Its column's name goes in data-label: on a phone each row is shown as a
 * small card (console.css), a cell under its name, and the explicit roles keep it a table to
 * assistive technology whatever CSS display it gets.
 */
function cell(i: number, cls: string, ...content: (Node | string)[]): HTMLTableCellElement {
  const col = COLUMNS[i];
  const classes = [cls, col.num === true ? 'num' : ''].join(' ').trim();
  return h('td', { class: classes, role: 'cell', 'data-label': col.text }, ...content);
}

export function sessionRow(s: Session, atMs: number, onClose: (row: SessionRow) => void): SessionRow {
  const age = cell(5, 'age');
  const toPeer = cell(6, 'to-peer');
  const toClient = cell(7, 'to-client');
  const ratePeer = cell(8, 'rate-to-peer');
  const rateClient = cell(9, 'rate-to-client');
  const close = h('button', { type: 'button', class: 'danger', 'aria-label': `Close session ${s.id} of ${s.account}` }, 'Close');
  const tr = h(
    'tr',
    { 'data-session': s.id, role: 'row' },
    h('th', { scope: 'row', role: 'rowheader', class: 'session-id mono', 'data-label': COLUMNS[0].text }, String(s.id)),
    cell(1, 'account', accountCell(s.account)),
    cell(2, 'transport', s.transport.toUpperCase()),
    cell(3, 'client mono', s.client),
    cell(4, 'relayed mono', relayed(s)),
    age,
    toPeer,
    toClient,
    ratePeer,
    rateClient,
    cell(10, 'action', close),
  );
  tr.title = `Started ${formatTime(s.started_at)}`;
  let last: Reading | undefined;
  const row: SessionRow = {
    id: s.id,
    account: s.account,
    startedAt: s.started_at,
    tr,
    close,
    update(cur, at) {
      setText(age, formatAge(cur.age_seconds));
      setText(toPeer, formatBytes(cur.bytes_to_peer));
      toPeer.title = `${formatCount(cur.bytes_to_peer)} bytes in ${formatCount(cur.packets_to_peer)} packets`;
      setText(toClient, formatBytes(cur.bytes_to_client));
      toClient.title = `${formatCount(cur.bytes_to_client)} bytes in ${formatCount(cur.packets_to_client)} packets`;
      const reading = { atMs: at, toPeer: cur.bytes_to_peer, toClient: cur.bytes_to_client };
      // The same reading again (answers made in the same millisecond): the rate shown stays.
      if (last !== undefined && last.atMs === at) return;
      const rate = last === undefined ? null : rateBetween(last, reading);
      last = reading;
      setText(ratePeer, rate === null ? '–' : formatRate(rate.toPeer));
      setText(rateClient, rate === null ? '–' : formatRate(rate.toClient));
    },
  };
  close.addEventListener('click', () => onClose(row));
  row.update(s, atMs);
  return row;
}
