#!/usr/bin/env node
// Checks the workshop as a learner meets it: the packaged extension installed into code-server with
// the same arguments `npm run workshop` uses (scripts/lib/workshop-editor.mjs), opened at the short
// URL in Chromium at 1400x900, and what regressed before is asserted on screen:
//   - the first screen: the walkthrough is open, the folder is trusted (no Restricted Mode);
//   - a walkthrough button runs its demo, its notification toast is VISIBLE (no test mode), and
//     the Demo Results panel beside the walkthrough shows that step's measured result;
//   - --untrusted: trust left on, the cluster view says why commands are off and offers to trust;
//   - --demos "demo1,demo5,...": runs those steps' buttons too (screenshots of the results);
//   - --notebook: the monitoring notebook: a cell run with Ctrl+Enter, then with Shift+Enter (the
//     cursor in the cell's editor; its output, its execution order, the focus moving on), its language label;
//   - --dashboard: the lag dashboard (after the demos run, e.g. Demo 5).
// Screenshots go to .screenshots/workshop-*.png. Exit code 1 when a check fails.
//   node scripts/workshop-check.mjs [--untrusted] [--demos demo1,demo5] [--notebook] [--dashboard] [--sidebar]
// PGHA_* variables choose the cluster (use the tests' own project and ports).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCodeServer, freePort, launchChromium, ROOT } from './lib/code-server.mjs';
import { installExtension, packageExtension, serverArgs, workshopUrl, writeFirstSettings } from './lib/workshop-editor.mjs';

