/**
 * Sign in: the admin token (signaling.admin_token) typed or pasted into a password field, checked
 * against the API before it is kept. A refused token is said so, and kept nowhere.
 */
import { ApiError, type Api } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText } from './error.js';

export function signIn(main: HTMLElement, api: Api, signedIn: (token: string) => void, notice?: string): void {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const message = h('p', { id: 'sign-in-error', class: 'error-text', role: 'alert' });
  if (notice !== undefined) message.textContent = notice;
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card sign-in', 'aria-labelledby': 'sign-in-title', novalidate: true },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'token' }, 'Admin token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'The signaling.admin_token of this Ferry. It is kept in this tab\'s sessionStorage (gone when the tab closes) and sent only to this server.'),
    message,
    button,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = input.value.trim();
    if (token === '') {
      message.textContent = 'Enter the admin token.';
      input.focus();
      return;
    }
    button.disabled = true;
    message.textContent = '';
    api
      .check(token)
      .then(() => signedIn(token))
      .catch((err: unknown) => {
        message.textContent =
          err instanceof ApiError && err.status === 401 ? 'This token is not the admin token: refused.'
          : err instanceof ApiError && err.status === 503 && err.code === 'admin_disabled' ? 'The admin API is off: set signaling.admin_token in the config.'
          : errorText(err);
        input.select();
        input.focus();
      })
      .finally(() => {
        button.disabled = false;
      });
  });
  replace(main, form);
  input.focus();
}
