/**
 * The console's entry: sign-in, the routes (in the URL fragment, so the server serves one page
 * and nothing of the state travels to it) and the page on screen.
 *
 *   #/overview            live figures of the relay and the fleet
 *   #/accounts            the accounts, searchable
 *   #/accounts/<id>       one account: usage against its limit, charts, keys, settings
 *   #/sessions            live relay sessions (allocations)
 *   #/export              usage as CSV for a range
 */
import { Api, type ApiError } from './api.js';
import { h, replace } from './dom.js';
import type { Page, PageContext } from './page.js';
import { accountPage } from './pages/account.js';
import { accountsPage } from './pages/accounts.js';
import { exportPage } from './pages/export.js';
import { overviewPage } from './pages/overview.js';
import { sessionsPage } from './pages/sessions.js';
import { signIn } from './pages/sign-in.js';
import { errorBox } from './pages/error.js';
import { clearToken, getToken, setToken } from './session.js';

interface Route {
  readonly nav: string;
  readonly title: string;
  readonly page: Page;
}

/** Routes by their first segment; `accounts` with an id is the account page. */
function route(segments: readonly string[]): Route | undefined {
  switch (segments[0]) {
    case 'overview': return { nav: 'overview', title: 'Overview', page: overviewPage };
    case 'accounts': return segments.length > 1 ? { nav: 'accounts', title: 'Account', page: accountPage } : { nav: 'accounts', title: 'Accounts', page: accountsPage };
    case 'sessions': return { nav: 'sessions', title: 'Sessions', page: sessionsPage };
    case 'export': return { nav: 'export', title: 'Usage export', page: exportPage };
    default: return undefined;
  }
}

function start(): void {
  const main = document.getElementById('main')!;
  const nav = document.getElementById('nav')!;
  const signOutButton = document.getElementById('sign-out')!;
  const status = document.getElementById('status')!;
  let leave: (() => void) | undefined;

  const announce = (message: string) => {
    status.textContent = '';
    // A new text node each time, so the same message twice is read twice.
    window.setTimeout(() => { status.textContent = message; }, 50);
  };

  const signOut = (notice?: string) => {
    clearToken();
    leave?.();
    leave = undefined;
    nav.hidden = true;
    signOutButton.hidden = true;
    document.title = 'Sign in · Ferry console';
    signIn(main, api, (token) => {
      setToken(token);
      show();
    }, notice);
  };

  const api = new Api({
    token: getToken,
    onUnauthorized: (err: ApiError) => signOut(`Signed out: ${err.message}.`),
  });

  /** Shows the route in the fragment; `focus`: move the focus to it (not on the page's first load). */
  function show(focus = true): void {
    leave?.();
    leave = undefined;
    if (getToken() === null) {
      signOut();
      return;
    }
    const segments = location.hash.replace(/^#\/?/, '').split('/').filter((s) => s !== '').map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
    const r = route(segments);
    if (r === undefined) {
      location.replace('#/overview');
      return;
    }
    nav.hidden = false;
    signOutButton.hidden = false;
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.page === r.nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${r.title} · Ferry console`;
    // Each route draws into its own container: once the route is left (another page, sign-out),
    // whatever a page still draws after a late answer goes to a detached element, never over the
    // page or the form now on screen.
    const view = h('div', { class: 'view' });
    replace(main, view);
    const timers = new Set<number>();
    const waiting = new Set<() => void>();
    const leavers: (() => void)[] = [];
    let gone = false;
    const ctx: PageContext = {
      api,
      main: view,
      params: segments.slice(1),
      navigate: (hash) => { location.hash = hash; },
      announce,
      every: (ms, fn) => {
        const run = (): void => {
          if (gone) return;
          // A hidden tab does not poll: it asks again when it is shown.
          if (document.hidden) {
            const shown = () => {
              if (document.hidden) return;
              document.removeEventListener('visibilitychange', shown);
              waiting.delete(shown);
              run();
            };
            waiting.add(shown);
            document.addEventListener('visibilitychange', shown);
            return;
          }
          fn().catch(() => undefined).finally(() => {
            if (gone) return;
            const t = window.setTimeout(() => { timers.delete(t); run(); }, ms);
            timers.add(t);
          });
        };
        run();
      },
      onLeave: (fn) => { leavers.push(fn); },
    };
    leave = () => {
      gone = true;
      for (const t of timers) window.clearTimeout(t);
      for (const w of waiting) document.removeEventListener('visibilitychange', w);
      for (const fn of leavers) fn();
    };
    Promise.resolve()
      .then(() => r.page(ctx))
      .catch((err: unknown) => { if (!gone) replace(view, errorBox(err, () => show())); });
    if (focus) main.focus({ preventScroll: true });
  }

  // The skip link must not change the fragment: the fragment is the route.
  document.querySelector<HTMLAnchorElement>('a.skip')?.addEventListener('click', (ev) => {
    ev.preventDefault();
    main.focus();
  });
  signOutButton.addEventListener('click', () => signOut('Signed out.'));
  window.addEventListener('hashchange', () => show());
  show(false);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
