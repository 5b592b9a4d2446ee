// The node model: addresses, replicas nested under their upstream (any number of nodes, cascades,
// loops during a split brain), and what each kind of cluster manager offers per node.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { attachedManager, composeManager, nodeContextValue, pgbouncerContextValue } from '../../src/core/clusterManager';
import { patroniUrlsOf } from '../../src/core/patroni/attached';
import { shortProfileLabel, defaultProfileLabel, attachedTopology, parseAttachInput } from '../../src/core/clusterProfile';
import { clusterNodes, formatAddress, nodeHierarchy, parseAddress } from '../../src/core/nodes';
import { parseTarget, resolveTarget, targetChoices } from '../../src/notebook/targets';
import { deriveStatus, type ContainerSnapshot, type NodeStatus, type ProbeRound } from '../../src/core/status';
import { topologyFromEnv } from '../../src/core/topology';

test('parseAddress: host, host:port, IPv6 in brackets; bad input says what is expected', () => {
  assert.deepEqual(parseAddress('db1'), { host: 'db1', port: 5432 });
  assert.deepEqual(parseAddress(' db1.example.com:6543 '), { host: 'db1.example.com', port: 6543 });
  assert.deepEqual(parseAddress('[::1]:5433'), { host: '::1', port: 5433 });
  assert.equal(formatAddress({ host: '::1', port: 5433 }), '[::1]:5433');
  assert.equal(formatAddress({ host: '127.0.0.1', port: 5432 }), '127.0.0.1:5432');
  assert.throws(() => parseAddress('db1:99999'), /99999 is not a TCP port/);
  assert.throws(() => parseAddress('postgres://x'), /not a host or host:port/);
});

test('nodeHierarchy: a 5-node cascade nests each replica under its upstream, in list order', () => {
  const h = nodeHierarchy([
    { key: 'p' },
    { key: 'r1', upstream: 'p' },
    { key: 'r2', upstream: 'p' },
    { key: 'c1', upstream: 'r1' },
    { key: 'd1', upstream: 'p' },
  ]);
  assert.deepEqual(h.roots, ['p']);
  assert.deepEqual(h.children.get('p'), ['r1', 'r2', 'd1']);
  assert.deepEqual(h.children.get('r1'), ['c1']);
  assert.equal(h.children.get('c1'), undefined);
});

test('nodeHierarchy: unknown upstreams and loops leave every node in the tree exactly once', () => {
  const h = nodeHierarchy([
    { key: 'a', upstream: 'b' },
    { key: 'b', upstream: 'a' },
    { key: 'c', upstream: 'elsewhere' },
    { key: 'd', upstream: 'd' },
  ]);
  const seen = [...h.roots, ...[...h.children.values()].flat()].sort();
  assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
  assert.ok(h.roots.includes('c') && h.roots.includes('d'));
  assert.equal(h.roots.filter((k) => k === 'a' || k === 'b').length, 1, 'the loop is cut at one node');
});

test('nodeHierarchy: a node that reports no upstream now stays under the one remembered', () => {
  const h = nodeHierarchy([{ key: 'p' }, { key: 'r1' }], new Map([['r1', 'p']]));
  assert.deepEqual(h.roots, ['p']);
  assert.deepEqual(h.children.get('p'), ['r1']);
});

// A recorded healthy workshop cluster: the three nodes as a list, with names and addresses.
const topology = topologyFromEnv({ PGHA_CONTAINER_PREFIX: 'c-', COMPOSE_PROJECT_NAME: 'pghac', PGHA_REPLICA2_PORT: '6434' }, '/dev/null');
const healthy = JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'cluster-status', 'healthy.json'), 'utf8')) as { probes: ProbeRound; containers: ContainerSnapshot };
const at = Math.max(...Object.values(healthy.probes.nodes).map((p) => p?.at ?? 0));

