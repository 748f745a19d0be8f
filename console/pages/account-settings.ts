/**
 * An account's settings and actions: its usage limit and bandwidth cap (each a field of its own,
 * saved with PATCH /v1/accounts/:id, the API's validation message shown next to the field),
 * disable / enable, revoking every credential issued so far, and closing its live sessions.
 */
import { ApiError } from '../api.js';
import { h, setText } from '../dom.js';
import { formatBytes, formatRate } from '../format.js';
import { type Account, accountPath, type AccountView, exactSize, sizeInput } from './account-model.js';
import { errorText } from './error.js';

interface SizeField {
  readonly key: 'limit' | 'max_bps';
  readonly label: string;
  readonly help: string;
  readonly show: (value: number | null) => string;
}

const FIELDS: readonly SizeField[] = [
  {
    key: 'limit',
    label: 'Usage limit',
    help: 'Bytes per timeframe, both ways: a number of bytes or a size such as 500MB or 10GB. Empty: no limit.',
    show: (v) => (v === null ? 'no limit' : formatBytes(v)),
  },
  {
    key: 'max_bps',
    label: 'Bandwidth cap',
    help: 'Bytes per second each way, for all its allocations on a relay together, e.g. 1MB. Empty: no cap.',
    show: (v) => (v === null ? 'no cap' : formatRate(v)),
  },
];

export function settingsSection(view: AccountView): HTMLElement {
  const forms = FIELDS.map((f) => sizeForm(view, f));
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings'),
    ...forms,
    actions(view),
  );
}

/** One size setting: its field, a Save button, the current value and the API's error. */
function sizeForm(view: AccountView, f: SizeField): HTMLElement {
  const { ctx, id } = view;
  const fieldId = `setting-${f.key}`;
  const input = h('input', { id: fieldId, name: f.key, type: 'text', inputmode: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${fieldId}-help ${fieldId}-error` });
  const current = h('span', { class: 'help', id: `${fieldId}-current` });
  const error = h('p', { id: `${fieldId}-error`, class: 'error-text', role: 'alert' });
  const save = h('button', { type: 'submit' }, 'Save');
  // What the field was last filled with from the account: a poll does not overwrite typing.
  let filled = '';
  view.onChange((a: Account) => {
    const value = a[f.key];
    setText(current, `Now: ${f.show(value)}`);
    if (input.value === filled && document.activeElement !== input) {
      filled = value === null ? '' : exactSize(value);
      input.value = filled;
    }
  });
  const form = h(
    'form',
    { class: 'setting', novalidate: true, 'aria-label': f.label },
    h('label', { for: fieldId }, f.label),
    h('div', { class: 'row' }, input, save, current),
    h('p', { id: `${fieldId}-help`, class: 'help' }, f.help),
    error,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    save.disabled = true;
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    ctx.api
      .patch<Account>(accountPath(id), { [f.key]: sizeInput(input.value) })
      .then((a) => {
        filled = a[f.key] === null ? '' : exactSize(a[f.key] as number);
        input.value = filled;
        view.update(a);
        ctx.announce(`${f.label} saved: ${f.show(a[f.key])}.`);
      })
      .catch((err: unknown) => {
        // The API's own words (e.g. "limit: expected a size such as 10GB ...") next to the field.
        error.textContent = err instanceof ApiError ? err.message : errorText(err);
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      })
      .finally(() => {
        save.disabled = false;
      });
  });
  return form;
}

/** Disable / enable, revoke credentials, close live sessions; each says what happened. */
function actions(view: AccountView): HTMLElement {
  const { ctx, id } = view;
  const result = h('p', { id: 'account-action-result', role: 'status' });
  const failed = h('p', { class: 'error-text', role: 'alert' });
  const run = (button: HTMLButtonElement, question: string | null, act: () => Promise<string>) => {
    button.addEventListener('click', () => {
      if (question !== null && !window.confirm(question)) return;
      button.disabled = true;
      failed.textContent = '';
      result.textContent = '';
      act()
        .then((said) => {
          result.textContent = said;
        })
        .catch((err: unknown) => {
          failed.textContent = errorText(err);
        })
        .finally(() => {
          button.disabled = false;
        });
    });
  };

  const toggle = h('button', { type: 'button', id: 'account-toggle' });
  view.onChange((a) => {
    setText(toggle, a.disabled ? 'Enable account' : 'Disable account');
    toggle.className = a.disabled ? 'primary' : 'danger';
  });
  toggle.addEventListener('click', () => {
    const disable = !view.current().disabled;
    if (disable && !window.confirm(`Disable ${view.current().name}? Its keys, tokens and TURN credentials are refused and its live sessions are closed.`)) return;
    toggle.disabled = true;
    failed.textContent = '';
    result.textContent = '';
    ctx.api
      .patch<Account>(accountPath(id), { disabled: disable })
      .then((a) => {
        view.update(a);
        result.textContent = a.disabled ? 'Account disabled: its credentials are refused.' : 'Account enabled.';
      })
      .catch((err: unknown) => {
        failed.textContent = errorText(err);
      })
      .finally(() => {
        toggle.disabled = false;
      });
  });

  const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke credentials');
  run(revoke, 'Revoke every TURN credential and signaling token issued so far? Live sessions are closed; API keys stay valid.', async () => {
    const r = await ctx.api.post<{ revoked: true; closed_allocations: number }>(`${accountPath(id)}/revoke`);
    return `Credentials revoked; ${sessions(r.closed_allocations)} closed.`;
  });
  const close = h('button', { type: 'button', class: 'danger' }, 'Close live sessions');
  run(close, 'Close every live session of this account? Its credentials stay valid.', async () => {
    const r = await ctx.api.delete<{ closed: number }>(`${accountPath(id)}/sessions`);
    return `${sessions(r.closed)} closed.`.replace(/^./, (c) => c.toUpperCase());
  });

  return h(
    'div',
    { class: 'account-actions', role: 'group', 'aria-labelledby': 'actions-title' },
    h('h3', { id: 'actions-title' }, 'Actions'),
    h('div', { class: 'row' }, toggle, revoke, close),
    result,
    failed,
  );
}

const sessions = (n: number): string => `${n} live ${n === 1 ? 'session' : 'sessions'}`;
