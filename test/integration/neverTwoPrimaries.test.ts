// Never two primaries, on the live cluster. The primary is killed, paused (and woken after the
// failover) or cut off from the network while the test's own writer writes in synchronous mode and
// a second failover is asked for at the same time, in this process and from another process.
// Throughout, a sampler asks every node whether it accepts writes; afterwards the writer's history
// is checked against the table: no two nodes ever accepted writes, no acknowledged write is lost,
// nothing appears that was never written. Also: the operation lock (shared with the terminal
// scripts, released when its holder crashes), a promotion whose answer is lost, and the durable fence.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { pauseContainer } from '../../src/core/drills/faults';
import { failover, FailoverError, type FailoverResult } from '../../src/core/failover';
import { readFence } from '../../src/core/fenceMarker';
import { NodeActionError, startNode } from '../../src/core/nodeActions';
import { OperationBusyError, readOperationLock, withOperationLock } from '../../src/core/operationLock';
import { rejoinAsReplica, RejoinError } from '../../src/core/rejoin';
import type { NodeKey } from '../../src/core/topology';
import { clusterUp, containerOf, containers, docker, nodePort, resetCluster, runClusterScript, topology, waitFor } from '../support/cluster';
import { checkHistory, HistoryWriter, presentHistoryKeys, PrimarySampler } from '../support/historyWriter';
import { q } from './failoverSupport';

const log = (m: string) => process.env.PGHA_TEST_VERBOSE && console.log(`# ${m}`);
const ctx = { topology, containers, log, holder: 'integration test' };
const ROOT = path.resolve(__dirname, '../..');
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs test/support/ARGS in a child Node process; resolves with its stdout. */
function child(script: string, args: string[] = [], onSpawn?: (pid: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'test/support', script), ...args], { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    if (p.pid) onSpawn?.(p.pid);
    p.on('error', reject);
    p.on('close', () => resolve(out.trim() || err.trim()));
  });
}

async function synchronousMode(): Promise<void> {
  await q('primary', `ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 ("postgres-replica1", "postgres-replica2")'`, [], 'postgres');
  await q('primary', 'SELECT pg_reload_conf()', [], 'postgres');
  await waitFor(async () => (await q<{ n: string }>('primary', "SELECT count(*)::text AS n FROM pg_stat_replication WHERE sync_state = 'quorum'", [], 'postgres'))[0].n === '2', 30_000, 'two quorum standbys');
}

async function networkOf(container: string): Promise<string> {
  return Object.keys((await docker.getContainer(container).inspect()).NetworkSettings.Networks ?? {})[0];
}

type Fault = 'kill' | 'pause' | 'partition';

/** One fault run; returns what the test asserts on. */
async function faultRun(fault: Fault) {
  await clusterUp();
  await synchronousMode();
  const writer = new HistoryWriter(topology, { clients: 2, pauseMs: 5 });
  const sampler = new PrimarySampler(topology, 100);
  sampler.start();
  writer.start();
  await waitFor(() => writer.count('ok') >= 50, 60_000, 'the writer writing');
  const old = containerOf('primary');
  const net = await networkOf(old);
  if (fault === 'kill') await docker.getContainer(old).kill();
  if (fault === 'pause') await pauseContainer(docker, old);
  if (fault === 'partition') await docker.getNetwork(net).disconnect({ Container: old, Force: true });
  // A second failover from another process (as another window's watcher would ask) ...
  const second = child('secondFailover.ts', ['120000']);
  // ... and two at once here.
  const here = await Promise.allSettled([
    failover(ctx, { fencing: 'stop', maxLagBytes: Number.MAX_SAFE_INTEGER }),
    sleep(50).then(() => failover(ctx, { fencing: 'stop', maxLagBytes: Number.MAX_SAFE_INTEGER })),
  ]);
  const done = here.filter((r): r is PromiseFulfilledResult<FailoverResult> => r.status === 'fulfilled');
  const refused = here.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const secondOut = JSON.parse(await second) as { outcome: string; problem?: string; message: string };
  // Wake the old primary up (or give it its network back) after the failover.
  if (fault === 'pause') await docker.getContainer(old).unpause().catch(() => undefined);
  if (fault === 'partition') await docker.getNetwork(net).connect({ Container: old }).catch(() => undefined);
  const newPrimary = done[0]?.value.newPrimary.key;
  if (newPrimary) await waitFor(() => writer.records.some((r) => r.outcome === 'ok' && r.node === done[0].value.newPrimary.service && r.at > Date.now() - 1000), 60_000, 'writes on the new primary');
  await sleep(3000); // time for a woken old primary to accept writes, if it could
  await writer.stop();
  await sampler.stop();
  const oldState = (await docker.getContainer(old).inspect()).State;
  const present = newPrimary ? await presentHistoryKeys(topology, nodePort(newPrimary), writer.keyPattern) : new Set<string>();
  return { done, refused, secondOut, newPrimary, check: checkHistory(writer.records, present), sampler, oldState, fence: await readFence(ctx, 'primary') };
}

