// cluster/patroni/ against a real Patroni 3.0 + etcd 3.4 + HAProxy cluster: the REST client and
// status, settings refused or applied live, operations through the REST API, and the three Demo 8
// lessons: a killed leader is replaced by Patroni itself (RTO/RPO from the load ledger), a leader
// cut off from etcd demotes itself (never two writable nodes), synchronous mode loses no
// acknowledged write.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { readDcsHealth } from '../../src/core/patroni/etcd';
import { measureLeaderKill, waitForReplica } from '../../src/core/patroni/leaderKill';
import { applySettings, clientFor, PatroniOperationError, setPaused, switchover, waitForLeader, restartMember, reinitMember } from '../../src/core/patroni/operations';
import { DEFAULT_PROFILE, FAST_PROFILE } from '../../src/core/patroni/settings';
import { askAny, formatMemberTable, readPatroniStatus } from '../../src/core/patroni/status';
import { memberByName } from '../../src/core/patroni/topology';
import { LoadGenerator } from '../../src/core/load';
import { containers, healthy, patroni, patroniDown, patroniUp, q, writableNodes } from '../support/patroniCluster';
import { waitFor } from '../support/cluster';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The fixture's waitFor, polling every 500 ms. */
const until = <T>(f: () => Promise<T>, timeoutMs: number, what: string) => waitFor(f, timeoutMs, what, 500);

before(async () => {
  await patroniUp();
});
after(async () => {
  if (!process.env.PGHA_KEEP_CLUSTER) await patroniDown({ volumes: true });
});

test('up: one leader, two streaming replicas, etcd quorum and the lock held by the leader; the workshop\'s table through the router', async (t) => {
  const s = await readPatroniStatus(patroni);
  t.diagnostic('\n' + formatMemberTable(s.members));
  assert.equal(s.reachable, true, s.problems.join('; '));
  assert.equal(s.members.length, 3);
  assert.equal(s.members.filter((m) => m.role === 'leader').length, 1);
  assert.ok(s.leader);
  for (const m of s.members.filter((x) => x.role !== 'leader')) {
    assert.equal(m.timeline, s.members.find((x) => x.role === 'leader')!.timeline);
    assert.ok(m.receiveLsn && m.replayLsn, `${m.name} reports receive/replay LSN`);
  }
  assert.equal(s.dcs.healthyCount, 3);
  assert.equal(s.dcs.quorum, true);
  assert.equal(s.dcs.lock?.holder, s.leader);
  assert.equal(s.dcs.lock?.grantedTtlSec, 30);
  assert.deepEqual(s.settings, { ...DEFAULT_PROFILE, maximum_lag_on_failover: 1048576, synchronous_mode: false, synchronous_mode_strict: false });
  assert.ok(s.history.length === 0 || s.history.every((h) => Number.isInteger(h.timeline)));

  const router = patroni.cluster.pgbouncer.hostPort;
  const rows = await q<{ n: string; rec: boolean }>(router, "SELECT count(*)::text AS n, pg_is_in_recovery() AS rec FROM users WHERE email LIKE '%@example.com'");
  assert.deepEqual(rows[0], { n: '3', rec: false });
  const replica = memberByName(patroni, s.members.find((m) => m.role === 'replica')!.name)!;
  await assert.rejects(q(replica.pgHostPort, "INSERT INTO users (name, email) VALUES ('x', 'x@y')"), /read-only/);
  assert.deepEqual(await writableNodes(), [s.leader]);
});

test('REST errors are clear: an unknown member, a closed port', async () => {
  await assert.rejects(switchover(patroni, { candidate: 'nobody' }), (e: unknown) => e instanceof PatroniOperationError && /not a member.*postgres-primary/.test(e.message));
  const { PatroniRestClient } = await import('../../src/core/patroni/rest');
  await assert.rejects(new PatroniRestClient({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 2000, name: 'nowhere' }).cluster(), /Cannot reach Patroni on nowhere/);
});

