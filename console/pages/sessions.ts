/**
 * Sessions: the live relay sessions (TURN allocations) of the node that answers, from GET
 * /v1/sessions every POLL_MS, with their bytes each way and the rate between two polls (over the
 * server's `at`); each can be closed (DELETE /v1/sessions/:id: a TCP/TLS client is disconnected, a
 * UDP client's next request gets 437). Session ids are per node and start again when a node
 * restarts, so a session is its node, id, account and start: rows are updated in place while
 * those stay (see session-rows.ts), dropped when another node answers, rebuilt when an id is
 * another session's, and a close names all four (409: it is another session now).
 */
import { ApiError } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { formatCount } from '../format.js';
import { POLL_MS, type PageContext } from '../page.js';
import { errorText } from './error.js';
import { COLUMNS, sessionRow, type Session, type SessionRow } from './session-rows.js';

/** Rows listed at most (GET /v1/sessions?limit=): the page stays quick on a relay with many allocations. */
export const MAX_SESSION_ROWS = 500;

/** An account id as Ferry makes them (acc_ + 16 base32 characters): a filter this exact is asked of the server. */
const ACCOUNT_ID = /^acc_[0-9a-z]{16}$/;

/** GET /v1/sessions. */
interface Listing {
  readonly at: string;
  readonly node_id: string | null;
  readonly sessions: readonly Session[];
  readonly total: number;
}

/** What names one session (see the file's comment). */
const identity = (s: { id: number; account: string; started_at?: string; startedAt?: string }) => `${s.id} ${s.started_at ?? s.startedAt} ${s.account}`;

