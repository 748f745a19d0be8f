// Checks a Grafana dashboard JSON against a real scrape of GET /metrics: the layout Grafana needs
// to import it (unique panel ids, a grid of 24 columns, a Prometheus data source) and, in every
// PromQL expression of its panels and template variables, that each metric name is one the scrape
// has and each label a matcher, a `by (...)` or a legend names is on that metric. Prometheus adds
// `instance` and `job` to every series it scrapes, so those two are on every metric. It returns
// the problems found (empty: none), so a test can also show that a wrong dashboard fails.
import type { Exposition } from './prometheus-text.js';

/** Labels Prometheus attaches to every scraped series (its target labels). */
export const TARGET_LABELS: readonly string[] = ['instance', 'job'];

const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile']);
const FUNCTIONS = new Set([
  ...AGGREGATIONS, 'abs', 'absent', 'ceil', 'clamp', 'clamp_max', 'clamp_min', 'delta', 'deriv', 'floor', 'histogram_quantile',
  'idelta', 'increase', 'irate', 'label_join', 'label_replace', 'rate', 'resets', 'round', 'scalar', 'sort', 'sort_desc',
  'time', 'timestamp', 'vector', 'avg_over_time', 'max_over_time', 'min_over_time', 'sum_over_time', 'count_over_time', 'last_over_time',
]);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2']);
/** Grafana's own variables that may appear in a query (in a range, mostly). */
const GRAFANA_VARIABLES = new Set(['__rate_interval', '__interval', '__range', '__range_s', '__interval_ms']);

const TOKEN = /\s+|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\[[^\]]*\]|[a-zA-Z_:][a-zA-Z0-9_:]*|\d+(?:\.\d+)?(?:e[+-]?\d+)?|=~|!~|!=|==|>=|<=|[(){},=<>+\-*/%^]/y;

export interface PromqlRefs {
  /** Each vector selector: its metric name and the label names its matchers use. */
  readonly metrics: readonly { readonly name: string; readonly labels: readonly string[] }[];
  /** Labels of `by (...)` clauses: what an aggregation keeps. */
  readonly by: readonly string[];
  /** Labels of without / on / ignoring / group_left / group_right. */
  readonly matching: readonly string[];
  /** Whether an aggregation operator (sum, max, count ...) is applied. */
  readonly aggregated: boolean;
  /** Grafana variables used ($job, ${instance}, $__rate_interval ...). */
  readonly variables: readonly string[];
  readonly problems: readonly string[];
}

