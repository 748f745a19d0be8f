/**
 * Building the page's elements without markup strings: text always goes in as text (a name, a
 * message from the API), never parsed as HTML, so nothing the server or an account holder chose
 * can run in the operator's page.
 */
export type Child = Node | string | number | null | undefined | false;

export interface Props {
  /** class attribute. */
  readonly class?: string;
  /** Other attributes (id, aria-*, role, type, name, for, href, ...); false or undefined: left out. */
  readonly [attr: string]: string | number | boolean | undefined | ((ev: Event) => void);
}

/** `<tag ...props>children</tag>`; `on<event>` props become listeners. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value as EventListener);
    } else if (key === 'class') {
      el.className = String(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces everything in `parent` with `children`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** Sets an element's text (a no-op when unchanged, so screen readers are not told twice). */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
