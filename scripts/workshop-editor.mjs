#!/usr/bin/env node
// Serves the workshop in the browser (the learner's editor when no desktop VS Code is installed):
// packages the extension when its sources changed, installs the .vsix into the workshop's own
// code-server profile, prints a short URL and runs code-server in the foreground (Ctrl+C stops it).
//   node scripts/workshop-editor.mjs            (npm run workshop calls it after starting the cluster)
// Environment: PGHA_CODE_SERVER_PORT (default 8080); PGHA_* choose the cluster the extension shows.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureCodeServer, ROOT } from './lib/code-server.mjs';
import { installExtension, packageExtension, serverArgs, workshopUrl, writeFirstSettings } from './lib/workshop-editor.mjs';

const say = (m) => console.log(`workshop: ${m}`);
const port = Number(process.env.PGHA_CODE_SERVER_PORT || 8080);
const cache = process.env.PGHA_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pg-ha-workshop');
const state = path.join(cache, 'workshop-editor');
const userData = path.join(state, 'user-data');
const extensions = path.join(state, 'extensions');
fs.mkdirSync(userData, { recursive: true });
fs.mkdirSync(extensions, { recursive: true });

try {
  const launcher = ensureCodeServer();
  const vsix = packageExtension({ say });
  say('installing the packaged extension into the workshop editor');
  installExtension({ launcher, vsix, userData, extensions });
  writeFirstSettings(userData);
  const url = workshopUrl(port);
  console.log(`
The cluster is running. No desktop VS Code here, so the workshop opens in the browser:

    ${url}

(code-server on 127.0.0.1:${port}, this folder, the workshop extension installed. Ctrl+C stops
the editor; the cluster keeps running: bash scripts/compose.sh down stops it.)
`);
  const child = spawn(launcher, serverArgs({ port, userData, extensions, folder: ROOT }), { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
} catch (e) {
  console.error(`workshop: ERROR: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
