// Switchover: a planned change of primary with no loss. Wait until the candidate has replayed
// everything the primary wrote, stop (demote) the primary cleanly, promote the candidate, point the
// other replica and PgBouncer at it, then rejoin the old primary as a replica.
//
// API (no vscode):
//   switchover(ctx, { candidate?, ledger?, onStep? }) → { failover: FailoverResult, rejoin?: RejoinResult, rejoinError?: string }
// One operation for the lock (operationLock.ts): the failover and the rejoin run under one hold, so
// nothing can start the old primary between them.
import { failover, type FailoverContext, type FailoverOptions, type FailoverResult } from './failover';
import { holderOf } from './nodeActions';
import { withOperationLock } from './operationLock';
import { rejoinAsReplica, type RejoinResult } from './rejoin';

export interface SwitchoverResult {
  readonly failover: FailoverResult;
  readonly rejoin?: RejoinResult;
  /** Why the old primary could not rejoin (the new primary runs either way). */
  readonly rejoinError?: string;
}

export async function switchover(
  ctx: FailoverContext,
  o: Pick<FailoverOptions, 'candidate' | 'ledger' | 'onStep' | 'loadRunning' | 'waitForLoadMs' | 'signal' | 'lockWaitMs'> & { onRejoinStep?: (m: string) => void } = {},
): Promise<SwitchoverResult> {
  return withOperationLock(ctx, { holder: holderOf(ctx), what: `Switchover${o.candidate ? ` to ${o.candidate}` : ''}`, waitMs: o.lockWaitMs, signal: o.signal }, async () => {
    const f = await failover(ctx, { ...o, kind: 'switchover', fencing: 'stop', requireCaughtUp: true, repointReplicas: true, repointPgBouncer: true, waitForLoadMs: o.waitForLoadMs ?? 15_000 });
    if (!f.oldPrimary) return { failover: f };
    try {
      // Cancelling after the promotion still rejoins: a fenced old primary beside the new one is
      // a worse place to stop than a finished switchover (the rejoin itself is not interrupted).
      const rejoin = await rejoinAsReplica(ctx, f.oldPrimary.key, { method: 'auto', onStep: o.onRejoinStep });
      return { failover: f, rejoin };
    } catch (e) {
      return { failover: f, rejoinError: e instanceof Error ? e.message : String(e) };
    }
  });
}
