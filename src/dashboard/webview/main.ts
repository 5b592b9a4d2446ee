// The lag dashboard inside the webview: two uPlot charts (bytes and seconds behind the primary, per
// replica, the last 10 minutes), the workshop's lag threshold drawn as a dashed line, and the
// workshop's three alert rules with their state. Colours come from the theme's CSS variables and
// follow theme changes.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { LagPoint } from '../../core/labs/lagSeries';
import type { DashboardSeries, DashboardStrings, FromWebview, ToWebview } from '../protocol';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void };
const vscode = acquireVsCodeApi();

let series: DashboardSeries[] = [];
let threshold = 10;
let windowMs = 600_000;
let labels: Record<string, string> = {};
/** Sent by the extension with 'init', before any chart is built. */
let strings = {} as DashboardStrings;
let points: LagPoint[] = [];
let received = 0;
let charts: uPlot[] = [];
let redrawQueued = false;

const css = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-yellow'];
/** Past five replicas the colours repeat: the repeats are dashed (a cluster of any size stays readable). */
const DASHES: (number[] | undefined)[] = [undefined, [8, 3], [2, 3], [8, 3, 2, 3]];

function fmtBytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < u.length - 1) {
    x /= 1024;
    i++;
  }
  return `${v < 0 ? '-' : ''}${i === 0 ? Math.round(x) : x < 10 ? x.toFixed(1) : Math.round(x)} ${u[i]}`;
}

function fmtSeconds(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  if (v < 1) return `${Math.round(v * 1000)} ms`;
  if (v < 120) return `${v.toFixed(v < 10 ? 1 : 0)} s`;
  return `${Math.round(v / 60)} min`;
}

/**
 * The nodes drawn: those that were a replica at some point in the window (a node has a lag value
 * only while it replicates), so the primary is not listed in a replica-lag chart; after a failover
 * the new replica appears. Never empty (the charts keep their axes while waiting).
 */
function shown(): DashboardSeries[] {
  const s = series.filter((x) => points.some((p) => p.v[x.key]));
  return s.length ? s : series.filter((x) => x.key !== 'primary');
}
let drawnKeys = '';

function data(kind: 'bytes' | 'seconds'): uPlot.AlignedData {
  const xs = points.map((p) => p.t / 1000);
  const cols: (number | null)[][] = shown().map((s) => points.map((p) => p.v[s.key]?.[kind] ?? null));
  if (kind === 'seconds') cols.push(points.map(() => threshold));
  return [xs, ...cols] as uPlot.AlignedData;
}