test('settings: a change breaking loop_wait + 2·retry_timeout ≤ ttl is refused and changes nothing; the fast profile applies live', async () => {
  await assert.rejects(applySettings(patroni, { ttl: 10 }), (e: unknown) => e instanceof PatroniOperationError && e.problem === 'invalidSettings' && /10 \+ 2·10 = 30 > 10/.test(e.message));
  const any = clientFor(patroni, patroni.members[0].name);
  assert.equal((await any.config()).ttl, 30);
  const s = await applySettings(patroni, FAST_PROFILE);
  assert.deepEqual([s.ttl, s.loop_wait, s.retry_timeout], [10, 2, 4]);
  // The leader renews its lock with the new ttl on its next loop.
  const dcs = await until(async () => {
    const d = await readDcsHealth(patroni.etcd, { scope: patroni.scope, namespace: patroni.namespace });
    return d.lock?.grantedTtlSec === 10 ? d : undefined;
  }, 90_000, 'the leader lock granted with ttl 10');
  assert.ok(dcs.lock!.ttlRemainingSec! <= 10);
});

test('operations through REST: scheduled switchover shown then cancelled, switchover to a candidate, pause/resume, restart, reinit', async (t) => {
  // Patroni's defaults here: on a loaded machine the fast profile's ttl 10 lets a busy leader lose its lock.
  await applySettings(patroni, DEFAULT_PROFILE);
  const leader = await waitForLeader(patroni, { timeoutMs: 240_000 });
  const candidate = patroni.members.find((m) => m.name !== leader)!.name;
  const lc = clientFor(patroni, leader);
  await switchover(patroni, { candidate, scheduledAt: new Date(Date.now() + 3600_000) });
  const scheduled = await lc.cluster();
  assert.equal(scheduled.scheduled_switchover?.to, candidate);
  await lc.cancelSwitchover();
  assert.equal((await lc.cluster()).scheduled_switchover, undefined);

  const r = await switchover(patroni, { candidate });
  t.diagnostic(r.message);
  assert.equal(await waitForLeader(patroni, { other: leader, timeoutMs: 240_000 }), candidate);
  assert.ok(await waitForReplica(patroni, leader, 120_000), `${leader} is a replica again`);

  await setPaused(patroni, true);
  assert.equal((await askAny(patroni, (c) => c.cluster())).value?.pause, true);
  await setPaused(patroni, false);
  assert.notEqual((await askAny(patroni, (c) => c.cluster())).value?.pause, true);

  const replica = patroni.members.find((m) => m.name !== candidate)!.name;
  await restartMember(patroni, replica);
  assert.ok(await waitForReplica(patroni, replica, 120_000));
  await reinitMember(patroni, replica);
  assert.ok(await waitForReplica(patroni, replica, 180_000), `${replica} cloned again and streaming`);
  await assert.rejects(reinitMember(patroni, candidate), (e: unknown) => e instanceof PatroniOperationError && e.problem === 'refused');
});

test('Demo 8: kill the leader under load; Patroni elects a new leader; RTO/RPO from the ledger; the old leader rejoins', async (t) => {
  assert.ok(await healthy(300_000), 'a leader and two streaming replicas before the kill');
  await applySettings(patroni, FAST_PROFILE);
  const r = await measureLeaderKill({ topology: patroni, containers }, { ratePerSec: 20, onStep: (m) => t.diagnostic(m) });
  t.diagnostic(`election ${r.electionMs} ms, RTO ${r.rto?.ms} ms (${r.rto?.failedWrites} failed writes), RPO ${r.rpo.lostWrites} of ${r.rpo.acked}, ttl ${r.settings.ttl}`);
  assert.notEqual(r.newLeader, r.oldLeader);
  assert.ok(r.rto, 'the load saw the outage and the recovery');
  assert.ok(r.rto!.failedWrites > 0);
  assert.ok(r.acked > 20);
  assert.equal(r.oldLeaderRejoined, true);
  assert.deepEqual(await writableNodes(), [r.newLeader]);
});