/** The names a PromQL expression refers to, read token by token (enough for dashboard queries). */
export function promqlRefs(expr: string): PromqlRefs {
  const tokens: string[] = [];
  const problems: string[] = [];
  const variables = [...expr.matchAll(/\$(?:\{(\w+)(?::\w+)?\}|(\w+))/g)].map((m) => m[1] ?? m[2]);
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(expr);
    if (m === null) {
      problems.push(`unexpected "${expr.slice(at, at + 10)}" at ${at}`);
      break;
    }
    if (m[0].trim() !== '') tokens.push(m[0]);
  }
  const metrics: { name: string; labels: string[] }[] = [];
  const by: string[] = [];
  const matching: string[] = [];
  let aggregated = false;
  const isIdent = (t: string | undefined) => t !== undefined && /^[a-zA-Z_:]/.test(t);
  /** Reads `( a, b )` from tokens[i] on; returns the names and the index after `)`. */
  const list = (i: number): [string[], number] => {
    const names: string[] = [];
    let j = i + 1;
    for (; j < tokens.length && tokens[j] !== ')'; j++) {
      if (tokens[j] === ',') continue;
      if (isIdent(tokens[j])) names.push(tokens[j]);
      else problems.push(`"${tokens[j]}" in a label list`);
    }
    if (j >= tokens.length) problems.push('unclosed label list');
    return [names, j + 1];
  };
  /** Reads `{ l op "v", ... }` from tokens[i] on; returns the label names and the index after `}`. */
  const matchers = (i: number): [string[], number] => {
    const labels: string[] = [];
    let j = i + 1;
    while (j < tokens.length && tokens[j] !== '}') {
      const [label, op, value] = [tokens[j], tokens[j + 1], tokens[j + 2]];
      if (!isIdent(label) || !['=', '!=', '=~', '!~'].includes(op ?? '') || !/^["']/.test(value ?? '')) {
        problems.push(`bad label matcher near "${tokens.slice(j, j + 3).join(' ')}"`);
        return [labels, tokens.length];
      }
      labels.push(label);
      j += 3;
      if (tokens[j] === ',') j++;
    }
    if (j >= tokens.length) problems.push('unclosed label matchers');
    return [labels, j + 1];
  };
  let depth = 0;
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (t === '(') depth++;
    if (t === ')') depth--;
    if (depth < 0) problems.push('unbalanced ")"');
    if (t === '{') {
      problems.push('a selector without a metric name');
      i = matchers(i)[1];
    } else if (!isIdent(t)) {
      i++;
    } else if (AGGREGATIONS.has(t) && (next === '(' || next === 'by' || next === 'without')) {
      aggregated = true; // sum (...), sum by (l) (...), sum without (l) (...)
      i++;
    } else if (GROUPING.has(t)) {
      if (next !== '(') {
        i++;
        continue;
      }
      const [names, after] = list(i + 1);
      (t === 'by' ? by : matching).push(...names);
      i = after;
    } else if (next === '(') {
      if (!FUNCTIONS.has(t)) problems.push(`unknown function ${t}()`);
      i++;
    } else if (KEYWORDS.has(t)) {
      i++;
    } else {
      const [labels, after] = next === '{' ? matchers(i + 1) : [[], i + 1];
      metrics.push({ name: t, labels });
      i = after;
    }
  }
  if (depth !== 0) problems.push('unbalanced parentheses');
  return { metrics, by, matching, aggregated, variables, problems };
}

/** The label names a legend format uses: `{{direction}}`. */
export const legendLabels = (format: string | undefined): string[] => [...(format ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]);

/** The problems of one expression (and its legend) against the scrape. */
export function checkExpression(expr: string, legendFormat: string | undefined, scrape: Exposition, variables: ReadonlySet<string>): string[] {
  const refs = promqlRefs(expr);
  const problems = [...refs.problems];
  const labelsOf = (name: string): ReadonlySet<string> => new Set([...(scrape.series.get(name) ?? []), ...TARGET_LABELS]);
  if (refs.metrics.length === 0) problems.push('no metric');
  for (const { name, labels } of refs.metrics) {
    if (!scrape.series.has(name)) {
      problems.push(`metric ${name} is not in the scrape`);
      continue;
    }
    for (const l of labels) if (!labelsOf(name).has(l)) problems.push(`${name} has no label ${l}`);
  }
  const known = refs.metrics.filter((m) => scrape.series.has(m.name));
  for (const l of [...refs.by, ...refs.matching]) {
    for (const { name } of known) if (!labelsOf(name).has(l)) problems.push(`by/on (${l}): ${name} has no label ${l}`);
  }
  // After an aggregation only its `by` labels are left; without one, the selected metrics' labels.
  const legendCan = refs.aggregated ? new Set(refs.by) : new Set(known.flatMap((m) => [...labelsOf(m.name)]));
  for (const l of legendLabels(legendFormat)) if (!legendCan.has(l)) problems.push(`legend {{${l}}}: not a label of the result`);
  for (const v of refs.variables) if (!variables.has(v) && !GRAFANA_VARIABLES.has(v)) problems.push(`variable $${v} is not defined`);
  return problems.map((p) => `${p} (in ${expr})`);
}

interface GridPos { x: number; y: number; w: number; h: number }
interface Target { refId?: string; expr?: string; legendFormat?: string; datasource?: { type?: string; uid?: string } }
interface Panel { id?: unknown; type?: string; title?: string; gridPos?: GridPos; datasource?: { type?: string; uid?: string }; targets?: Target[]; panels?: Panel[] }
interface Variable { name?: string; type?: string; query?: unknown; datasource?: { type?: string; uid?: string } }
export interface Dashboard {
  schemaVersion?: number;
  title?: string;
  uid?: string;
  panels?: Panel[];
  templating?: { list?: Variable[] };
  __inputs?: { name?: string; type?: string; pluginId?: string }[];
}

