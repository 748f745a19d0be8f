/**
 * The export's account: a text field with suggestions (an <input list> and its <datalist>) rather
 * than a <select> with an option per account, which with 100,000 accounts would be 100,000
 * elements. The suggestions are at most MAX_SUGGESTIONS names matching what is typed, rebuilt as
 * the operator types. Empty means all accounts; otherwise the value must be an account's id or the
 * name of exactly one account, checked against the account list before anything is asked.
 */
import { h, setText } from '../dom.js';

/** Suggestions at most: the list stays small, typing narrows it. */
export const MAX_SUGGESTIONS = 500;

export interface AccountItem {
  readonly id: string;
  readonly name: string;
  readonly disabled: boolean;
}

export interface AccountChoice {
  /** The field with its label, help and error text. */
  readonly element: HTMLElement;
  /** The account list arrived (GET /v1/accounts). */
  readonly setAccounts: (accounts: readonly AccountItem[]) => void;
  /** The chosen account's id, '' for all accounts, undefined (and said) when the value is no account. */
  read(): string | undefined;
  focus(): void;
}

export function accountChoice(): AccountChoice {
  const list = h('datalist', { id: 'export-account-list' });
  const input = h('input', {
    id: 'export-account',
    name: 'account',
    type: 'text',
    list: 'export-account-list',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'All accounts',
    'aria-describedby': 'export-account-help export-account-error',
  });
  const help = h('p', { id: 'export-account-help', class: 'help' }, 'Empty for all accounts; or an account\'s name or id.');
  const error = h('p', { id: 'export-account-error', class: 'error-text', role: 'alert' });
  let accounts: AccountItem[] | undefined;

  const suggest = () => {
    if (accounts === undefined) return;
    const q = input.value.trim().toLowerCase();
    const options: HTMLOptionElement[] = [];
    for (const a of accounts) {
      if (options.length >= MAX_SUGGESTIONS) break;
      if (q === '' || a.name.toLowerCase().includes(q) || a.id.toLowerCase().includes(q)) {
        // The value is the id (unique); the label is the name the operator looks for.
        options.push(h('option', { value: a.id, label: `${a.name}${a.disabled ? ' – disabled' : ''}` }));
      }
    }
    list.replaceChildren(...options);
  };
  const clearError = () => {
    setText(error, '');
    input.removeAttribute('aria-invalid');
  };
  const refuse = (message: string): undefined => {
    setText(error, message);
    input.setAttribute('aria-invalid', 'true');
    return undefined;
  };
  input.addEventListener('input', () => {
    clearError();
    suggest();
  });

  return {
    element: h('div', { class: 'field export-account' }, h('label', { for: 'export-account' }, 'Account'), input, list, help, error),
    setAccounts(all) {
      accounts = [...all].sort((a, b) => a.name.localeCompare(b.name, 'en', { sensitivity: 'base' }) || (a.id < b.id ? -1 : 1));
      suggest();
    },
    read() {
      const value = input.value.trim();
      clearError();
      if (value === '') return '';
      // Without the list (it could not be read), the id as typed: the API says if there is none.
      if (accounts === undefined) return value;
      if (accounts.some((a) => a.id === value)) return value;
      const named = accounts.filter((a) => a.name.toLowerCase() === value.toLowerCase());
      if (named.length === 1) return named[0].id;
      if (named.length > 1) return refuse(`${named.length} accounts are called “${value}”: give the id of the one you mean.`);
      return refuse(`No account has the name or id “${value}”. Leave the field empty for all accounts.`);
    },
    focus: () => input.focus(),
  };
}