describe('never two primaries (live cluster, synchronous mode, test writer)', { timeout: 1_800_000 }, () => {
  after(async () => {
    await resetCluster();
  });

  for (const fault of ['kill', 'pause', 'partition'] as const) {
    test(`primary ${fault === 'kill' ? 'killed' : fault === 'pause' ? 'paused, woken after the failover' : 'cut off from the network'}: one failover, one primary, no acknowledged write lost`, async () => {
      const r = await faultRun(fault);
      log(`${fault}: ${JSON.stringify({ ...r.check, lost: r.check.lost.length, unexpected: r.check.unexpected.length }, null, 0)} samples ${r.sampler.samples} second ${JSON.stringify(r.secondOut)}`);
      assert.equal(r.done.length, 1, `exactly one of the two failovers here ran: ${r.refused.map((x) => String(x.reason)).join(' | ')}`);
      assert.ok(r.refused[0].reason instanceof OperationBusyError, `the other was refused by the lock: ${String(r.refused[0].reason)}`);
      assert.match((r.refused[0].reason as Error).message, /Another cluster operation is running: "Fail over \(fence: stop\)", by integration test/);
      assert.equal(r.secondOut.outcome, 'refused', `the other process did not fail over a second time: ${JSON.stringify(r.secondOut)}`);
      assert.ok(r.newPrimary === 'replica1' || r.newPrimary === 'replica2');
      assert.deepEqual(r.sampler.doubles, [], 'no sample saw two nodes accepting writes');
      assert.ok(r.sampler.samples > 20, `the sampler sampled (${r.sampler.samples})`);
      assert.deepEqual(r.check.interleaved, [], 'acknowledgements never went back to an earlier primary');
      assert.deepEqual(r.check.lost, [], 'no acknowledged write lost');
      assert.deepEqual(r.check.unexpected, [], 'nothing present that was never written');
      assert.ok(r.check.ok > 50);
      assert.equal(r.oldState.Running, false, `the old primary is not running (${r.oldState.Status})`);
      if (fault === 'pause') assert.equal(r.done[0].value.fencing.mode, 'kill', 'a paused primary is killed, not counted as down');
      assert.ok(r.fence, 'the old primary carries a durable fence');
    });
  }

  test('a fenced old primary stays fenced: docker start, Start Node; two rejoins at once run one; the rejoin lifts the fence', async () => {
    // Continues from the last fault run: postgres-primary fenced, a replica promoted.
    assert.ok(await readFence(ctx, 'primary'));
    await docker.getContainer(containerOf('primary')).start();
    const exited = await waitFor(async () => {
      const st = (await docker.getContainer(containerOf('primary')).inspect()).State;
      return st.Running ? undefined : st;
    }, 30_000, 'the fenced node to refuse to start');
    assert.equal(exited.ExitCode, 3, 'its entry script refused to start PostgreSQL');
    await assert.rejects(startNode(ctx, 'primary'), (e: unknown) => e instanceof NodeActionError && e.problem === 'fenced' && /Rejoin it as a replica/.test(e.message));
    const both = await Promise.allSettled([rejoinAsReplica(ctx, 'primary', { method: 'auto' }), sleep(50).then(() => rejoinAsReplica(ctx, 'primary', { method: 'auto' }))]);
    const ok = both.filter((b) => b.status === 'fulfilled');
    const no = both.filter((b): b is PromiseRejectedResult => b.status === 'rejected');
    assert.equal(ok.length, 1, `one rejoin ran: ${no.map((x) => String(x.reason)).join(' | ')}`);
    assert.ok(no[0].reason instanceof OperationBusyError && /Rejoin p?.*postgres-primary/.test(no[0].reason.message));
    assert.equal((ok[0] as PromiseFulfilledResult<{ streaming: boolean }>).value.streaming, true);
    assert.equal(await readFence(ctx, 'primary'), undefined, 'rejoined: no fence any more');
    const helpers = await docker.listContainers({ all: true, filters: { label: ['pg-ha-workshop.helper=rejoin'] } });
    assert.deepEqual(helpers.filter((h) => h.Names.some((n) => n.includes(topology.containerPrefix))), [], 'no helper left behind');
  });

  test('a promotion whose answer is lost is not undone: the old primary is not started beside it', async () => {
    await resetCluster();
    let sentTo: NodeKey | undefined;
    const r = await failover(ctx, {
      fencing: 'stop',
      // pg_promote() is sent, then the connection "drops" before the answer arrives.
      promote: async (_c, key) => {
        sentTo = key;
        await q(key, 'SELECT pg_promote(false)', [], 'postgres');
        throw new Error('Connection terminated unexpectedly');
      },
    });
    assert.equal(r.newPrimary.key, sentTo);
    assert.ok(r.warnings.some((w) => /completed: the failover went on/.test(w)), r.warnings.join(' | '));
    const writable = await Promise.all(topology.nodes.map(async (n) => (await q<{ w: boolean }>(n.key, 'SELECT NOT pg_is_in_recovery() AS w', [], 'postgres').catch(() => [{ w: false }]))[0].w));
    assert.equal(writable.filter(Boolean).length, 1, 'exactly one node accepts writes');
    assert.equal((await docker.getContainer(containerOf('primary')).inspect()).State.Running, false, 'the old primary stayed fenced');
  });

  test('the operation lock: shared with promote-replica.sh, names the running operation, released when its holder crashes', async () => {
    await clusterUp().catch(() => resetCluster());
    let release!: () => void;
    const holding = withOperationLock(ctx, { holder: 'integration test', what: 'holding the lock' }, () => new Promise<void>((r) => (release = r)));
    await waitFor(() => readOperationLock(ctx), 30_000, 'the lock');
    try {
      const script = await runClusterScript('promote-replica.sh', [containerOf('replica1')]);
      assert.equal(script.code, 1);
      assert.match(script.stderr, /another cluster operation is running: "holding the lock", by integration test/);
      await assert.rejects(failover(ctx, {}), (e: unknown) => e instanceof OperationBusyError && e.info.what === 'holding the lock');
      assert.equal((await q<{ r: boolean }>('replica1', 'SELECT pg_is_in_recovery() AS r', [], 'postgres'))[0].r, true, 'nothing was promoted');
    } finally {
      release();
      await holding;
    }
    assert.equal(await readOperationLock(ctx), undefined, 'released');
    // A holder that crashes (SIGKILL: no cleanup runs) does not leave the lock stuck.
    let pid = 0;
    const crashed = child('holdLock.ts', [], (p) => (pid = p));
    const info = await waitFor(() => readOperationLock(ctx), 60_000, 'the child to take the lock');
    assert.equal(info.what, 'held by a process that will crash');
    process.kill(pid, 'SIGKILL');
    await crashed;
    // At once, without waiting: either the engine already removed it (its stdin closed with the
    // holder), or the next operation takes it over because its holder's pid is gone.
    const after = await withOperationLock(ctx, { holder: 'integration test', what: 'after the crash' }, async (l) => l.what);
    assert.equal(after, 'after the crash');
    // FailoverError stays what it was for refusals that change nothing.
    await assert.rejects(failover(ctx, { candidate: 'nope' }), (e: unknown) => e instanceof FailoverError && e.problem === 'badCandidate');
  });

  test('rejoin cancelled before it starts changes nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(rejoinAsReplica(ctx, 'replica2', { method: 'clone', signal: ac.signal }), (e: unknown) => /Cancelled|cancelled/.test(String(e)) && !(e instanceof RejoinError && e.problem !== 'cancelled'));
    assert.equal((await q<{ r: boolean }>('replica2', 'SELECT pg_is_in_recovery() AS r', [], 'postgres'))[0].r, true);
  });
});
