// src/entry.ts's stand-ins, run under plain Node: activate() must return without loading dist/main.js,
// and a command run before it has loaded must wait for it and run the real command (never "command
// not found"). VS Code is replaced by the few calls the entry makes (commands, an output channel,
// the notebook serializer registry); dist/main.js by a module that registers the real commands.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');

interface Host {
  commands: Map<string, (...a: unknown[]) => unknown>;
  mainLoads: number;
  errors: string[];
}

const FAKE_VSCODE = `
const host = (globalThis.__pghaHost ??= { commands: new Map(), mainLoads: 0, errors: [] });
const disposable = (f) => ({ dispose: f });
module.exports = {
  commands: {
    registerCommand(id, f) {
      if (host.commands.has(id)) throw new Error('command ' + id + ' already exists');
      host.commands.set(id, f);
      return disposable(() => host.commands.delete(id));
    },
    async executeCommand(id, ...args) {
      const f = host.commands.get(id);
      if (!f) throw new Error('command ' + id + ' not found');
      return f(...args);
    },
  },
  window: { createOutputChannel: () => ({ error() {}, info() {}, dispose() {} }), showErrorMessage: async (m) => void host.errors.push(m) },
  workspace: { registerNotebookSerializer: () => disposable(() => undefined) },
  l10n: { t: (s, ...a) => s.replace(/\\{(\\d+)\\}/g, (_, i) => String(a[Number(i)])) },
};`;

// What dist/main.js does that matters here: it registers the real commands when activated.
const FAKE_MAIN = `
const vscode = require('vscode');
exports.activate = async (context) => {
  globalThis.__pghaHost.mainLoads++;
  for (const id of ['pgHaWorkshop.a', 'pgHaWorkshop.b']) context.subscriptions.push(vscode.commands.registerCommand(id, (x) => 'real ' + id + ' ' + x));
  return { name: 'services' };
};
exports.deactivate = () => undefined;`;

async function buildEntry(main = FAKE_MAIN): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-entry-'));
  fs.writeFileSync(path.join(dir, 'vscode.js'), FAKE_VSCODE);
  const vscodePath = path.join(dir, 'vscode.js');
  // dist/main.js requires 'vscode' itself: the same fake, through Node's resolution from the folder.
  fs.mkdirSync(path.join(dir, 'node_modules', 'vscode'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'node_modules', 'vscode', 'index.js'), `module.exports = require(${JSON.stringify(vscodePath)});`);
  fs.writeFileSync(path.join(dir, 'main.js'), main);
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/entry.ts'],
    outfile: path.join(dir, 'extension.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    external: ['./main.js'],
    plugins: [{ name: 'fake-vscode', setup: (b) => b.onResolve({ filter: /^vscode$/ }, () => ({ path: vscodePath })) }],
    logLevel: 'silent',
  });
  return path.join(dir, 'extension.js');
}

function context() {
  return { subscriptions: [] as { dispose(): void }[], extension: { packageJSON: { contributes: { commands: [{ command: 'pgHaWorkshop.a' }, { command: 'pgHaWorkshop.b' }] } } } };
}

test('activate() loads nothing more; a command run at once waits for the extension and runs the real one', async () => {
  const entry = (await import(await buildEntry())) as { activate(c: unknown): { services(): Promise<unknown> } };
  const host = (globalThis as unknown as { __pghaHost: Host }).__pghaHost;
  const ctx = context();
  const api = entry.activate(ctx);
  assert.equal(host.mainLoads, 0, 'activate() returned without loading dist/main.js');
  assert.deepEqual([...host.commands.keys()].sort(), ['pgHaWorkshop.a', 'pgHaWorkshop.b'], 'every contributed command exists as a stand-in');
  // Run before the extension loaded: the stand-in loads it, then the real command answers.
  assert.equal(await host.commands.get('pgHaWorkshop.a')!('x'), 'real pgHaWorkshop.a x');
  assert.equal(host.mainLoads, 1);
  assert.deepEqual(await api.services(), { name: 'services' });
  // The load scheduled by activate() finds it loaded: once, and no command registered twice.
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(host.mainLoads, 1);
  assert.equal(await host.commands.get('pgHaWorkshop.b')!('y'), 'real pgHaWorkshop.b y');
  for (const d of ctx.subscriptions) d.dispose();
});

test('a dist/main.js that cannot load: every command answers with why, and the user is told', async () => {
  const entry = (await import(await buildEntry("throw new Error('broken bundle');"))) as { activate(c: unknown): unknown };
  const host = (globalThis as unknown as { __pghaHost: Host }).__pghaHost;
  host.errors.length = 0;
  const ctx = context();
  entry.activate(ctx);
  await assert.rejects(Promise.resolve(host.commands.get('pgHaWorkshop.a')!('x')), /broken bundle/);
  // The stand-in stays: the next run says the same, never "command not found".
  await assert.rejects(Promise.resolve(host.commands.get('pgHaWorkshop.a')!('x')), /broken bundle/);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(host.errors.length, 1);
  assert.match(host.errors[0], /could not start: broken bundle\. Reinstall the extension/);
  for (const d of ctx.subscriptions) d.dispose();
});