export function sessionsPage(ctx: PageContext): void {
  const heading = h('h1', { tabindex: -1 }, 'Sessions');
  const filter = h('input', { id: 'session-filter', type: 'search', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'session-filter-help' });
  const summary = h('p', { class: 'help', id: 'sessions-summary' }, 'Loading…');
  const title = h('h2', { id: 'sessions-title' }, 'Live sessions');
  const notice = h('p', { class: 'notice', hidden: true });
  const failure = h('div', { class: 'error', role: 'alert', hidden: true });
  const empty = h('p', { class: 'empty', hidden: true });
  const tbody = h('tbody', { role: 'rowgroup' });
  const tableWrap = h(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Live relay sessions', hidden: true },
    h(
      'table',
      { class: 'data sessions', role: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Live relay sessions'),
      h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' }, ...COLUMNS.map((c) => h('th', { scope: 'col', role: 'columnheader', class: c.num === true ? 'num' : undefined }, c.text)))),
      tbody,
    ),
  );

  replace(
    ctx.main,
    heading,
    h('p', { class: 'help' }, 'Live TURN allocations of the node that answers (named below). Closing one frees its relayed ports at once: a TCP or TLS client is disconnected, a UDP client\'s next request is refused (437). Its credentials stay valid.'),
    failure,
    notice,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sessions-title' },
      h('div', { class: 'row spread' }, title, summary),
      h(
        'div',
        { class: 'session-filter' },
        h('label', { for: 'session-filter' }, 'Filter by account'),
        filter,
        h('p', { class: 'help', id: 'session-filter-help' }, `Part of an account id or user name among the ${formatCount(MAX_SESSION_ROWS)} listed; a whole account id, or Enter, asks the node for all of that account's sessions.`),
      ),
      empty,
      tableWrap,
    ),
  );

  const rows = new Map<number, SessionRow>();
  /** Sessions closed from here (by identity): an answer read before the close must not bring them back. */
  const closed = new Set<string>();
  let loaded = false;
  /** The node whose sessions are listed (undefined before the first answer). */
  let node: string | null | undefined;
  /** Live sessions on the node (of the asked account), those beyond MAX_SESSION_ROWS included. */
  let total = 0;
  /** The account asked of the server (?account=), when the filter names one. */
  let asked: string | undefined;

  const matches = (row: SessionRow) => {
    const q = filter.value.trim().toLowerCase();
    return q === '' || row.account.toLowerCase().includes(q);
  };

  const refreshView = () => {
    let shown = 0;
    for (const row of rows.values()) {
      const on = matches(row);
      row.tr.hidden = !on;
      if (on) shown++;
    }
    if (!loaded) return;
    const q = filter.value.trim();
    tableWrap.hidden = shown === 0;
    empty.hidden = shown > 0;
    const where = node === null || node === undefined ? 'this node' : `node ${node}`;
    setText(
      empty,
      asked !== undefined ? `No live session of account “${asked}” on ${where}.` : rows.size === 0 ? `No live sessions on ${where}.` : `No live session of an account matching “${q}” among those listed.`,
    );
    const of = asked !== undefined ? ` of account ${asked}` : '';
    const more = total > rows.size ? ` (the oldest ${formatCount(rows.size)} of ${formatCount(total)} live sessions${of} are listed)` : '';
    setText(
      summary,
      (shown === rows.size ? `${formatCount(rows.size)} live session${rows.size === 1 ? '' : 's'}${of}` : `${formatCount(shown)} of ${formatCount(rows.size)} shown`) + more,
    );
  };

  const show = (answer: Listing) => {
    const atMs = Date.parse(answer.at);
    if (node !== undefined && answer.node_id !== node) {
      // Another node answered (a load balancer): its ids are other sessions. Start again.
      for (const row of [...rows.values()]) removeRow(row);
      closed.clear();
    }
    node = answer.node_id;
    setText(title, node === null ? 'Live sessions' : `Sessions of node ${node}`);
    const live = new Set<number>();
    // A closed session absent from an answer is gone for good: forget it (an id listed again
    // later, after a restart, is another session, with another start).
    const listed = new Set(answer.sessions.map(identity));
    for (const key of closed) if (!listed.has(key)) closed.delete(key);
    let cursor: HTMLTableRowElement | null = null;
    for (const s of answer.sessions) {
      if (closed.has(identity(s))) continue;
      live.add(s.id);
      let row = rows.get(s.id);
      if (row !== undefined && identity(row) !== identity(s)) {
        // The same id, another session (the node restarted): its row, Close label and rate are not this one's.
        const old = row.tr;
        const hadFocus = old.contains(document.activeElement);
        row = sessionRow(s, atMs, closeSession);
        old.replaceWith(row.tr);
        // The keyboard stays where it was; the new Close names the new session (and asks first).
        if (hadFocus) row.close.focus();
        rows.set(s.id, row);
      } else if (row === undefined) {
        // New sessions go in the answer's order (by id) without moving the rows already there.
        row = sessionRow(s, atMs, closeSession);
        rows.set(s.id, row);
        tbody.insertBefore(row.tr, cursor === null ? tbody.firstChild : cursor.nextSibling);
      } else {
        row.update(s, atMs);
      }
      cursor = row.tr;
    }
    for (const [id, row] of rows) {
      if (!live.has(id)) removeRow(row);
    }
    loaded = true;
    refreshView();
  };

  /**
   * Takes a row out. With `refocus` (the focus was on it), the focus goes to the next shown row's
   * Close button, or to the heading when there is none, rather than back to the page's start.
   */
  const removeRow = (row: SessionRow, refocus = row.tr.contains(document.activeElement)) => {
    let next = row.tr.nextElementSibling as HTMLTableRowElement | null;
    while (next !== null && next.hidden) next = next.nextElementSibling as HTMLTableRowElement | null;
    rows.delete(row.id);
    row.tr.remove();
    if (refocus) {
      const button = next?.querySelector('button');
      if (button) button.focus();
      else heading.focus();
    }
  };

  const say = (message: string) => {
    notice.hidden = false;
    setText(notice, message);
    ctx.announce(message);
  };

  async function closeSession(row: SessionRow): Promise<void> {
    const client = row.tr.querySelector('.client')?.textContent ?? '';
    const ok = window.confirm(
      `Close session ${row.id} of ${row.account} (client ${client})?\n\nIts relayed ports are freed at once and the client loses the relay. Its credentials stay valid.`,
    );
    if (!ok) return;
    // Disabling the button while the request runs takes the focus from it: remember it was there.
    const hadFocus = row.tr.contains(document.activeElement);
    const refocus = () => hadFocus && (document.activeElement === null || document.activeElement === document.body || row.tr.contains(document.activeElement));
    row.close.disabled = true;
    const query = new URLSearchParams({ account: row.account, started_at: row.startedAt });
    if (node !== null && node !== undefined) query.set('node', node);
    try {
      await ctx.api.delete(`/v1/sessions/${encodeURIComponent(String(row.id))}?${query.toString()}`);
      closed.add(identity(row));
      removeRow(row, refocus());
      refreshView();
      say(`Session ${row.id} of ${row.account} closed.`);
    } catch (err) {
      // Another node answered (a load balancer in front of a fleet): the session may well be live
      // on its own node; nothing was closed. The row stays, to be closed again.
      if (err instanceof ApiError && err.status === 409 && err.code === 'wrong_node') {
        const back = refocus();
        row.close.disabled = false;
        if (back) row.close.focus();
        say(`Session ${row.id} was not closed: another node answered (${err.message}). Try again.`);
        return;
      }
      // 404: gone; 409: that id is another session now. Either way the session listed had ended
      // before the close: nothing the operator did wrong, nothing closed.
      if (err instanceof ApiError && (err.status === 404 || err.status === 409)) {
        // The listing asked now says what is live.
        if (err.status === 404) closed.add(identity(row));
        removeRow(row, refocus());
        refreshView();
        say(`Session ${row.id} of ${row.account} had already ended; the list is updated.`);
        void poll();
        return;
      }
      const back = refocus();
      row.close.disabled = false;
      if (back) row.close.focus();
      say(`Session ${row.id} was not closed: ${errorText(err)}`);
    }
  }

  /** Polls are numbered: an answer older than the one shown (a poll run early, below) is dropped. */
  let sent = 0;
  let drawn = 0;
  async function poll(): Promise<void> {
    const mine = ++sent;
    const account = asked;
    try {
      const answer = await ctx.api.get<Listing>(`/v1/sessions?limit=${MAX_SESSION_ROWS}${account === undefined ? '' : `&account=${encodeURIComponent(account)}`}`);
      if (mine < drawn || account !== asked) return;
      drawn = mine;
      total = answer.total;
      show(answer);
      failure.hidden = true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // signed out already
      if (mine < drawn) return;
      failure.hidden = false;
      setText(failure, `Could not update the sessions: ${errorText(err)}. Trying again every ${POLL_MS / 1000} s.`);
      if (!loaded) setText(summary, '');
    }
  }

  /** Asks the server for `account`'s sessions only (undefined: all); polls at once when that changes. */
  const ask = (account: string | undefined) => {
    if (account === asked) return;
    asked = account;
    void poll();
  };

  filter.addEventListener('input', () => {
    const q = filter.value.trim();
    // A whole account id is asked of the server at once; any other change of the text goes back
    // to the listing of all (the filter then narrows what is listed).
    if (ACCOUNT_ID.test(q)) ask(q);
    else if (asked !== undefined && q !== asked) ask(undefined);
    refreshView();
  });
  filter.addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const q = filter.value.trim();
    ask(q === '' ? undefined : q);
  });

  ctx.every(POLL_MS, poll);
}
