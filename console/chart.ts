/**
 * Time series charts (uPlot, bundled: nothing is fetched from elsewhere) that follow their
 * container's width, from a phone to a laptop. Each chart is an image to assistive technology
 * with a label saying what it plots. An account's charts have their figures in a table; the
 * overview's live chart has its latest figures in the text above it, not its history.
 */
import uPlot from 'uplot';
import { formatBytes, formatRate } from './format.js';

export interface SeriesSpec {
  readonly label: string;
  /** A CSS colour. */
  readonly stroke: string;
}

export interface ChartSpec {
  /** Says what the chart plots (aria-label). */
  readonly label: string;
  readonly series: readonly SeriesSpec[];
  /** The y values are bytes per second (rate) or bytes (amount). */
  readonly unit: 'rate' | 'bytes';
  readonly height?: number;
  /** Bars (usage per hour or day) rather than lines (live rates). */
  readonly bars?: boolean;
}

export interface Chart {
  /** x: seconds since the epoch; ys: one array per series, as long as x. */
  setData(x: readonly number[], ys: readonly (readonly (number | null)[])[]): void;
  destroy(): void;
}

/** The x range of bars: the data's, and half the step between two buckets more at each end. */
function padded(u: uPlot, min: number, max: number): uPlot.Range.MinMax {
  const xs = u.data[0];
  const step = xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / (xs.length - 1) : 3600;
  return [min - step / 2, max + step / 2];
}

/** Tick steps of a live chart's time axis, in seconds. */
const LIVE_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600];

export function chart(container: HTMLElement, spec: ChartSpec): Chart {
  const box = document.createElement('div');
  box.className = 'chart';
  box.setAttribute('role', 'img');
  box.setAttribute('aria-label', spec.label);
  container.appendChild(box);
  const fmt = spec.unit === 'rate' ? formatRate : formatBytes;
  const width = () => Math.max(240, Math.floor(box.clientWidth || container.clientWidth || 600));
  // Two series of bars stand side by side in each bucket (left and right of its time), so
  // neither hides the other; any other number overlaps, centred.
  const pair = spec.series.length === 2;
  const bars = (i: number) => (spec.bars === true ? uPlot.paths.bars?.({ size: pair ? [0.35, 20] : [0.7, 40], align: pair ? (i === 0 ? -1 : 1) : 0 }) : undefined);
  const plot = new uPlot(
    {
      width: width(),
      // The ledger's hours and days are UTC: the axis says them in UTC, whatever the browser's zone.
      tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
      height: spec.height ?? 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Bars get half a bucket of room at each end, so the first and the last are whole.
        x: spec.bars === true ? { time: true, range: (u, min, max) => padded(u, min, max) } : { time: true },
        y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        // Live rates: whole seconds, written HH:MM:SS (UTC); usage buckets: uPlot's dates and hours.
        spec.bars === true ? {} : { incrs: LIVE_STEPS, space: 70, values: (_u, vals) => vals.map((v) => new Date(v * 1000).toISOString().slice(11, 19)) },
        { values: (_u, vals) => vals.map((v) => fmt(v)), size: 80 },
      ],
      series: [
        { label: 'Time (UTC)' },
        ...spec.series.map((s, i) => ({
          label: s.label,
          stroke: s.stroke,
          width: spec.bars === true ? 0 : 2,
          fill: spec.bars === true ? s.stroke : undefined,
          ...(spec.bars === true ? { paths: bars(i), points: { show: false } } : {}),
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
        })),
      ],
    },
    [[], ...spec.series.map(() => [])],
    box,
  );
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: spec.height ?? 220 }));
  resize.observe(box);
  return {
    setData(x, ys) {
      plot.setData([x as number[], ...ys.map((y) => y as (number | null)[])]);
    },
    destroy() {
      resize.disconnect();
      plot.destroy();
      box.remove();
    },
  };
}
