// Dump Database: pg_dump of demodb (or another database) into /backup/dump on the backup volume.
import * as vscode from 'vscode';
import { dumpDatabase as dump, type DumpFile } from '../core/backup';
import type { CommandOutcome } from '../commands/common';
import type { Services } from '../services';
import type { BackupState } from './state';
import { mb, withBackupProgress } from './progress';

const t = vscode.l10n.t;

export async function dumpDatabase(services: Services, state: BackupState, options: { database?: string } = {}): Promise<CommandOutcome<DumpFile & { ms: number }>> {
  const database = options.database ?? services.topology().superuser.database;
  return withBackupProgress(services, t('Dumping {0} (pg_dump)', database), async (report, signal) => {
    const t0 = Date.now();
    const d = await dump(state.context(), { database, onProgress: report, signal });
    const ms = Date.now() - t0;
    const msg = t('Dump {0} written: {1} MB in {2} s.', d.name, mb(d.sizeBytes), (ms / 1000).toFixed(1));
    services.log.info(msg);
    void vscode.window.showInformationMessage(msg);
    return { ...d, ms };
  });
}
