/**
 * #/accounts: every account with its status, limit, bandwidth cap and usage this timeframe, a
 * search that filters as the operator types, and a form to create one (its first API key shown
 * once). Three requests: the accounts, the current timeframe (GET /v1/overview) and one usage
 * answer for all accounts.
 */
import { ApiError } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { formatBytes, formatCount, formatRate, formatShare, formatTime } from '../format.js';
import type { PageContext } from '../page.js';
import { type Account, accountHash, accountPath, type OverviewLimits, timeframeUsage } from './account-model.js';
import { errorText } from './error.js';
import { secretBox } from './secret-box.js';

/** Rows in the table at most: beyond, the search narrows the list (the page stays quick with any number of accounts). */
export const MAX_ROWS = 500;

export async function accountsPage(ctx: PageContext): Promise<void> {
  const { api } = ctx;
  const [{ accounts }, overview] = await Promise.all([
    api.get<{ accounts: Account[] }>('/v1/accounts'),
    api.get<OverviewLimits>('/v1/overview'),
  ]);
  const used = await timeframeUsage(api, overview.timeframe.start);

  const search = h('input', {
    id: 'account-search',
    type: 'search',
    autocomplete: 'off',
    spellcheck: 'false',
    'aria-describedby': 'account-count',
    'aria-controls': 'accounts-table',
  });
  const count = h('p', { id: 'account-count', class: 'help' });
  const body = h('tbody');
  const table = h(
    'table',
    { id: 'accounts-table', class: 'data', 'aria-labelledby': 'accounts-list-title', 'aria-describedby': 'accounts-timeframe' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col', class: 'hide-narrow' }, 'Id'),
        h('th', { scope: 'col' }, 'Status'),
        h('th', { scope: 'col', class: 'num' }, 'Limit'),
        h('th', { scope: 'col', class: 'num hide-narrow' }, 'Bandwidth cap'),
        h('th', { scope: 'col', class: 'num' }, 'Usage'),
        h('th', { scope: 'col', class: 'hide-narrow' }, 'Created'),
      ),
    ),
    body,
  );

  // A row is built when it is first shown, then kept: with 100,000 accounts the table holds at
  // most MAX_ROWS rows, and building the others (ten elements each) up front would cost a million.
  const built = new Map<string, HTMLTableRowElement>();
  const rowOf = (a: Account) => {
    let row = built.get(a.id);
    if (row === undefined) {
      row = accountRow(a, used.get(a.id) ?? 0);
      built.set(a.id, row);
    }
    return row;
  };
  let lastCount = -1;
  const filter = (announce: boolean) => {
    const q = search.value.trim().toLowerCase();
    const shown = accounts.filter((account) => q === '' || account.name.toLowerCase().includes(q) || account.id.toLowerCase().includes(q));
    replace(body, ...shown.slice(0, MAX_ROWS).map(rowOf));
    if (shown.length === 0) {
      body.appendChild(h('tr', {}, h('td', { colspan: 7 }, accounts.length === 0 ? 'No accounts yet.' : 'No account matches.')));
    }
    const words = q === ''
      ? `${formatCount(accounts.length)} ${accounts.length === 1 ? 'account' : 'accounts'}`
      : `${formatCount(shown.length)} of ${formatCount(accounts.length)} accounts match “${search.value.trim()}”`;
    setText(count, shown.length > MAX_ROWS ? `${words}; the first ${formatCount(MAX_ROWS)} are shown: search to narrow` : words);
    // Said once the typing settles on a new count, not at every key.
    if (announce && shown.length !== lastCount) ctx.announce(words);
    lastCount = shown.length;
  };
  let typing: number | undefined;
  search.addEventListener('input', () => {
    filter(false);
    window.clearTimeout(typing);
    typing = window.setTimeout(() => filter(true), 400);
  });
  ctx.onLeave(() => window.clearTimeout(typing));
  filter(false);

  replace(
    ctx.main,
    h('h1', {}, 'Accounts'),
    createForm(ctx, (made) => {
      // Into the list at once (the API lists oldest first: the new one last).
      accounts.push(made);
      filter(false);
    }),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'accounts-list-title' },
      h('h2', { id: 'accounts-list-title' }, 'All accounts'),
      h('label', { for: 'account-search' }, 'Search by name or id'),
      search,
      count,
      h('p', { class: 'help', id: 'accounts-timeframe' }, `Usage: this timeframe, ${formatTime(overview.timeframe.start)} to ${formatTime(overview.timeframe.end)}.`),
      h('div', { class: 'table-wrap' }, table),
    ),
  );
}

function accountRow(a: Account, usedBytes: number): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-account': a.id },
    h('td', {}, h('a', { href: accountHash(a.id) }, a.name)),
    h('td', { class: 'mono hide-narrow' }, a.id),
    h('td', {}, a.disabled ? h('span', { class: 'badge disabled' }, 'disabled') : h('span', { class: 'badge ok' }, 'active')),
    h('td', { class: 'num' }, a.limit === null ? 'none' : formatBytes(a.limit)),
    h('td', { class: 'num hide-narrow' }, a.max_bps === null ? 'none' : formatRate(a.max_bps)),
    h(
      'td',
      { class: 'num', title: `${formatCount(usedBytes)} bytes` },
      formatBytes(usedBytes),
      a.limit === null ? null : h('span', { class: 'hide-narrow' }, ` (${formatShare(a.limit === 0 ? 1 : usedBytes / a.limit)})`),
    ),
    h('td', { class: 'hide-narrow' }, formatTime(a.created_at)),
  );
}

/** Name → POST /v1/accounts; the answer's first API key is shown once, with a link to the account. */
function createForm(ctx: PageContext, created: (account: Account) => void): HTMLElement {
  const input = h('input', { id: 'new-account-name', name: 'name', type: 'text', maxlength: 100, autocomplete: 'off', required: true });
  const message = h('p', { id: 'new-account-error', class: 'error-text', role: 'alert' });
  input.setAttribute('aria-describedby', 'new-account-error');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Create account');
  const result = h('div');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-account-title', novalidate: true },
    h('h2', { id: 'new-account-title' }, 'Create an account'),
    h('label', { for: 'new-account-name' }, 'Name'),
    h('div', { class: 'row' }, input, button),
    message,
    result,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    if (name === '') {
      message.textContent = 'Enter a name.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    button.disabled = true;
    message.textContent = '';
    input.removeAttribute('aria-invalid');
    ctx.api
      .post<{ id: string; name: string; api_key: string }>('/v1/accounts', { name })
      .then((made) => {
        input.value = '';
        replace(
          result,
          secretBox(`API key of ${made.name}`, made.api_key, ctx.announce),
          h('p', {}, 'Account created: ', h('a', { href: accountHash(made.id) }, `open ${made.name}`), '.'),
        );
        return ctx.api.get<Account>(accountPath(made.id)).then(created);
      })
      .catch((err: unknown) => {
        message.textContent = err instanceof ApiError ? err.message : errorText(err);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  return form;
}
