// The small pure pieces under the monitor: LSN arithmetic, figures for people, Docker event
// lines, the emitter, node name resolution.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Emitter } from '../../src/core/emitter';
import { formatBytes, formatDuration, formatLag, lsnDiffBytes, parseLsn } from '../../src/core/format';
import { NodeActionError, resolveNode } from '../../src/core/nodeActions';
import { topologyFromEnv } from '../../src/core/topology';
import { parseContainerEvent, toContainerState } from '../../src/docker/engine';

test('LSNs parse as 64-bit positions and differ like pg_wal_lsn_diff', () => {
  assert.equal(parseLsn('0/5000000'), 0x5000000n);
  assert.equal(parseLsn('1/0'), 1n << 32n);
  assert.equal(parseLsn('nonsense'), undefined);
  assert.equal(parseLsn(null), undefined);
  assert.equal(lsnDiffBytes('1/10', '0/FFFFFFF0'), 0x20);
  assert.equal(lsnDiffBytes('0/10', null), undefined);
});

test('figures read like pg_size_pretty and like a person would say a duration', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1536), '1.5 kB');
  assert.equal(formatBytes(48 * 1024 * 1024), '48 MB');
  assert.equal(formatBytes(10 * 1024 ** 3), '10 GB');
  assert.equal(formatBytes(null), '?');
  assert.equal(formatDuration(3.4), '3 ms');
  assert.equal(formatDuration(1234), '1.2 s');
  assert.equal(formatDuration(42_000), '42 s');
  assert.equal(formatDuration(185_000), '3 min 5 s');
  assert.equal(formatLag(0, 3), '0 B · 3 ms');
});

test('Docker event lines become container events; other types and garbage are ignored', () => {
  const die = parseContainerEvent(
    JSON.stringify({ Type: 'container', Action: 'die', Actor: { ID: 'x', Attributes: { name: 'c-postgres-replica1', exitCode: '137' } }, time: 1, timeNano: 1_500_000_000 }),
  );
  assert.deepEqual(die, { name: 'c-postgres-replica1', action: 'die', health: undefined, exitCode: 137, signal: undefined, time: 1500 });
  const h = parseContainerEvent(JSON.stringify({ Type: 'container', Action: 'health_status: healthy', Actor: { Attributes: { name: 'n' } }, time: 2 }));
  assert.equal(h?.action, 'health_status');
  assert.equal(h?.health, 'healthy');
  assert.equal(h?.time, 2000);
  assert.equal(parseContainerEvent(JSON.stringify({ Type: 'network', Action: 'connect', Actor: { Attributes: { name: 'n' } } })), undefined);
  assert.equal(parseContainerEvent('{not json'), undefined);
});

test('inspect State maps to ContainerState with epoch times; the zero time is no time', () => {
  const s = toContainerState('n', {
    Status: 'exited',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 137,
    Error: '',
    StartedAt: '2026-11-29T02:05:01.123456789Z',
    FinishedAt: '0001-01-01T00:00:00Z',
  });
  assert.equal(s.status, 'exited');
  assert.equal(s.exitCode, 137);
  assert.equal(s.startedAt, Date.parse('2026-11-29T02:05:01.123Z'));
  assert.equal(s.finishedAt, undefined);
});

test('the emitter reports first and last listener, and one failing listener does not stop the others', () => {
  const seen: string[] = [];
  const errors: unknown[] = [];
  const e = new Emitter<number>(
    () => seen.push('first'),
    () => seen.push('last'),
    (err) => errors.push(err),
  );
  const a = e.event(() => {
    throw new Error('boom');
  });
  const b = e.event((v) => seen.push(`b${v}`));
  e.fire(1);
  a.dispose();
  a.dispose();
  b.dispose();
  assert.deepEqual(seen, ['first', 'b1', 'last']);
  assert.equal(errors.length, 1);
  assert.equal(e.listenerCount, 0);
});

test('nodes resolve by key, service or container; anything else is a clear error', () => {
  const t = topologyFromEnv({ PGHA_CONTAINER_PREFIX: 'c-' }, '/dev/null');
  assert.equal(resolveNode(t, 'replica1').container, 'c-postgres-replica1');
  assert.equal(resolveNode(t, 'postgres-replica2').key, 'replica2');
  assert.equal(resolveNode(t, 'c-pgbouncer').kind, 'pgbouncer');
  assert.throws(
    () => resolveNode(t, 'postgres-replica9'),
    (e: unknown) => e instanceof NodeActionError && e.problem === 'unknownNode' && /not a node of this cluster .*c-postgres-primary/.test(e.message),
  );
});
