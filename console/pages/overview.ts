// Written by the helper that owns this page (issue 14); the heading only until then.
import { h, replace } from '../dom.js';
import type { PageContext } from '../page.js';

export function overviewPage(ctx: PageContext): void {
  replace(ctx.main, h('h1', {}, 'Overview'));
}
