// The load's ledger over a long run: memory kept, CPU of one progress tick and of the RPO check,
// after a short and a long simulated run at the load's top rate (5,000 writes/s), side by side
// with the previous ledger (one object per acknowledged write, a scan per tick, a Set of every key
// for the RPO check). Flat means the long/short ratio stays near 1.
//   node --expose-gc --import tsx bench/ledger-growth.ts [shortSeconds] [longSeconds]
// No cluster needed: the writes are recorded as the load generator records them.
import { execFileSync } from 'node:child_process';
import { measureRpo, SeqRanges, WriteLedger, writeKey, type LedgerWrite } from '../src/core/ledger';

const RATE = 5000;
const shortS = Number(process.argv[2] === '--one' ? 0 : (process.argv[2] ?? 60));
const longS = Number(process.argv[3] ?? 480);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** The previous ledger, as it was: every write kept, counters recomputed by a scan. */
class PreviousLedger {
  readonly writes: LedgerWrite[] = [];
  recordAck(w: LedgerWrite): void {
    this.writes.push(w);
  }
  get ackedRows(): number {
    let n = 0;
    for (const w of this.writes) n += w.rows;
    return n;
  }
}

function heapMb(): number {
  gc!();
  gc!();
  return process.memoryUsage().heapUsed / 1e6;
}

function cpuMs(f: () => unknown, times = 5): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < times; i++) f();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / times;
}

function run(kind: 'previous' | 'ranges', seconds: number) {
  const n = RATE * seconds;
  const before = heapMb();
  const runId = 'bench';
  const lost = 25; // the old primary's last writes, not on the new primary
  let tick: () => unknown;
  let rpo: () => number;
  if (kind === 'previous') {
    const l = new PreviousLedger();
    for (let seq = 1; seq <= n; seq++) l.recordAck({ seq, key: writeKey(runId, seq), id: seq, rows: 1, sentAt: seq / 5, ackAt: seq / 5 + 1, node: 'postgres-primary' });
    const kept = heapMb() - before;
    tick = () => [l.writes.length, l.ackedRows, l.writes[l.writes.length - 1]];
    // The previous RPO check: every present key in a Set, every write looked up.
    rpo = () => {
      const present = new Set<string>();
      for (let seq = 1; seq <= n - lost; seq++) present.add(writeKey(runId, seq));
      return l.writes.filter((w) => !present.has(w.key)).length;
    };
    return { kind, seconds, writes: n, keptMb: kept, tickMs: cpuMs(tick, 20), rpoMs: cpuMs(rpo, 1), lost: rpo() };
  }
  const l = new WriteLedger(runId);
  for (let seq = 1; seq <= n; seq++) l.recordAck({ seq, key: writeKey(runId, seq), id: seq, rows: 1, sentAt: seq / 5, ackAt: seq / 5 + 1, node: 'postgres-primary' });
  const kept = heapMb() - before;
  tick = () => [l.acked, l.ackedRows, l.lastFailure];
  // presentSeqs hands the database's answer over as ranges (gaps and islands).
  rpo = () => measureRpo(l, SeqRanges.fromRanges([[1, n - lost]]), { onNode: 'postgres-primary' }).lostWrites;
  return { kind, seconds, writes: n, keptMb: kept, tickMs: cpuMs(tick, 20_000), rpoMs: cpuMs(rpo, 5), lost: rpo() };
}

// Each case in a process of its own, so one case's garbage never counts in another's memory.
type Row = ReturnType<typeof run>;
function inChild(kind: 'previous' | 'ranges', seconds: number): Row {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--one', kind, String(seconds)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()!) as Row;
}
if (process.argv[2] === '--one') {
  console.log(JSON.stringify(run(process.argv[3] as 'previous' | 'ranges', Number(process.argv[4]))));
  process.exit(0);
}
const rows = [inChild('previous', shortS), inChild('ranges', shortS), inChild('previous', longS), inChild('ranges', longS)];
console.log(`ledger at ${RATE} writes/s, ${shortS} s vs ${longS} s of load (x${(longS / shortS).toFixed(0)} writes)`);
console.log('ledger    seconds     writes  kept MB  tick ms  RPO ms  lost');
for (const r of rows) console.log(`${r.kind.padEnd(9)} ${String(r.seconds).padStart(7)} ${String(r.writes).padStart(10)} ${r.keptMb.toFixed(1).padStart(8)} ${r.tickMs.toFixed(3).padStart(8)} ${r.rpoMs.toFixed(1).padStart(7)} ${String(r.lost).padStart(5)}`);
const ratio = (k: 'previous' | 'ranges', f: 'keptMb' | 'tickMs' | 'rpoMs') => {
  const a = rows.find((r) => r.kind === k && r.seconds === shortS)![f];
  const b = rows.find((r) => r.kind === k && r.seconds === longS)![f];
  return (Math.max(b, 0.001) / Math.max(a, 0.001)).toFixed(1);
};
console.log(`long/short ratio  previous: memory x${ratio('previous', 'keptMb')}, tick x${ratio('previous', 'tickMs')}, RPO x${ratio('previous', 'rpoMs')}`);
console.log(`long/short ratio  ranges:   memory x${ratio('ranges', 'keptMb')}, tick x${ratio('ranges', 'tickMs')}, RPO x${ratio('ranges', 'rpoMs')}`);