test("the workshop's cluster is the three-node special case of the node list", () => {
  const s = deriveStatus(healthy.probes, healthy.containers, topology, undefined, at);
  const nodes = clusterNodes(s);
  assert.deepEqual(
    nodes.map((n) => [n.key, n.name, formatAddress(n.address), n.role, n.upstream]),
    [
      ['primary', 'c-postgres-primary', '127.0.0.1:5432', 'primary', undefined],
      ['replica1', 'c-postgres-replica1', '127.0.0.1:5433', 'replica', 'primary'],
      ['replica2', 'c-postgres-replica2', '127.0.0.1:6434', 'replica', 'primary'],
    ],
  );
  const h = nodeHierarchy(nodes);
  assert.deepEqual(h.roots, ['primary']);
  assert.deepEqual(h.children.get('primary'), ['replica1', 'replica2']);
});

test('compose manager: the menus of today (promote on a running replica, fence on the primary, start on a stopped node)', () => {
  const s = deriveStatus(healthy.probes, healthy.containers, topology, undefined, at);
  const byKey = (k: string): NodeStatus => s.nodes.find((n) => n.key === k)!;
  const p = nodeContextValue(composeManager, byKey('primary'), 'primary');
  assert.match(p, /^node\.primary\.running /);
  assert.match(p, /\bcan-fence\b/);
  assert.doesNotMatch(p, /\bcan-promote\b/);
  const r = nodeContextValue(composeManager, byKey('replica1'), 'replica');
  assert.match(r, /^node\.replica\.running /);
  for (const op of ['promote', 'failover', 'switchover', 'stop', 'kill', 'psql', 'logs', 'rejoin']) assert.match(r, new RegExp(`\\bcan-${op}\\b`), op);
  assert.doesNotMatch(r, /\bcan-start\b/);
  const stopped: NodeStatus = { ...byKey('replica2'), role: 'down', containerState: { name: 'c-postgres-replica2', status: 'exited', exitCode: 0 } };
  const sv = nodeContextValue(composeManager, stopped, 'replica');
  assert.match(sv, /^node\.replica\.stopped /, 'a stopped replica keeps its replica menus');
  assert.match(sv, /\bcan-start\b/);
  assert.doesNotMatch(sv, /\bcan-(stop|kill|promote)\b/);
  assert.match(pgbouncerContextValue(composeManager, s.pgbouncer), /^pgbouncer\.running .*\bcan-stop\b/);
});

test('attached manager: read-only offers the connection string only; a lab adds promote; never containers', () => {
  const s = deriveStatus(healthy.probes, healthy.containers, topology, undefined, at);
  const r = s.nodes.find((n) => n.key === 'replica1')!;
  const ro = attachedManager({ lab: false });
  assert.equal(ro.readOnly, true);
  assert.equal(ro.usesDocker, false);
  assert.equal(ro.clusterOperations.size, 0);
  assert.deepEqual([...ro.nodeOperations(r, 'replica')], ['copyConnection']);
  const lab = attachedManager({ lab: true });
  assert.equal(lab.readOnly, false);
  assert.ok(lab.nodeOperations(r, 'replica').includes('promote'));
  for (const op of ['stop', 'start', 'kill', 'restart', 'logs', 'fence', 'rejoin'] as const) assert.ok(!lab.nodeOperations(r, 'replica').includes(op), op);
  assert.deepEqual(lab.pgbouncerOperations(s.pgbouncer), []);
  const external: NodeStatus = { ...r, containerState: { name: r.container, status: 'external' } };
  assert.equal(nodeContextValue(ro, external, 'replica'), 'node.replica.running can-copyConnection', 'an answering attached node runs');
  assert.equal(nodeContextValue(ro, { ...external, role: 'unreachable' }, 'replica'), 'node.replica.stopped can-copyConnection');
});

test('attached Patroni-managed manager: switchover on a replica and restart, through Patroni; no SQL promote', () => {
  const s = deriveStatus(healthy.probes, healthy.containers, topology, undefined, at);
  const external = (k: string): NodeStatus => {
    const n = s.nodes.find((x) => x.key === k)!;
    return { ...n, containerState: { name: n.container, status: 'external' } };
  };
  for (const lab of [false, true]) {
    const m = attachedManager({ lab, patroni: true });
    assert.equal(m.readOnly, false);
    assert.equal(m.usesDocker, false);
    assert.deepEqual([...m.nodeOperations(external('replica1'), 'replica')], ['copyConnection', 'switchover', 'restart']);
    assert.deepEqual([...m.nodeOperations(external('primary'), 'primary')], ['copyConnection', 'restart']);
    assert.equal(nodeContextValue(m, external('replica1'), 'replica'), 'node.replica.running can-copyConnection can-switchover can-restart');
  }
});

