// Take Base Backup: pg_basebackup of the primary into /backup/base/<time> on the backup volume.
import * as vscode from 'vscode';
import { takeBaseBackup as take, type BaseBackup } from '../core/backup';
import type { CommandOutcome } from '../commands/common';
import type { Services } from '../services';
import type { BackupState } from './state';
import { mb, withBackupProgress } from './progress';

const t = vscode.l10n.t;

export async function takeBaseBackup(services: Services, state: BackupState): Promise<CommandOutcome<BaseBackup & { ms: number }>> {
  return withBackupProgress(services, t('Taking a base backup (pg_basebackup)'), async (report, signal) => {
    const t0 = Date.now();
    const b = await take(state.context(), { onProgress: report, signal });
    const ms = Date.now() - t0;
    const msg = t('Base backup {0} taken: {1} MB in {2} s.', b.name, mb(b.sizeBytes), (ms / 1000).toFixed(1));
    services.log.info(msg);
    void vscode.window.showInformationMessage(msg);
    return { ...b, ms };
  });
}
