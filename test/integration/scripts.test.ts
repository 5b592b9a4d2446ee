// The workshop's shell scripts in cluster/, run exactly as the workshop README runs them
// (`./test-replication.sh`, `./generate-load.sh 120 2`, `./promote-replica.sh postgres-replica1`),
// with psql on this machine and, when there is none, through docker exec.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { clusterUp, containerOf, containers, isInRecovery, query, runClusterScript, waitFor } from '../support/cluster';

/** A PATH with every program of this machine except the PostgreSQL client tools. */
function pathWithoutPsql(): { PATH: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgha-nopsql-'));
  for (const d of ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) {
      if (/^(psql|pg_|createdb|dropdb|createuser|dropuser|pgbench|vacuumdb|reindexdb|clusterdb)/.test(f)) continue;
      const target = path.join(dir, f);
      if (!fs.existsSync(target)) fs.symlinkSync(path.join(d, f), target);
    }
  }
  return { PATH: dir, dir };
}

async function rowCount(): Promise<number> {
  return Number((await query<{ n: string }>('primary', 'SELECT count(*) AS n FROM users'))[0].n);
}

describe('workshop scripts (cluster/*.sh)', { timeout: 900_000 }, () => {
  let noPsql: { PATH: string; dir: string };

  before(async () => {
    noPsql = pathWithoutPsql();
    await clusterUp();
  });
  after(() => fs.rmSync(noPsql.dir, { recursive: true, force: true }));

  for (const script of ['test-replication.sh', 'generate-load.sh', 'promote-replica.sh']) {
    test(`${script} --help explains its use and exits 0`, async () => {
      const r = await runClusterScript(script, ['--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: \\./${script.replace('.', '\\.')}`));
    });
  }

  test('./test-replication.sh prints the four expected outputs and exits 0 (psql on this machine)', async (t) => {
    const r = await runClusterScript('test-replication.sh');
    t.diagnostic(r.stdout.split('\n').filter((l) => /PASS|FAIL/.test(l)).join(' | '));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /✓ PASS primary has 2 streaming replicas/);
    assert.match(r.stdout, /✓ PASS postgres-replica1 \(port \d+\): pg_is_in_recovery\(\) = true/);
    assert.match(r.stdout, /✓ PASS postgres-replica2 \(port \d+\): pg_is_in_recovery\(\) = true/);
    assert.match(r.stdout, /✓ PASS row id=\d+ visible on postgres-replica1/);
    assert.match(r.stdout, /✓ PASS row id=\d+ visible on postgres-replica2/);
    assert.match(r.stdout, /✓ PASS postgres-replica1 rejected the write: cannot execute INSERT in a read-only transaction/);
    assert.match(r.stdout, /✓ PASS postgres-replica2 rejected the write: cannot execute INSERT in a read-only transaction/);
    assert.doesNotMatch(r.stdout, /FAIL/);
  });

  test('./test-replication.sh works without psql on this machine (docker exec)', async () => {
    const r = await runClusterScript('test-replication.sh', [], { PATH: noPsql.PATH });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout.match(/✓ PASS/g) ?? []).length, 7);
  });

  test('./test-replication.sh exits 1 naming the failed checks when a replica is down', async () => {
    const c = containerOf('replica2');
    await containers.stop(c);
    try {
      const r = await runClusterScript('test-replication.sh');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /✗ FAIL primary has 1 streaming replicas, expected 2/);
      assert.match(r.stdout, /✗ FAIL postgres-replica2 \(port \d+\) does not answer/);
      assert.match(r.stdout, /check\(s\) failed/);
    } finally {
      await containers.start(c);
    }
    await waitFor(async () => (await query('replica2', 'SELECT pg_is_in_recovery() AS r', [], 'postgres')).length === 1, 60_000, 'replica2 back');
  });

  test('./test-replication.sh says how to start the cluster when the primary does not answer', async () => {
    const r = await runClusterScript('test-replication.sh', [], { PGHA_PRIMARY_PORT: '1' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /The primary does not answer on 127\.0\.0\.1:1/);
    assert.match(r.stderr, /docker compose up -d/);
  });

  test('./generate-load.sh with missing or non-numeric arguments: a clear message, exit 2, nothing written', async () => {
    const before = await rowCount();
    for (const [args, msg] of [
      [[], /expected DURATION and RATE \(got 0 argument\(s\)\)/],
      [['10'], /expected DURATION and RATE \(got 1 argument\(s\)\)/],
      [['ten', '2'], /DURATION must be a whole number of seconds > 0 \(got 'ten'\)/],
      [['10', 'fast'], /RATE must be a number of inserts per second/],
      [['0', '2'], /DURATION must be a whole number of seconds > 0 \(got '0'\)/],
      [['10', '0'], /RATE must be a number/],
    ] as const) {
      const r = await runClusterScript('generate-load.sh', [...args]);
      assert.equal(r.code, 2, `args ${JSON.stringify(args)}`);
      assert.match(r.stderr, msg);
    }
    assert.equal(await rowCount(), before);
  });

  test('./generate-load.sh 3 4 writes rows and prints a summary of writes ok / failed', async () => {
    const before = await rowCount();
    const r = await runClusterScript('generate-load.sh', ['3', '4']);
    assert.equal(r.code, 0, r.stderr);
    const ok = Number(/writes ok: +(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(ok >= 1, r.stdout);
    assert.match(r.stdout, /writes failed: +0/);
    assert.match(r.stdout, /write #1 ok \(id \d+\)/);
    assert.equal(await rowCount(), before + ok, 'every reported write is in the table');
  });

  test('./generate-load.sh keeps going when the primary dies, reports each error, then summarizes', async (t) => {
    const before = await rowCount();
    const load = runClusterScript('generate-load.sh', ['12', '4']);
    await waitFor(async () => (await rowCount()) > before, 10_000, 'a first load write', 100);
    await containers.stop(containerOf('primary'));
    const r = await load;
    await containers.start(containerOf('primary'));
    t.diagnostic(r.stdout.split('\n').slice(-6).join(' | '));
    assert.equal(r.code, 0, r.stderr);
    const ok = Number(/writes ok: +(\d+)/.exec(r.stdout)?.[1]);
    const failed = Number(/writes failed: +(\d+)/.exec(r.stdout)?.[1]);
    assert.ok(ok >= 1, 'writes before the stop succeeded');
    assert.ok(failed >= 1, 'writes after the stop failed');
    assert.equal((r.stdout.match(/write #\d+ FAILED: /g) ?? []).length, failed, 'each failure reported');
    assert.match(r.stdout, /first failure: \d\d:\d\d:\d\d/);
    await waitFor(async () => !(await isInRecovery('primary')), 60_000, 'primary back');
  });

  test('./generate-load.sh works without psql on this machine (docker exec)', async () => {
    const r = await runClusterScript('generate-load.sh', ['2', '2', '--quiet'], { PATH: noPsql.PATH });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /psql on docker/);
    assert.match(r.stdout, /writes failed: +0/);
  });

  test('./promote-replica.sh refuses an unknown container and a node that is already primary; nothing changes', async () => {
    const unknown = await runClusterScript('promote-replica.sh', ['postgres-replica9']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown container 'postgres-replica9': the cluster's nodes are \S*postgres-primary \S*postgres-replica1 \S*postgres-replica2$/m);
    const missing = await runClusterScript('promote-replica.sh', []);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /name the replica to promote/);
    for (const env of [{}, { PATH: noPsql.PATH }]) {
      const primary = await runClusterScript('promote-replica.sh', ['postgres-primary'], env);
      assert.equal(primary.code, 1);
      assert.match(primary.stderr, /is already a primary \(pg_is_in_recovery\(\) = false\): nothing to promote/);
    }
    assert.equal(await isInRecovery('primary'), false);
    assert.equal(await isInRecovery('replica1'), true);
    assert.equal(await isInRecovery('replica2'), true);
  });

  test('./promote-replica.sh on a stopped container says to start it', async () => {
    const c = containerOf('replica2');
    await containers.stop(c);
    try {
      const r = await runClusterScript('promote-replica.sh', ['postgres-replica2']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is exited, not running: start it first \(docker start /);
    } finally {
      await containers.start(c);
    }
    await waitFor(async () => await isInRecovery('replica2'), 60_000, 'replica2 back');
  });

  test('./promote-replica.sh without psql on this machine promotes through docker exec (warns: split brain)', async () => {
    const r = await runClusterScript('promote-replica.sh', ['postgres-replica2'], { PATH: noPsql.PATH });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /still accepts writes\. Promoting \S+ makes TWO primaries/);
    assert.match(r.stdout, /is now a primary/);
    assert.equal(await isInRecovery('replica2'), false);
    // The cluster is no longer standard: the next clusterUp() recreates it.
  });
});
