// Base backup and point-in-time restore time against the database size, side by side.
//   node --import tsx bench/backup-restore.ts [--sizes 16,64,192] [--rounds 1]
// For each size (MB of table data in demodb, written by the bench in table bench_payload): take a
// base backup (pg_basebackup, fast checkpoint), then restore it into a NEW node up to the end of
// the archive (copy + WAL replay + promotion), and print seconds, MB/s and the ratio to the
// smallest size. A linear cost gives time ratios close to the size ratios. Uses the cluster of
// the PGHA_* environment; it writes up to the largest size into demodb and drops the table at the
// end (its backups stay on the backup volume: remove them with docker exec ... rm -rf /backup/base/*).
import { parseArgs } from 'node:util';
import { readBackupCatalog, removeRestoredNode, restoreToPointInTime, takeBaseBackup, type BackupContext } from '../src/core/backup';
import { withNodeClient } from '../src/core/connection';
// The tests' own cluster (never the workshop's), brought up in its standard shape.
import { clusterUp, containers, topology as t } from '../test/support/cluster';

const { values: opt } = parseArgs({ options: { sizes: { type: 'string', default: '16,64,192' }, rounds: { type: 'string', default: '1' } } });
const sizes = opt.sizes.split(',').map(Number).sort((a, b) => a - b);
const rounds = Number(opt.rounds);
const ctx: BackupContext = { topology: t, containers };
const port = t.nodes.find((n) => n.key === 'primary')!.hostPort;
const sql = (text: string) => withNodeClient(t, port, (c) => c.query(text), { connectTimeoutMs: 20_000, queryTimeoutMs: 1_200_000 });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  await clusterUp();
  await readBackupCatalog(ctx); // fails early with a clear message when the cluster has no backup volume
  await sql('CREATE TABLE IF NOT EXISTS bench_payload (id bigserial PRIMARY KEY, pad text NOT NULL)');
  await sql('TRUNCATE bench_payload');
  const rows: { mb: number; dbMb: number; backupS: number; restoreS: number; copyS: number; replayS: number }[] = [];
  let have = 0;
  for (const mb of sizes) {
    // ~1 kB per row: mb * 1024 rows per MB (random text, so it does not compress away).
    await sql(`INSERT INTO bench_payload (pad) SELECT string_agg(md5(random()::text), '') FROM generate_series(1, ${(mb - have) * 1024}) g, generate_series(1, 32) k GROUP BY g`);
    have = mb;
    const dbMb = Number((await sql("SELECT pg_database_size('demodb') AS n")).rows[0].n) / 1048576;
    const b: number[] = [];
    const r: number[] = [];
    const cp: number[] = [];
    const rp: number[] = [];
    for (let i = 0; i < rounds; i++) {
      let t0 = Date.now();
      const bb = await takeBaseBackup(ctx);
      b.push((Date.now() - t0) / 1000);
      t0 = Date.now();
      const node = await restoreToPointInTime(ctx, { target: { kind: 'end' }, backup: bb.name });
      r.push((Date.now() - t0) / 1000);
      cp.push((node.copyMs ?? 0) / 1000);
      rp.push((node.replayMs ?? 0) / 1000);
      await removeRestoredNode(ctx, node.container);
      console.error(`# ${mb} MB: backup ${b[b.length - 1].toFixed(1)} s, restore ${r[r.length - 1].toFixed(1)} s (${node.stoppedAt ?? ''})`);
    }
    rows.push({ mb, dbMb, backupS: median(b), restoreS: median(r), copyS: median(cp), replayS: median(rp) });
  }
  await sql('DROP TABLE bench_payload');
  const base = rows[0];
  console.log('| data | database | base backup | restore (copy + replay) | size ratio | backup ratio | restore ratio |');
  console.log('|---|---|---|---|---|---|---|');
  for (const x of rows) {
    console.log(
      `| ${x.mb} MB | ${x.dbMb.toFixed(0)} MB | ${x.backupS.toFixed(1)} s (${(x.dbMb / x.backupS).toFixed(0)} MB/s) | ${x.restoreS.toFixed(1)} s (${x.copyS.toFixed(1)} + ${x.replayS.toFixed(1)}) | ${(x.dbMb / base.dbMb).toFixed(1)}× | ${(x.backupS / base.backupS).toFixed(1)}× | ${(x.restoreS / base.restoreS).toFixed(1)}× |`,
    );
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
