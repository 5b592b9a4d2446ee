// An attached lab cluster (the five-node cascade, through its ports only, no Docker engine): Promote
// runs under the one operation lock, kept in the attached cluster itself. While another process
// (another window) holds it, Promote is refused with the running operation's name and nothing
// changes; once that holder dies, the server drops its lock and the promote goes through.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { attachedTopology, type AttachedProfile } from '../../src/core/clusterProfile';
import { nodeClientConfig } from '../../src/core/connection';
import { discoverCluster } from '../../src/core/discovery';
import { promoteReplica } from '../../src/core/nodeActions';
import { OperationBusyError, readOperationLock, withOperationLock } from '../../src/core/operationLock';
import type { ClusterTopology } from '../../src/core/topology';
import { Containers, createDockerClient } from '../../src/docker/engine';
import { CASCADE_PORTS, cascadeDown, cascadeUp, local } from '../support/cascade';
import { waitFor } from '../support/cluster';

let topology: ClusterTopology;
// An engine that does not exist: the attached cluster's lock and promote must never need Docker.
const containers = new Containers(createDockerClient('unix:///nonexistent/pgha-no-docker.sock'));
let holder: ChildProcess | undefined;

before(async () => {
  await cascadeUp();
  const d = await discoverCluster(Object.values(CASCADE_PORTS).map(local), { user: 'postgres', password: 'postgres', database: 'postgres', ssl: { mode: 'prefer' } });
  assert.equal(d.nodes.length, 5, d.error);
  const profile: AttachedProfile = {
    id: 'lab',
    label: 'lab',
    kind: 'attached',
    seeds: d.nodes.map((n) => n.address),
    nodes: d.nodes.map((n) => ({ name: n.name, address: n.address, applicationName: n.applicationName })),
    user: 'postgres',
    database: 'postgres',
    ssl: d.ssl,
    lab: true,
  };
  topology = attachedTopology(profile, 'postgres');
});
after(async () => {
  holder?.kill('SIGKILL');
  // The promote below changed the cascade: never keep it for the next run.
  await cascadeDown();
});

const keyOf = (name: string) => topology.nodes.find((n) => n.name === name)!.key;
const portOf = (name: string) => topology.nodes.find((n) => n.name === name)!.hostPort;

async function inRecovery(name: string): Promise<boolean> {
  const c = new Client(nodeClientConfig(topology, portOf(name), { host: '127.0.0.1', connectTimeoutMs: 10_000 }));
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<{ rec: boolean }>('SELECT pg_is_in_recovery() AS rec')).rows[0].rec;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A second process takes the lock; resolves once it holds it. */
function holdFromAnotherProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'support', 'holdAttachedLock.ts'), JSON.stringify(topology)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the holder did not take the lock within 120 s: ${err}`)), 120_000);
    child.stdout!.on('data', (b: Buffer) => {
      if (b.toString().includes('held')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the holder exited (${code}): ${err}`));
    });
  });
}

test('a second operation is refused while another window promotes or drills: the message names it, nothing is promoted', async () => {
  holder = await holdFromAnotherProcess();
  const seen = await readOperationLock({ topology, containers });
  assert.equal(seen?.what, 'Drill held by another window', 'the lock is visible, with what it does');
  assert.match(seen!.holder, /holdAttachedLock\.ts \(pid \d+\)/);
  await assert.rejects(
    promoteReplica({ topology, containers }, keyOf('cascade-replica-b')),
    (e: unknown) => e instanceof OperationBusyError && /Another cluster operation is running: "Drill held by another window" on cascade-replica-b, by holdAttachedLock\.ts/.test(e.message),
  );
  assert.equal(await inRecovery('cascade-replica-b'), true, 'the refused promote changed nothing');

  // The holder crashes: its sessions end, the server drops the lock, the promote goes through.
  holder.kill('SIGKILL');
  await waitFor(async () => ((await readOperationLock({ topology, containers })) ? undefined : true), 60_000, 'the lock released by the dead holder', 500);
  const r = await promoteReplica({ topology, containers }, keyOf('cascade-replica-b'));
  assert.equal(r.changed, true);
  assert.equal(await inRecovery('cascade-replica-b'), false, 'promoted');
});

test('in one process too: while a promote holds the lock, a concurrent operation from another call chain is refused', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const first = withOperationLock({ topology, containers }, { holder: 'first window', what: 'Promote cascade-delayed', nodes: ['cascade-delayed'] }, async () => {
    entered();
    await gate;
  });
  await inside;
  try {
    await assert.rejects(promoteReplica({ topology, containers }, keyOf('cascade-replica-a')), (e: unknown) => e instanceof OperationBusyError && /"Promote cascade-delayed"/.test(e.message));
    assert.equal(await inRecovery('cascade-replica-a'), true);
  } finally {
    release();
    await first;
  }
  assert.equal(await readOperationLock({ topology, containers }), undefined, 'released when the operation ends');
});
