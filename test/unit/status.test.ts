// deriveStatus on probes recorded from a real cluster (test/unit/fixtures/cluster-status/*.json,
// prefix "c-"): what the tree and the status bar will say in each workshop situation.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseProbe, type NodeProbe, type NodeProbeOk } from '../../src/core/probe';
import { DEFAULT_THRESHOLDS, deriveStatus, type ContainerSnapshot, type NodeStatus, type ProbeRound } from '../../src/core/status';
import { topologyFromEnv, type NodeKey } from '../../src/core/topology';

const topology = topologyFromEnv({ PGHA_CONTAINER_PREFIX: 'c-', COMPOSE_PROJECT_NAME: 'pghac' }, '/dev/null');

interface Recording {
  probes: ProbeRound;
  containers: ContainerSnapshot;
}

function load(name: string): Recording {
  return JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'cluster-status', `${name}.json`), 'utf8')) as Recording;
}

/** The recording's own time (the latest probe), so "young container" rules see what they saw. */
function when(r: Recording): number {
  return Math.max(...Object.values(r.probes.nodes).map((p) => p?.at ?? 0));
}

function derive(name: string, thresholds = DEFAULT_THRESHOLDS) {
  const r = load(name);
  return deriveStatus(r.probes, r.containers, topology, thresholds, when(r));
}

const node = (s: { nodes: readonly NodeStatus[] }, k: NodeKey) => s.nodes.find((n) => n.key === k)!;

test('healthy cluster: one primary on timeline 1, two replicas streaming from it with no lag', () => {
  const s = derive('healthy');
  assert.equal(s.clusterState, 'running');
  assert.equal(s.primary, 'primary');
  assert.deepEqual(s.writable, ['primary']);
  assert.equal(s.splitBrain, false);
  assert.equal(s.timelineDivergence, false);
  assert.deepEqual(s.alerts, []);
  assert.equal(node(s, 'primary').role, 'primary');
  assert.equal(node(s, 'primary').timeline, 1);
  assert.equal(node(s, 'primary').downstream.length, 2);
  for (const k of ['replica1', 'replica2'] as const) {
    const n = node(s, k);
    assert.equal(n.role, 'replica');
    assert.equal(n.upstream, 'primary');
    assert.equal(n.syncState, 'async');
    assert.equal(n.lag?.bytes, 0);
    assert.equal(n.lag?.replayMs, 0, 'replay_lag NULL with nothing behind means caught up');
    assert.equal(n.health, 'ok');
  }
  assert.deepEqual(s.maxLag, { bytes: 0, replayMs: 0, node: 'replica1' });
  assert.equal(s.pgbouncer.target, 'primary');
  assert.equal(s.pgbouncer.targetIsPrimary, true);
  assert.equal(s.pgbouncer.health, 'ok');
});

test('stopped replica: it is down, its slot on the primary is inactive and retains WAL', () => {
  const s = derive('replica-stopped');
  assert.equal(s.clusterState, 'partial');
  assert.equal(node(s, 'replica2').role, 'down');
  assert.equal(node(s, 'replica2').health, 'off');
  assert.equal(node(s, 'replica2').containerState.status, 'exited');
  const slot = node(s, 'primary').slots.find((x) => x.name === 'postgres_replica2')!;
  assert.equal(slot.active, false);
  assert.ok((slot.retainedBytes ?? 0) > 1024 * 1024, 'the 20 000 inserted rows are retained for the stopped replica');
  const kinds = s.alerts.map((a) => a.kind);
  assert.ok(kinds.includes('inactiveSlot'), kinds.join(', '));
  assert.ok(!kinds.includes('splitBrain') && !kinds.includes('timelineDivergence') && !kinds.includes('lagOverThreshold'), kinds.join(', '));
  assert.equal(node(s, 'primary').health, 'warning');
});

test('retained WAL over the threshold is an error alert naming the slot', () => {
  const s = derive('replica-stopped', { lagSeconds: 10, retainedWalBytes: 1024 * 1024 });
  const a = s.alerts.find((x) => x.kind === 'slotRetainedWal');
  assert.ok(a, 'alert raised');
  assert.equal(a.severity, 'error');
  assert.match(a.message, /postgres_replica2.*retains .*MB.*inactive/);
  assert.equal(node(s, 'primary').health, 'error');
});

test('Demo 4 / primary stopped: replicas are standbys that do not stream, and nobody accepts writes', () => {
  const s = derive('primary-stopped');
  assert.equal(node(s, 'primary').role, 'down');
  assert.equal(node(s, 'replica1').role, 'notStreaming');
  assert.equal(node(s, 'replica1').upstream, 'primary');
  assert.equal(s.primary, undefined);
  const kinds = s.alerts.map((a) => a.kind).sort();
  assert.deepEqual(kinds, ['noPrimary', 'notStreaming', 'notStreaming']);
});

