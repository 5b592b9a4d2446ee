// Start Write Load: Demo 3/4 (steady rate, ./generate-load.sh 120 2), Demo 5 (bulk inserts, 10 at a
// time) or max throughput, against the primary (followed across a failover), PgBouncer or a node.
// Live progress in a cancellable notification and in the status bar; every acknowledged write goes
// into the ledger that the failover report reads.
import * as vscode from 'vscode';
import { formatDuration } from '../core/format';
import { DEFAULT_BULK_MODE, LoadGenerator, LoadInputError, preflightTarget, validateLoadOptions, type LoadMode, type LoadResult, type LoadTarget } from '../core/load';
import type { Services } from '../services';
import { cancelled, runCommand, type CommandOutcome } from './common';
import type { LoadSession } from './loadSession';

const t = vscode.l10n.t;

export interface StartLoadArgs {
  readonly target?: LoadTarget;
  readonly mode?: LoadMode['kind'];
  readonly ratePerSec?: number;
  readonly durationSec?: number;
  readonly clients?: number;
  readonly statements?: number;
  readonly rowsPerStatement?: number;
  readonly concurrency?: number;
  /** Resolve when the run ends (with its result) instead of when it starts. */
  readonly wait?: boolean;
  /** Start even when the target does not accept writes now (the failures are counted). */
  readonly allowTargetDown?: boolean;
}

export type StartLoadValue = { readonly runId: string; readonly result?: LoadResult };

async function askNumber(title: string, value: string, check: (n: number) => string | undefined): Promise<number | undefined> {
  const s = await vscode.window.showInputBox({ title, value, validateInput: (v) => (v.trim() === '' || !Number.isFinite(Number(v)) ? t('Enter a number.') : check(Number(v))) });
  return s === undefined ? undefined : Number(s);
}

async function askMode(): Promise<LoadMode | undefined> {
  type Item = vscode.QuickPickItem & { kind2: LoadMode['kind'] };
  const pick = await vscode.window.showQuickPick<Item>(
    [
      { label: t('Steady rate'), description: './generate-load.sh 120 2', detail: t('R single-row inserts per second for T seconds (Demo 3 and 4).'), kind2: 'rate' },
      { label: t('Heavy: bulk inserts'), description: t('Demo 5'), detail: t('1000 inserts of 100 rows each, 10 at a time.'), kind2: 'bulk' },
      { label: t('Maximum throughput'), detail: t('As many single-row inserts as N clients can do in T seconds.'), kind2: 'max' },
    ],
    { title: t('Start Write Load'), placeHolder: t('What kind of load?') },
  );
  if (!pick) return undefined;
  const problem = (m: LoadMode) => validateLoadOptions({ target: 'primary', mode: m })[0];
  if (pick.kind2 === 'rate') {
    const ratePerSec = await askNumber(t('Writes per second'), '2', (n) => problem({ kind: 'rate', ratePerSec: n, durationSec: 120 }));
    if (ratePerSec === undefined) return undefined;
    const durationSec = await askNumber(t('Duration in seconds'), '120', (n) => problem({ kind: 'rate', ratePerSec, durationSec: n }));
    return durationSec === undefined ? undefined : { kind: 'rate', ratePerSec, durationSec };
  }
  if (pick.kind2 === 'bulk') return DEFAULT_BULK_MODE;
  const clients = await askNumber(t('Number of clients'), '4', (n) => problem({ kind: 'max', clients: n, durationSec: 30 }));
  if (clients === undefined) return undefined;
  const durationSec = await askNumber(t('Duration in seconds'), '30', (n) => problem({ kind: 'max', clients, durationSec: n }));
  return durationSec === undefined ? undefined : { kind: 'max', clients, durationSec };
}

async function askTarget(services: Services): Promise<LoadTarget | undefined> {
  const topo = services.topology();
  type Item = vscode.QuickPickItem & { target: LoadTarget };
  const items: Item[] = [
    { label: t('The primary (follows a failover)'), detail: t('Writes go to whichever node accepts writes; after a failover the load finds the new primary, so the downtime (RTO) can be measured.'), target: 'primary' },
    { label: t('PgBouncer'), description: `127.0.0.1:${topo.pgbouncer.hostPort}`, detail: t('Writes go where PgBouncer points (Demo 7); a failover repoints it.'), target: 'pgbouncer' },
    ...topo.nodes.map((n) => ({ label: n.container, description: `127.0.0.1:${n.hostPort}`, detail: t('This node only (fails while it is down or read-only).'), target: n.key as LoadTarget })),
  ];
  return (await vscode.window.showQuickPick(items, { title: t('Write where?') }))?.target;
}

