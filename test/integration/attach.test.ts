// Attach to a cluster through its ports only, as to any PostgreSQL cluster: the workshop's own
// cluster, a five-node cascade (test/fixtures/cascade: primary, two replicas, a cascading replica
// under a replica, a delayed replica), and the failures a user meets first: an unreachable host,
// a wrong password, a TLS-only server and a single server that does not replicate. The monitor
// watches an attached cluster without Docker: its client points at a socket that does not exist.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { attachedTopology, type AttachedProfile, type SslSettings } from '../../src/core/clusterProfile';
import { discoverCluster, type Discovery } from '../../src/core/discovery';
import { ClusterMonitor } from '../../src/core/monitor';
import { formatAddress, nodeHierarchy } from '../../src/core/nodes';
import type { ClusterStatus } from '../../src/core/status';
import { createDockerClient } from '../../src/docker/engine';
import { ATTACH_PORT_BASE, CASCADE_IMAGE, CASCADE_PORTS, CASCADE_PREFIX, cascadeDown, cascadeUp, KEEP_ATTACH_FIXTURES, local } from '../support/cascade';
import { clusterUp, topology, waitFor } from '../support/cluster';

const run = promisify(execFile);
const IMAGE = CASCADE_IMAGE;
const TLS_PORT = ATTACH_PORT_BASE + 9;
const NOTHING_PORT = ATTACH_PORT_BASE + 10;
const TLS_CONTAINER = `${CASCADE_PREFIX}tls-only`;
const KEEP = KEEP_ATTACH_FIXTURES;

const plain: SslSettings = { mode: 'prefer' };

function profileOf(d: Discovery, user: string, ssl: SslSettings = d.ssl): AttachedProfile {
  return {
    id: 'test',
    label: 'test',
    kind: 'attached',
    seeds: d.nodes.map((n) => n.address),
    nodes: d.nodes.map((n) => ({ name: n.name, address: n.address, applicationName: n.applicationName })),
    user,
    database: 'postgres',
    ssl,
    lab: false,
  };
}

/** A monitor that cannot reach any Docker engine: an attached cluster must not need one. */
function dockerlessMonitor(p: AttachedProfile, password: string): ClusterMonitor {
  return new ClusterMonitor({ docker: createDockerClient('unix:///nonexistent/pgha-no-docker.sock'), topology: attachedTopology(p, password), pollIntervalMs: 1000 });
}

async function watch<T>(m: ClusterMonitor, pred: (s: ClusterStatus) => boolean, what: string, f: (s: ClusterStatus) => T): Promise<T> {
  m.start();
  try {
    const s = await m.waitFor(pred, 120_000, what).catch((e: Error) => {
      throw new Error(`${e.message}; last: ${JSON.stringify(m.current?.nodes.map((n) => [n.name, n.role, n.upstream, n.problem]))}`);
    });
    return f(s);
  } finally {
    await m.stop();
  }
}

describe('attach to the workshop cluster through its ports', { timeout: 600_000 }, () => {
  before(async () => {
    await clusterUp();
  });

  test('all three ports: three nodes (each reached once), named by cluster_name; sslmode=prefer falls back to plain', async () => {
    const d = await discoverCluster(
      topology.nodes.map((n) => local(n.hostPort)),
      { user: 'postgres', password: 'postgres', database: 'postgres', ssl: plain },
    );
    assert.equal(d.error, undefined, d.error);
    assert.deepEqual(d.nodes.map((n) => n.name).sort(), ['postgres-primary', 'postgres-replica1', 'postgres-replica2']);
    assert.deepEqual(
      d.nodes.map((n) => n.address.port).sort(),
      topology.nodes.map((n) => n.hostPort).sort(),
      'each node at the address given, not again at its container address',
    );
    assert.equal(d.ssl.mode, 'disable', 'the workshop cluster has no TLS: prefer falls back');
    assert.ok(d.warnings.some((w) => /superuser/.test(w)), 'attaching as a superuser is pointed out');
  });

  test('one address is enough: the standbys are found from pg_stat_replication', async () => {
    const primary = topology.nodes.find((n) => n.key === 'primary')!;
    const d = await discoverCluster([local(primary.hostPort)], { user: 'postgres', password: 'postgres', database: 'postgres', ssl: plain });
    assert.equal(d.error, undefined, d.error);
    assert.deepEqual(d.nodes.map((n) => n.name).sort(), ['postgres-primary', 'postgres-replica1', 'postgres-replica2']);
    const r1 = d.nodes.find((n) => n.name === 'postgres-replica1')!;
    assert.match(r1.foundVia, /postgres-primary \(standby postgres-replica1 streams from it\)/);
  });

  test('the monitor watches it without Docker: roles, upstreams and lag from SQL alone', async () => {
    const d = await discoverCluster(
      topology.nodes.map((n) => local(n.hostPort)),
      { user: 'postgres', password: 'postgres', database: 'postgres', ssl: plain },
    );
    const m = dockerlessMonitor(profileOf(d, 'postgres'), 'postgres');
    const ok = (s: ClusterStatus) => s.nodes.filter((n) => n.role === 'replica').length === 2 && s.nodes.some((n) => n.role === 'primary');
    const s = await watch(m, ok, 'a primary and two streaming replicas', (x) => x);
    const primary = s.nodes.find((n) => n.role === 'primary')!;
    assert.equal(primary.name, 'postgres-primary');
    for (const r of s.nodes.filter((n) => n.role === 'replica')) {
      assert.equal(r.upstream, primary.key, `${r.name} streams from the primary`);
      assert.ok(r.lag && r.lag.bytes !== null, `${r.name} has a lag figure`);
      assert.equal(r.containerState.status, 'external');
    }
    assert.equal(s.clusterState, 'running');
    assert.equal(s.docker.ok, true, 'no Docker problem is reported for an attached cluster');
    assert.equal(m.stats.dockerCalls, 0, 'the Docker API was never called');
  });
});

