/** A failure shown where the content would be: what the API said, and a way to try again. */
import { ApiError } from '../api.js';
import { h } from '../dom.js';

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.status > 0 ? `${err.message} (${err.status} ${err.code})` : err.message;
  return err instanceof Error ? err.message : String(err);
}

export function errorBox(err: unknown, retry?: () => void): HTMLElement {
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('p', {}, errorText(err)),
    retry ? h('button', { type: 'button', onclick: retry }, 'Try again') : null,
  );
}
