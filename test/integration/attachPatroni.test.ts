// Attach to the Patroni profile (cluster/patroni, the tests' Patroni fixture) through its ports only,
// as to anyone's Patroni cluster: its PostgreSQL ports and its REST URLs. Switchover and restart go
// through Patroni's REST API; each attached node is matched to its Patroni member although Patroni
// advertises container host names this machine cannot resolve.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { attachedTopology, type AttachedProfile } from '../../src/core/clusterProfile';
import { discoverCluster } from '../../src/core/discovery';
import { formatAddress } from '../../src/core/nodes';
import { patroniUrlsOf, resolveAttachedPatroni, restartAttached, switchoverAttached } from '../../src/core/patroni/attached';
import { PatroniOperationError, waitForLeader } from '../../src/core/patroni/operations';
import { healthy, patroni, patroniDown, patroniUp, q } from '../support/patroniCluster';
import { waitFor } from '../support/cluster';

const urls = patroni.members.map((m) => m.restUrl);
const seeds = patroni.members.map((m) => ({ host: '127.0.0.1', port: m.pgHostPort }));
const keyOf = (port: number) => formatAddress({ host: '127.0.0.1', port });

let profile: AttachedProfile;

before(async () => {
  await patroniUp();
  // Attached as a learner would find it: both replicas streaming (their WAL receivers name their members).
  for (const m of patroni.members) {
    await until(async () => {
      const r = await q<{ rec: boolean; s: string | null }>(m.pgHostPort, 'SELECT pg_is_in_recovery() AS rec, (SELECT status FROM pg_stat_wal_receiver) AS s');
      return !r[0].rec || r[0].s === 'streaming';
    }, 180_000, `${m.name} streaming or leader`);
  }
  const d = await discoverCluster(seeds, { user: 'postgres', password: 'postgres', database: 'postgres', ssl: { mode: 'prefer' }, patroniUrl: urls.join(', ') });
  assert.equal(d.error, undefined);
  assert.equal(d.nodes.length, 3, JSON.stringify(d.nodes));
  // Patroni advertises postgres-primary:5432 and so on (its container network): no noise about them.
  assert.deepEqual(d.unreachable, [], 'members reached through their published ports are not reported unreachable');
  profile = {
    id: 'patroni',
    label: 'patroni',
    kind: 'attached',
    seeds,
    nodes: d.nodes.map((n) => ({ name: n.name, address: n.address, applicationName: n.applicationName })),
    user: 'postgres',
    database: 'postgres',
    ssl: d.ssl,
    patroniUrl: urls.join(', '),
    lab: false,
  };
});
after(async () => {
  if (!process.env.PGHA_KEEP_CLUSTER) await patroniDown({ volumes: true });
});

async function inRecovery(port: number): Promise<boolean> {
  return (await q<{ rec: boolean }>(port, 'SELECT pg_is_in_recovery() AS rec'))[0].rec;
}

/** The fixture's waitFor, polling every 1000 ms. */
const until = <T>(f: () => Promise<T>, timeoutMs: number, what: string) => waitFor(f, timeoutMs, what, 1000);

test('each attached node is matched to its Patroni member and to the REST URL this machine reaches it at', async () => {
  const topo = attachedTopology(profile, 'postgres');
  const p = await resolveAttachedPatroni(topo, patroniUrlsOf(profile.patroniUrl));
  for (const m of patroni.members) {
    assert.equal(p.memberOf(keyOf(m.pgHostPort)), m.name, `127.0.0.1:${m.pgHostPort} is ${m.name}`);
    assert.equal(p.topology.members.find((x) => x.name === m.name)?.restUrl, m.restUrl, `${m.name}'s REST URL`);
  }
});

test('switchover to a replica through Patroni: the chosen node becomes the leader and accepts writes, the old leader follows it', async () => {
  const topo = attachedTopology(profile, 'postgres');
  const leader = await waitForLeader(patroni, { timeoutMs: 120_000 });
  const target = patroni.members.find((m) => m.name !== leader)!;
  const old = patroni.members.find((m) => m.name === leader)!;
  assert.equal(await inRecovery(target.pgHostPort), true);
  const r = await switchoverAttached(topo, urls, keyOf(target.pgHostPort));
  assert.equal(r.leader, leader);
  assert.equal(r.candidate, target.name);
  assert.equal(await waitForLeader(patroni, { other: leader, timeoutMs: 180_000 }), target.name);
  await until(async () => !(await inRecovery(target.pgHostPort)), 120_000, `${target.name} out of recovery`);
  // A transaction id is assigned only where writes are accepted.
  assert.ok(Number((await q<{ x: string }>(target.pgHostPort, 'SELECT txid_current()::text AS x'))[0].x) > 0);
  await until(async () => await inRecovery(old.pgHostPort), 180_000, `${old.name} back as a replica`);
  // Patroni has finished the switchover when every member runs again (the old leader's demotion ends
  // after its PostgreSQL is back in recovery; until then Patroni answers 503 to any other action).
  assert.ok(await healthy(180_000), 'Patroni reports one leader and two running replicas after the switchover');
});

test('restart through Patroni: the node\'s postmaster starts again and it is back in its role', async () => {
  const topo = attachedTopology(profile, 'postgres');
  assert.ok(await healthy(180_000), 'Patroni is settled (no switchover or demotion in progress)');
  const leader = await waitForLeader(patroni, { timeoutMs: 120_000 });
  const replica = await until(async () => {
    for (const m of patroni.members) if (m.name !== leader && (await inRecovery(m.pgHostPort).catch(() => false))) return m;
    return undefined;
  }, 180_000, 'a running replica');
  const started = async () => (await q<{ t: string }>(replica.pgHostPort, 'SELECT pg_postmaster_start_time()::text AS t'))[0].t;
  const before = await started();
  const r = await restartAttached(topo, urls, keyOf(replica.pgHostPort));
  assert.equal(r.member, replica.name);
  const after = await until(async () => {
    const t = await started();
    return t !== before ? t : undefined;
  }, 120_000, `${replica.name} restarted`);
  assert.notEqual(after, before);
  assert.equal(await inRecovery(replica.pgHostPort), true, 'a restarted replica is a replica again');
});

test("restarting a member whose REST URL the profile lacks: Patroni's advertised address is tried, and the message says which", async () => {
  const topo = attachedTopology(profile, 'postgres');
  const leader = await waitForLeader(patroni, { timeoutMs: 120_000 });
  const leaderUrl = patroni.members.find((m) => m.name === leader)!.restUrl;
  const other = patroni.members.find((m) => m.name !== leader)!;
  await assert.rejects(
    restartAttached(topo, [leaderUrl], keyOf(other.pgHostPort)),
    (e: unknown) => e instanceof PatroniOperationError && e.message.includes(`Restart of ${other.name} failed`) && e.message.includes(`http://${other.name}.dcs:8008`), // cluster/patroni advertises each REST API on its dcs-network alias
  );
});