describe('attach to a five-node cascade', { timeout: 900_000 }, () => {
  before(async () => {
    await cascadeUp();
  });
  after(async () => {
    await cascadeDown();
  });

  test('attached with a pg_monitor role: five nodes, the cascade nested under replica-a, the delayed replica under the primary', async () => {
    const seeds = Object.values(CASCADE_PORTS).map(local);
    const d = await discoverCluster(seeds, { user: 'watcher', password: 'watcher', database: 'postgres', ssl: plain });
    assert.equal(d.error, undefined, d.error);
    assert.ok(!d.warnings.some((w) => /superuser|pg_monitor/.test(w)), `a pg_monitor role raises no warning: ${d.warnings.join(' | ')}`);
    assert.deepEqual(d.nodes.map((n) => n.name).sort(), ['cascade-cascade', 'cascade-delayed', 'cascade-primary', 'cascade-replica-a', 'cascade-replica-b']);

    const m = dockerlessMonitor(profileOf(d, 'watcher'), 'watcher');
    const ready = (s: ClusterStatus) => s.nodes.some((n) => n.role === 'primary') && s.nodes.some((n) => n.role === 'cascadingReplica') && s.nodes.filter((n) => n.role === 'replica').length === 3;
    const s = await watch(m, ready, 'a primary, three replicas and a cascading replica', (x) => x);
    const byName = (name: string) => s.nodes.find((n) => n.name === name)!;
    assert.equal(byName('cascade-primary').role, 'primary');
    assert.equal(byName('cascade-cascade').role, 'cascadingReplica');
    assert.equal(byName('cascade-cascade').upstream, byName('cascade-replica-a').key);
    assert.equal(byName('cascade-delayed').applyDelayMs, 300_000, 'recovery_min_apply_delay read with pg_monitor');
    for (const n of ['cascade-replica-a', 'cascade-replica-b', 'cascade-delayed']) assert.equal(byName(n).upstream, byName('cascade-primary').key, n);
    assert.ok((byName('cascade-cascade').lag?.bytes ?? null) !== null, 'lag of the cascade (pg_stat_replication read with pg_monitor)');

    const h = nodeHierarchy(s.nodes);
    const names = (keys: readonly string[] | undefined) => (keys ?? []).map((k) => s.nodes.find((n) => n.key === k)!.name);
    assert.deepEqual(names(h.roots), ['cascade-primary']);
    assert.deepEqual(names(h.children.get(byName('cascade-primary').key)).sort(), ['cascade-delayed', 'cascade-replica-a', 'cascade-replica-b']);
    assert.deepEqual(names(h.children.get(byName('cascade-replica-a').key)), ['cascade-cascade']);
    assert.equal(m.stats.dockerCalls, 0);
  });
});

