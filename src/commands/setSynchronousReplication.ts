// Configure Synchronous Replication (Exercise 1): synchronous_standby_names (FIRST 1 (...) /
// ANY 1 (...)) and synchronous_commit, applied with ALTER SYSTEM + reload; the tree shows sync_state.
import * as vscode from 'vscode';
import { setSynchronousReplication as apply, SyncConfigError, type SyncCommit, type SyncConfig, type SyncState } from '../core/syncReplication';
import type { Services } from '../services';
import { actionContext, cancelled, runCommand, type CommandOutcome } from './common';

const t = vscode.l10n.t;

export async function setSynchronousReplication(services: Services, args?: SyncConfig): Promise<CommandOutcome<SyncState>> {
  let cfg = args;
  if (!cfg) {
    const replicas = services.topology().nodes.filter((n) => n.initialRole === 'replica').map((n) => n.service);
    type M = vscode.QuickPickItem & { cfg: Omit<SyncConfig, 'commit'> };
    const s = services.monitor.current;
    const standbys = s ? s.nodes.filter((n) => n.key !== s.primary).map((n) => n.service) : replicas;
    const m = await vscode.window.showQuickPick<M>(
      [
        { label: `FIRST 1 (${standbys.join(', ')})`, description: t('priority'), detail: t('The first streaming standby in the list is synchronous; the next one takes over when it is gone.'), cfg: { method: 'FIRST', num: 1, standbys } },
        { label: `ANY 1 (${standbys.join(', ')})`, description: t('quorum'), detail: t('Any one standby must confirm each commit.'), cfg: { method: 'ANY', num: 1, standbys } },
        ...standbys.map((n) => ({ label: n, description: t('this standby only (the workshop README)'), detail: t('Commits wait for {0}; when it is down, every commit waits.', n), cfg: { method: 'FIRST' as const, num: 1, standbys: [n] } })),
        { label: t('Asynchronous'), description: t('the workshop default'), detail: t('Commits do not wait for any standby: fastest, but a failover can lose acknowledged writes.'), cfg: { method: 'async' } },
      ],
      { title: t('Synchronous replication: which standbys?') },
    );
    if (!m) return cancelled();
    let commit: SyncCommit | undefined;
    if (m.cfg.method !== 'async') {
      type C = vscode.QuickPickItem & { c: SyncCommit };
      const c = await vscode.window.showQuickPick<C>(
        [
          { label: 'remote_apply', detail: t('Wait until the standby has applied the commit: visible there at once; zero loss on failover.'), c: 'remote_apply' },
          { label: 'on', detail: t('Wait until the standby has flushed the WAL to disk (remote flush).'), c: 'on' },
          { label: 'remote_write', detail: t('Wait until the standby has written the WAL (not flushed): faster, survives a primary crash but not a standby OS crash.'), c: 'remote_write' },
        ],
        { title: t('synchronous_commit') },
      );
      if (!c) return cancelled();
      commit = c.c;
    } else commit = 'on';
    cfg = { ...m.cfg, commit };
  }
  const config = cfg;
  return runCommand(services, 'Synchronous replication', async () => {
    let st: SyncState;
    try {
      st = await apply({ ...actionContext(services), log: (m) => services.log.info(m) }, config);
    } catch (e) {
      if (e instanceof SyncConfigError && /apply anyway/.test(e.message) && !config.force) {
        const go = t('Apply Anyway');
        const pick = await vscode.window.showWarningMessage(e.message, { modal: true }, go);
        if (pick !== go) throw new Error(t('Synchronous replication not changed.'));
        st = await apply({ ...actionContext(services) }, { ...config, force: true });
      } else throw e;
    }
    const states = st.standbys.map((x) => `${x.name}: ${x.syncState}`).join(', ') || t('no standby connected');
    const msg = t("{0}: synchronous_standby_names = '{1}', synchronous_commit = {2} ({3}).", st.primary, st.synchronousStandbyNames, st.synchronousCommit, states);
    services.log.info(msg);
    for (const w of st.warnings) services.log.warn(w);
    void vscode.window.showInformationMessage(msg);
    void services.monitor.refresh();
    return st;
  });
}