/** Every panel, rows' nested (collapsed) panels included. */
export const allPanels = (d: Dashboard): Panel[] => (d.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);

/** Every PromQL expression of the dashboard's panels. */
export const expressions = (d: Dashboard): string[] => allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));

const overlap = (a: GridPos, b: GridPos): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** The dashboard's problems: structure, data source, template variables, and every query against the scrape. */
export function checkDashboard(d: Dashboard, scrape: Exposition): string[] {
  const problems: string[] = [];
  if (typeof d.schemaVersion !== 'number' || d.schemaVersion < 39) problems.push(`schemaVersion ${d.schemaVersion} (want 39 or later)`);
  if (!d.title) problems.push('no title');
  if (!d.uid) problems.push('no uid');
  const vars = d.templating?.list ?? [];
  const names = new Set(vars.map((v) => v.name ?? ''));
  // The Prometheus data source: a datasource variable, or an input replaced at import.
  const dsVar = vars.find((v) => v.type === 'datasource' && v.query === 'prometheus');
  const dsInput = d.__inputs?.find((i) => i.type === 'datasource' && i.pluginId === 'prometheus');
  const dsRefs = new Set([dsVar ? `\${${dsVar.name}}` : undefined, dsInput ? `\${${dsInput.name}}` : undefined].filter((s) => s !== undefined));
  if (dsRefs.size === 0) problems.push('no Prometheus data source variable or input');
  const dsOk = (ds: { type?: string; uid?: string } | undefined): boolean => ds?.type === 'prometheus' && dsRefs.has(ds.uid ?? '');
  for (const want of ['job', 'instance']) {
    const v = vars.find((x) => x.name === want);
    if (v?.type !== 'query') {
      problems.push(`no query variable ${want}`);
      continue;
    }
    if (!dsOk(v.datasource)) problems.push(`variable ${want}: its data source is not the Prometheus one`);
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query ?? '';
    const m = /^label_values\((.+),\s*([a-zA-Z_]\w*)\s*\)$/.exec(q);
    if (m === null) {
      problems.push(`variable ${want}: not label_values(<selector>, <label>): ${q}`);
      continue;
    }
    if (m[2] !== want) problems.push(`variable ${want} lists the values of ${m[2]}`);
    problems.push(...checkExpression(m[1], `{{${m[2]}}}`, scrape, names).map((p) => `variable ${want}: ${p}`));
  }
  const ids = new Set<unknown>();
  const placed: [string, GridPos][] = [];
  for (const p of allPanels(d)) {
    const name = `panel ${String(p.id)} "${p.title ?? ''}"`;
    if (!Number.isInteger(p.id) || ids.has(p.id)) problems.push(`${name}: id missing, not a whole number or not unique`);
    ids.add(p.id);
    const g = p.gridPos;
    if (g === undefined || ![g.x, g.y, g.w, g.h].every(Number.isInteger) || g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > 24) {
      problems.push(`${name}: gridPos ${JSON.stringify(g)} is not inside 24 columns`);
    } else {
      for (const [other, o] of placed) if (overlap(g, o)) problems.push(`${name} overlaps ${other}`);
      placed.push([name, g]);
    }
    if (p.type === 'row') continue;
    if (!['timeseries', 'stat', 'gauge', 'bargauge', 'table'].includes(p.type ?? '')) problems.push(`${name}: panel type ${p.type}`);
    if (!dsOk(p.datasource)) problems.push(`${name}: its data source is not the Prometheus one`);
    const targets = p.targets ?? [];
    if (targets.length === 0) problems.push(`${name}: no query`);
    if (new Set(targets.map((t) => t.refId)).size !== targets.length || targets.some((t) => !t.refId)) problems.push(`${name}: refIds missing or not unique`);
    for (const t of targets) {
      if (t.datasource !== undefined && !dsOk(t.datasource)) problems.push(`${name} ${t.refId}: its data source is not the Prometheus one`);
      problems.push(...checkExpression(t.expr ?? '', t.legendFormat, scrape, names).map((e) => `${name}: ${e}`));
    }
  }
  return problems;
}
