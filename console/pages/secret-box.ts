/**
 * A new API key, shown once: the API never answers it again (it keeps only a hash), so the box
 * says so, selects easily and copies to the clipboard. The key lives in this element only; it is
 * gone when the operator dismisses the box or leaves the page.
 */
import { h } from '../dom.js';

export function secretBox(title: string, secret: string, announce: (message: string) => void): HTMLElement {
  const status = h('span', { class: 'help', role: 'status' });
  const value = h('code', { class: 'secret', 'data-secret': 'api-key' }, secret);
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', () => {
    // The Clipboard API needs a secure context (localhost or HTTPS) and may be refused: then the
    // key is selected, for the operator to copy by hand.
    const fallback = () => {
      const range = document.createRange();
      range.selectNodeContents(value);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      status.textContent = 'Could not copy: the key is selected, copy it by hand.';
    };
    if (navigator.clipboard === undefined) {
      fallback();
      return;
    }
    navigator.clipboard.writeText(secret).then(() => {
      status.textContent = 'Copied.';
    }, fallback);
  });
  const box = h(
    'section',
    { class: 'once', role: 'region', 'aria-label': title },
    h('h3', {}, title),
    h('p', {}, h('strong', {}, 'Copy it now: it will not be shown again.'), ' Ferry keeps only a hash of it.'),
    h('p', {}, value),
    h('div', { class: 'row' }, copy, h('button', { type: 'button', onclick: () => box.remove() }, 'Done, hide it'), status),
  );
  announce(`${title}: copy it now, it will not be shown again.`);
  return box;
}
