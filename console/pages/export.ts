/**
 * Usage export: a range of UTC days (or a quick choice: the current timeframe, the last 7 days,
 * this or last month), a bucket size and optionally one account, downloaded as the CSV of GET
 * /v1/usage/export.csv, the file billing systems read. The file is fetched with the admin token in
 * the Authorization header (a plain link could not send it, and the token never goes in a URL),
 * then handed to the browser as a download from a Blob; a preview of its first rows shows what it
 * holds.
 */
import type { Api } from '../api.js';
import type { AccountItem } from './export-account.js';
import { cellText, csvHead } from '../csv.js';
import { h, replace, setText } from '../dom.js';
import { formatCount, formatTime } from '../format.js';
import type { PageContext } from '../page.js';
import { errorText } from './error.js';
import { accountChoice } from './export-account.js';
import { alignRange, dayOf, fileStamp, type Granularity, isMidnight, lastMonth, lastSevenDays, parseDay, thisMonth, type Range } from './export-range.js';

/** Rows shown in the preview; the file has them all. */
export const PREVIEW_ROWS = 10;

interface OverviewTimeframe {
  readonly timeframe: { readonly start: string; readonly end: string };
}

type Quick = 'timeframe' | 'week' | 'month' | 'last-month';

export function exportPage(ctx: PageContext): void {
  let gone = false;
  ctx.onLeave(() => { gone = true; });

  const from = h('input', { id: 'export-from', name: 'from', type: 'date', required: true, 'aria-describedby': 'export-range-help' });
  const to = h('input', { id: 'export-to', name: 'to', type: 'date', required: true, 'aria-describedby': 'export-range-help' });
  const rangeHelp = h('p', { id: 'export-range-help', class: 'help' });
  const granularity = h(
    'select',
    { id: 'export-granularity', name: 'granularity' },
    h('option', { value: 'hour' }, 'Hour'),
    h('option', { value: 'day', selected: true }, 'Day (UTC)'),
    h('option', { value: 'timeframe' }, 'Timeframe (billing period)'),
  );
  const account = accountChoice();
  const alert = h('div', { id: 'export-error', class: 'error', role: 'alert', hidden: true });
  const download = h('button', { type: 'submit', class: 'primary' }, 'Download CSV');
  const preview = h('section', { class: 'card export-preview', 'aria-labelledby': 'export-preview-title', hidden: true });

  /** An exact range from a quick choice, while the inputs still show its days. */
  let exact: Range | undefined;
  let timeframe: Range | undefined;
  let touched = false;

  const quickButtons = new Map<Quick, HTMLButtonElement>();
  const quick = (key: Quick, label: string) => {
    const b = h('button', { type: 'button', 'aria-pressed': 'false', onclick: () => choose(key) }, label);
    quickButtons.set(key, b);
    return b;
  };
  const quickRow = h(
    'div',
    { class: 'row export-quick', role: 'group', 'aria-label': 'Quick ranges' },
    quick('timeframe', 'This timeframe'),
    quick('week', 'Last 7 days'),
    quick('month', 'This month'),
    quick('last-month', 'Last month'),
  );
  quickButtons.get('timeframe')!.disabled = true;

  const showError = (message: string | null) => {
    alert.hidden = message === null;
    replace(alert, message === null ? null : h('p', {}, message));
  };

  const rowsPer = () => granularity.value as Granularity;
  const explainRange = () => {
    const r = readRange();
    if (exact !== undefined) {
      const a = alignRange(exact, rowsPer());
      if (a.from === exact.from && a.to === exact.to) {
        setText(rangeHelp, `Exactly ${formatTime(exact.from)} to ${formatTime(exact.to)} (the current timeframe). Buckets starting in that time are exported.`);
      } else {
        // Rows per hour or day start on the hour or at midnight: the bucket holding the
        // timeframe's start is the first of the billing period, so the range takes it whole.
        const unit = rowsPer() === 'hour' ? 'hours' : 'days';
        const hm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
        setText(rangeHelp, `Whole ${unit}: from ${formatTime(a.from)} up to, not including, ${formatTime(a.to)} (the current timeframe starts ${hm(exact.from)} and ends ${formatTime(exact.to)}).`);
      }
    } else if (r !== undefined) {
      setText(rangeHelp, `Buckets starting from ${formatTime(r.from)} up to, not including, ${formatTime(r.to)}.`);
    } else {
      setText(rangeHelp, 'From is included, To is not: both are days in UTC.');
    }
  };

  const setRange = (r: Range, key: Quick) => {
    from.value = dayOf(r.from);
    // An end inside a day (a timeframe ending at 15:00) shows as that day; `exact` keeps the time.
    to.value = dayOf(r.to);
    exact = isMidnight(r.from) && isMidnight(r.to) ? undefined : r;
    for (const [k, b] of quickButtons) b.setAttribute('aria-pressed', String(k === key));
    explainRange();
  };

  function choose(key: Quick): void {
    touched = true;
    const now = Date.now();
    const r = key === 'timeframe' ? timeframe : key === 'week' ? lastSevenDays(now) : key === 'month' ? thisMonth(now) : lastMonth(now);
    if (r !== undefined) setRange(r, key);
    showError(null);
  }

  /** The range the inputs (or the quick choice still shown in them) say; undefined when invalid. */
  function readRange(): Range | undefined {
    if (exact !== undefined) return exact;
    const f = parseDay(from.value);
    const t = parseDay(to.value);
    return f === undefined || t === undefined ? undefined : { from: f, to: t };
  }

  const edited = () => {
    touched = true;
    exact = undefined;
    for (const b of quickButtons.values()) b.setAttribute('aria-pressed', 'false');
    explainRange();
  };
  from.addEventListener('input', edited);
  to.addEventListener('input', edited);
  granularity.addEventListener('change', explainRange);

  const form = h(
    'form',
    { class: 'card export-form', 'aria-labelledby': 'export-form-title', novalidate: true },
    h('h2', { id: 'export-form-title' }, 'Range and rows'),
    h(
      'fieldset',
      { class: 'export-range' },
      h('legend', {}, 'Range (UTC)'),
      quickRow,
      h(
        'div',
        { class: 'row export-dates' },
        h('div', { class: 'field' }, h('label', { for: 'export-from' }, 'From'), from),
        h('div', { class: 'field' }, h('label', { for: 'export-to' }, 'To (not included)'), to),
      ),
      rangeHelp,
    ),
    h(
      'div',
      { class: 'row export-options' },
      h('div', { class: 'field' }, h('label', { for: 'export-granularity' }, 'Rows per'), granularity),
      account.element,
    ),
    alert,
    download,
  );

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const picked = readRange();
    if (picked === undefined) {
      showError('Give both days, From and To, as dates (YYYY-MM-DD).');
      (parseDay(from.value) === undefined ? from : to).focus();
      return;
    }
    if (picked.from >= picked.to) {
      showError('From must be before To: the range is empty.');
      to.focus();
      return;
    }
    const who = account.read();
    if (who === undefined) {
      account.focus();
      return;
    }
    const r = alignRange(picked, rowsPer());
    showError(null);
    download.disabled = true;
    form.setAttribute('aria-busy', 'true');
    const query = new URLSearchParams({ from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString(), granularity: granularity.value });
    if (who !== '') query.set('account', who);
    const name = `ferry-usage-${fileStamp(r.from)}-${fileStamp(r.to)}.csv`;
    ctx.api
      .text(`/v1/usage/export.csv?${query.toString()}`)
      .then((csv) => {
        if (gone) return;
        saveFile(csv, name);
        const rows = showPreview(preview, csv, name);
        ctx.announce(`Downloaded ${name}: ${rows === 1 ? '1 row' : `${formatCount(rows)} rows`}.`);
      })
      .catch((err: unknown) => {
        if (!gone) showError(`The export failed: ${errorText(err)}`);
      })
      .finally(() => {
        download.disabled = false;
        form.removeAttribute('aria-busy');
      });
  });

  setRange(thisMonth(Date.now()), 'month');
  replace(
    ctx.main,
    h('h1', {}, 'Usage export'),
    h('p', { class: 'help' }, 'Relayed bytes per account and bucket, as CSV for a billing system or a spreadsheet: the same rows as GET /v1/usage/export.csv. Times are UTC.'),
    form,
    preview,
  );

  loadChoices(ctx.api, account.setAccounts, (tf) => {
    if (gone) return;
    timeframe = tf;
    quickButtons.get('timeframe')!.disabled = false;
    // The billing period is what an export is usually for: it is the first choice unless the
    // operator has already picked something else.
    if (!touched) setRange(tf, 'timeframe');
  }, (message) => {
    if (!gone) showError(message);
  });
}

