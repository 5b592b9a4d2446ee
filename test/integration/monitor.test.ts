// The monitor and the node actions against the real compose cluster: what the tree will show
// when the workshop's demos happen. Each test that changes the cluster puts it back (clusterUp
// recreates it when a test left it promoted or split).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ClusterMonitor } from '../../src/core/monitor';
import { killNode, NodeActionError, promoteReplica, restartNode, startNode, stopNode, waitUntilReady } from '../../src/core/nodeActions';
import type { ClusterStatus, NodeStatus } from '../../src/core/status';
import { topologyFromEnv, type NodeKey } from '../../src/core/topology';
import { Containers, createDockerClient } from '../../src/docker/engine';
import { clusterUp, containers, docker, pgClient, query, resetCluster, topology } from '../support/cluster';

const ctx = { topology, containers };
const node = (s: ClusterStatus, k: NodeKey): NodeStatus => s.nodes.find((n) => n.key === k)!;
const standard = (s: ClusterStatus) =>
  s.clusterState === 'running' &&
  s.primary === 'primary' &&
  node(s, 'replica1').role === 'replica' &&
  node(s, 'replica2').role === 'replica' &&
  s.pgbouncer.health === 'ok';

describe('cluster monitor on the live cluster', { timeout: 300_000 }, () => {
  let monitor: ClusterMonitor;
  const changes: { at: number; status: ClusterStatus }[] = [];

  before(async () => {
    await clusterUp();
    monitor = new ClusterMonitor({ docker, topology, pollIntervalMs: 1000 });
    monitor.onDidChange((s) => changes.push({ at: Date.now(), status: s }));
    monitor.start();
    await monitor.waitFor(standard, 30_000, 'the standard topology');
  });

  after(async () => {
    await monitor.stop();
  });

  test('healthy cluster: primary on a timeline, replicas streaming with lag figures, PgBouncer on the primary', () => {
    const s = monitor.current!;
    assert.equal(s.splitBrain, false);
    assert.ok((node(s, 'primary').timeline ?? 0) >= 1);
    for (const k of ['replica1', 'replica2'] as const) {
      assert.equal(node(s, k).upstream, 'primary');
      assert.equal(typeof node(s, k).lag?.bytes, 'number');
    }
    assert.equal(s.pgbouncer.target, 'primary');
    assert.equal(s.docker.ok, true);
  });

  test('docker stop of a replica shows it down within 1 s of the Docker event; start brings it back streaming', async (t) => {
    const stopped = stopNode(ctx, 'replica2', { timeoutSec: 10 });
    const s = await monitor.waitFor((x) => node(x, 'replica2').role === 'down', 15_000, 'replica2 down');
    const seenAt = changes.find((c) => node(c.status, 'replica2').role === 'down')!.at;
    const r = await stopped;
    assert.equal(r.changed, true);
    const diedAt = node(s, 'replica2').containerState.finishedAt;
    assert.ok(diedAt, 'the die event carries its time');
    const latency = seenAt - diedAt;
    t.diagnostic(`replica2 shown down ${latency} ms after Docker's die event`);
    assert.ok(latency <= 1000, `status changed ${latency} ms after the die event (goal ≤ 1000 ms)`);
    // The primary's slot for it turns inactive.
    const slotOff = await monitor.waitFor((x) => node(x, 'primary').slots.some((sl) => sl.name === 'postgres_replica2' && !sl.active), 5000, 'slot inactive');
    assert.ok(slotOff.alerts.some((a) => a.kind === 'inactiveSlot'));

    const again = await stopNode(ctx, 'replica2');
    assert.equal(again.changed, false, 'stopping a stopped node changes nothing');

    await startNode(ctx, 'replica2');
    const back = await monitor.waitFor((x) => node(x, 'replica2').role === 'replica', 30_000, 'replica2 streaming again');
    assert.equal(node(back, 'replica2').upstream, 'primary');
  });

  test('restart and kill of a replica: the view passes through down/starting and returns to streaming', async () => {
    await restartNode(ctx, 'replica1', { timeoutSec: 5 });
    await monitor.waitFor((x) => node(x, 'replica1').role === 'replica', 30_000, 'replica1 streaming after restart');
    const k = await killNode(ctx, 'replica1');
    assert.match(k.message, /SIGKILL/);
    const down = await monitor.waitFor((x) => node(x, 'replica1').role === 'down', 5000, 'replica1 down after kill');
    assert.equal(node(down, 'replica1').containerState.exitCode, 137);
    await assert.rejects(killNode(ctx, 'replica1'), (e: unknown) => e instanceof NodeActionError && e.problem === 'notRunning' && /nothing to kill/.test(e.message));
    await startNode(ctx, 'replica1');
    await monitor.waitFor((x) => node(x, 'replica1').role === 'replica', 30_000, 'replica1 streaming after crash');
  });

  test('lag grows while a replica cannot keep up with a write load and falls back once it catches up', async () => {
    // Replay is paused on replica1 so the lag is certain on any machine; the load is bounded.
    await query('replica1', 'SELECT pg_wal_replay_pause()');
    try {
      const c = await pgClient(undefined, 'primary');
      try {
        for (let i = 0; i < 5; i++) {
          await c.query("INSERT INTO users (name, email) SELECT 'lag_' || g, 'lag_' || g || '@example.com' FROM generate_series(1, 5000) g");
        }
      } finally {
        await c.end();
      }
      // The primary's and the replica's figures come from two probes: wait for one sample where both
      // agree, and where replica2 (still replaying the same load on a busy machine) is behind less.
      const lag = (x: Parameters<typeof node>[0], k: 'replica1' | 'replica2') => node(x, k).lag?.bytes ?? 0;
      const grown = await monitor.waitFor((x) => lag(x, 'replica1') > 256 * 1024 && node(x, 'replica1').replayPaused === true && lag(x, 'replica2') < lag(x, 'replica1'), 20_000, 'replica1 lag over 256 kB (and over replica2\'s), replay paused');
      assert.equal(grown.maxLag.node, 'replica1');
      assert.ok((grown.maxLag.bytes ?? 0) > 256 * 1024);
    } finally {
      await query('replica1', 'SELECT pg_wal_replay_resume()');
    }
    await monitor.waitFor((x) => node(x, 'replica1').lag?.bytes === 0 && node(x, 'replica1').replayPaused === false, 20_000, 'replica1 caught up, replay resumed');
    await query('primary', "DELETE FROM users WHERE name LIKE 'lag\\_%'");
  });

  test('Demo 4 + 6: promote changes roles, and restarting the old primary is flagged as split brain', async () => {
    try {
      await stopNode(ctx, 'primary', { timeoutSec: 10 });
      await assert.rejects(promoteReplica(ctx, 'primary'), (e: unknown) => e instanceof NodeActionError && e.problem === 'notRunning' && /cannot be promoted/.test(e.message));

      const p = await promoteReplica(ctx, 'replica1');
      assert.equal(p.changed, true);
      assert.ok(p.timeline >= 2, `new timeline ${p.timeline}`);
      const promoted = await monitor.waitFor((x) => x.primary === 'replica1', 10_000, 'replica1 primary');
      assert.equal(node(promoted, 'replica1').role, 'primary');
      assert.equal(node(promoted, 'primary').role, 'down');
      assert.equal(promoted.splitBrain, false);

      await assert.rejects(promoteReplica(ctx, 'replica1'), (e: unknown) => e instanceof NodeActionError && e.problem === 'alreadyPrimary' && /already a primary/.test(e.message));

      await startNode(ctx, 'primary');
      const split = await monitor.waitFor((x) => x.splitBrain, 30_000, 'split brain flagged');
      assert.deepEqual([...split.writable].sort(), ['primary', 'replica1']);
      assert.equal(split.primary, undefined);
      assert.ok(split.alerts.some((a) => a.kind === 'splitBrain' && a.severity === 'error'));
      assert.ok(split.timelineDivergence, 'the old primary is on the older timeline');
    } finally {
      await resetCluster();
      await monitor.waitFor(standard, 60_000, 'the standard topology after reset');
    }
  });
});

