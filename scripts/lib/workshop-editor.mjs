// The learner's editor when no desktop VS Code is installed: code-server serving the workshop folder
// with the INSTALLED, packaged extension (dist/pg-ha-workshop.vsix), exactly as a learner who
// installs the .vsix gets it. No development payload and no smoke-test driver: that test option
// turns notification toasts off, and every demo result, warning and error would go silently into
// the bell. scripts/start-workshop.sh runs it; scripts/workshop-check.mjs checks what it serves.
//
// Trust: the learner started the server on this folder themselves, so the folder opens trusted
// (--disable-workspace-trust); `trusted: false` leaves trust on (the check uses it to see what an
// untrusted folder shows).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, serverArgs } from './code-server.mjs';

export { serverArgs };

export const VSIX = path.join(ROOT, 'dist', 'pg-ha-workshop.vsix');

/** Files whose change makes the packaged extension out of date. */
const SOURCES = ['src', 'l10n', 'media', 'walkthroughs', 'cluster', 'package.json', 'package.nls.json', 'package.nls.id.json', 'README.md', 'esbuild.mjs', '.vscodeignore'];

function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let m = st.mtimeMs;
  for (const e of fs.readdirSync(p)) if (e !== 'node_modules' && !e.startsWith('.')) m = Math.max(m, newestMtime(path.join(p, e)));
  return m;
}

/** Builds dist/pg-ha-workshop.vsix (npm run package) unless it is newer than every source. */
export function packageExtension({ say = console.log, force = false } = {}) {
  const built = fs.existsSync(VSIX) ? fs.statSync(VSIX).mtimeMs : 0;
  const newest = Math.max(...SOURCES.map((s) => newestMtime(path.join(ROOT, s))));
  if (!force && built > newest) {
    say(`the packaged extension is up to date (${path.relative(ROOT, VSIX)})`);
    return VSIX;
  }
  say('packaging the extension (npm run package)');
  const r = spawnSync('bash', [path.join(ROOT, 'scripts', 'package-vsix.sh'), VSIX], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run package failed (exit ${r.status}); its messages are above.\n${r.stdout ?? ''}`);
  return VSIX;
}

/** Installs the .vsix into `extensions` (replacing an older install of the same extension). */
export function installExtension({ launcher, vsix = VSIX, userData, extensions }) {
  const r = spawnSync(launcher, ['--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix, '--force'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`code-server could not install ${vsix} (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
}

/** The learner's profile settings, written once: a learner's own later changes are kept. */
export function writeFirstSettings(userData) {
  const file = path.join(userData, 'User', 'settings.json');
  if (fs.existsSync(file)) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify(
      {
        // The extension opens its walkthrough on the first run: no generic Welcome page over it.
        'workbench.startupEditor': 'none',
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'chat.disableAIFeatures': true,
      },
      null,
      2,
    ),
  );
}

/** The URL a learner opens: code-server opens the folder it was started on. */
export const workshopUrl = (port) => `http://127.0.0.1:${port}/`;