const { values: opt } = parseArgs({
  options: {
    untrusted: { type: 'boolean', default: false },
    demos: { type: 'string', default: '' },
    notebook: { type: 'boolean', default: false },
    dashboard: { type: 'boolean', default: false },
    sidebar: { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(ROOT, '.screenshots') },
    locale: { type: 'string' },
  },
});
const say = (m) => console.log(`workshop-check: ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const failures = [];
let passes = 0;
const expect = (ok, what) => {
  say(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
  else passes++;
};
fs.mkdirSync(opt.out, { recursive: true });

const STEP_BUTTON = {
  prerequisites: ['Check prerequisites', 'Check Prerequisites'],
  start: ['Start the cluster', 'Start Cluster'],
  verify: ['Verify replication', 'Verify Replication'],
  demo1: ['Demo 1', 'Run Demo 1'],
  demo2: ['Demo 2', 'Run Demo 2'],
  demo3: ['Demo 3', 'Run Demo 3'],
  demo4: ['Demo 4', 'Run Demo 4'],
  demo5: ['Demo 5', 'Run Demo 5'],
  demo6: ['Demo 6', 'Run Demo 6'],
  demo7: ['Demo 7', 'Run Demo 7'],
};
const RESULT_TITLE = {
  prerequisites: 'Check prerequisites', start: 'Start cluster', verify: 'Verify replication', demo1: 'Demo 1', demo2: 'Demo 2', demo3: 'Demo 3',
  demo4: 'Demo 4', demo5: 'Demo 5', demo6: 'Demo 6', demo7: 'Demo 7',
};

const launcher = ensureCodeServer();
const vsix = packageExtension({ say });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-workshop-check-'));
const userData = path.join(dir, 'user-data');
const extensions = path.join(dir, 'extensions');
fs.mkdirSync(userData, { recursive: true });
fs.mkdirSync(extensions, { recursive: true });
installExtension({ launcher, vsix, userData, extensions });
writeFirstSettings(userData);
const port = await freePort();
const logFile = path.join(dir, 'code-server.log');
const out = fs.openSync(logFile, 'a');
const proc = spawn(launcher, serverArgs({ port, userData, extensions, folder: ROOT, trusted: !opt.untrusted, locale: opt.locale }), {
  cwd: ROOT,
  env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data') },
  stdio: ['ignore', out, out],
  detached: true,
});
const stop = () => {
  try {
    process.kill(-proc.pid, 'SIGTERM');
  } catch {
    /* gone */
  }
};
let browser;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stop();
    void (browser?.close() ?? Promise.resolve()).finally(() => process.exit(1));
  });
}
try {
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${workshopUrl(port)}healthz`).then((r) => r.ok).catch(() => false)) break;
    await sleep(200);
  }
  const c = await launchChromium({ width: 1400, height: 900 });
  browser = c.browser;
  const page = c.page;
  page.setDefaultTimeout(120_000);
  const shot = async (name) => {
    const file = path.join(opt.out, `workshop-${name}.png`);
    await page.screenshot({ path: file });
    say(`saved ${path.relative(ROOT, file)}`);
  };
  say(`opening ${workshopUrl(port)} (the URL a learner opens)`);
  await page.goto(workshopUrl(port), { waitUntil: 'commit', timeout: 0 });
  await page.waitForSelector('.monaco-workbench .part.activitybar', { timeout: 180_000 });

  // ---- first screen ----
  const walkthrough = page.locator('.gettingStartedContainer .gettingStartedSlideDetails');
  const opened = await walkthrough.first().waitFor({ state: 'visible', timeout: 120_000 }).then(() => true, () => false);
  await sleep(4000);
  await shot(opt.untrusted ? 'first-screen-untrusted' : 'first-screen');
  expect(opened, 'the walkthrough opens on the first run');
  if (opened) expect(await page.locator('.gettingStartedContainer', { hasText: 'PostgreSQL HA Workshop' }).count() > 0 || !!opt.locale, 'it is the workshop walkthrough');
  const restricted = await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).count();
  const sidebar = page.locator('.part.sidebar');
  expect(await sidebar.locator('.pane-header, .composite.title', { hasText: /PG HA Workshop/i }).count() > 0, 'the side bar shows the workshop view, labelled');

  if (opt.untrusted) {
    expect(restricted > 0, 'an untrusted folder shows Restricted Mode');
    // With no cluster the view's welcome text says it (a button); with a cluster, its first row (a link).
    const why = sidebar.locator('.welcome-view-content, .monaco-list-row', { hasText: 'Restricted Mode' });
    const said = await why.first().waitFor({ state: 'visible', timeout: 60_000 }).then(() => true, () => false);
    expect(said, 'the cluster view says why commands are off');
    expect(await sidebar.locator('.welcome-view-content .monaco-button, .monaco-list-row', { hasText: /Trust This Folder/i }).count() > 0, 'and offers to trust the folder');
    await shot('untrusted-view');
  } else {
    expect(restricted === 0, 'the folder opened trusted (no Restricted Mode)');
    for (const id of ['prerequisites', ...opt.demos.split(',').map((x) => x.trim()).filter(Boolean)]) {
      const [step, button] = STEP_BUTTON[id];
      // The step list can be scrolled: click the step's title, then its button.
      await page.locator('.getting-started-step', { hasText: step }).first().click({ timeout: 20_000 });
      await sleep(800);
      await page.locator('.getting-started-step.expanded .monaco-button', { hasText: button }).first().click({ timeout: 20_000 });
      say(`clicked "${button}"`);
      if (id === 'demo5' || id === 'demo3') {
        // The tree under load: the side bar while the demo's write load runs.
        await sleep(id === 'demo5' ? 5000 : 8000);
        await shot(`${id}-under-load`);
      }
      // The result's toast (its "Show Results" button), not the progress toast of the running demo.
      const toast = page.locator('.notifications-toasts .notification-toast', { hasText: RESULT_TITLE[id] }).filter({ has: page.locator('.monaco-button', { hasText: 'Show Results' }) });
      const seen = await toast.first().waitFor({ state: 'visible', timeout: 300_000 }).then(() => true, () => false);
      if (id !== 'start') expect(seen, `${id}: its result notification is visible on screen (toasts on)`);
      // The Demo Results panel beside the walkthrough shows this step's measured result.
      // Webviews are nested frames: look for the section in every frame of the page.
      let shown = false;
      for (let i = 0; i < 60 && !shown; i++) {
        for (const f of page.frames()) if (await f.locator(`section#${id}`).count().catch(() => 0)) shown = true;
        if (!shown) await sleep(1000);
      }
      expect(shown, `${id}: its measured result is shown in Demo Results beside the walkthrough`);
      await sleep(1500);
      await shot(`walkthrough-${id}`);
      await page.keyboard.press('Escape').catch(() => undefined);
    }
  }

  const command = async (title) => {
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget input');
    await page.keyboard.type(title, { delay: 10 });
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await row.click();
  };

  if (opt.sidebar) {
    await page.locator('.part.sidebar .monaco-list-row[aria-level="1"]').first().waitFor({ timeout: 60_000 }).catch(() => undefined);
    await sleep(2000);
    await shot('sidebar');
  }

  if (opt.notebook) {
    await command('PG HA Workshop: Open Monitoring Notebook');
    await page.waitForSelector('.notebook-editor', { timeout: 60_000 });
    // The documented shortcuts, pressed with the cursor in a cell's editor, as a learner does:
    //   Ctrl+Enter runs the cell (VS Code's own Execute Cell is Meta+Enter on Linux, so without the
    //   extension's binding Ctrl+Enter inserts a line into the cell: its line count is checked);
    //   Shift+Enter runs it and moves to the next cell.
    // A run is seen by its output: rendered in the notebook's output webview (nested frames whose
    // URL says purpose=notebookRenderer; not the page's own frame, where the cell's source text is,
    // nor another webview) and by the cell's execution order.
    const codeRows = page.locator('.notebook-editor .monaco-list-row.code-cell-row');
    await codeRows.first().waitFor({ state: 'visible', timeout: 180_000 });
    await sleep(2000);
    const rowIndex = async (row) => Number(await row.getAttribute('data-index'));
    const focusCellEditor = async (row) => {
      // The cell's editor (not its status bar or toolbar): click its text, then check the focus is in it.
      await row.scrollIntoViewIfNeeded();
      await row.locator('.cell-editor-container .monaco-editor .view-lines').click();
      const index = await rowIndex(row);
      return page.evaluate((i) => !!document.activeElement?.closest(`.monaco-list-row[data-index="${i}"] .cell-editor-container .monaco-editor`), index);
    };
    const lines = (row) => row.locator('.cell-editor-container .view-line').count();
    const executionOrder = async (row) => ((await row.locator('.execution-count-label').textContent().catch(() => '')) ?? '').trim();
    // `text` is rendered in the notebook's webview (not the page's own frame, where the cell's
    // source text is, nor another webview). That webview renders the Markdown cells too: look for
    // what only an output shows (its "port N · …" head line).
    const rendered = async (text) => {
      for (const f of page.frames()) {
        if (![f, f.parentFrame()].some((x) => x && /purpose=notebookRenderer/.test(x.url()))) continue;
        if (await f.getByText(text).first().isVisible().catch(() => false)) return true;
      }
      return false;
    };
    // The cell has finished (no spinning status icon) and `text` is rendered in its output.
    const outputShows = async (row, text) => {
      let state = '';
      for (let i = 0; i < 120; i++) {
        const done = (await row.locator('.codicon-modifier-spin').count()) === 0;
        const shown = await rendered(text);
        if (done && shown) return true;
        state = `finished ${done}, "${text}" rendered ${shown}`;
        await sleep(1000);
      }
      say(`  no output: ${state}`);
      return false;
    };

    // Each node's output starts with a line only an output shows, "port N · <rows or error> · <time>"
    // (render.ts): a result when the cluster runs, the node's error when it does not (as in CI).
    const RESULT = /port \d+ · \d/;

    // Ctrl+Enter in the first SQL cell (SELECT pg_is_in_recovery() on every node).
    const firstIndex = await rowIndex(codeRows.first());
    const first = page.locator(`.notebook-editor .monaco-list-row[data-index="${firstIndex}"]`);
    expect(await focusCellEditor(first), 'the cursor is in the first SQL cell\'s editor');
    const linesBefore = await lines(first);
    // A fresh copy of the notebook has no outputs: nothing of this cell's output is on screen yet.
    expect(!(await rendered(RESULT)), 'before the shortcut, the cell has no output');
    await page.keyboard.press('End');
    await page.keyboard.press('Control+Enter');
    expect(await outputShows(first, RESULT), 'Ctrl+Enter runs the cell: its output appears');
    expect(/\d/.test(await executionOrder(first)), `the cell has run (execution order "${await executionOrder(first)}")`);
    expect((await lines(first)) === linesBefore, `Ctrl+Enter inserted no line into the cell (${await lines(first)} line(s), was ${linesBefore})`);
    await sleep(3000);
    await shot('notebook');

    // Shift+Enter in the same cell: it runs again (its execution order goes up) and the next cell
    // below gets the focus.
    const orderBefore = Number((await executionOrder(first)).replace(/\D/g, ''));
    expect(await focusCellEditor(first), 'the cursor is back in the first SQL cell\'s editor');
    await page.keyboard.press('Shift+Enter');
    let orderAfter = orderBefore;
    // While it runs the label is empty; it shows the new number once the run has started.
    for (let i = 0; i < 60 && !(orderAfter > orderBefore); i++) {
      await sleep(1000);
      orderAfter = Number((await executionOrder(first)).replace(/\D/g, ''));
    }
    expect(orderAfter > orderBefore, `Shift+Enter runs the cell (execution order ${orderBefore} -> ${orderAfter})`);
    expect(await outputShows(first, RESULT), 'and its new output appears');
    expect((await lines(first)) === linesBefore, 'Shift+Enter inserted no line into the cell');
    const focused = Number(await page.locator('.notebook-editor .monaco-list-row.focused').first().getAttribute('data-index').catch(() => 'NaN'));
    expect(focused === firstIndex + 1, `Shift+Enter moved to the next cell (focused cell ${focused}, ran cell ${firstIndex})`);
    await sleep(3000);
    await shot('notebook-shift-enter');

    const label = (await page.locator('.notebook-editor .cell-status-item', { hasText: /SQL/ }).first().textContent({ timeout: 20_000 }).catch(() => '')) ?? '';
    expect(/PostgreSQL|^\s*SQL\s*$/.test(label) && !/MS SQL/.test(label), `the cell language reads "${label.trim()}" (PostgreSQL, not MS SQL)`);
  }

  if (opt.dashboard) {
    await command('PG HA Workshop: Exercise 5: Show Replication Lag Dashboard');
    await sleep(6000);
    await shot('dashboard');
  }
} catch (e) {
  failures.push(`error: ${e instanceof Error ? e.message : String(e)}`);
  console.error(`workshop-check: ERROR: ${e instanceof Error ? e.stack : String(e)} (code-server log: ${logFile})`);
} finally {
  await browser?.close().catch(() => undefined);
  stop();
}
say(failures.length ? `${failures.length} check(s) failed: ${failures.join('; ')}` : 'all checks passed');
// TAP summary lines: scripts/test.sh counts them like the other suites.
console.log(`# pass ${passes}`);
console.log(`# fail ${failures.length}`);
process.exit(failures.length ? 1 : 0);
