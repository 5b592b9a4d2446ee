// Renders the lag dashboard's webview page (dist/dashboard) in Chromium with VS Code's dark and
// light theme variables and a recorded-like 10-minute series, and saves .screenshots/dashboard-*.png.
// Usage: node esbuild.mjs && node scripts/dashboard-screenshot.mjs
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const js = readFileSync(path.join(root, 'dist/dashboard/main.js'), 'utf8');
const cssText = readFileSync(path.join(root, 'dist/dashboard/main.css'), 'utf8');
const themes = {
  dark: { bg: '#1e1e1e', fg: '#cccccc', desc: '#9d9d9d', border: '#454545', widget: '#252526', blue: '#3794ff', orange: '#d18616', red: '#f14c4c', green: '#89d185', err: '#f48771', pre: '#d7ba7d', cls: 'vscode-dark' },
  light: { bg: '#ffffff', fg: '#3b3b3b', desc: '#717171', border: '#c8c8c8', widget: '#f3f3f3', blue: '#1a85ff', orange: '#d18616', red: '#e51400', green: '#388a34', err: '#a1260d', pre: '#a31515', cls: 'vscode-light' },
};
mkdirSync(path.join(root, '.screenshots'), { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
for (const [name, c] of Object.entries(themes)) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const html = `<!DOCTYPE html><html><head><style>${cssText}</style><style>
  body{--vscode-foreground:${c.fg};--vscode-editor-background:${c.bg};--vscode-descriptionForeground:${c.desc};--vscode-editorWidget-border:${c.border};--vscode-editorWidget-background:${c.widget};--vscode-charts-blue:${c.blue};--vscode-charts-orange:${c.orange};--vscode-charts-red:${c.red};--vscode-charts-green:${c.green};--vscode-errorForeground:${c.err};--vscode-textPreformat-foreground:${c.pre};--vscode-font-family:sans-serif;--vscode-editor-font-family:monospace;--vscode-font-size:13px;
  color:var(--vscode-foreground);background:var(--vscode-editor-background);font-family:var(--vscode-font-family);font-size:13px;padding:8px 16px}
  h1{font-size:1.3em} .sub,#summary,#empty{color:var(--vscode-descriptionForeground)} #alerts{list-style:none;padding:0} #alerts li{border-left:3px solid var(--vscode-charts-green);padding:4px 8px;margin-bottom:6px;background:var(--vscode-editorWidget-background)} #alerts li.firing{border-left-color:var(--vscode-charts-red)} #alerts .rule{font-weight:600} #alerts li.firing .rule{color:var(--vscode-errorForeground)} #alerts code{display:block;font-family:monospace;color:var(--vscode-textPreformat-foreground)} .u-legend{color:var(--vscode-foreground)}
  </style></head><body class="${c.cls}"><h1>Replication Lag</h1><div class="sub">Per replica, up to the last 10 minutes: the cluster monitor samples once a second, Demo 3 and Demo 5 ten times a second. The dashed line is the alert threshold.</div><div id="now"></div><div id="empty">Waiting…</div><div id="charts"><div id="bytes" class="chart"></div><div id="seconds" class="chart"></div></div><h2>Alerts (workshop: Monitoring &amp; Alerting)</h2><ul id="alerts"></ul><div id="summary"></div>
  <script>window.acquireVsCodeApi=()=>({postMessage(){}});</script><script>${js}</script></body></html>`;
  await page.setContent(html);
  await page.evaluate(() => {
    // Recorded-like: the monitor's sample a second for 4 minutes, and Demo 5's own samples ten a
    // second during its 20 s heavy load (1 min ago), as the extension records them.
    const now = Date.now();
    const points = [];
    const burst = (t) => {
      const x = (t - (now - 80_000)) / 25_000; // Demo 5's load: 80 s ago, 25 s long
      return x < 0 || x > 1 ? 0 : x < 0.8 ? x / 0.8 : (1 - x) / 0.2;
    };
    const at = (t, i) => ({ t, v: { replica1: { bytes: 2000 + (i % 13) * 300 + Math.round(9e6 * burst(t)), seconds: 0.004 + 1.5 * burst(t) }, replica2: { bytes: 3000 + (i % 7) * 400 + Math.round(12e6 * burst(t)), seconds: 0.006 + 2.2 * burst(t) } } });
    for (let i = 240; i >= 0; i--) points.push(at(now - i * 1000, i));
    for (let k = 0; k < 250; k++) points.push(at(now - 80_000 + k * 100 + 50, k));
    points.sort((a, b) => a.t - b.t);
    const post = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
    post({ type: 'init', series: [{ key: 'primary', label: 'postgres-primary' }, { key: 'replica1', label: 'postgres-replica1' }, { key: 'replica2', label: 'postgres-replica2' }], lagSecondsThreshold: 10, windowMs: 600000, points, labels: {}, strings: { bytesTitle: 'Bytes behind the primary (replay LSN)', secondsTitle: 'Replay lag (seconds, pg_stat_replication.replay_lag)', alertAbove: 'alert > {0} s', firing: 'FIRING', ok: 'ok' } });
    post({ type: 'alerts', summary: 'No workshop alert fires.', rules: [
      { id: 'lag', title: 'Lag > 10 s', sql: 'SELECT EXTRACT(EPOCH FROM replay_lag) > 10 FROM pg_stat_replication;', firing: false, messages: [] },
      { id: 'disconnected', title: 'Replica disconnected (fewer than 2 streaming)', sql: "SELECT count(*) < 2 FROM pg_stat_replication WHERE state = 'streaming';", firing: false, messages: [] },
      { id: 'walRetention', title: 'WAL retention > 10 GB', sql: 'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) > 10737418240 FROM pg_replication_slots WHERE NOT active;', firing: false, messages: [] } ] });
  });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(root, '.screenshots', `dashboard-${name}.png`), fullPage: true });
  await page.close();
}
await browser.close();
console.log('saved .screenshots/dashboard-dark.png, dashboard-light.png');
