#!/usr/bin/env node
// Opens the extension in a browser-hosted VS Code (code-server + Chromium) on the workshop folder
// and saves what a user sees to .screenshots/ (git-ignored):
//   sidebar.png       the PG HA Workshop activity-bar container with the cluster view
//   notebook.png      the monitoring notebook (cells run when the cluster is up)
//   walkthrough.png   the getting-started walkthrough, at the step named by --step (default Demo 1)
//   dashboard.png     the lag dashboard (Exercise 5) after 20 s of samples (with --attach: the attached cluster's)
//   pick.png          with --only pick --pick "TITLE": the quick pick that palette command opens (left open)
//
//   npm run screenshots                       # build, then all shots
//   node scripts/screenshots.mjs [--only sidebar,notebook] [--out DIR] [--theme "Default Light Modern"]
//                                [--width 1400 --height 900] [--no-run-cells] [--locale id]
//                                [--demos "PG HA Workshop Demo: Check Prerequisites,..."] [--step "Demo 1"] [--prefix id-]
//                                [--expand "Backups"]   (tree rows to expand in the sidebar shot)
//                                [--hover "cascade-primary +4"]  (a tree row to hover: its tooltip in the sidebar shot)
//                                [--attach "postgresql://watcher:pw@127.0.0.1:5432,127.0.0.1:5433/postgres"]
//                                [--setting pgHaWorkshop.clusterProfile=patroni ...]   (user settings; a value is JSON or a string)
//                                [--wait-row "Members"]   (the sidebar shot waits for a row with this label)
// --attach runs Attach to Cluster with that connection string (read-only, no Patroni) before the
// sidebar shot, so the view shows the attached cluster instead of the workshop's.
// --demos runs those palette commands (full titles, e.g. "PG HA Workshop Demo: Check Prerequisites")
// before the walkthrough shot, so it shows their steps ticked; --locale id shows the extension in
// Bahasa Indonesia; --prefix names the files (id-sidebar.png, ...).
// PGHA_* variables choose the cluster the extension shows, as everywhere else.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureCodeServer, launchChromium, ROOT, startCodeServer } from './lib/code-server.mjs';
import { useTestCluster } from './lib/test-cluster.mjs';

// Screenshots run demos on their cluster: the tests' own, never the workshop's.
useTestCluster('npm run screenshots');

