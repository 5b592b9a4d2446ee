// Loaded by the extension host as the "tests" module of bench/activation.mjs: activates the
// extension once in this fresh host and records how long it took, beside a built-in extension
// activated the same way (the side-by-side baseline), into the file named by PGHA_BENCH_RESULT.
const fs = require('fs');
const vscode = require('vscode');

const BASELINES = ['vscode.emmet', 'vscode.merge-conflict', 'vscode.references-view', 'vscode.npm'];

async function timeActivation(ext) {
  const wasActive = ext.isActive;
  const t0 = performance.now();
  await ext.activate();
  return { id: ext.id, ms: performance.now() - t0, wasActive };
}

exports.run = async function run() {
  const ours = vscode.extensions.getExtension('pg-ha-workshop.pg-ha-workshop');
  if (!ours) throw new Error('pg-ha-workshop is not loaded in this host');
  const own = await timeActivation(ours);
  const base = BASELINES.map((id) => vscode.extensions.getExtension(id)).find((e) => e && !e.isActive);
  const baseline = base ? await timeActivation(base) : undefined;
  fs.appendFileSync(process.env.PGHA_BENCH_RESULT, JSON.stringify({ own, baseline }) + '\n');
};
