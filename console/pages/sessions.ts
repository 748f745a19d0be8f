/**
 * Sessions: the live relay sessions (TURN allocations) of this node, from GET /v1/sessions every
 * POLL_MS, with their bytes each way and the rate between two polls; each can be closed (DELETE
 * /v1/sessions/:id: a TCP/TLS client is disconnected, a UDP client's next request gets 437). Rows
 * are keyed by session id and updated in place (see session-rows.ts).
 */
import { ApiError } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { formatCount } from '../format.js';
import { POLL_MS, type PageContext } from '../page.js';
import { errorText } from './error.js';
import { COLUMNS, sessionRow, type Session, type SessionRow } from './session-rows.js';

/** Rows listed at most (GET /v1/sessions?limit=): the page stays quick on a relay with many allocations. */
export const MAX_SESSION_ROWS = 500;

export function sessionsPage(ctx: PageContext): void {
  const heading = h('h1', { tabindex: -1 }, 'Sessions');
  const filter = h('input', { id: 'session-filter', type: 'search', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'session-filter-help' });
  const summary = h('p', { class: 'help', id: 'sessions-summary' }, 'Loading…');
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
    h('p', { class: 'help' }, 'Live TURN allocations on this node. Closing one frees its relayed ports at once: a TCP or TLS client is disconnected, a UDP client\'s next request is refused (437). Its credentials stay valid.'),
    failure,
    notice,
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'sessions-title' },
      h('div', { class: 'row spread' }, h('h2', { id: 'sessions-title' }, 'Live sessions'), summary),
      h(
        'div',
        { class: 'session-filter' },
        h('label', { for: 'session-filter' }, 'Filter by account'),
        filter,
        h('p', { class: 'help', id: 'session-filter-help' }, 'Part of an account id or user name.'),
      ),
      empty,
      tableWrap,
    ),
  );

  const rows = new Map<number, SessionRow>();
  /** Sessions closed from here: an answer read before the close must not bring them back. */
  const closed = new Set<number>();
  let loaded = false;
  /** Live sessions on the node, those beyond MAX_SESSION_ROWS included. */
  let total = 0;

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
    setText(empty, rows.size === 0 ? 'No live sessions on this node.' : `No live session of an account matching “${q}”.`);
    const more = total > rows.size ? ` (the oldest ${formatCount(rows.size)} of ${formatCount(total)} live sessions are listed)` : '';
    setText(summary, (shown === rows.size ? `${formatCount(rows.size)} live session${rows.size === 1 ? '' : 's'}` : `${formatCount(shown)} of ${formatCount(rows.size)} shown`) + more);
  };

  const show = (sessions: readonly Session[], atMs: number) => {
    const live = new Set<number>();
    // A closed session absent from an answer is gone for good (ids are not reused): forget it.
    const listed = new Set(sessions.map((s) => s.id));
    for (const id of closed) if (!listed.has(id)) closed.delete(id);
    let cursor: HTMLTableRowElement | null = null;
    for (const s of sessions) {
      if (closed.has(s.id)) continue;
      live.add(s.id);
      let row = rows.get(s.id);
      if (row === undefined) {
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
    try {
      await ctx.api.delete(`/v1/sessions/${encodeURIComponent(String(row.id))}`);
      closed.add(row.id);
      removeRow(row, refocus());
      refreshView();
      say(`Session ${row.id} of ${row.account} closed.`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        closed.add(row.id);
        removeRow(row, refocus());
        refreshView();
        say(`Session ${row.id} had already ended.`);
        return;
      }
      const back = refocus();
      row.close.disabled = false;
      if (back) row.close.focus();
      say(`Session ${row.id} was not closed: ${errorText(err)}`);
    }
  }

  filter.addEventListener('input', refreshView);

  ctx.every(POLL_MS, async () => {
    try {
      const answer = await ctx.api.get<{ sessions: Session[]; total: number }>(`/v1/sessions?limit=${MAX_SESSION_ROWS}`);
      total = answer.total;
      show(answer.sessions, Date.now());
      failure.hidden = true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return; // signed out already
      failure.hidden = false;
      setText(failure, `Could not update the sessions: ${errorText(err)}. Trying again every ${POLL_MS / 1000} s.`);
      if (!loaded) setText(summary, '');
    }
  });
}
