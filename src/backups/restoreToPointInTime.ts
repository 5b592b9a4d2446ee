// Restore to Point in Time: a base backup + the WAL archive replayed into a NEW node (its own
// container, data and port), stopping just before the chosen moment. The running cluster is never
// touched. The moment comes from the write load's ledger (this window's last run), a backup's end,
// or is typed (a time or an LSN).
import * as vscode from 'vscode';
import { parseRecoveryTarget, restoreToPointInTime as restore, BackupError, type RecoveryTarget, type RestoredNode } from '../core/backup';
import { connectionString } from '../core/topology';
import type { WriteLedger } from '../core/ledger';
import { cancelled, type CommandOutcome } from '../commands/common';
import type { Services } from '../services';
import type { BackupState } from './state';
import { mb, withBackupProgress } from './progress';

const t = vscode.l10n.t;

export interface RestoreCommandOptions {
  /** A time, an LSN or 'end' (skips the pick). */
  readonly target?: string;
  readonly backup?: string;
  readonly name?: string;
  readonly hostPort?: number;
}

const clock = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', ' UTC');

/** Points of a ledger's timeline worth restoring to: spread over the run, and just before its first failure. */
export function ledgerTimeline(ledger: Pick<WriteLedger, 'writes' | 'failures' | 'runId'>, points = 6): { at: number; label: string; acked: number }[] {
  const w = [...ledger.writes].sort((a, b) => a.ackAt - b.ackAt);
  if (w.length === 0) return [];
  const out: { at: number; label: string; acked: number }[] = [];
  const step = Math.max(1, Math.floor(w.length / points));
  for (let i = step - 1; i < w.length; i += step) out.push({ at: w[i].ackAt + 1, label: t('after write #{0} of load {1}', w[i].seq, ledger.runId), acked: i + 1 });
  const f = ledger.failures[0];
  if (f) {
    const before = w.filter((x) => x.ackAt < f.sentAt).length;
    out.push({ at: f.sentAt, label: t('just before the first failed write of load {0}', ledger.runId), acked: before });
  }
  return out.sort((a, b) => a.at - b.at);
}

async function pickTarget(services: Services, state: BackupState): Promise<RecoveryTarget | undefined> {
  type Item = vscode.QuickPickItem & { target?: RecoveryTarget; type?: true };
  const items: Item[] = [{ label: `$(edit) ${t('Type a time or an LSN…')}`, type: true }, { label: `$(debug-step-over) ${t('End of the archive (everything archived)')}`, target: { kind: 'end' } }];
  const ledger = services.loadSession?.current?.ledger ?? services.loadSession?.last?.ledger;
  if (ledger) {
    items.push({ label: t('Write load timeline'), kind: vscode.QuickPickItemKind.Separator });
    for (const p of ledgerTimeline(ledger)) items.push({ label: `$(history) ${clock(p.at)}`, description: p.label, detail: t('{0} acknowledged writes before it', p.acked), target: { kind: 'time', at: p.at, text: clock(p.at) } });
  }
  const backups = (state.current ?? (await state.refresh())).catalog?.backups ?? [];
  if (backups.length) {
    items.push({ label: t('Base backups'), kind: vscode.QuickPickItemKind.Separator });
    for (const b of backups) items.push({ label: `$(archive) ${clock(b.endedAt + 1000)}`, description: t('just after backup {0} ended', b.name), target: { kind: 'time', at: b.endedAt + 1000, text: clock(b.endedAt + 1000) } });
  }
  const pick = await vscode.window.showQuickPick(items, { title: t('Restore to Point in Time'), placeHolder: t('Restore up to which moment? (a new node is made; the cluster is not touched)') });
  if (!pick) return undefined;
  if (pick.target) return pick.target;
  const text = await vscode.window.showInputBox({
    title: t('Restore to Point in Time'),
    prompt: t('A time (UTC unless you add a zone, e.g. 2026-12-01 21:05:03 or 21:05:03+07) or an LSN (e.g. 0/5000028). The restore stops just before it.'),
    value: clock(Date.now() - 60_000).replace(' UTC', ''),
    validateInput: (v) => {
      try {
        parseRecoveryTarget(v);
        return undefined;
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
    },
  });
  return text === undefined ? undefined : parseRecoveryTarget(text);
}

export async function restoreToPointInTime(services: Services, state: BackupState, options: RestoreCommandOptions = {}): Promise<CommandOutcome<RestoredNode>> {
  let target: RecoveryTarget | undefined;
  try {
    target = options.target !== undefined ? parseRecoveryTarget(options.target) : await pickTarget(services, state);
  } catch (e) {
    const message = e instanceof BackupError ? e.message : String(e);
    void vscode.window.showErrorMessage(message);
    return { ok: false, message };
  }
  if (!target) return cancelled();
  const what = target.kind === 'time' ? clock(target.at) : target.kind === 'lsn' ? target.lsn : t('the end of the archive');
  const out = await withBackupProgress(services, t('Restoring to {0} into a new node', what), (report, signal) =>
    restore(state.context(), { target: target!, backup: options.backup, name: options.name, hostPort: options.hostPort, onProgress: report, signal }),
  );
  if (out.ok) {
    const r = out.value;
    const msg = t('Restored {0} up to {1} into {2} (port {3}, {4} MB, {5} s): {6}', r.backup, what, r.container, r.hostPort, mb(r.sizeBytes), (r.tookMs / 1000).toFixed(1), r.stoppedAt ?? '');
    services.log.info(msg);
    const copy = t('Copy Connection String');
    void vscode.window.showInformationMessage(msg, copy).then((p) => (p === copy ? vscode.env.clipboard.writeText(connectionString(services.topology(), r.hostPort)) : undefined));
  }
  return out;
}