test('Demo 8: a leader cut off from etcd demotes itself; never two writable nodes; its writes are refused after', async (t) => {
  assert.ok(await healthy(300_000), 'a leader and two streaming replicas before the partition');
  const leader = await waitForLeader(patroni, { timeoutMs: 120_000 });
  const spec = memberByName(patroni, leader)!;
  const samples: { name: string; start: number; end: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await Promise.all(
        patroni.members.map(async (m) => {
          const start = Date.now();
          const w = await writableNodes1(m.container);
          if (w) samples.push({ name: m.name, start, end: Date.now() });
        }),
      );
      await sleep(200);
    }
  })();
  // Writes straight to the old leader's own port: accepted until it demotes, refused after.
  const gen = new LoadGenerator(patroni.cluster, { target: spec.key, mode: { kind: 'rate', ratePerSec: 10, durationSec: 300 }, writeTimeoutMs: 3000 });
  const run = gen.run();
  try {
    await until(async () => gen.ledger.acked >= 10, 120_000, 'writes on the leader');
    const cutAt = Date.now();
    const net = spawnSync('docker', ['network', 'disconnect', patroni.dcsNetwork, spec.container], { encoding: 'utf8' });
    assert.equal(net.status, 0, net.stderr);
    // A real partition: its peers cannot reach its REST API any more (the router still reaches it).
    const peer = patroni.members.find((m) => m.name !== leader)!;
    const probe = await containers.exec(peer.container, ['curl', '-fsS', '-m', '3', '-o', '/dev/null', `http://${leader}.dcs:8008/patroni`]);
    assert.notEqual(probe.exitCode, 0, `${peer.name} still reaches ${leader}'s REST API over the dcs network`);
    // The lesson: the cut-off leader demotes itself (it cannot renew its lock), whoever leads next.
    await until(async () => !(await writableNodes()).includes(leader), 120_000, `${leader} read-only`);
    const demotedAfter = Date.now() - cutAt;
    // A replica always takes over: the cut-off leader is out of its peers' reach too (their REST
    // calls and replication go over the dcs network), so none of them defers to it, whatever WAL
    // position it would report (Patroni's _is_healthiest_node).
    const newLeader = await waitForLeader(patroni, { other: leader, timeoutMs: 180_000 });
    t.diagnostic(`cut ${leader} from etcd; ${newLeader} elected; ${leader} read-only after ≤ ${demotedAfter} ms`);
    await until(async () => gen.ledger.failures.some((f) => f.at > cutAt), 60_000, 'a refused write on the old leader');
    sampling = false;
    await sampler;
    gen.cancel();
    await run;
    const lastOld = Math.max(...samples.filter((s) => s.name === leader).map((s) => s.start));
    const firstNew = Math.min(...samples.filter((s) => s.name === newLeader).map((s) => s.end));
    t.diagnostic(`old leader last seen writable ${lastOld - cutAt} ms after the cut, new leader first seen writable ${firstNew - cutAt} ms after it`);
    assert.ok(lastOld < firstNew, `two writable nodes: ${leader} was writable after ${newLeader} already was`);
    assert.ok(gen.ledger.failures.length > 0);
    // Heal: it rejoins as a replica of the new leader.
    reconnect(spec.name, spec.container);
    assert.ok(await waitForReplica(patroni, leader, 180_000), `${leader} back as a replica`);
    assert.deepEqual(await writableNodes(), [newLeader]);
  } finally {
    sampling = false;
    gen.cancel();
    await run.catch(() => undefined);
    reconnect(spec.name, spec.container);
  }
});

test('Demo 8: synchronous_mode on, kill the leader under load: 0 acknowledged writes lost, the sync standby takes over', async (t) => {
  assert.ok(await healthy(300_000), 'a leader and two streaming replicas before the kill');
  await applySettings(patroni, { synchronous_mode: true });
  const sync = await until(async () => (await askAny(patroni, (c) => c.cluster())).value?.members.find((m) => m.role === 'sync_standby')?.name, 90_000, 'a Sync Standby');
  const r = await measureLeaderKill({ topology: patroni, containers }, { ratePerSec: 20, onStep: (m) => t.diagnostic(m) });
  t.diagnostic(`sync standby was ${sync}; new leader ${r.newLeader}; RTO ${r.rto?.ms} ms; lost ${r.rpo.lostWrites} of ${r.rpo.acked}`);
  assert.equal(r.newLeader, sync);
  assert.ok(r.rpo.acked > 20);
  assert.equal(r.rpo.lostWrites, 0);
  await applySettings(patroni, { synchronous_mode: false });
});

/** docker network connect with the member's names on the dcs network (its peers reach it as `<name>.dcs`). */
function reconnect(name: string, container: string): void {
  spawnSync('docker', ['network', 'connect', '--alias', name, '--alias', `${name}.dcs`, patroni.dcsNetwork, container]);
}

async function writableNodes1(container: string): Promise<boolean> {
  const r = await containers.exec(container, ['psql', '-XtAq', '-h', '/var/run/postgresql', '-U', 'postgres', '-d', 'postgres', '-c', "SELECT current_setting('transaction_read_only')"], { user: 'postgres' }).catch(() => undefined);
  return !!r && r.exitCode === 0 && r.stdout.trim() === 'off';
}

