// Bundles the extension (and the extension-host test suite) with esbuild.
// `vscode` is provided by the host; `pg-native` is pg's optional native driver; ssh2's native
// crypto and cpu-features are optional and left out (dockerode only needs them for ssh:// hosts).
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { lazyVendor, unusedModules, vendorEntry } from './scripts/lib/lazy-modules.mjs';

const production = process.argv.includes('--production');
/** Leaves `require('./main.js')` of src/entry.ts to run time. */
const mainBundle = { name: 'main-bundle', setup: (b) => b.onResolve({ filter: /^\.\/main\.js$/ }, () => ({ path: './main.js', external: true })) };
const watch = process.argv.includes('--watch');
const external = ['vscode', 'pg-native', 'cpu-features', './crypto/build/Release/sshcrypto.node'];

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  external,
  logLevel: 'warning',
};

const testEntries = readdirSync('test/vscode')
  .filter((f) => f.endsWith('.test.ts') || f === 'index.ts')
  .map((f) => `test/vscode/${f}`);

const builds = [
  // The entry bundle: the extension's own code; heavy libraries come from dist/vendor.js on first use
  // (scripts/lib/lazy-modules.mjs), so activation reads and compiles little.
  // dist/extension.js (src/entry.ts) turns on Node's compile cache, then loads dist/main.js.
  { ...common, entryPoints: ['src/entry.ts'], outfile: 'dist/extension.js', plugins: [mainBundle] },
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/main.js', plugins: [lazyVendor] },
  { ...common, stdin: { contents: vendorEntry, resolveDir: '.', loader: 'js' }, outfile: 'dist/vendor.js', plugins: [unusedModules] },
  // The lag dashboard's webview script (browser): uPlot and its CSS, no Node.
  { bundle: true, platform: 'browser', target: 'es2020', format: 'iife', sourcemap: !production, minify: production, logLevel: 'warning', entryPoints: { main: 'src/dashboard/webview/main.ts' }, outdir: 'dist/dashboard' },
  ...(production || testEntries.length === 0
    ? []
    : [{ ...common, entryPoints: testEntries, outdir: 'dist/test/vscode', external: [...external, 'mocha'], plugins: [unusedModules] }]),
];

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
