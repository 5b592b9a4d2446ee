// Demo 1, Basic Replication: insert a row on the primary, read it from each replica, and measure
// how long it took to become visible there ("data appears on the replicas in < 1 s"); then try a
// write on a replica, which PostgreSQL refuses (hot standby: read-only, SQLSTATE 25006).
import { classifyPgError } from '../connection';
import { check, connect, readyCluster, result, sleep, type DemoContext, type DemoResult } from './common';

export const VISIBILITY_PROMISE_MS = 1000;

export interface BasicReplicationMeasures {
  readonly primary: string;
  readonly rowId: number;
  /** ms from the commit's acknowledgement to the row being visible, per replica; null when not within the bound. */
  readonly visibleAfterMs: Readonly<Record<string, number | null>>;
  /** The newest rows each replica shows (SELECT * FROM users ORDER BY id DESC LIMIT 5): ids. */
  readonly latestIds: Readonly<Record<string, readonly number[]>>;
  readonly writeRefused: { readonly replica: string; readonly refused: boolean; readonly code?: string; readonly message: string };
}

/** Polls `poll` every ~1 ms until true or `boundMs`; returns ms since `since` or null. */
async function visibleWithin(poll: () => Promise<boolean>, since: number, boundMs: number): Promise<number | null> {
  while (performance.now() - since < boundMs) {
    if (await poll()) return Math.round((performance.now() - since) * 10) / 10;
    await sleep(1);
  }
  return null;
}

export async function basicReplication(ctx: DemoContext, o: { boundMs?: number } = {}): Promise<DemoResult<BasicReplicationMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`demo 1: ${m}`);
  const { primary, replicas } = await readyCluster(ctx, { replicas: 1 });
  const bound = o.boundMs ?? 5000;
  // Connections first, so the measured time is replication, not connection set-up.
  const p = await connect(t, primary.hostPort);
  const rs = await Promise.all(replicas.map((r) => connect(t, r.hostPort)));
  try {
    const ins = await p.query<{ id: number }>("INSERT INTO users (name, email) VALUES ('DemoUser', 'demo@example.com') RETURNING id");
    const acked = performance.now();
    const rowId = ins.rows[0].id;
    say(`INSERT on ${primary.container} (port ${primary.hostPort}) → id ${rowId}`);
    const visibleAfterMs: Record<string, number | null> = {};
    await Promise.all(
      replicas.map(async (r, i) => {
        visibleAfterMs[r.service] = await visibleWithin(async () => ((await rs[i].query('SELECT 1 FROM users WHERE id = $1', [rowId])).rowCount ?? 0) > 0, acked, bound);
      }),
    );
    const latestIds: Record<string, number[]> = {};
    for (const [i, r] of replicas.entries()) {
      latestIds[r.service] = (await rs[i].query<{ id: number }>('SELECT id FROM users ORDER BY id DESC LIMIT 5')).rows.map((x) => x.id);
      say(`${r.container} (port ${r.hostPort}) saw id ${rowId} after ${visibleAfterMs[r.service] ?? `more than ${bound}`} ms; latest ids ${latestIds[r.service].join(', ')}`);
    }
    const target = replicas[0];
    let writeRefused: BasicReplicationMeasures['writeRefused'];
    try {
      await rs[0].query("INSERT INTO users (name, email) VALUES ('OnReplica', 'replica@example.com')");
      writeRefused = { replica: target.service, refused: false, message: 'the write was accepted' };
    } catch (e) {
      const f = classifyPgError(e);
      writeRefused = { replica: target.service, refused: true, code: f.code, message: f.message };
    }
    say(`INSERT on ${target.container}: ${writeRefused.refused ? `refused (${writeRefused.code}: ${writeRefused.message})` : 'ACCEPTED (not read-only!)'}`);
    const checks = [
      check(
        'visibleUnder1s',
        replicas.every((r) => visibleAfterMs[r.service] !== null && visibleAfterMs[r.service]! < VISIBILITY_PROMISE_MS),
        replicas.map((r) => `${r.service}: ${visibleAfterMs[r.service] ?? `> ${bound}`} ms`).join(', '),
      ),
      check('replicaWriteRefused', writeRefused.refused && writeRefused.code === '25006', `${target.service}: ${writeRefused.message}`),
    ];
    return result('demo1', started, checks, { primary: primary.service, rowId, visibleAfterMs, latestIds, writeRefused });
  } finally {
    await Promise.all([p, ...rs].map((c) => c.end().catch(() => undefined)));
  }
}
