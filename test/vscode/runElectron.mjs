#!/usr/bin/env node
// The same extension-host suite on a desktop with internet: @vscode/test-electron downloads
// VS Code (cached in .vscode-test/) and runs dist/test/vscode/index.js inside it.
//   npm run build && node test/vscode/runElectron.mjs [--file skeleton] [--grep TEXT] [--vscode 1.95.0]
// Where VS Code cannot be downloaded, scripts/run-vscode-tests.mjs runs the suite in code-server.
import { runTests } from '@vscode/test-electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { values: opt } = parseArgs({
  options: {
    file: { type: 'string', multiple: true, default: [] },
    grep: { type: 'string' },
    vscode: { type: 'string', default: process.env.PGHA_VSCODE_VERSION || 'stable' },
  },
});
const suite = path.join(ROOT, 'dist', 'test', 'vscode', 'index.js');
if (!fs.existsSync(suite)) {
  console.error('runElectron: dist/test/vscode/index.js is missing: run npm run build first.');
  process.exit(1);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-electron-tests-'));
const workspace = path.join(dir, 'workspace');
fs.mkdirSync(workspace);
const resultFile = path.join(dir, 'result.json');
let code = 0;
try {
  await runTests({
    version: opt.vscode,
    extensionDevelopmentPath: ROOT,
    extensionTestsPath: suite,
    // Other installed extensions stay out; a fresh profile; the workspace is trusted.
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--user-data-dir', path.join(dir, 'user-data')],
    extensionTestsEnv: { PGHA_TEST_RESULT_FILE: resultFile, PGHA_TEST_FILES: opt.file.join(','), PGHA_TEST_GREP: opt.grep ?? '' },
  });
} catch (e) {
  console.error(`runElectron: ${e instanceof Error ? e.message : String(e)}`);
  code = 1;
}
let result;
try {
  result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
} catch {
  console.error('runElectron: the suite wrote no result: no test ran inside the extension host.');
  console.log('# tests 0\n# pass 0\n# fail 1');
  process.exit(1);
}
console.log(`# tests ${result.tests}\n# pass ${result.passes}\n# fail ${result.failures}\n# pending ${result.pending}`);
if (result.tests === 0 || result.failures > 0) code = 1;
process.exit(code);