test('Demo 4 / replica1 promoted: it is the primary on timeline 2; replica2 waits on the dead primary; PgBouncer still points at it', () => {
  const s = derive('promoted');
  assert.equal(s.primary, 'replica1');
  assert.equal(node(s, 'replica1').role, 'primary');
  assert.equal(node(s, 'replica1').timeline, 2);
  assert.equal(node(s, 'replica2').role, 'notStreaming');
  assert.equal(node(s, 'replica2').timeline, 1);
  assert.equal(s.splitBrain, false);
  assert.equal(s.timelineDivergence, false, 'a standby whose upstream is gone only needs a repoint');
  assert.match(s.alerts.find((a) => a.kind === 'notStreaming')!.message, /which is down: repoint it/);
  assert.equal(s.pgbouncer.target, 'primary');
  assert.equal(s.pgbouncer.targetIsPrimary, false);
  assert.equal(s.pgbouncer.health, 'warning');
  assert.ok(s.alerts.some((a) => a.kind === 'pgbouncerNotOnPrimary'));
});

test('Demo 6 / old primary restarted after the promotion: split brain and timeline divergence', () => {
  const s = derive('split-brain');
  assert.equal(s.splitBrain, true);
  assert.deepEqual([...s.writable].sort(), ['primary', 'replica1']);
  assert.equal(s.primary, undefined, 'no single primary to name');
  assert.equal(s.timelineDivergence, true);
  const sb = s.alerts.find((a) => a.kind === 'splitBrain')!;
  assert.equal(sb.severity, 'error');
  assert.match(sb.message, /c-postgres-primary and c-postgres-replica1 both accept writes/);
  const tl = s.alerts.find((a) => a.kind === 'timelineDivergence')!;
  assert.deepEqual(tl.nodes, ['primary']);
  assert.equal(node(s, 'primary').health, 'error');
  assert.equal(node(s, 'replica1').health, 'error');
  // replica2 went back to streaming from the old primary (its primary_conninfo still names it).
  assert.equal(node(s, 'replica2').role, 'replica');
  assert.equal(node(s, 'replica2').upstream, 'primary');
});

test('Exercise 2 / cascading: replica2 streams from replica1 and is a cascading replica', () => {
  const s = derive('cascading');
  const r2 = node(s, 'replica2');
  assert.equal(r2.role, 'cascadingReplica');
  assert.equal(r2.upstream, 'replica1');
  assert.equal(r2.lag?.bytes, 0);
  assert.equal(node(s, 'replica1').downstream[0]?.applicationName, 'postgres-replica2');
  assert.equal(s.splitBrain, false);
});

function withReplicationRow(r: Recording, appName: string, patch: Partial<NodeProbeOk['replication'][number]>): Recording {
  const p = r.probes.nodes.primary as NodeProbeOk;
  const replication = p.replication.map((row) => (row.applicationName === appName ? { ...row, ...patch } : row));
  return { ...r, probes: { ...r.probes, nodes: { ...r.probes.nodes, primary: { ...p, replication } } } };
}

test('lag over the 10 s threshold raises a warning on that replica; max lag names it', () => {
  const r = withReplicationRow(load('healthy'), 'postgres-replica2', { replayLagMs: 12_500, replayBytes: 48 * 1024 * 1024 });
  const s = deriveStatus(r.probes, r.containers, topology, DEFAULT_THRESHOLDS, when(r));
  const a = s.alerts.find((x) => x.kind === 'lagOverThreshold')!;
  assert.ok(a);
  assert.deepEqual(a.nodes, ['replica2']);
  assert.match(a.message, /13 s behind \(48 MB\)/);
  assert.equal(node(s, 'replica2').health, 'warning');
  assert.deepEqual(s.maxLag, { bytes: 48 * 1024 * 1024, replayMs: 12_500, node: 'replica2' });
});

test('lag under the threshold is no alert; unknown time lag with bytes behind stays unknown, not 0', () => {
  const r = withReplicationRow(load('healthy'), 'postgres-replica1', { replayLagMs: null, replayBytes: 4096 });
  const s = deriveStatus(r.probes, r.containers, topology, DEFAULT_THRESHOLDS, when(r));
  assert.deepEqual(s.alerts, []);
  assert.equal(node(s, 'replica1').lag?.replayMs, null);
  assert.equal(node(s, 'replica1').lag?.bytes, 4096);
});

