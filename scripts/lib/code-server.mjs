// A browser-hosted VS Code for tests, screenshots and benchmarks: code-server on a free 127.0.0.1
// port with a fresh profile, and Debian's Chromium driven by playwright-core. The extension is
// loaded from its development path (the smoke-test driver makes the web workbench honour the
// `payload` parameter, as the desktop does for --extensionDevelopmentPath).
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.PGHA_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

/** Console lines an offline code-server prints about hosts it cannot reach: not test output. */
const OFFLINE_NOISE = [
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|getaddrinfo|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|net::ERR_/i,
  /marketplace|open-vsx|gallery|telemetry|update\.code\.visualstudio|vscode-unpkg|vscodeexperiments|github\.com|githubusercontent/i,
  /Failed to fetch|Failed to load resource|fetching extension|Error while fetching|Service worker|Unable to resolve|default-src/i,
];
/** True for a console message that is offline noise, or the workbench's own (its stack is in workbench.js). */
export const isOfflineNoise = (text) => OFFLINE_NOISE.some((re) => re.test(text)) || /\/static\/out\/vs\/(code|workbench)\//.test(text);

/** Installs code-server/Chromium when missing (scripts/ensure-code-server.sh) and returns the launcher. */
export function ensureCodeServer({ install = true } = {}) {
  const args = [path.join(ROOT, 'scripts', 'ensure-code-server.sh')];
  if (!install) args.push('--check');
  const r = spawnSync('bash', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const launcher = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !launcher || !fs.existsSync(launcher)) {
    throw new Error(`code-server is not available (scripts/ensure-code-server.sh exited ${r.status}; see its message above).`);
  }
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: run bash scripts/ensure-code-server.sh, or set PGHA_CHROMIUM.`);
  return launcher;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, ms, proc, logFile) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`code-server exited with code ${proc.exitCode} before answering; its log: ${logFile}\n${tail(logFile)}`);
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer on ${url} within ${ms / 1000} s; its log: ${logFile}\n${tail(logFile)}`);
}

function tail(file, n = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** code-server's arguments for the learner's editor on `folder` (the tests' server adds `extra`). */
export function serverArgs({ port, userData, extensions, folder, trusted = true, locale, extra = [] }) {
  return [
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--user-data-dir', userData,
    '--extensions-dir', extensions,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    ...(trusted ? ['--disable-workspace-trust'] : []),
    ...(locale ? ['--locale', locale] : []),
    ...extra,
    folder,
  ];
}

/**
 * Starts code-server (fresh user-data and extensions dirs under a temp dir) serving `folder`.
 * `env` is added to code-server's environment, which its extension host inherits.
 * `vsix`: a .vsix to install first (code-server --install-extension). Returns { url(payload), port, dir, extensionsDir, stop() }.
 */
export async function startCodeServer({ launcher, folder, env = {}, settings = {}, workspaceTrust = false, locale, vsix }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-code-server-'));
  const userData = path.join(dir, 'user-data');
  const extensions = path.join(dir, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(extensions, { recursive: true });
  if (locale && locale !== 'en') writeEmptyLanguagePack(extensions, userData, locale);
  // A packaged extension, installed as a learner installs it (into this profile's extensions dir).
  if (vsix) {
    const r = spawnSync(launcher, ['--extensions-dir', extensions, '--user-data-dir', userData, '--install-extension', vsix], { encoding: 'utf8', env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data') } });
    if (r.status !== 0) throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim()}`);
  }
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'telemetry.telemetryLevel': 'off',
        'update.mode': 'none',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'workbench.enableExperiments': false,
        'chat.disableAIFeatures': true,
        'git.enabled': false,
        'files.watcherExclude': { '**/node_modules/**': true, '**/.git/**': true },
        ...settings,
      },
      null,
      2,
    ),
  );
  const port = await freePort();
  const logFile = path.join(dir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  // The learner's arguments, plus the smoke-test driver the tests and screenshots drive the workbench with.
  const args = serverArgs({ port, userData, extensions, folder, trusted: !workspaceTrust, locale, extra: ['--vscode-option', 'enable-smoke-test-driver'] });
  const proc = spawn(launcher, args, {
    cwd: ROOT,
    // PGHA_VSIX_EXTENSIONS_DIR: the packaged-extension suite checks the extension runs from there.
    env: { ...process.env, ...env, ...(vsix ? { PGHA_VSIX_EXTENSIONS_DIR: extensions } : {}), XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_DATA_HOME: path.join(dir, 'data') },
    stdio: ['ignore', out, out],
    detached: true, // own process group: stop() ends the server and everything it started
  });
  const stop = () => {
    if (proc.exitCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
      setTimeout(() => {
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 2000).unref();
    }
  };
  try {
    await waitHttp(`http://127.0.0.1:${port}/healthz`, 60_000, proc, logFile);
  } catch (e) {
    stop();
    throw e;
  }
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  /** Workbench URL with the development payload (extension under development, tests, ...). */
  const url = ({ extensionDevelopmentPath, extensionTestsPath, extra = [] } = {}) => {
    const payload = [['skipWelcome', 'true'], ...extra];
    if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remote(extensionDevelopmentPath)]);
    if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
    return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  };
  return { port, dir, extensionsDir: extensions, logFile, proc, url, stop };
}

/**
 * VS Code runs an extension in a display language only when a language pack for it is installed
 * (else it falls back to English), and none exists for Bahasa Indonesia. An empty pack for `locale`
 * (VS Code's own strings stay English) lets the extension's package.nls.<locale>.json and l10n
 * bundle be seen, as a learner with that display language sees them.
 */
function writeEmptyLanguagePack(extensionsDir, userData, locale) {
  const ext = path.join(extensionsDir, `pgha-test.language-pack-${locale}-0.0.1`);
  fs.mkdirSync(path.join(ext, 'translations'), { recursive: true });
  const main = path.join(ext, 'translations', 'main.i18n.json');
  fs.writeFileSync(main, JSON.stringify({ version: '1.0.0', contents: {} }));
  // The server reads its packs from languagepacks.json (it writes that file itself when it installs a pack).
  fs.writeFileSync(
    path.join(userData, 'languagepacks.json'),
    JSON.stringify({ [locale]: { hash: `pgha-test-${locale}`, extensions: [{ extensionIdentifier: { id: `pgha-test.language-pack-${locale}` }, version: '0.0.1' }], translations: { vscode: main }, label: locale } }),
  );
  fs.writeFileSync(
    path.join(ext, 'package.json'),
    JSON.stringify({
      name: `language-pack-${locale}`,
      publisher: 'pgha-test',
      version: '0.0.1',
      engines: { vscode: '*' },
      categories: ['Language Packs'],
      contributes: { localizations: [{ languageId: locale, languageName: locale, localizedLanguageName: locale, translations: [{ id: 'vscode', path: './translations/main.i18n.json' }] }] },
    }),
  );
}

/** Launches headless Chromium through playwright-core (Debian's build; no browser download). */
export async function launchChromium({ width = 1400, height = 900 } = {}) {
  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    throw new Error('playwright-core is missing: run npm ci in the project first.');
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  return { browser, page };
}
