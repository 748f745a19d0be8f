/**
 * An account's usage: this timeframe against its limit (a gauge with the soft and hard marks of
 * network_usage), and the bytes each way per hour for the last 48 hours or per UTC day for the
 * last 31 days as bars, with the same figures in a table for screen readers and for anyone who
 * wants the exact numbers. Everything from GET /v1/usage, which includes what the relay counted
 * but has not written to the ledger yet.
 */
import { type Chart, chart } from '../chart.js';
import { h, replace, setText } from '../dom.js';
import { formatCount, formatTime } from '../format.js';
import { gauge } from '../gauge.js';
import type { AccountView, OverviewLimits, UsageRow } from './account-model.js';
import { timeframeUsage } from './account-model.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

interface Range {
  readonly granularity: 'hour' | 'day';
  readonly bucketMs: number;
  readonly buckets: number;
  readonly title: string;
  readonly bucketWord: string;
}

const RANGES: Readonly<Record<'hour' | 'day', Range>> = {
  hour: { granularity: 'hour', bucketMs: HOUR_MS, buckets: 48, title: 'Bytes relayed per hour, last 48 hours', bucketWord: 'Hour (UTC)' },
  day: { granularity: 'day', bucketMs: DAY_MS, buckets: 31, title: 'Bytes relayed per day, last 31 days', bucketWord: 'Day (UTC)' },
};

export interface UsageSection {
  readonly element: HTMLElement;
  /** Reads the usage again and redraws the gauge, the chart and the table. */
  refresh(): Promise<void>;
}