describe('attach failures say what failed and what to do', { timeout: 600_000 }, () => {
  let certDir: string;

  before(async () => {
    // A TLS-only single server: hostssl in pg_hba.conf, a self-signed certificate for 127.0.0.1.
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-tls-'));
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(certDir, 'server.key'), '-out', path.join(certDir, 'server.crt')]);
    fs.chmodSync(path.join(certDir, 'server.key'), 0o644); // copied and locked down inside the container
    fs.chmodSync(certDir, 0o755);
    const script = [
      'set -e',
      'mkdir -p /tmp/ssl && cp /certs/server.crt /certs/server.key /tmp/ssl/ && chmod 600 /tmp/ssl/server.key',
      'initdb -D /tmp/data -U postgres --auth-local=trust --auth-host=scram-sha-256 >/dev/null',
      "printf 'local all all trust\\nhostssl all all all scram-sha-256\\n' > /tmp/data/pg_hba.conf",
      `echo "ALTER ROLE postgres PASSWORD 'postgres'" | postgres --single -D /tmp/data postgres >/dev/null`,
      "exec postgres -D /tmp/data -c listen_addresses='*' -c ssl=on -c ssl_cert_file=/tmp/ssl/server.crt -c ssl_key_file=/tmp/ssl/server.key",
    ].join('\n');
    await run('docker', ['rm', '-f', TLS_CONTAINER]).catch(() => undefined);
    await run('docker', ['run', '-d', '--name', TLS_CONTAINER, '--user', 'postgres', '-p', `127.0.0.1:${TLS_PORT}:5432`, '-v', `${certDir}:/certs:ro`, '--entrypoint', '/bin/sh', IMAGE, '-c', script]);
    await waitFor(
      async () => {
        const d = await discoverCluster([local(TLS_PORT)], { user: 'postgres', password: 'postgres', database: 'postgres', ssl: { mode: 'require' }, timeoutMs: 2000 });
        return d.nodes.length === 1 ? true : undefined;
      },
      120_000,
      'the TLS-only server to answer',
      1000,
    );
  });
  after(async () => {
    if (!KEEP) await run('docker', ['rm', '-f', TLS_CONTAINER]).catch(() => undefined);
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  const attach = (port: number, o: { password?: string; ssl?: SslSettings } = {}) =>
    discoverCluster([local(port)], { user: 'postgres', password: o.password ?? 'postgres', database: 'postgres', ssl: o.ssl ?? plain, timeoutMs: 3000 });

  test('an unreachable host: nothing answered, connection refused, check that PostgreSQL runs and the port', async () => {
    const d = await attach(NOTHING_PORT);
    assert.equal(d.nodes.length, 0);
    assert.match(d.error ?? '', new RegExp(`no node answered\\. 127\\.0\\.0\\.1:${NOTHING_PORT}: connection refused .*Is PostgreSQL running there, and is the port right\\?`));
  });

  test('a wrong password: the server says so, and the message says to enter it again', async () => {
    await clusterUp();
    const d = await attach(topology.nodes[0].hostPort, { password: 'not-the-password' });
    assert.equal(d.nodes.length, 0);
    assert.match(d.error ?? '', /password authentication failed for user "postgres".*the password \(or user\) is wrong\. Enter it again\./);
  });

  test('a TLS-only server: plain is refused with "only TLS", an untrusted certificate is named, the CA makes verify-full work', async () => {
    const noTls = await attach(TLS_PORT, { ssl: { mode: 'disable' } });
    assert.match(noTls.error ?? '', /no pg_hba\.conf entry .*the server accepts only TLS connections \(hostssl in pg_hba\.conf\)\. Set sslmode=require/);

    const untrusted = await attach(TLS_PORT, { ssl: { mode: 'verify-full' } });
    assert.match(untrusted.error ?? '', /self[- ]signed certificate.*not trusted\. Give the CA certificate that signed it \(sslrootcert\)/);

    const verified = await attach(TLS_PORT, { ssl: { mode: 'verify-full', rootCert: path.join(certDir, 'server.crt') } });
    assert.equal(verified.error, undefined, verified.error);
    assert.equal(verified.nodes.length, 1);

    // The monitor watches it over TLS too (sslmode and certificate honoured by every probe).
    const m = dockerlessMonitor(profileOf(verified, 'postgres', { mode: 'verify-full', rootCert: path.join(certDir, 'server.crt') }), 'postgres');
    const role = await watch(m, (s) => s.nodes[0]?.role === 'primary', 'the TLS server probed', (s) => s.nodes[0].role);
    assert.equal(role, 'primary');
  });

  test('a single server that does not replicate: attachable, with a warning that there is no replication to watch', async () => {
    const d = await attach(TLS_PORT, { ssl: { mode: 'require' } });
    assert.equal(d.error, undefined, d.error);
    assert.equal(d.nodes.length, 1);
    assert.ok(
      d.warnings.some((w) => new RegExp(`127\\.0\\.0\\.1:${TLS_PORT} is a single server: it is not a standby and no standby streams from it, so there is no replication to watch`).test(w)),
      d.warnings.join(' | '),
    );
  });
});
