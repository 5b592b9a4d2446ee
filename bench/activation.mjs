#!/usr/bin/env node
// Extension activation time inside a real extension host (code-server's), median of N fresh
// hosts (default 5), printed beside a built-in extension activated the same way in the same host,
// and as a ratio (this machine is noisy: compare the ratio, not the milliseconds).
//   npm run bench:activation            # builds first
//   node bench/activation.mjs [--runs 5]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCodeServer, launchChromium, ROOT, startCodeServer } from '../scripts/lib/code-server.mjs';
import { useTestCluster } from '../scripts/lib/test-cluster.mjs';

// The activated extension watches a cluster: the tests' own, never the workshop's.
const clusterEnv = useTestCluster('npm run bench:activation');

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(opt.runs);
const bundle = path.join(ROOT, 'dist', 'extension.js');
if (!fs.existsSync(bundle)) {
  console.error('bench/activation: ERROR: dist/extension.js is missing: run npm run build first.');
  process.exit(1);
}
const launcher = ensureCodeServer();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-bench-'));
const resultFile = path.join(dir, 'activation.jsonl');
const workspace = path.join(dir, 'workspace');
fs.mkdirSync(workspace);
const server = await startCodeServer({ launcher, folder: workspace, env: { ...clusterEnv, PGHA_BENCH_RESULT: resultFile } });
const { browser } = await launchChromium();
try {
  for (let i = 0; i < runs; i++) {
    // A new page is a new window, hence a fresh extension host with nothing activated yet.
    const page = await browser.newPage();
    let finish;
    const done = new Promise((r) => (finish = r));
    await page.exposeFunction('codeAutomationExit', (code) => finish(Number(code)));
    await page.exposeFunction('codeAutomationLog', () => undefined);
    await page.goto(server.url({ extensionDevelopmentPath: ROOT, extensionTestsPath: path.join(ROOT, 'bench', 'activationProbe.cjs') }), { waitUntil: 'commit', timeout: 0 });
    const timer = setTimeout(() => finish('timeout'), 300_000);
    const code = await done;
    clearTimeout(timer);
    await page.close();
    if (code !== 0) throw new Error(`run ${i + 1}: the probe ended with ${code}`);
    process.stdout.write(`run ${i + 1}/${runs} done\n`);
  }
} finally {
  await browser.close().catch(() => undefined);
  server.stop();
}
const rows = fs.readFileSync(resultFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const own = rows.map((r) => r.own.ms);
const base = rows.filter((r) => r.baseline).map((r) => r.baseline.ms);
if (rows.some((r) => r.own.wasActive)) console.log('note: the extension was already active in some hosts (then the time is ~0)');
const entryKb = (fs.statSync(path.join(ROOT, 'dist', 'extension.js')).size / 1024).toFixed(0);
const kb = (['main.js'].map((f) => path.join(ROOT, 'dist', f)).filter((f) => fs.existsSync(f)).reduce((n, f) => n + fs.statSync(f).size, 0) / 1024).toFixed(0);
console.log(`activation of pg-ha-workshop (activation bundle dist/extension.js ${entryKb} KiB; dist/main.js, loaded after it, ${kb} KiB), ${rows.length} fresh extension hosts:`);
console.log(`  runs (ms): ${own.map((x) => x.toFixed(0)).join(', ')}`);
console.log(`  median: ${median(own).toFixed(0)} ms`);
if (base.length) {
  console.log(`baseline ${rows.find((r) => r.baseline).baseline.id} in the same hosts: median ${median(base).toFixed(0)} ms (runs: ${base.map((x) => x.toFixed(0)).join(', ')})`);
  console.log(`ratio pg-ha-workshop / baseline: ${(median(own) / median(base)).toFixed(2)}`);
}
// VS Code's own record of the activation (Load Code + Call Activate + Finish Activate): the time
// "Developer: Show Running Extensions" shows, without the host's work every extension pays.
const ownV = rows.map((r) => r.own.vscode).filter(Boolean);
const baseV = rows.map((r) => r.baseline?.vscode).filter(Boolean);
if (ownV.length) {
  const part = (xs, k) => median(xs.map((x) => x[k])).toFixed(0);
  console.log(`as VS Code records it (Developer: Startup Performance), ${ownV.length} hosts:`);
  console.log(`  pg-ha-workshop: median ${part(ownV, 'total')} ms (load code ${part(ownV, 'load')}, call activate ${part(ownV, 'call')}, finish activate ${part(ownV, 'finish')}); runs: ${ownV.map((x) => x.total).join(', ')}`);
  if (baseV.length) {
    console.log(`  baseline: median ${part(baseV, 'total')} ms (load code ${part(baseV, 'load')}, call activate ${part(baseV, 'call')}, finish activate ${part(baseV, 'finish')})`);
    console.log(`  ratio: ${(median(ownV.map((x) => x.total)) / median(baseV.map((x) => x.total))).toFixed(2)}`);
  }
} else {
  console.log(`VS Code's activation stats were not readable in this host (perf:Startup Performance)${rows[0]?.own.vscodeError ? `: ${rows[0].own.vscodeError}` : ''}`);
}
// What activation spends its time on, from the extension's own performance measures.
const steps = rows.map((r) => r.own.steps).filter((x) => x && Object.keys(x).length);
if (steps.length) {
  const names = [...new Set(steps.flatMap((x) => Object.keys(x)))];
  const med = (k) => median(steps.map((x) => x[k] ?? 0));
  const registrations = names.filter((n) => n.startsWith('register:'));
  const total = median(steps.map((x) => registrations.reduce((n, k) => n + (x[k] ?? 0), 0)));
  const top = registrations.map((n) => [n.slice('register:'.length), med(n)]).sort((a, b) => b[1] - a[1]).slice(0, 5);
  console.log(`after the activation (the extension's performance measures; dist/main.js loads once activate() has returned), ${steps.length} hosts, medians:`);
  console.log(`  loading dist/main.js: ${med('load-main').toFixed(0)} ms; registering every feature: ${total.toFixed(0)} ms (most: ${top.map(([n, ms]) => `${n} ${ms.toFixed(1)}`).join(', ')})`);
}
fs.rmSync(dir, { recursive: true, force: true });
