/**
 * An account's API keys: their prefixes (the API never answers a key again), when each was made
 * and revoked; "Create key" shows the new key once, "Revoke" ends one after a confirmation.
 */
import { h, replace } from '../dom.js';
import { formatTime } from '../format.js';
import { type ApiKey, accountPath, type AccountView } from './account-model.js';
import { errorText } from './error.js';
import { secretBox } from './secret-box.js';

export function keysSection(view: AccountView): HTMLElement {
  const { ctx, id } = view;
  const path = `${accountPath(id)}/keys`;
  const body = h('tbody');
  const message = h('p', { class: 'error-text', role: 'alert' });
  const shown = h('div');
  const create = h('button', { type: 'button', class: 'primary' }, 'Create key');

  const load = async (): Promise<void> => {
    const { keys } = await ctx.api.get<{ keys: ApiKey[] }>(path);
    replace(body, ...keys.map((k) => keyRow(k)));
    if (keys.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: 4 }, 'No API keys.')));
  };

  const keyRow = (k: ApiKey): HTMLTableRowElement => {
    const revoke = k.revoked_at === null ? h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke key ${k.prefix}` }, 'Revoke') : null;
    revoke?.addEventListener('click', () => {
      if (!window.confirm(`Revoke the API key ${k.prefix}…? Requests with it are refused from now on.`)) return;
      revoke.disabled = true;
      message.textContent = '';
      ctx.api
        .delete(`${path}/${encodeURIComponent(k.id)}`)
        .then(() => {
          ctx.announce(`Key ${k.prefix} revoked.`);
          return load();
        })
        .catch((err: unknown) => {
          message.textContent = errorText(err);
          revoke.disabled = false;
        });
    });
    return h(
      'tr',
      { 'data-key': k.id },
      h('td', {}, h('code', {}, `${k.prefix}…`)),
      h('td', { class: 'hide-narrow' }, formatTime(k.created_at)),
      h('td', {}, k.revoked_at === null ? h('span', { class: 'badge ok' }, 'valid') : h('span', { class: 'badge disabled', title: formatTime(k.revoked_at) }, 'revoked')),
      h('td', {}, revoke),
    );
  };

  create.addEventListener('click', () => {
    create.disabled = true;
    message.textContent = '';
    ctx.api
      .post<{ id: string; api_key: string }>(path)
      .then((made) => {
        replace(shown, secretBox('New API key', made.api_key, ctx.announce));
        return load();
      })
      .catch((err: unknown) => {
        message.textContent = errorText(err);
      })
      .finally(() => {
        create.disabled = false;
      });
  });

  load().catch((err: unknown) => {
    message.textContent = errorText(err);
  });

  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'keys-title' },
    h('div', { class: 'row spread' }, h('h2', { id: 'keys-title' }, 'API keys'), create),
    shown,
    message,
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data', id: 'keys-table' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Created'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        body,
      ),
    ),
  );
}
