// LSN arithmetic and the way figures are written for people (tree, status bar, tooltips, reports).
//
// API: parseLsn(lsn) → bigint | undefined, lsnDiffBytes(a, b) → number | undefined,
//      formatBytes(n), formatDuration(ms), formatLag(bytes, ms), nonNegative(v)

/** 'X/Y' (two hex halves) → byte position. undefined for null/garbage. */
export function parseLsn(lsn: string | null | undefined): bigint | undefined {
  if (!lsn) return undefined;
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  if (!m) return undefined;
  return (BigInt('0x' + m[1]) << 32n) + BigInt('0x' + m[2]);
}

/** a − b in bytes (like pg_wal_lsn_diff); undefined when either side is unknown. */
export function lsnDiffBytes(a: string | null | undefined, b: string | null | undefined): number | undefined {
  const x = parseLsn(a);
  const y = parseLsn(b);
  return x === undefined || y === undefined ? undefined : Number(x - y);
}

/**
 * A lag or an age is never below zero. Two figures read at slightly different moments (the
 * upstream's LSN, then a replay position that has moved past it; now() on a standby whose last
 * replayed commit carries the primary's slightly later clock) can subtract to a small negative:
 * that means "caught up", so it is shown as 0. null/undefined (unknown) stay unknown.
 */
export function nonNegative<T extends number | null | undefined>(v: T): T {
  return (typeof v === 'number' && v < 0 ? 0 : v) as T;
}

/** 0 B, 512 B, 1.5 kB ... binary units as PostgreSQL's pg_size_pretty (kB, MB, GB, TB). */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '?';
  const sign = n < 0 ? '-' : '';
  let v = Math.abs(n);
  if (v < 1024) return `${sign}${Math.round(v)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${sign}${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

/** 3 ms, 850 ms, 1.2 s, 42 s, 3 min 5 s, 2 h 4 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '?';
  const sign = ms < 0 ? '-' : '';
  const v = Math.abs(ms);
  if (v < 1000) return `${sign}${Math.round(v)} ms`;
  if (v < 10_000) return `${sign}${(v / 1000).toFixed(1)} s`;
  if (v < 60_000) return `${sign}${Math.round(v / 1000)} s`;
  const s = Math.round(v / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} min ${s % 60} s`;
  return `${sign}${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** "0 B · 3 ms", "12 MB · ?" for a replica's lag. */
export function formatLag(bytes: number | null | undefined, ms: number | null | undefined): string {
  return `${formatBytes(nonNegative(bytes))} · ${formatDuration(nonNegative(ms))}`;
}
