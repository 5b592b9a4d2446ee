// What the views show of backups: the backup volume's catalog (base backups, dumps, the WAL
// archive's pg_stat_archiver) and the restored nodes. Read on demand (after each backup command)
// and at most every REFRESH_MS while the cluster runs: a look costs a docker exec and a query.
import * as vscode from 'vscode';
import { listRestoredNodes, readBackupCatalog, type BackupCatalog, type BackupContext, type RestoredNodeInfo } from '../core/backup';
import type { Services } from '../services';

const REFRESH_MS = 15_000;

export interface BackupSnapshot {
  readonly catalog?: BackupCatalog;
  readonly restored: readonly RestoredNodeInfo[];
  /** Why the catalog could not be read (cluster down, no backup volume). */
  readonly problem?: string;
  readonly at: number;
}

export class BackupState implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<BackupSnapshot>();
  readonly onDidChange = this.changed.event;
  private snapshot: BackupSnapshot | undefined;
  private inFlight: Promise<BackupSnapshot> | undefined;
  private lastLook = 0;

  constructor(private readonly services: Services) {}

  get current(): BackupSnapshot | undefined {
    return this.snapshot;
  }

  context(): BackupContext {
    return { topology: this.services.topology(), containers: this.services.containers(), log: (m) => this.services.log.info(m) };
  }

  /** A fresh look (shared by concurrent callers). */
  refresh(): Promise<BackupSnapshot> {
    this.inFlight ??= (async () => {
      const ctx = this.context();
      let catalog: BackupCatalog | undefined;
      let problem: string | undefined;
      try {
        catalog = await readBackupCatalog(ctx);
      } catch (e) {
        problem = e instanceof Error ? e.message : String(e);
      }
      const restored = await listRestoredNodes(ctx).catch(() => []);
      this.snapshot = { catalog, restored, problem, at: Date.now() };
      this.lastLook = Date.now();
      this.changed.fire(this.snapshot);
      return this.snapshot;
    })().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** Called on every cluster status: looks again when the last look is older than REFRESH_MS. */
  maybeRefresh(clusterRunning: boolean): void {
    if (!clusterRunning || this.inFlight || Date.now() - this.lastLook < REFRESH_MS) return;
    void this.refresh().catch(() => undefined);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
