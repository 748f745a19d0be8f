/**
 * #/accounts/<id>: one account. Its name, id and status at the top; then its usage this timeframe
 * against its limit and per hour or day (account-usage.ts), its API keys (account-keys.ts) and its
 * settings and actions (account-settings.ts). The account and its usage are read again every
 * POLL_MS while the page is shown, so the gauge and the chart move with the traffic.
 */
import { ApiError } from '../api.js';
import { h, replace, setText } from '../dom.js';
import { formatTime } from '../format.js';
import { POLL_MS, type PageContext } from '../page.js';
import { keysSection } from './account-keys.js';
import { type Account, accountPath, type AccountView, type OverviewLimits } from './account-model.js';
import { settingsSection } from './account-settings.js';
import { usageSection } from './account-usage.js';

export async function accountPage(ctx: PageContext): Promise<void> {
  const id = ctx.params[0] ?? '';
  let account: Account;
  try {
    account = await ctx.api.get<Account>(accountPath(id));
  } catch (err) {
    // 404: no such account (or deleted); 400: not even an account id.
    if (err instanceof ApiError && (err.status === 404 || err.status === 400)) {
      replace(ctx.main, notFound(id, err.message));
      return;
    }
    throw err;
  }
  const overview = await ctx.api.get<OverviewLimits>('/v1/overview');

  const listeners: ((a: Account) => void)[] = [];
  const view: AccountView = {
    ctx,
    id,
    current: () => account,
    update(a) {
      account = a;
      for (const fn of listeners) fn(a);
    },
    onChange(fn) {
      listeners.push(fn);
    },
  };

  const title = h('h1', { id: 'account-title' });
  const status = h('span', { class: 'badge' });
  view.onChange((a) => {
    setText(title, a.name);
    status.className = `badge ${a.disabled ? 'disabled' : 'ok'}`;
    setText(status, a.disabled ? 'disabled' : 'active');
    document.title = `${a.name} · Ferry console`;
  });
  const usage = usageSection(view, overview);
  replace(
    ctx.main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/accounts' }, '← Accounts')),
    h(
      'header',
      { class: 'account-head' },
      title,
      h('p', { class: 'row' }, h('span', {}, 'Id ', h('code', { id: 'account-id' }, account.id)), status, h('span', { class: 'help' }, `created ${formatTime(account.created_at)}`)),
    ),
    usage.element,
    h('div', { class: 'account-cols' }, keysSection(view), settingsSection(view)),
  );
  view.update(account);

  ctx.every(POLL_MS, async () => {
    let latest: Account;
    try {
      [latest] = await Promise.all([ctx.api.get<Account>(accountPath(id)), usage.refresh()]);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        // Deleted while shown: said, with the way back, and no more asking. A run that never
        // ends is how a page stops its polling (every() waits for the previous run).
        replace(ctx.main, notFound(id, err.message));
        ctx.announce('This account no longer exists.');
        return new Promise<void>(() => undefined);
      }
      throw err;
    }
    view.update(latest);
  });
}

function notFound(id: string, message: string): HTMLElement {
  return h(
    'div',
    {},
    h('h1', {}, 'No such account'),
    h('div', { class: 'error', role: 'alert' }, h('p', {}, `There is no account “${id}”: ${message}.`)),
    h('p', {}, h('a', { href: '#/accounts' }, 'Back to the accounts')),
  );
}
