// The activation bundle (dist/extension.js, from src/entry.ts) is what VS Code loads and runs
// before anything else of the extension: it must stay small and hold no module with state. A module
// with state bundled into it would exist twice (once here, once in dist/main.js), and the two
// copies would not see each other: two operation locks, two monitors. So the entry may import only
// these stateless modules; everything else comes from dist/main.js, loaded after activation.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import * as esbuild from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');
const ALLOWED = ['src/entry.ts', 'src/api.ts', 'src/notebook/format.ts', 'src/notebook/serializer.ts'];

test('the activation bundle holds only the entry, its API type and the notebook serializer', async () => {
  const r = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: ['src/entry.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    write: false,
    metafile: true,
    external: ['vscode', './main.js'],
    logLevel: 'silent',
  });
  const inputs = Object.keys(r.metafile.inputs).sort();
  const extra = inputs.filter((i) => !ALLOWED.includes(i));
  assert.deepEqual(extra, [], `src/entry.ts pulls in ${extra.join(', ')}: load it from dist/main.js (after activation) instead`);
  // dist/main.js is loaded at run time, not bundled: the entry's output must require it.
  assert.match(r.outputFiles[0].text, /require\(["']\.\/main\.js["']\)/);
});
