// Stop Write Load: cancels the running load after the writes in flight; its ledger stays for the report.
import * as vscode from 'vscode';
import type { LoadResult } from '../core/load';
import type { Services } from '../services';
import type { CommandOutcome } from './common';
import type { LoadSession } from './loadSession';

const t = vscode.l10n.t;

export async function stopLoad(services: Services, session: LoadSession): Promise<CommandOutcome<LoadResult>> {
  const r = await session.stop();
  if (!r) {
    void vscode.window.setStatusBarMessage(t('No write load is running.'), 5000);
    return { ok: false, message: t('No write load is running.') };
  }
  services.log.info(`Write load stopped: ${r.acked} ok, ${r.failed} failed`);
  return { ok: true, value: r };
}
