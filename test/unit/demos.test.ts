// Pure parts of the demos: what each demo says is missing in each workshop situation (statuses
// derived from probes recorded on a real cluster), where Demo 6 starts, and how results pass.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { check, DEMO_ORDER, notReady, percentileOf, result } from '../../src/core/demos/common';
import { splitBrainStart } from '../../src/core/demos/splitBrain';
import { deriveStatus, type ClusterStatus, type ContainerSnapshot, type ProbeRound } from '../../src/core/status';
import { topologyFromEnv } from '../../src/core/topology';

const topology = topologyFromEnv({ PGHA_CONTAINER_PREFIX: 'c-', COMPOSE_PROJECT_NAME: 'pghac' }, '/dev/null');

function status(name: string): ClusterStatus {
  const r = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'cluster-status', `${name}.json`), 'utf8')) as { probes: ProbeRound; containers: ContainerSnapshot };
  const at = Math.max(...Object.values(r.probes.nodes).map((p) => p?.at ?? 0));
  return deriveStatus(r.probes, r.containers, topology, undefined, at);
}

test('walkthrough order: prerequisites, start, verify, Demo 1-7, cleanup', () => {
  assert.deepEqual(DEMO_ORDER, ['prerequisites', 'start', 'verify', 'demo1', 'demo2', 'demo3', 'demo4', 'demo5', 'demo6', 'demo7', 'demo9', 'cleanup']);
});

test('healthy cluster: every demo that needs 2 replicas is ready', () => {
  assert.equal(notReady(topology, status('healthy'), 2), undefined);
});

test('a stopped replica: demos needing both replicas say which one is missing; one replica is enough for others', () => {
  const s = status('replica-stopped');
  const why = notReady(topology, s, 2);
  assert.equal(why?.missing, 'replicas');
  assert.match(why!.message, /c-postgres-replica\d: down/);
  assert.equal(notReady(topology, s, 1), undefined);
});

test('Demo 4 run with the primary already down: no primary, says to fail over or start it', () => {
  const why = notReady(topology, status('primary-stopped'), 1);
  assert.equal(why?.missing, 'primary');
  assert.match(why!.message, /c-postgres-primary down/);
});

test('split brain: demos refuse and point at Demo 6', () => {
  const why = notReady(topology, status('split-brain'), 1);
  assert.equal(why?.missing, 'splitBrain');
  assert.match(why!.message, /Demo 6/);
});

test('Demo 6 starts after Demo 4: the stopped old primary and the promoted replica', () => {
  assert.deepEqual(splitBrainStart(status('promoted')), { old: 'primary', primary: 'replica1' });
});

test('Demo 6 with split brain already there: fence the node on the older timeline', () => {
  assert.deepEqual(splitBrainStart(status('split-brain')), { old: 'primary', primary: 'replica1' });
});

test('Demo 6 on a healthy cluster (no failover yet): nothing to start from', () => {
  assert.equal(splitBrainStart(status('healthy')), undefined);
  assert.equal(splitBrainStart(status('replica-stopped')), undefined, 'a stopped replica is not an old primary (timeline 1)');
});

test('a result passes only when every check holds, and never with no checks', () => {
  assert.equal(result('demo1', Date.now(), [check('a', true, ''), check('b', true, '')], {}).passed, true);
  assert.equal(result('demo1', Date.now(), [check('a', true, ''), check('b', false, 'x')], {}).passed, false);
  assert.equal(result('demo1', Date.now(), [], {}).passed, false);
});

test('percentileOf: nearest rank', () => {
  assert.equal(percentileOf([5, 1, 3, 2, 4], 50), 3);
  assert.equal(percentileOf([5, 1, 3, 2, 4], 100), 5);
  assert.equal(percentileOf([], 50), undefined);
});