describe('bad input: clear messages, nothing changed', { timeout: 120_000 }, () => {
  test('an action on a container that does not exist says to start the cluster', async () => {
    const ghost = topologyFromEnv({ ...process.env, PGHA_CONTAINER_PREFIX: 'no-such-prefix-' });
    const c = { topology: ghost, containers };
    for (const action of [() => stopNode(c, 'replica1'), () => startNode(c, 'replica1'), () => killNode(c, 'replica1'), () => promoteReplica(c, 'replica1')]) {
      await assert.rejects(action(), (e: unknown) => e instanceof NodeActionError && e.problem === 'noContainer' && /does not exist.*Start Cluster/.test(e.message));
    }
  });

  test('Docker socket absent: the monitor reports it (no crash), actions fail with what to do', async () => {
    const bad = createDockerClient('unix:///nonexistent/docker.sock');
    const m = new ClusterMonitor({ docker: bad, topology, pollIntervalMs: 200 });
    const s = await m.refresh();
    await m.stop();
    assert.equal(s.docker.ok, false);
    assert.ok(!s.docker.ok && s.docker.problem === 'notRunning');
    assert.ok(!s.docker.ok && /Start Docker/.test(s.docker.message));
    assert.equal(s.clusterState, 'stopped');
    await assert.rejects(stopNode({ topology, containers: new Containers(bad) }, 'replica1'), (e: unknown) => e instanceof NodeActionError && e.problem === 'docker' && /no Docker engine answers/.test(e.message));
  });

  test('a node that refuses connections is reported, not waited on forever', async () => {
    // A topology whose replica1 port has nothing listening; its container is the real (running) one.
    const free = 1 + Math.max(...topology.nodes.map((n) => n.hostPort), topology.pgbouncer.hostPort);
    const t = { ...topology, nodes: topology.nodes.map((n) => (n.key === 'replica1' ? { ...n, hostPort: free } : n)) };
    await clusterUp();
    await assert.rejects(promoteReplica({ topology: t, containers }, 'replica1'), (e: unknown) => e instanceof NodeActionError && e.problem === 'unreachable' && /does not answer on port/.test(e.message));
    await assert.rejects(waitUntilReady({ topology: t, containers }, 'replica1', 1500), (e: unknown) => e instanceof NodeActionError && /did not accept connections/.test(e.message));
    const m = new ClusterMonitor({ docker, topology: t, pollIntervalMs: 300 });
    const s = await m.refresh();
    await m.stop();
    const r1 = node(s, 'replica1');
    assert.ok(r1.role === 'starting' || r1.role === 'unreachable', r1.role);
    assert.match(r1.problem ?? '', /refused/);
    assert.equal(node(s, 'replica2').role, 'replica', 'the other nodes are unaffected');
  });
});