test('Patroni REST URLs of a profile: comma or space separated, http:// added, duplicates and trailing slashes dropped', () => {
  assert.deepEqual(patroniUrlsOf('http://db1:8008/, db2:8008  https://db3:8008,http://db1:8008'), ['http://db1:8008', 'http://db2:8008', 'https://db3:8008']);
  assert.deepEqual(patroniUrlsOf(undefined), []);
  assert.deepEqual(patroniUrlsOf(' '), []);
});

test("the notebook's node picker lists an attached cluster's nodes, any number, and no PgBouncer", () => {
  const profile = {
    id: 'c',
    label: 'c',
    kind: 'attached' as const,
    seeds: [],
    nodes: ['a', 'b', 'c', 'd', 'e'].map((x, i) => ({ name: `db-${x}`, address: { host: `10.0.0.${i + 1}`, port: 5432 }, applicationName: `db-${x}` })),
    user: 'watcher',
    database: 'postgres',
    ssl: { mode: 'require' as const },
    lab: false,
  };
  const t = attachedTopology(profile, 'pw');
  const names = targetChoices(t).map((c) => c.name);
  assert.deepEqual(names, ['primary', 'replica', 'all', 'db-a', 'db-b', 'db-c', 'db-d', 'db-e']);
  assert.match(targetChoices(t)[3].description, /db-a at 10\.0\.0\.1:5432/);
  assert.throws(() => parseTarget('pgbouncer', t), /Unknown target node "@pgbouncer"/);
  const ep = resolveTarget(parseTarget('db-c', t), t);
  assert.deepEqual([ep[0].host, ep[0].port], ['10.0.0.3', 5432]);
});

test('Attach input: a host:port list, a libpq URI with several hosts, a keyword conninfo; bad input says what to write', () => {
  assert.deepEqual(parseAttachInput('db1:5432, db2:5433').addresses, [
    { host: 'db1', port: 5432 },
    { host: 'db2', port: 5433 },
  ]);
  const uri = parseAttachInput('postgresql://watcher:s%40cret@db1:5432,db2/app?sslmode=verify-full&sslrootcert=/etc/ca.pem');
  assert.deepEqual(uri.addresses, [
    { host: 'db1', port: 5432 },
    { host: 'db2', port: 5432 },
  ]);
  assert.deepEqual([uri.user, uri.password, uri.database, uri.sslmode, uri.sslrootcert], ['watcher', 's@cret', 'app', 'verify-full', '/etc/ca.pem']);
  const kw = parseAttachInput("host=db1,db2,db3 port=5432,5433,5434 user='watch er' sslmode=require");
  assert.deepEqual(
    kw.addresses.map((a) => a.port),
    [5432, 5433, 5434],
  );
  assert.equal(kw.user, 'watch er');
  assert.throws(() => parseAttachInput('host=db1,db2 port=1,2,3'), /2 hosts but 3 ports/);
  assert.throws(() => parseAttachInput('postgresql://db1/x?sslmode=sometimes'), /sslmode=sometimes is not a libpq sslmode/);
  assert.throws(() => parseAttachInput('  '), /at least one host:port/);
});

test("a profile's name fits the sidebar: the first node and how many more; a long name is cut at a word with an ellipsis", () => {
  assert.equal(defaultProfileLabel(['cascade-primary', 'cascade-replica-a', 'cascade-replica-b', 'cascade-cascade', 'cascade-delayed']), 'cascade-primary +4');
  assert.equal(defaultProfileLabel(['db1']), 'db1');
  assert.equal(shortProfileLabel('staging'), 'staging');
  assert.equal(shortProfileLabel('cascade-primary, cascade-replica-a, cascade-replica-b …'), 'cascade-primary…');
  assert.equal(shortProfileLabel('payments production cluster in eu-west-1'), 'payments production…');
  const cut = shortProfileLabel('x'.repeat(60));
  assert.equal(cut.length, 22);
  assert.ok(cut.endsWith('…'));
});