/** A CSS custom property's colour (the canvas cannot resolve var()). */
function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function usageSection(view: AccountView, overviewAtStart: OverviewLimits): UsageSection {
  const { ctx, id } = view;
  let overview = overviewAtStart;
  let used = 0;

  const meter = gauge('Usage this timeframe');
  meter.element.id = 'usage-gauge';
  const timeframe = h('p', { class: 'help' });
  const showGauge = () => {
    const { soft_limit: soft, hard_limit: hard } = overview.limits;
    meter.set(used, view.current().limit, soft, hard);
    setText(timeframe, `Timeframe ${formatTime(overview.timeframe.start)} to ${formatTime(overview.timeframe.end)}; new allocations are refused from ${Math.round(soft * 100)} % of the limit, live ones closed from ${Math.round(hard * 100)} %.`);
  };
  view.onChange(showGauge);

  let range = RANGES.hour;
  const chartBox = h('div', { class: 'chart-box' });
  const caption = h('caption');
  const head = h('tr');
  const body = h('tbody');
  const foot = h('tfoot');
  const table = h('table', { class: 'data', id: 'usage-table' }, caption, h('thead', {}, head), body, foot);
  let plot: Chart | undefined;
  const makeChart = () => {
    plot?.destroy();
    plot = chart(chartBox, {
      label: `${range.title}: to peer and to client`,
      series: [
        { label: 'To peer', stroke: cssColor('--to-peer', '#0b5cad') },
        { label: 'To client', stroke: cssColor('--to-client', '#b35900') },
      ],
      unit: 'bytes',
      bars: true,
    });
    replace(head, h('th', { scope: 'col' }, range.bucketWord), h('th', { scope: 'col', class: 'num' }, 'To peer'), h('th', { scope: 'col', class: 'num' }, 'To client'), h('th', { scope: 'col', class: 'num hide-narrow' }, 'Total'));
    setText(caption, `${range.title} (UTC), in bytes: the ${range.granularity === 'hour' ? 'hours' : 'days'} with traffic, newest first`);
  };
  ctx.onLeave(() => plot?.destroy());

  const toggle = h(
    'fieldset',
    { class: 'toggle' },
    h('legend', { class: 'visually-hidden' }, 'Chart bars'),
    ...(['hour', 'day'] as const).map((g) => {
      const input = h('input', { type: 'radio', name: 'usage-range', id: `usage-${g}`, value: g, checked: g === 'hour' });
      input.addEventListener('change', () => {
        if (!input.checked) return;
        range = RANGES[g];
        makeChart();
        refresh().catch(() => undefined);
      });
      return h('label', { for: `usage-${g}`, class: 'toggle-option' }, input, g === 'hour' ? ' Per hour (48 h)' : ' Per day (31 days)');
    }),
  );

  const buckets = async (): Promise<void> => {
    const r = range;
    const now = Date.now();
    const first = Math.floor(now / r.bucketMs) * r.bucketMs - (r.buckets - 1) * r.bucketMs;
    const q = new URLSearchParams({ account: id, granularity: r.granularity, from: new Date(first).toISOString() });
    const { usage } = await ctx.api.get<{ usage: UsageRow[] }>(`/v1/usage?${q.toString()}`);
    if (r !== range) return; // toggled while the answer was on its way
    const byStart = new Map<number, { toPeer: number; toClient: number }>();
    for (const row of usage) {
      const t = Date.parse(row.start);
      const b = byStart.get(t) ?? { toPeer: 0, toClient: 0 };
      b.toPeer += row.bytes_to_peer;
      b.toClient += row.bytes_to_client;
      byStart.set(t, b);
    }
    const xs: number[] = [];
    const toPeer: number[] = [];
    const toClient: number[] = [];
    for (let i = 0; i < r.buckets; i++) {
      const t = first + i * r.bucketMs;
      const b = byStart.get(t);
      xs.push(t / 1000);
      toPeer.push(b?.toPeer ?? 0);
      toClient.push(b?.toClient ?? 0);
    }
    plot?.setData(xs, [toPeer, toClient]);

    const rows = [...byStart.entries()].filter(([, b]) => b.toPeer + b.toClient > 0).sort((a, b) => b[0] - a[0]);
    // "2026-12-03 15:00" (the column says UTC) or "2026-12-03".
    const label = (t: number) => new Date(t).toISOString().slice(0, r.granularity === 'hour' ? 16 : 10).replace('T', ' ');
    replace(
      body,
      ...rows.map(([t, b]) =>
        h('tr', {}, h('th', { scope: 'row' }, label(t)), h('td', { class: 'num' }, formatCount(b.toPeer)), h('td', { class: 'num' }, formatCount(b.toClient)), h('td', { class: 'num hide-narrow' }, formatCount(b.toPeer + b.toClient)))),
    );
    if (rows.length === 0) body.appendChild(h('tr', {}, h('td', { colspan: 4 }, 'No traffic in this range.')));
    const sum = rows.reduce((s, [, b]) => ({ toPeer: s.toPeer + b.toPeer, toClient: s.toClient + b.toClient }), { toPeer: 0, toClient: 0 });
    replace(
      foot,
      h('tr', { 'data-total': '' }, h('th', { scope: 'row' }, 'Total'), h('td', { class: 'num' }, formatCount(sum.toPeer)), h('td', { class: 'num' }, formatCount(sum.toClient)), h('td', { class: 'num hide-narrow' }, formatCount(sum.toPeer + sum.toClient))),
    );
  };

  const refresh = async (): Promise<void> => {
    // A new timeframe began: its start (and the thresholds, which a reload may change) again.
    if (Date.now() >= Date.parse(overview.timeframe.end)) overview = await ctx.api.get<OverviewLimits>('/v1/overview');
    const [tf] = await Promise.all([timeframeUsage(ctx.api, overview.timeframe.start, id), buckets()]);
    used = tf.get(id) ?? 0;
    showGauge();
  };

  const element = h(
    'div',
    { class: 'account-usage' },
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'usage-title' },
      h('h2', { id: 'usage-title' }, 'Usage this timeframe'),
      meter.element,
      timeframe,
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'traffic-title' },
      h('div', { class: 'row spread' }, h('h2', { id: 'traffic-title' }, 'Traffic'), toggle),
      chartBox,
      h('details', { class: 'figures' }, h('summary', {}, 'The figures as a table'), h('div', { class: 'table-wrap' }, table)),
    ),
  );
  // Sized to its container by the chart's ResizeObserver once the section is in the page.
  makeChart();
  return { element, refresh };
}
