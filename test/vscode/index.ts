// The extension-host test suite's entry: VS Code awaits `run()` (the module named by
// extensionTestsPath), both under @vscode/test-electron on desktops and inside code-server here.
// It runs every dist/test/vscode/*.test.js with mocha's TDD UI and rejects when a test failed
// or when no test ran at all (a run that tested nothing must never look green).
//
// Environment (read inside the extension host):
//   PGHA_TEST_FILES        comma-separated test file names to run (e.g. "clusterView,skeleton");
//                          default: every *.test.js but packaged (the .vsix suite)
//   PGHA_TEST_GREP         mocha --grep: only tests whose full title matches
//   PGHA_TEST_RESULT_FILE  where to write { tests, passes, failures, pending, durationMs, failed[] }
//                          as JSON (the code-server runner reads it to report and check counts)
import * as fs from 'fs';
import Mocha from 'mocha';
import * as path from 'path';

export interface SuiteResult {
  tests: number;
  passes: number;
  failures: number;
  pending: number;
  durationMs: number;
  failed: string[];
  files: string[];
}

const EXPLICIT_ONLY = new Set(['packaged.test.js']);

function testFiles(dir: string): string[] {
  const only = (process.env.PGHA_TEST_FILES ?? '')
    .split(',')
    .map((s) => s.trim().replace(/\.test\.(ts|js)$/, ''))
    .filter(Boolean);
  const all = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  // The packaged-extension suite runs only against an installed .vsix (run-vscode-tests.mjs --vsix).
  if (only.length === 0) return all.filter((f) => !EXPLICIT_ONLY.has(f)).map((f) => path.join(dir, f));
  const unknown = only.filter((o) => !all.includes(`${o}.test.js`));
  if (unknown.length) throw new Error(`PGHA_TEST_FILES names no test file: ${unknown.join(', ')} (have: ${all.join(', ')})`);
  return only.map((o) => path.join(dir, `${o}.test.js`));
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, reporter: 'spec', timeout: 60_000 });
  if (process.env.PGHA_TEST_GREP) mocha.grep(process.env.PGHA_TEST_GREP);
  const files = testFiles(__dirname);
  for (const f of files) mocha.addFile(f);
  const started = Date.now();
  const result = await new Promise<SuiteResult>((resolve, reject) => {
    try {
      const runner = mocha.run(() => {
        const s = runner.stats;
        resolve({
          tests: s?.tests ?? 0,
          passes: s?.passes ?? 0,
          failures: s?.failures ?? 0,
          pending: s?.pending ?? 0,
          durationMs: Date.now() - started,
          failed,
          files: files.map((f) => path.basename(f)),
        });
      });
      const failed: string[] = [];
      runner.on('fail', (t) => failed.push(t.fullTitle()));
    } catch (e) {
      reject(e);
    }
  });
  const out = process.env.PGHA_TEST_RESULT_FILE;
  if (out) fs.writeFileSync(out, JSON.stringify(result, null, 2));
  console.log(`extension-host suite: ${result.passes} passed, ${result.failures} failed, ${result.pending} pending (${result.tests} run) in ${(result.durationMs / 1000).toFixed(1)} s`);
  if (result.failures > 0) throw new Error(`${result.failures} extension-host test(s) failed: ${result.failed.join('; ')}`);
  if (result.tests === 0) throw new Error('No extension-host test ran (check PGHA_TEST_FILES / PGHA_TEST_GREP).');
}
