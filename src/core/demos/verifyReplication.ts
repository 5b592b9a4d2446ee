// "Verify Replication Setup": the four expected outputs of ./test-replication.sh, measured.
//   1 the primary shows 2 connected (streaming) replicas
//   2 the replicas answer pg_is_in_recovery() = true
//   3 a row inserted on the primary appears on the replicas (with the time it took)
//   4 a write on a replica fails (read-only)
import { classifyPgError } from '../connection';
import { check, connect, readyCluster, result, sleep, type DemoContext, type DemoResult } from './common';

export interface VerifyMeasures {
  readonly primary: string;
  readonly streaming: readonly string[];
  readonly inRecovery: Readonly<Record<string, boolean | null>>;
  readonly rowId?: number;
  /** ms from the primary's commit to the row being visible, per replica (null: not within the timeout). */
  readonly visibleAfterMs: Readonly<Record<string, number | null>>;
  readonly readOnlyError?: { readonly replica: string; readonly code?: string; readonly message: string };
}

export async function verifyReplication(ctx: DemoContext, o: { timeoutMs?: number } = {}): Promise<DemoResult<VerifyMeasures>> {
  const started = Date.now();
  const t = ctx.topology;
  const say = (m: string) => ctx.log?.(`verify: ${m}`);
  const { primary } = await readyCluster(ctx, { replicas: 1 });
  const expected = t.nodes.filter((n) => n.key !== primary.key);
  const p = await connect(t, primary.hostPort);
  const inRecovery: Record<string, boolean | null> = {};
  const visibleAfterMs: Record<string, number | null> = {};
  let readOnlyError: VerifyMeasures['readOnlyError'];
  let streaming: string[] = [];
  let rowId: number | undefined;
  try {
    const rep = await p.query<{ application_name: string }>("SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1");
    streaming = rep.rows.map((r) => r.application_name);
    say(`${primary.container}: ${streaming.length} streaming replicas (${streaming.join(', ')})`);
    const clients = await Promise.all(expected.map((n) => connect(t, n.hostPort).catch(() => undefined)));
    try {
      for (const [i, n] of expected.entries()) {
        const c = clients[i];
        inRecovery[n.service] = c ? (await c.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r')).rows[0].r : null;
        say(`${n.container}: pg_is_in_recovery() = ${inRecovery[n.service]}`);
      }
      const marker = `verify-${Date.now()}`;
      const ins = await p.query<{ id: number }>('INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', [marker, `${marker}@example.com`]);
      const committed = performance.now();
      rowId = ins.rows[0].id;
      say(`inserted id ${rowId} on ${primary.container}`);
      const deadline = o.timeoutMs ?? 5000;
      await Promise.all(
        expected.map(async (n, i) => {
          const c = clients[i];
          visibleAfterMs[n.service] = null;
          if (!c) return;
          while (performance.now() - committed < deadline) {
            const r = await c.query('SELECT 1 FROM users WHERE id = $1', [rowId]);
            if (r.rowCount) {
              visibleAfterMs[n.service] = Math.round((performance.now() - committed) * 10) / 10;
              return;
            }
            await sleep(2);
          }
        }),
      );
      for (const n of expected) say(`${n.container}: row visible after ${visibleAfterMs[n.service] ?? 'never'} ms`);
      const target = expected.find((n, i) => clients[i] && inRecovery[n.service]);
      if (target) {
        const c = clients[expected.indexOf(target)]!;
        try {
          await c.query("INSERT INTO users (name, email) VALUES ('verify-replica-write', 'x@example.com')");
          say(`${target.container}: the write was accepted (it is not read-only!)`);
        } catch (e) {
          const f = classifyPgError(e);
          readOnlyError = { replica: target.service, code: f.code, message: f.message };
          say(`${target.container}: write refused: ${f.message}`);
        }
      }
    } finally {
      await Promise.all(clients.map((c) => c?.end().catch(() => undefined)));
    }
  } finally {
    await p.end().catch(() => undefined);
  }
  const want = expected.length;
  const checks = [
    check('replicasConnected', streaming.length === want, `${primary.service}: ${streaming.length} of ${want} replicas streaming (${streaming.join(', ') || 'none'})`),
    check('replicasInRecovery', expected.every((n) => inRecovery[n.service] === true), expected.map((n) => `${n.service}: ${inRecovery[n.service] ?? 'no answer'}`).join(', ')),
    check('rowReplicated', expected.every((n) => visibleAfterMs[n.service] !== null), expected.map((n) => `${n.service}: ${visibleAfterMs[n.service] === null ? 'not seen' : `${visibleAfterMs[n.service]} ms`}`).join(', ')),
    check('replicaReadOnly', readOnlyError?.code === '25006', readOnlyError ? `${readOnlyError.replica}: ${readOnlyError.message}` : 'no replica refused the write'),
  ];
  return result('verify', started, checks, { primary: primary.service, streaming, inRecovery, rowId, visibleAfterMs, readOnlyError });
}