test('a container that runs but whose probe predates its start is "starting", then "unreachable" after the grace', () => {
  const r = load('healthy');
  const states = (r.containers as Extract<ContainerSnapshot, { ok: true }>).states;
  const t = when(r);
  const restarted: ContainerSnapshot = { ok: true, states: { ...states, 'c-postgres-replica1': { ...states['c-postgres-replica1'], startedAt: t + 1 } } };
  assert.equal(node(deriveStatus(r.probes, restarted, topology, DEFAULT_THRESHOLDS, t + 2), 'replica1').role, 'starting');

  const refused: NodeProbe = { ok: false, node: 'replica1', at: t + 5, tookMs: 1, failure: { kind: 'refused', message: 'connection refused' } };
  const probes = { ...r.probes, nodes: { ...r.probes.nodes, replica1: refused } };
  assert.equal(node(deriveStatus(probes, restarted, topology, DEFAULT_THRESHOLDS, t + 10), 'replica1').role, 'starting');
  const late = node(deriveStatus(probes, restarted, topology, DEFAULT_THRESHOLDS, t + 120_000), 'replica1');
  assert.equal(late.role, 'unreachable');
  assert.equal(late.health, 'error');
  assert.equal(late.problem, 'connection refused');
});

test('Docker unavailable: every container counts as missing, the cluster as stopped, and the problem is carried', () => {
  const r = load('healthy');
  const s = deriveStatus(r.probes, { ok: false, problem: 'notRunning', message: 'no Docker engine answers' }, topology, DEFAULT_THRESHOLDS, when(r));
  assert.equal(s.clusterState, 'stopped');
  assert.deepEqual(s.docker, { ok: false, problem: 'notRunning', message: 'no Docker engine answers' });
  assert.ok(s.nodes.every((n) => n.role === 'down'));
  assert.deepEqual(s.alerts, []);
});

test('parseProbe strips the replication password from primary_conninfo', () => {
  const p = parseProbe('replica1', { inRecovery: true, primaryConninfo: "user=replicator password=replicator host='postgres-primary' port=5432" }, 1, 1);
  assert.equal(p.primaryConninfo, "user=replicator password=*** host='postgres-primary' port=5432");
  const q = parseProbe('replica1', { inRecovery: true, primaryConninfo: "password='a b\\' c' host=x" }, 1, 1);
  assert.equal(q.primaryConninfo, 'password=*** host=x');
});

test('parseProbe takes a standby timeline from the highest it knows, a primary one from its WAL file', () => {
  assert.equal(parseProbe('replica1', { inRecovery: true, checkpointTimeline: 1, walReceiver: { receivedTimeline: 3, status: 'streaming' } }, 1, 1).timeline, 3);
  assert.equal(parseProbe('primary', { inRecovery: false, checkpointTimeline: 1, walTimeline: 2 }, 1, 1).timeline, 2);
});

test('lag is never negative: a replica read a moment "ahead" of its upstream is caught up (0), in the status and in the probe', () => {
  // Under load the tree showed "-28 kB" and "last replayed commit -23 ms ago": the upstream's LSN
  // and the replica's replay position were sampled at different moments.
  const r = withReplicationRow(load('healthy'), 'postgres-replica1', { replayLagMs: null, replayBytes: -28 * 1024, writeLagMs: -3, flushLagMs: -2 });
  const p = r.probes.nodes.replica1 as NodeProbeOk;
  const rr = { ...r, probes: { ...r.probes, nodes: { ...r.probes.nodes, replica1: { ...p, replayAgeMs: -23, receiveReplayBytes: -512 } } } };
  const s = deriveStatus(rr.probes, rr.containers, topology, DEFAULT_THRESHOLDS, when(rr));
  const lag = node(s, 'replica1').lag!;
  assert.equal(lag.bytes, 0);
  assert.equal(lag.replayMs, 0);
  assert.equal(lag.writeMs, 0);
  assert.equal(lag.flushMs, 0);
  assert.equal(lag.lastReplayAgeMs, 0);
  assert.equal(lag.receiveReplayBytes, 0);
  assert.ok((s.maxLag.bytes ?? 0) >= 0);

  const raw = { inRecovery: true, receiveReplayBytes: -100, replayAgeMs: -23, replication: [{ applicationName: 'x', replayBytes: -28672, sentBytes: -1, replayLagMs: -5 }] };
  const parsed = parseProbe('replica1', raw, 1, 1);
  assert.equal(parsed.receiveReplayBytes, 0);
  assert.equal(parsed.replayAgeMs, 0);
  assert.equal(parsed.replication[0].replayBytes, 0);
  assert.equal(parsed.replication[0].sentBytes, 0);
  assert.equal(parsed.replication[0].replayLagMs, 0);
});
