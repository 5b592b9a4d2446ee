// The module VS Code loads (package.json "main": dist/extension.js). It turns on Node's compile
// cache where the extension host's Node has one (22.1 and later: code-server, current VS Code), then
// loads the extension's bundle (dist/main.js, from src/extension.ts): windows after the first skip
// compiling it, which is most of what activation costs. The heavy libraries load later still, on
// first use (dist/vendor.js, scripts/lib/lazy-modules.mjs).
import * as nodeModule from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';

try {
  (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache?.(path.join(os.tmpdir(), 'pg-ha-workshop-compile-cache'));
} catch {
  // No cache: the bundle is compiled as usual.
}

// How long loading the bundle takes, as a performance measure of this process (the extension host):
// bench/activation.mjs reads it beside VS Code's own record.
const loading = performance.now();
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the cache is on, on purpose
module.exports = require('./main.js');
performance.measure('pg-ha-workshop:load-main', { start: loading });
