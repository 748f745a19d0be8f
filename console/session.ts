/**
 * The admin token of this tab: in sessionStorage (gone when the tab closes; another tab signs in
 * on its own, except one made by the browser's Duplicate Tab, which starts with a copy of this
 * tab's sessionStorage; never sent by the browser on its own, as a cookie would be), in memory when storage is
 * unavailable. It is only ever sent as `Authorization: Bearer`, never put in a URL.
 */
const KEY = 'ferry.console.admin_token';

let memory: string | null = null;

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

export function getToken(): string | null {
  try {
    return storage()?.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

export function setToken(token: string): void {
  memory = token;
  try {
    storage()?.setItem(KEY, token);
  } catch {
    // Storage full or refused: the token stays in memory for this page's life.
  }
}

export function clearToken(): void {
  memory = null;
  try {
    storage()?.removeItem(KEY);
  } catch {
    // Nothing stored.
  }
}
