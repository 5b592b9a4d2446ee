#!/usr/bin/env node
// Runs the extension-host test suite (test/vscode, bundled to dist/test/vscode by `npm run build`)
// inside a real VS Code extension host: code-server's, driven by Chromium. On a desktop with
// internet, test/vscode/runElectron.mjs runs the same suite through @vscode/test-electron.
//
//   node scripts/run-vscode-tests.mjs [--file clusterView] [--file skeleton] [--grep TEXT]
//                                     [--timeout SECONDS] [--verbose] [--no-install]
//   node scripts/run-vscode-tests.mjs --vsix [--vsix-file dist/pg-ha-workshop.vsix]
//       the packaged extension instead: installs the .vsix into code-server (as a learner does) and
//       runs test/vscode/packaged.test.ts against it (build it first: npm run package)
//
// Exit code: the suite's (0 only when mocha ran at least one test and none failed). Prints mocha's
// spec output as it arrives, then TAP-style totals (# tests / # pass / # fail / # pending) that
// scripts/test.sh adds to the run's total. PGHA_* variables (the cluster topology and images) are
// handed to the extension host, so tests and extension talk to the same cluster.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { format, parseArgs } from 'node:util';
import { ensureCodeServer, isOfflineNoise, launchChromium, ROOT, startCodeServer } from './lib/code-server.mjs';
import { useTestCluster } from './lib/test-cluster.mjs';

const { values: opt } = parseArgs({
  options: {
    file: { type: 'string', multiple: true, default: [] },
    grep: { type: 'string' },
    timeout: { type: 'string', default: process.env.PGHA_VSCODE_TEST_TIMEOUT || '1800' },
    verbose: { type: 'boolean', default: !!process.env.PGHA_TEST_VERBOSE },
    'no-install': { type: 'boolean', default: false },
    vsix: { type: 'boolean', default: false },
    'vsix-file': { type: 'string', default: 'dist/pg-ha-workshop.vsix' },
  },
});

// The suite stops, promotes and recreates its cluster: the tests' own, never the workshop's.
useTestCluster('npm run test:vscode');

const suiteIndex = path.join(ROOT, 'dist', 'test', 'vscode', 'index.js');
const say = (m) => console.log(`vscode-tests: ${m}`);
const die = (m) => {
  console.error(`vscode-tests: ERROR: ${m}`);
  console.log('# fail 1');
  process.exit(1);
};

if (!fs.existsSync(path.join(ROOT, 'dist', 'extension.js')) || !fs.existsSync(suiteIndex)) {
  die(`the bundle is missing (${path.relative(ROOT, suiteIndex)}): run npm run build first.`);
}

const vsix = opt.vsix ? path.resolve(ROOT, opt['vsix-file']) : undefined;
if (vsix && !fs.existsSync(vsix)) die(`${path.relative(ROOT, vsix)} is missing: run npm run package first.`);
if (vsix && opt.file.length === 0) opt.file.push('packaged');

let launcher;
try {
  launcher = ensureCodeServer({ install: !opt['no-install'] });
} catch (e) {
  die(e.message);
}

const started = Date.now();
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-vscode-tests-'));
const workspace = process.env.PGHA_TEST_WORKSPACE || path.join(workDir, 'workspace');
fs.mkdirSync(workspace, { recursive: true });
const resultFile = path.join(workDir, 'result.json');
const pghaEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('PGHA_') || k === 'COMPOSE_PROJECT_NAME' || k === 'DOCKER_HOST'));
const env = {
  ...pghaEnv,
  PGHA_TEST_RESULT_FILE: resultFile,
  PGHA_TEST_FILES: opt.file.join(','),
  PGHA_TEST_GREP: opt.grep ?? '',
};
say(`code-server ${path.dirname(launcher)}; extension ${vsix ?? ROOT}; files: ${opt.file.length ? opt.file.join(', ') : 'all'}${opt.grep ? `; grep: ${opt.grep}` : ''}`);

/** A development extension with a manifest only: lets the workbench run the suite beside the installed .vsix. */
function emptyDevelopmentExtension(dir) {
  const ext = path.join(dir, 'vsix-test-host');
  fs.mkdirSync(ext, { recursive: true });
  fs.writeFileSync(path.join(ext, 'package.json'), JSON.stringify({ name: 'vsix-test-host', publisher: 'pgha-test', version: '0.0.1', engines: { vscode: '*' } }));
  return ext;
}

let server;
let browser;
let exitCode;
const cleanup = async () => {
  await browser?.close().catch(() => undefined);
  server?.stop();
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  server = await startCodeServer({ launcher, folder: workspace, env, vsix });
  const chromium = await launchChromium();
  browser = chromium.browser;
  const page = chromium.page;
  // The workbench calls these two (smoke-test driver): the suite's end, and the extension
  // host's console (mocha's reporter).
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  await page.exposeFunction('codeAutomationExit', (code) => finish(Number(code)));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    // console.log(format, ...args) from the extension host, as mocha's reporter calls it.
    const text = format(...(Array.isArray(args) ? args : [args]));
    if (!opt.verbose && isOfflineNoise(text)) return;
    (type === 'error' ? process.stderr : process.stdout).write(`${text}\n`);
  });
  if (opt.verbose) page.on('console', (m) => console.log(`[page ${m.type()}] ${m.text()}`));
  page.on('crash', () => finish('crash'));
  // Only the navigation is awaited: the suite's end is the signal (the machine may be slow to load the page).
  // With --vsix the extension under test comes from the extensions dir. The workbench runs a test
  // suite only for a development extension, so an empty one (no code) is the development path.
  await page.goto(server.url({ extensionDevelopmentPath: vsix ? emptyDevelopmentExtension(workDir) : ROOT, extensionTestsPath: suiteIndex }), { waitUntil: 'commit', timeout: 0 });
  const timer = setTimeout(() => finish('timeout'), Number(opt.timeout) * 1000);
  const code = await done;
  clearTimeout(timer);
  if (code === 'timeout') {
    console.error(`vscode-tests: ERROR: the suite did not finish within ${opt.timeout} s (raise --timeout; code-server's log: ${server.logFile})`);
    exitCode = 1;
  } else if (code === 'crash') {
    console.error('vscode-tests: ERROR: the workbench page crashed');
    exitCode = 1;
  } else {
    exitCode = code;
  }
} catch (e) {
  console.error(`vscode-tests: ERROR: ${e instanceof Error ? e.message : String(e)}`);
  exitCode = 1;
} finally {
  await cleanup();
}

let result;
try {
  result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
} catch {
  result = undefined;
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
if (!result) {
  console.error('vscode-tests: ERROR: the suite wrote no result: mocha did not run inside the extension host (the extension failed to load, or the suite crashed before its first test).');
  console.error(`vscode-tests: code-server's log: ${server?.logFile ?? '(not started)'}`);
  console.log('# tests 0\n# pass 0\n# fail 1');
  process.exit(1);
}
console.log(`# tests ${result.tests}\n# pass ${result.passes}\n# fail ${result.failures}\n# pending ${result.pending}`);
if (result.tests === 0) {
  console.error('vscode-tests: ERROR: no test ran inside the extension host.');
  exitCode = 1;
}
if (result.failures > 0) exitCode ||= 1;
say(`${result.passes} passed, ${result.failures} failed, ${result.pending} pending of ${result.tests} in the extension host; ${secs} s in all (suite ${(result.durationMs / 1000).toFixed(1)} s); exit ${exitCode}`);
if (exitCode === 0) fs.rmSync(workDir, { recursive: true, force: true });
process.exit(exitCode);