/** Fills the account list (GET /v1/accounts) and learns the current timeframe (GET /v1/overview). */
function loadChoices(api: Api, gotAccounts: (accounts: readonly AccountItem[]) => void, gotTimeframe: (r: Range) => void, failed: (message: string) => void): void {
  api
    .get<{ accounts: AccountItem[] }>('/v1/accounts')
    .then(({ accounts }) => gotAccounts(accounts))
    .catch((err: unknown) => failed(`The account list could not be read: ${errorText(err)}`));
  api
    .get<OverviewTimeframe>('/v1/overview')
    .then(({ timeframe }) => {
      const r = { from: Date.parse(timeframe.start), to: Date.parse(timeframe.end) };
      if (Number.isFinite(r.from) && Number.isFinite(r.to) && r.from < r.to) gotTimeframe(r);
    })
    .catch((err: unknown) => failed(`The current timeframe could not be read: ${errorText(err)}`));
}

/** Hands `text` to the browser as a download named `name`. */
function saveFile(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once it started; the Blob is not kept for the page's life.
  window.setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** Shows the file's row count and first rows; returns the count (the header not included). */
function showPreview(section: HTMLElement, csv: string, name: string): number {
  // Only the header and the rows shown are parsed; the rest is counted. Nothing built here keeps
  // the text: once the download started and this returns, the page lets go of it.
  const head = csvHead(csv, PREVIEW_ROWS + 1);
  const [header = [], ...shown] = head.records;
  const total = Math.max(0, head.count - 1);
  const col = (n: string) => header.indexOf(n);
  const at = (row: readonly string[], n: string) => row[col(n)] ?? '';
  const num = (row: readonly string[], n: string) => {
    const v = Number(at(row, n));
    return Number.isFinite(v) && at(row, n) !== '' ? formatCount(v) : '–';
  };
  const count = h('p', { id: 'export-count' }, total === 1 ? '1 row' : `${formatCount(total)} rows`, ' in ', h('span', { class: 'mono' }, name), '.');
  const table =
    total === 0 ? h('p', { class: 'help' }, 'No usage in this range: the file holds the header row only.')
    : h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data export-rows' },
        h('caption', {}, total > shown.length ? `The first ${shown.length} rows` : 'All rows'),
        h('thead', {}, h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Start'),
          h('th', { scope: 'col' }, 'Account'),
          h('th', { scope: 'col', class: 'num' }, 'To peer (bytes)'),
          h('th', { scope: 'col', class: 'num' }, 'To client (bytes)'),
          h('th', { scope: 'col', class: 'num' }, 'Total (bytes)'),
        )),
        h('tbody', {}, ...shown.map((row) => {
          const id = cellText(at(row, 'account'));
          const accountName = cellText(at(row, 'account_name'));
          return h(
            'tr',
            {},
            h('td', {}, formatTime(at(row, 'start'))),
            h('td', {}, accountName !== '' ? accountName : id, accountName !== '' ? h('span', { class: 'help' }, ` ${id}`) : null),
            h('td', { class: 'num' }, num(row, 'bytes_to_peer')),
            h('td', { class: 'num' }, num(row, 'bytes_to_client')),
            h('td', { class: 'num' }, num(row, 'total_bytes')),
          );
        })),
      ),
    );
  replace(section, h('h2', { id: 'export-preview-title' }, 'Preview'), count, table);
  section.hidden = false;
  return total;
}