function makeChart(el: HTMLElement, kind: 'bytes' | 'seconds'): uPlot {
  const fg = css('--vscode-foreground', '#ccc');
  const grid = css('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const font = `11px ${css('--vscode-font-family', 'sans-serif')}`;
  const axis = (values?: uPlot.Axis['values']): uPlot.Axis => ({ stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font, values });
  const s: uPlot.Series[] = [
    {},
    ...shown().map((x, i) => ({
      label: labels[x.key] ?? x.label,
      stroke: css(PALETTE[i % PALETTE.length], '#4a9'),
      dash: DASHES[Math.floor(i / PALETTE.length) % DASHES.length],
      width: 2,
      spanGaps: false,
      value: (_u: uPlot, v: number | null) => (kind === 'bytes' ? fmtBytes(v) : fmtSeconds(v)),
    })),
  ];
  if (kind === 'seconds') {
    s.push({ label: strings.alertAbove.replace('{0}', String(threshold)), stroke: css('--vscode-charts-red', '#e55'), width: 1.5, dash: [6, 4], points: { show: false }, value: () => `${threshold} s` });
  }
  const width = Math.max(300, el.clientWidth);
  return new uPlot(
    {
      width,
      height: 220,
      title: kind === 'bytes' ? strings.bytesTitle : strings.secondsTitle,
      series: s,
      scales: {
        // From the first sample (at most the window ago) to now: the samples fill the chart.
        x: { time: true, range: () => [Math.max(points[0]?.t ?? 0, Date.now() - windowMs) / 1000, Date.now() / 1000] },
        y: { range: (_u, _min, max) => [0, kind === 'seconds' ? Math.max(max ?? 0, threshold * 1.2) : Math.max(max ?? 0, 1024)] },
      },
      // The y axis is wide enough for "1023 kB" (the default clipped labels to "000 B").
      axes: [axis(), { ...axis((_u, vals) => vals.map((v) => (kind === 'bytes' ? fmtBytes(v) : fmtSeconds(v)))), size: 76 }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    },
    data(kind),
    el,
  );
}

function build(): void {
  for (const c of charts) c.destroy();
  charts = [];
  const b = document.getElementById('bytes')!;
  const s = document.getElementById('seconds')!;
  b.textContent = '';
  s.textContent = '';
  charts = [makeChart(b, 'bytes'), makeChart(s, 'seconds')];
  drawnKeys = shown().map((x) => x.key).join(',');
  document.getElementById('empty')!.hidden = points.length > 0;
}

function redraw(): void {
  if (redrawQueued) return;
  redrawQueued = true;
  requestAnimationFrame(() => {
    redrawQueued = false;
    if (charts.length !== 2 || shown().map((x) => x.key).join(',') !== drawnKeys) return build();
    charts[0].setData(data('bytes'));
    charts[1].setData(data('seconds'));
    document.getElementById('empty')!.hidden = points.length > 0;
  });
}

function latest(): void {
  const last = points[points.length - 1];
  const el = document.getElementById('now')!;
  if (!last) {
    el.textContent = '';
    return;
  }
  el.textContent = shown().filter((s) => last.v[s.key]).map((s) => `${labels[s.key] ?? s.label}: ${fmtBytes(last.v[s.key]?.bytes)} · ${fmtSeconds(last.v[s.key]?.seconds)}`).join(' — ');
}

function renderAlerts(m: Extract<ToWebview, { type: 'alerts' }>): void {
  const list = document.getElementById('alerts')!;
  list.textContent = '';
  for (const r of m.rules) {
    const li = document.createElement('li');
    li.className = r.firing ? 'firing' : 'quiet';
    const head = document.createElement('div');
    head.className = 'rule';
    head.textContent = `${r.firing ? '●' : '○'} ${r.title}: ${r.firing ? strings.firing : strings.ok}`;
    const sql = document.createElement('code');
    sql.textContent = r.sql;
    li.append(head, sql);
    for (const msg of r.messages) {
      const d = document.createElement('div');
      d.className = 'msg';
      d.textContent = msg;
      li.append(d);
    }
    list.append(li);
  }
  document.getElementById('summary')!.textContent = m.summary;
}

window.addEventListener('message', (ev: MessageEvent<ToWebview>) => {
  const m = ev.data;
  if (m.type === 'init') {
    series = [...m.series];
    threshold = m.lagSecondsThreshold;
    windowMs = m.windowMs;
    labels = { ...m.labels };
    strings = m.strings;
    points = [...m.points];
    received += m.points.length;
    build();
    latest();
  } else if (m.type === 'point') {
    // Two samplers (the monitor, a demo) interleave: keep time order.
    let i = points.length;
    while (i > 0 && points[i - 1].t > m.point.t) i--;
    points.splice(i, 0, m.point);
    const cutoff = points[points.length - 1].t - windowMs;
    while (points.length && points[0].t < cutoff) points.shift();
    received++;
    redraw();
    latest();
  } else if (m.type === 'alerts') {
    renderAlerts(m);
  }
  vscode.postMessage({ type: 'received', points: received, drawn: charts.length ? shown().map((x) => labels[x.key] ?? x.label) : [] });
});

// Theme switch: VS Code changes the body class; rebuild with the new colours.
new MutationObserver(() => build()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
new ResizeObserver(() => {
  for (const c of charts) c.setSize({ width: Math.max(300, (c.root.parentElement?.clientWidth ?? 300)), height: 220 });
}).observe(document.getElementById('charts')!);

vscode.postMessage({ type: 'ready' });
