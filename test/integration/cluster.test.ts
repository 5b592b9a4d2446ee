// The workshop cluster itself, on a real Docker engine, demo by demo as the workshop README runs
// them. Tests run in order: the failover demos come last and `down -v` ends the file.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Client } from 'pg';
import { withOperationLock } from '../../src/core/operationLock';
import { composeDown, composePs, composeUp, detectComposeCli, ComposeError } from '../../src/docker/compose';
import {
  clusterUp,
  containerOf,
  containers,
  docker,
  isInRecovery,
  nodePort,
  pgClient,
  query,
  runClusterScript,
  scriptEnv,
  streamingReplicas,
  topology,
  waitFor,
} from '../support/cluster';

const replicas = ['replica1', 'replica2'] as const;

describe('workshop cluster (cluster/docker-compose.yml)', { timeout: 900_000 }, () => {
  before(async () => {
    await clusterUp();
  });

  test('Setup: up → all four services healthy and 2 replicas streaming asynchronously', async (t) => {
    const cli = await detectComposeCli();
    t.diagnostic(`compose CLI: ${cli.label} (${cli.version})`);
    const ps = await composePs(topology, docker);
    assert.deepEqual(
      ps.map((p) => [p.container, p.state, p.health]),
      [topology.pgbouncer.container, ...topology.nodes.map((n) => n.container)].sort().map((c) => [c, 'running', 'healthy']),
    );
    const rows = await query<{ application_name: string; state: string; sync_state: string }>(
      'primary',
      'SELECT application_name, state, sync_state FROM pg_stat_replication ORDER BY application_name',
      [],
      'postgres',
    );
    assert.deepEqual(rows, [
      { application_name: 'postgres-replica1', state: 'streaming', sync_state: 'async' },
      { application_name: 'postgres-replica2', state: 'streaming', sync_state: 'async' },
    ]);
  });

  test('From a terminal: scripts/compose.sh (docker compose, else docker-compose) lists the services in cluster/', async () => {
    const { spawnSync } = await import('node:child_process');
    const path = await import('node:path');
    const r = spawnSync('bash', [path.join(path.dirname(topology.composeFile), '..', 'scripts', 'compose.sh'), 'ps'], { env: scriptEnv(), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const name of [...topology.nodes.map((n) => n.container), topology.pgbouncer.container]) {
      assert.match(r.stdout, new RegExp(`${name}\\b[^\\n]*(Up|running)[^\\n]*healthy`), `${name} listed as up and healthy`);
    }
  });

  test('Setup: the cluster contract (ports on 127.0.0.1, demodb.users, replicator role, one active slot per replica, settings)', async () => {
    for (const name of [...topology.nodes.map((n) => n.container), topology.pgbouncer.container]) {
      const info = await containers.inspect(name);
      const bindings = Object.values(info.HostConfig.PortBindings ?? {}).flat() as { HostIp: string }[];
      assert.ok(bindings.length > 0, `${name} publishes a port`);
      for (const b of bindings) assert.equal(b.HostIp, '127.0.0.1', `${name} publishes on 127.0.0.1 only`);
    }
    const cols = await query<{ column_name: string }>('primary', "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position");
    assert.deepEqual(cols.map((c) => c.column_name), ['id', 'name', 'email', 'created_at']);
    const role = await query<{ rolreplication: boolean; rolcanlogin: boolean }>('primary', "SELECT rolreplication, rolcanlogin FROM pg_roles WHERE rolname = 'replicator'");
    assert.deepEqual(role, [{ rolreplication: true, rolcanlogin: true }]);
    const slots = await query<{ slot_name: string; slot_type: string; active: boolean }>('primary', 'SELECT slot_name, slot_type, active FROM pg_replication_slots ORDER BY slot_name');
    assert.deepEqual(slots, [
      { slot_name: 'postgres_replica1', slot_type: 'physical', active: true },
      { slot_name: 'postgres_replica2', slot_type: 'physical', active: true },
    ]);
    for (const key of ['primary', ...replicas] as const) {
      const s = await query<{ name: string; setting: string }>(
        key,
        "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'hot_standby', 'wal_log_hints', 'cluster_name', 'synchronous_standby_names') ORDER BY name",
      );
      assert.deepEqual(Object.fromEntries(s.map((r) => [r.name, r.setting])), {
        cluster_name: topology.nodes.find((n) => n.key === key)!.service,
        hot_standby: 'on',
        synchronous_standby_names: '',
        wal_level: 'replica',
        wal_log_hints: 'on',
      });
    }
    // Troubleshooting: "docker exec postgres-primary cat /etc/postgresql/pg_hba.conf"
    const hba = await containers.exec(containerOf('primary'), ['cat', '/etc/postgresql/pg_hba.conf']);
    assert.equal(hba.exitCode, 0);
    assert.match(hba.stdout, /^host\s+replication\s+all\s+all\s+scram-sha-256/m);
  });

  test('Demo 1: a row inserted on the primary appears on both replicas (visibility latency printed)', async (t) => {
    const readers: Record<string, Client> = {};
    for (const r of replicas) readers[r] = await pgClient(t, r);
    const primary = await pgClient(t, 'primary');
    const name = `demo1-${Date.now()}`;
    const inserted = Date.now();
    const { rows } = await primary.query<{ id: number }>('INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', [name, `${name}@example.com`]);
    const id = rows[0].id;
    const latencies = await Promise.all(
      replicas.map(async (r) => {
        await waitFor(async () => (await readers[r].query('SELECT 1 FROM users WHERE id = $1 AND name = $2', [id, name])).rowCount === 1, 10_000, `row ${id} on ${r}`, 5);
        return Date.now() - inserted;
      }),
    );
    t.diagnostic(`Demo 1 visibility latency: replica1 ${latencies[0]} ms, replica2 ${latencies[1]} ms (workshop: < 1 s)`);
    console.log(`# Demo 1 visibility latency: replica1 ${latencies[0]} ms, replica2 ${latencies[1]} ms`);
  });

  test("Demo 1: a write on a replica fails with PostgreSQL's read-only error", async () => {
    for (const r of replicas) {
      await assert.rejects(
        query(r, "INSERT INTO users (name, email) VALUES ('must-fail', 'must-fail@example.com')"),
        (e: Error & { code?: string }) => e.code === '25006' && /cannot execute INSERT in a read-only transaction/.test(e.message),
      );
    }
  });

  test('Demo 7: PgBouncer serves demodb and answers SHOW POOLS / SHOW STATS on its admin database', async () => {
    const port = topology.pgbouncer.hostPort;
    const via = await query<{ n: string; primary: boolean }>(port, 'SELECT count(*) AS n, NOT pg_is_in_recovery() AS primary FROM users');
    assert.ok(Number(via[0].n) >= 3);
    assert.equal(via[0].primary, true, 'PgBouncer leads to the primary');
    const pools = await query<{ database: string }>(port, 'SHOW POOLS', [], 'pgbouncer');
    assert.ok(pools.some((p) => p.database === 'demodb'), 'SHOW POOLS lists demodb');
    const stats = await query<{ database: string; total_xact_count: string }>(port, 'SHOW STATS', [], 'pgbouncer');
    const demodb = stats.find((s) => s.database === 'demodb');
    assert.ok(demodb && Number(demodb.total_xact_count) >= 1, 'SHOW STATS counts demodb transactions');
  });

  test('Bad input: a host port already taken is named with how to free it, and nothing is destroyed', async () => {
    const net = await import('node:net');
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const other = { ...topology, projectName: `${topology.projectName}x`, containerPrefix: 'pghax-', pgbouncer: { ...topology.pgbouncer, hostPort: taken, container: 'pghax-pgbouncer' } };
      await assert.rejects(composeUp(other), (e: unknown) => {
        assert.ok(e instanceof ComposeError);
        assert.equal(e.problem, 'portTaken');
        assert.match(e.message, new RegExp(`Port ${taken} on 127\\.0\\.0\\.1 \\(for pgbouncer\\) is already in use`));
        assert.match(e.message, /PGHA_PGBOUNCER_PORT=<free port>/);
        return true;
      });
      // The running cluster's own ports are not a conflict for itself, and it is untouched.
      await composeUp(topology);
      assert.deepEqual(await streamingReplicas(), ['postgres-replica1', 'postgres-replica2']);
    } finally {
      blocker.close();
    }
  });

  test('Bad input: Docker not running gives a clear message', async () => {
    const Docker = (await import('dockerode')).default;
    const dead = new Docker({ socketPath: '/nonexistent/docker.sock' });
    await assert.rejects(composeDown(topology, { docker: dead, volumes: true }), (e: unknown) => {
      assert.ok(e instanceof ComposeError);
      assert.equal(e.problem, 'notRunning');
      assert.match(e.message, /no Docker engine answers/);
      return true;
    });
    assert.equal(await isInRecovery('primary'), false, 'the cluster is still there');
  });

  test('Restart: docker stop / docker start of a replica resumes streaming on its own data (no re-clone)', async () => {
    const c = containerOf('replica2');
    await containers.stop(c);
    await containers.start(c);
    await waitFor(async () => (await streamingReplicas()).includes('postgres-replica2'), 60_000, 'replica2 streaming again');
    const logs = await containers.logs(c, 400);
    assert.match(logs, /starting as a standby on existing data/);
  });

  test('Troubleshooting: a replica whose data directory was emptied re-clones itself on start', async () => {
    const c = containerOf('replica1');
    await containers.exec(c, ['sh', '-c', 'rm -rf /var/lib/postgresql/data/*']);
    await containers.restart(c, 5);
    await waitFor(async () => (await streamingReplicas()).includes('postgres-replica1'), 90_000, 'replica1 streaming after re-clone');
    assert.match(await containers.logs(c, 400), /cloning postgres-primary with pg_basebackup \(slot postgres_replica1\)/);
    const id = (await query<{ id: number }>('primary', "INSERT INTO users (name, email) VALUES ('after-reclone', 'r@example.com') RETURNING id"))[0].id;
    await waitFor(async () => (await query('replica1', 'SELECT 1 FROM users WHERE id = $1', [id])).length === 1, 10_000, 'new row on re-cloned replica1');
  });

  test('Demo 4: docker stop postgres-primary + ./promote-replica.sh postgres-replica1 → port 5433 accepts writes, earlier rows kept', async (t) => {
    const before = await query<{ id: number }>('primary', "INSERT INTO users (name, email) VALUES ('BeforeFailover', 'before@example.com') RETURNING id");
    await waitFor(async () => (await query('replica1', 'SELECT 1 FROM users WHERE id = $1', [before[0].id])).length === 1, 10_000, 'row on replica1');
    await containers.stop(containerOf('primary'));
    const r = await runClusterScript('promote-replica.sh', ['postgres-replica1']);
    t.diagnostic(`promote-replica.sh: exit ${r.code} in ${r.ms} ms`);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /is now a primary/);
    assert.equal(await isInRecovery('replica1'), false);
    const after = await query<{ id: number }>('replica1', "INSERT INTO users (name, email) VALUES ('AfterFailover', 'after@example.com') RETURNING id");
    assert.ok(after[0].id > before[0].id);
    const kept = await query('replica1', 'SELECT 1 FROM users WHERE id = $1', [before[0].id]);
    assert.equal(kept.length, 1, 'rows written before the failover are on the new primary');
    t.diagnostic(`new primary on port ${nodePort('replica1')}`);
  });

  test('Demo 6: docker start postgres-primary afterwards → two writable nodes (split brain)', async () => {
    await containers.start(containerOf('primary'));
    await waitFor(async () => (await isInRecovery('primary')) === false, 60_000, 'old primary back');
    assert.equal(await isInRecovery('primary'), false, 'old primary says false');
    assert.equal(await isInRecovery('replica1'), false, 'new primary says false');
    const a = await query<{ id: number }>('primary', "INSERT INTO users (name, email) VALUES ('split-old', 'o@example.com') RETURNING id");
    const b = await query<{ id: number }>('replica1', "INSERT INTO users (name, email) VALUES ('split-new', 'n@example.com') RETURNING id");
    assert.ok(a[0].id > 0 && b[0].id > 0, 'both accepted a write');
  });

  test('Cleanup: down -v removes the containers and the volumes, also while the operation lock is held (as the Cleanup command holds it)', async () => {
    // The lock container sits on the cluster's network; Docker refuses to remove a network with active endpoints.
    await withOperationLock({ topology, containers }, { holder: 'cluster.test.ts', what: 'Cleanup' }, () => composeDown(topology, { volumes: true }));
    const ps = await composePs(topology, docker);
    assert.deepEqual(ps, []);
    const volumes = (await docker.listVolumes()).Volumes ?? [];
    assert.deepEqual(volumes.filter((v) => v.Name.startsWith(`${topology.projectName}_`)).map((v) => v.Name), []);
  });
});