const { values: opt } = parseArgs({
  options: {
    only: { type: 'string', default: 'sidebar,notebook,walkthrough' },
    out: { type: 'string', default: path.join(ROOT, '.screenshots') },
    theme: { type: 'string' },
    width: { type: 'string', default: '1400' },
    height: { type: 'string', default: '900' },
    'no-run-cells': { type: 'boolean', default: false },
    notebook: { type: 'string', default: 'monitoring.pgha.sql' },
    locale: { type: 'string' },
    demos: { type: 'string', default: '' },
    step: { type: 'string', default: 'Demo 1' },
    prefix: { type: 'string', default: '' },
    expand: { type: 'string', default: '' },
    attach: { type: 'string', default: '' },
    hover: { type: 'string', default: '' },
    setting: { type: 'string', multiple: true, default: [] },
    'wait-row': { type: 'string', default: '' },
    pick: { type: 'string', default: '' },
  },
});
const shots = new Set(opt.only.split(',').map((s) => s.trim()));
fs.mkdirSync(opt.out, { recursive: true });
const say = (m) => console.log(`screenshots: ${m}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js'))) {
  console.error('screenshots: ERROR: dist/extension.js is missing: run npm run build first.');
  process.exit(1);
}

const launcher = ensureCodeServer();
const pghaEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PGHA_') || k === 'COMPOSE_PROJECT_NAME' || k === 'DOCKER_HOST'));
// The secondary side bar stays closed: the editor gets the width (the walkthrough shows its media beside the steps).
const userSettings = Object.fromEntries(
  opt.setting.map((kv) => {
    const i = kv.indexOf('=');
    if (i < 1) throw new Error(`screenshots: --setting wants key=value, got "${kv}"`);
    const v = kv.slice(i + 1);
    try {
      return [kv.slice(0, i), JSON.parse(v)];
    } catch {
      return [kv.slice(0, i), v];
    }
  }),
);
const settings = { 'workbench.secondarySideBar.defaultVisibility': 'hidden', ...(opt.theme ? { 'workbench.colorTheme': opt.theme } : {}), ...userSettings };
const server = await startCodeServer({ launcher, folder: ROOT, env: pghaEnv, settings, locale: opt.locale });
let browser;
const saved = [];
try {
  const chromium = await launchChromium({ width: Number(opt.width), height: Number(opt.height) });
  browser = chromium.browser;
  const page = chromium.page;
  page.setDefaultTimeout(120_000);
  await page.goto(server.url({ extensionDevelopmentPath: ROOT }), { waitUntil: 'commit', timeout: 0 });
  await page.waitForSelector('.monaco-workbench .part.activitybar', { timeout: 180_000 });
  await sleep(3000);

  /** Picks `label` in the open quick input (typing `filter` first) by clicking its row. */
  const pick = async (filter, label, timeout = 30_000) => {
    await page.keyboard.type(filter, { delay: 10 });
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
    await row.waitFor({ state: 'visible', timeout });
    await row.click();
  };
  /** Runs a command by its palette title (F1 opens the palette in the browser too). The palette
   * lists an extension's commands only once the extension host has read it: try again a few times. */
  const command = async (title, settle = 1500) => {
    for (let attempt = 1; ; attempt++) {
      await page.keyboard.press('F1');
      await page.waitForSelector('.quick-input-widget input');
      try {
        await pick(title, title, 10_000);
        break;
      } catch (e) {
        await page.keyboard.press('Escape');
        if (attempt >= 4) throw e;
        await sleep(3000);
      }
    }
    await sleep(settle);
  };
  const shoot = async (name) => {
    const file = path.join(opt.out, `${opt.prefix}${name}.png`);
    await page.screenshot({ path: file });
    saved.push(file);
    say(`saved ${path.relative(ROOT, file)}`);
  };
  const dismissNotifications = async () => {
    await page.keyboard.press('Escape').catch(() => undefined);
  };

  if (shots.has('sidebar')) {
    const item = page.locator('.activitybar [aria-label^="PG HA Workshop"]').first();
    await item.click();
    // A lone view's header is hidden: wait for the view's section itself.
    await page.waitForSelector('[aria-label="Cluster Section"]', { state: 'attached', timeout: 60_000 });
    if (opt.attach) {
      // The real prompts, answered as a user would: the connection string, no Patroni URL, then
      // Attach past any warnings and Read-only.
      await command('PG HA Workshop: Attach to Cluster', 500);
      const input = page.locator('.quick-input-widget input');
      await input.fill(opt.attach);
      await page.keyboard.press('Enter');
      await sleep(1000);
      await page.keyboard.press('Enter'); // Patroni REST API: none
      const dialog = page.locator('.monaco-dialog-box .monaco-button', { hasText: 'Attach' }).first();
      const readOnly = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Read-only' }).first();
      await Promise.race([dialog.waitFor({ state: 'visible', timeout: 120_000 }), readOnly.waitFor({ state: 'visible', timeout: 120_000 })]);
      if (await dialog.isVisible()) {
        await dialog.click();
        await readOnly.waitFor({ state: 'visible', timeout: 30_000 });
      }
      await readOnly.click();
      say(`attached to ${opt.attach.replace(/:[^:@/]*@/, ':***@')}`);
      await sleep(3000);
    }
    // Wait for what the view renders: its tree rows, or its welcome content; then a few polls.
    // (welcome content with a button: past "Looking for a Docker engine…").
    await page.waitForSelector('.part.sidebar .monaco-list-row, .part.sidebar .welcome-view-content .monaco-button', { timeout: 120_000 });
    if (opt['wait-row']) await page.waitForSelector(`.part.sidebar .monaco-list-row[aria-label^="${opt['wait-row']}"]`, { timeout: 180_000 });
    await sleep(5000);
    // Expand the first two nodes (primary and replica1) to show their figures, or the rows named
    // by --expand (labels, comma-separated, e.g. "Backups").
    const named = opt.expand.split(',').map((s) => s.trim()).filter(Boolean);
    const rows = named.length
      ? named.map((label) => page.locator(`.part.sidebar .monaco-list-row[aria-level="1"][aria-label^="${label}"]`).first())
      : [1, 0].map((i) => page.locator('.part.sidebar .monaco-list-row[aria-level="1"]').nth(i));
    for (const row of rows) {
      if (await row.count()) await row.click().then(() => page.keyboard.press('ArrowRight')).catch(() => undefined);
    }
    await sleep(1500);
    await dismissNotifications();
    if (opt.hover) {
      const row = page.locator('.part.sidebar .monaco-list-row', { hasText: opt.hover }).first();
      await page.mouse.move(700, 600);
      await row.hover({ timeout: 10_000 }).catch(() => say(`no row "${opt.hover}" to hover`));
      await page.waitForSelector('.monaco-hover, .workbench-hover', { state: 'visible', timeout: 10_000 }).catch(() => say('no tooltip appeared'));
      await sleep(1000);
    }
    await shoot('sidebar');
  }

  if (shots.has('dashboard')) {
    await command('PG HA Workshop: Exercise 5: Show Replication Lag Dashboard', 0);
    await page.waitForSelector('iframe.webview', { state: 'attached', timeout: 60_000 });
    // A sample a second: let the lines grow.
    await sleep(20_000);
    await dismissNotifications();
    await shoot('dashboard');
  }

  if (shots.has('notebook')) {
    // Quick Open: the palette without its ">" prefix.
    await page.keyboard.press('F1');
    await page.waitForSelector('.quick-input-widget input');
    await page.keyboard.press('Backspace');
    await pick(opt.notebook, opt.notebook);
    await page.waitForSelector('.notebook-editor', { timeout: 60_000 });
    await sleep(2000);
    if (!opt['no-run-cells']) {
      await page.locator('.notebook-toolbar-container a[aria-label^="Run All"], .notebook-toolbar-container [aria-label^="Run All"]').first().click();
      // Wait for the first cell's result (or its error), then let the rest settle.
      await page.waitForSelector('.notebook-editor .output', { timeout: 60_000 }).catch(() => say('no cell output after 60 s'));
      await sleep(5000);
    }
    await dismissNotifications();
    await shoot('notebook');
  }

  if (shots.has('pick') && opt.pick) {
    await command(opt.pick, 0);
    await page.locator('.quick-input-widget .monaco-list-row').first().waitFor({ state: 'visible', timeout: 60_000 });
    await sleep(1500);
    await shoot('pick');
    await page.keyboard.press('Escape');
  }

  if (shots.has('walkthrough')) {
    for (const demo of opt.demos.split(',').map((x) => x.trim()).filter(Boolean)) {
      say(`running ${demo}`);
      await command(demo, 0);
      await sleep(8000);
    }
    await command('PG HA Workshop: Open Walkthrough', 0).catch(() => page.keyboard.press('Escape'));
    await page.locator('.gettingStartedSlideDetails').first().waitFor({ state: 'visible', timeout: 60_000 });
    // Escape would take the Welcome editor back to its start page: click the step instead.
    const step = page.locator('.getting-started-step', { hasText: opt.step }).first();
    await step.click({ timeout: 10_000 }).catch(() => say(`no walkthrough step "${opt.step}"`));
    await sleep(3000);
    await shoot('walkthrough');
  }
} catch (e) {
  console.error(`screenshots: ERROR: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  await browser?.close().catch(() => undefined);
  server.stop();
}
say(`${saved.length} screenshot(s) in ${path.relative(ROOT, opt.out) || opt.out}`);
