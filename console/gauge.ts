/**
 * A usage gauge: how much of a limit is used, with the soft and hard thresholds marked. A meter to
 * assistive technology (role "meter" with its value and a text saying it in words).
 */
import { h, setText } from './dom.js';
import { formatBytes, formatShare } from './format.js';

export interface Gauge {
  readonly element: HTMLElement;
  /** used bytes of `limit` bytes (null: no limit), thresholds as shares of the limit. */
  set(used: number, limit: number | null, soft: number, hard: number): void;
}

export function gauge(label: string): Gauge {
  const fill = h('div', { class: 'gauge-fill' });
  const softMark = h('div', { class: 'gauge-mark soft', title: 'soft limit' });
  const hardMark = h('div', { class: 'gauge-mark hard', title: 'hard limit' });
  const bar = h('div', { class: 'gauge-bar' }, fill, softMark, hardMark);
  const text = h('p', { class: 'gauge-text' });
  const element = h('div', { class: 'gauge', role: 'meter', 'aria-label': label, 'aria-valuemin': 0 }, bar, text);
  return {
    element,
    set(used, limit, soft, hard) {
      if (limit === null) {
        element.classList.remove('soft', 'hard');
        fill.style.width = '0%';
        softMark.hidden = true;
        hardMark.hidden = true;
        element.setAttribute('aria-valuemax', String(Math.max(used, 1)));
        element.setAttribute('aria-valuenow', String(used));
        const words = `${formatBytes(used)} used, no limit`;
        element.setAttribute('aria-valuetext', words);
        setText(text, words);
        return;
      }
      const share = limit === 0 ? 1 : used / limit;
      fill.style.width = `${Math.min(100, share * 100)}%`;
      softMark.hidden = false;
      hardMark.hidden = false;
      softMark.style.left = `${Math.min(100, soft * 100)}%`;
      hardMark.style.left = `${Math.min(100, hard * 100)}%`;
      element.classList.toggle('soft', share >= soft && share < hard);
      element.classList.toggle('hard', share >= hard);
      element.setAttribute('aria-valuemax', String(limit));
      element.setAttribute('aria-valuenow', String(Math.min(used, limit)));
      const state = share >= hard ? ' — over the hard limit' : share >= soft ? ' — over the soft limit' : '';
      const words = `${formatBytes(used)} of ${formatBytes(limit)} (${formatShare(share)})${state}`;
      element.setAttribute('aria-valuetext', words);
      setText(text, words);
    },
  };
}
