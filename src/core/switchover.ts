// Switchover: a planned change of primary with no loss. Wait until the candidate has replayed
// everything the primary wrote, stop (demote) the primary cleanly, promote the candidate, point the
// other replica and PgBouncer at it, then rejoin the old primary as a replica.
//
// API (no vscode):
//   switchover(ctx, { candidate?, ledger?, onStep? }) → { failover: FailoverResult, rejoin?: RejoinResult, rejoinError?: string }
import { failover, type FailoverContext, type FailoverOptions, type FailoverResult } from './failover';
import { rejoinAsReplica, type RejoinResult } from './rejoin';

export interface SwitchoverResult {
  readonly failover: FailoverResult;
  readonly rejoin?: RejoinResult;
  /** Why the old primary could not rejoin (the new primary runs either way). */
  readonly rejoinError?: string;
}

export async function switchover(ctx: FailoverContext, o: Pick<FailoverOptions, 'candidate' | 'ledger' | 'onStep' | 'loadRunning' | 'waitForLoadMs'> & { onRejoinStep?: (m: string) => void } = {}): Promise<SwitchoverResult> {
  const f = await failover(ctx, { ...o, kind: 'switchover', fencing: 'stop', requireCaughtUp: true, repointReplicas: true, repointPgBouncer: true, waitForLoadMs: o.waitForLoadMs ?? 15_000 });
  if (!f.oldPrimary) return { failover: f };
  try {
    const rejoin = await rejoinAsReplica(ctx, f.oldPrimary.key, { method: 'auto', onStep: o.onRejoinStep });
    return { failover: f, rejoin };
  } catch (e) {
    return { failover: f, rejoinError: e instanceof Error ? e.message : String(e) };
  }
}