function modeFromArgs(a: StartLoadArgs): LoadMode {
  switch (a.mode ?? 'rate') {
    case 'bulk':
      return { kind: 'bulk', statements: a.statements ?? 1000, rowsPerStatement: a.rowsPerStatement ?? 100, concurrency: a.concurrency ?? 10 };
    case 'max':
      return { kind: 'max', clients: a.clients ?? 4, durationSec: a.durationSec ?? 30 };
    default:
      return { kind: 'rate', ratePerSec: a.ratePerSec ?? 2, durationSec: a.durationSec ?? 120 };
  }
}

export async function startLoad(services: Services, session: LoadSession, args: StartLoadArgs = {}): Promise<CommandOutcome<StartLoadValue>> {
  const scripted = args.mode !== undefined || args.target !== undefined;
  if (session.isRunning) {
    if (scripted) return { ok: false, message: t('A write load is already running. Stop it first (PG HA Workshop: Stop Write Load).') };
    const stop = t('Stop It and Start a New One');
    const pick = await vscode.window.showWarningMessage(t('A write load is already running.'), stop);
    if (pick !== stop) return cancelled();
    await session.stop();
  }
  const mode = scripted ? modeFromArgs(args) : await askMode();
  if (!mode) return cancelled();
  const target = args.target ?? (scripted ? 'primary' : await askTarget(services));
  if (!target) return cancelled();
  return runCommand(services, 'Start write load', async () => {
    const topo = services.topology();
    let gen: LoadGenerator;
    try {
      gen = new LoadGenerator(topo, { target, mode });
    } catch (e) {
      if (e instanceof LoadInputError) throw new Error(t('Cannot start the load: {0}', e.message));
      throw e;
    }
    if (!args.allowTargetDown) {
      const why = await preflightTarget(topo, target);
      if (why) throw new Error(t('The load was not started: {0}', why));
    }
    const what =
      mode.kind === 'rate' ? t('{0} writes/s for {1} s', mode.ratePerSec, mode.durationSec) : mode.kind === 'bulk' ? t('{0} inserts of {1} rows, {2} at a time', mode.statements, mode.rowsPerStatement, mode.concurrency) : t('{0} clients for {1} s', mode.clients, mode.durationSec);
    services.log.info(`Write load ${gen.ledger.runId} started: ${what}, target ${target}`);
    const done = session.start(gen);
    void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Write load ({0})', what), cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => gen.cancel());
      let lastPct = 0;
      const sub = gen.onProgress((p) => {
        const total = mode.kind === 'bulk' ? mode.statements : mode.durationSec * 1000;
        const pct = Math.min(100, Math.round(((mode.kind === 'bulk' ? p.acked + p.failed : p.elapsedMs) / total) * 100));
        const err = p.lastError ? ` · ${t('last error')}: ${p.lastError.message}` : '';
        progress.report({ increment: pct - lastPct, message: `${t('{0} writes/s', p.writesPerSec)} · ${t('{0} ok', p.acked)} · ${t('{0} failed', p.failed)}${err}` });
        lastPct = pct;
      });
      try {
        await done;
      } finally {
        sub.dispose();
      }
    });
    void done.then((r) => {
      const msg = t('Write load {0}: {1} writes acknowledged ({2} rows), {3} failed in {4}; {5} writes/s on average.', r.state === 'cancelled' ? t('stopped') : t('done'), r.acked, r.ackedRows, r.failed, formatDuration(r.elapsedMs), r.avgWritesPerSec.toFixed(1));
      services.log.info(msg + (r.lastError ? ` Last error: ${r.lastError.message}` : ''));
      void vscode.window.setStatusBarMessage(msg, 10_000);
    });
    if (args.wait) return { runId: gen.ledger.runId, result: await done };
    return { runId: gen.ledger.runId };
  });
}
