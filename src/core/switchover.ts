// Switchover: a planned change of primary with no loss. Wait until the candidate has replayed
// everything the primary wrote, PAUSE PgBouncer (clients' queries wait instead of failing), stop
// (demote) the primary cleanly, promote the candidate, point PgBouncer at it and RESUME, point the
// other replica at it, then rejoin the old primary as a replica.
//
// PgBouncer's PAUSE waits until every server connection is released; in session pooling a client
// that stays connected holds its server connection, so the PAUSE is bounded (pauseTimeoutMs) and
// the switchover goes on without it when it does not complete (those clients see one error).
//
// API (no vscode):
//   switchover(ctx, { candidate?, ledger?, onStep?, pausePgBouncer? }) → { failover: FailoverResult, rejoin?: RejoinResult, rejoinError?: string, pgbouncerPaused: boolean }
// One operation for the lock (operationLock.ts): the failover and the rejoin run under one hold, so
// nothing can start the old primary between them.
import { withNodeClient } from './connection';
import { failover, type FailoverContext, type FailoverOptions, type FailoverResult } from './failover';
import { holderOf } from './nodeActions';
import { withOperationLock } from './operationLock';
import { rejoinAsReplica, type RejoinResult } from './rejoin';

export interface SwitchoverResult {
  readonly failover: FailoverResult;
  readonly rejoin?: RejoinResult;
  /** Why the old primary could not rejoin (the new primary runs either way). */
  readonly rejoinError?: string;
  /** PgBouncer held the clients' queries during the change (PAUSE completed in time). */
  readonly pgbouncerPaused: boolean;
}

export interface SwitchoverOptions extends Pick<FailoverOptions, 'candidate' | 'ledger' | 'onStep' | 'loadRunning' | 'waitForLoadMs' | 'signal' | 'lockWaitMs'> {
  readonly onRejoinStep?: (m: string) => void;
  /** PAUSE PgBouncer from fencing until it points at the new primary. Default true. */
  readonly pausePgBouncer?: boolean;
  readonly pauseTimeoutMs?: number;
}

async function pgbouncerAdmin(ctx: FailoverContext, command: string, timeoutMs: number): Promise<void> {
  await withNodeClient(ctx.topology, ctx.topology.pgbouncer.hostPort, (c) => c.query(command), { database: 'pgbouncer', connectTimeoutMs: 5000, queryTimeoutMs: timeoutMs, applicationName: 'pgha-switchover' });
}

export async function switchover(ctx: FailoverContext, o: SwitchoverOptions = {}): Promise<SwitchoverResult> {
  return withOperationLock(ctx, { holder: holderOf(ctx), what: `Switchover${o.candidate ? ` to ${o.candidate}` : ''}`, waitMs: o.lockWaitMs, signal: o.signal }, async () => {
    let paused = false;
    let pauseTried = false;
    const resume = async () => {
      if (!pauseTried) return;
      pauseTried = false;
      await pgbouncerAdmin(ctx, 'RESUME', 10_000).catch(() => undefined);
    };
    const pause = async () => {
      if (o.pausePgBouncer === false) return;
      pauseTried = true;
      try {
        await pgbouncerAdmin(ctx, 'PAUSE', o.pauseTimeoutMs ?? 5000);
        paused = true;
        ctx.log?.('switchover: PgBouncer paused (client queries wait)');
      } catch (e) {
        ctx.log?.(`switchover: PgBouncer PAUSE did not complete (${e instanceof Error ? e.message : String(e)}); going on without it`);
        await resume();
      }
    };
    let f: FailoverResult;
    try {
      f = await failover(ctx, {
        ...o,
        kind: 'switchover',
        fencing: 'stop',
        requireCaughtUp: true,
        repointReplicas: true,
        repointPgBouncer: true,
        waitForLoadMs: o.waitForLoadMs ?? 15_000,
        beforeFence: pause,
        onStep: (s) => {
          o.onStep?.(s);
          // The held queries go to the new primary as soon as PgBouncer points at it.
          if (s.name === 'pgbouncer') void resume();
        },
      });
    } finally {
      await resume();
    }
    if (!f.oldPrimary) return { failover: f, pgbouncerPaused: paused };
    try {
      // Cancelling after the promotion still rejoins: a fenced old primary beside the new one is
      // a worse place to stop than a finished switchover (the rejoin itself is not interrupted).
      const rejoin = await rejoinAsReplica(ctx, f.oldPrimary.key, { method: 'auto', onStep: o.onRejoinStep });
      return { failover: f, rejoin, pgbouncerPaused: paused };
    } catch (e) {
      return { failover: f, rejoinError: e instanceof Error ? e.message : String(e), pgbouncerPaused: paused };
    }
  });
}
