// Loaded by the extension host as the "tests" module of bench/activation.mjs: activates the
// extension once in this fresh host and records how long it took, beside a built-in extension
// activated the same way (the side-by-side baseline), into the file named by PGHA_BENCH_RESULT.
// Two measures per extension:
//   ms      `await ext.activate()` seen from another extension: includes the host's own work
//           (resolving the extension, its activation events) that every extension pays;
//   vscode  what VS Code itself records as the activation time (Developer: Startup Performance,
//           "Extension Activation Stats": Load Code + Call Activate + Finish Activate), the figure
//           "Developer: Show Running Extensions" shows.
const fs = require('fs');
const vscode = require('vscode');

const BASELINES = ['vscode.emmet', 'vscode.merge-conflict', 'vscode.references-view', 'vscode.npm'];
const PERF = vscode.Uri.from({ scheme: 'perf', path: 'Startup Performance' });

async function timeActivation(ext) {
  const wasActive = ext.isActive;
  const t0 = performance.now();
  await ext.activate();
  return { id: ext.id, ms: performance.now() - t0, wasActive };
}

/** VS Code's activation stats of `ids` from its Startup Performance page (a Markdown table). */
async function vscodeStats(ids) {
  // The page's content provider is a workbench contribution that may register after the tests
  // module starts: opening the page (its command) makes sure it exists.
  await vscode.commands.executeCommand('perfview.show');
  let lastError;
  for (let attempt = 0; attempt < 40; attempt++) {
    let text;
    try {
      text = (await vscode.workspace.openTextDocument(PERF)).getText();
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    const found = {};
    for (const line of text.split('\n')) {
      const cells = line.split('|').map((c) => c.trim());
      // | Extension | Eager | Load Code | Call Activate | Finish Activate | Event | By |
      if (cells.length < 8 || !ids.includes(cells[1])) continue;
      const [load, call, finish] = [cells[3], cells[4], cells[5]].map(Number);
      if ([load, call, finish].every(Number.isFinite)) found[cells[1]] = { load, call, finish, total: load + call + finish };
    }
    if (ids.every((id) => found[id])) return found;
    // The main thread learns of an activation a moment after it resolves here.
    await new Promise((r) => setTimeout(r, 250));
  }
  if (lastError) throw lastError;
  return {};
}

exports.run = async function run() {
  const ours = vscode.extensions.getExtension('pg-ha-workshop.pg-ha-workshop');
  if (!ours) throw new Error('pg-ha-workshop is not loaded in this host');
  const own = await timeActivation(ours);
  const base = BASELINES.map((id) => vscode.extensions.getExtension(id)).find((e) => e && !e.isActive);
  const baseline = base ? await timeActivation(base) : undefined;
  let stats = {};
  try {
    stats = await vscodeStats([own.id, ...(baseline ? [baseline.id] : [])]);
  } catch (e) {
    own.vscodeError = String(e && e.message ? e.message : e);
  }
  own.vscode = stats[own.id];
  // The extension's own performance measures in this host: loading its bundle, each feature's registration.
  own.steps = Object.fromEntries(
    performance
      .getEntriesByType('measure')
      .filter((e) => e.name.startsWith('pg-ha-workshop:'))
      .map((e) => [e.name.slice('pg-ha-workshop:'.length), Math.round(e.duration * 10) / 10]),
  );
  if (baseline) baseline.vscode = stats[baseline.id];
  fs.appendFileSync(process.env.PGHA_BENCH_RESULT, JSON.stringify({ own, baseline }) + '\n');
};
