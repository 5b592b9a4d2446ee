// The module VS Code loads (package.json "main": dist/extension.js). Activation does only what must
// exist the moment it returns, and loads the extension itself (dist/main.js, from src/extension.ts)
// right after, off the activation's path:
//   - every contributed command, as a stand-in that waits for dist/main.js, then runs the real one;
//   - the notebook serializer (small, stateless), so a notebook opened at start-up opens at once;
//   - the log channel, handed to dist/main.js so there is one.
// dist/main.js then registers the real commands, views, status bar items and the monitor. Nothing
// with state is in this bundle: one copy of each module lives in dist/main.js.
import * as nodeModule from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExtensionApi } from './api';
import { NOTEBOOK_TYPE } from './notebook/format';
import { PghaNotebookSerializer, serializerOptions } from './notebook/serializer';
import type { Services } from './services';

type Main = { activate(context: vscode.ExtensionContext, log: vscode.LogOutputChannel): Promise<Services>; deactivate(): void };

let main: Main | undefined;

function enableCompileCache(): void {
  try {
    // Node 22.1 and later (code-server, current VS Code): windows after the first skip compiling dist/main.js.
    (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache?.(path.join(os.tmpdir(), 'pg-ha-workshop-compile-cache'));
  } catch {
    // No cache: the bundle is compiled as usual.
  }
}

export function activate(context: vscode.ExtensionContext): ExtensionApi {
  const log = vscode.window.createOutputChannel('PG HA Workshop', { log: true });
  context.subscriptions.push(log, vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new PghaNotebookSerializer(log), serializerOptions));

  const contributed = ((context.extension.packageJSON as { contributes?: { commands?: { command: string }[] } }).contributes?.commands ?? []).map((c) => c.command);
  let loading: Promise<Services> | undefined;
  const load = (): Promise<Services> =>
    (loading ??= (async () => {
      enableCompileCache();
      const start = performance.now();
      try {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after activation, on purpose
        main = require('./main.js') as Main;
      } finally {
        // bench/activation.mjs reads this measure of the extension host beside VS Code's own record.
        performance.measure('pg-ha-workshop:load-main', { start });
      }
      // The stand-ins go in the same tick as the real commands come: none is ever missing. Until then
      // (and for good if dist/main.js cannot load) a command answers with the load's error.
      for (const d of standIns) d.dispose();
      return main.activate(context, log);
    })());
  const standIns = contributed.map((id) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      await load();
      return vscode.commands.executeCommand(id, ...args);
    }),
  );
  context.subscriptions.push(...standIns);
  // The views, the status bar and the monitor come right after activation returns.
  const timer = setTimeout(
    () =>
      load().catch((e: unknown) => {
        log.error(`PG HA Workshop could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('PG HA Workshop could not start: {0}. Reinstall the extension; the details are in its output channel (PG HA Workshop).', e instanceof Error ? e.message : String(e)));
      }),
    0,
  );
  context.subscriptions.push({ dispose: () => clearTimeout(timer) });
  return { services: load };
}

export function deactivate(): void {
  main?.deactivate();
}
