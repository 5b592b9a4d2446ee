// Exercise 5: replication lag per replica over time, from the monitor's ClusterStatus stream. A
// bounded ring of samples (default: the last 10 minutes at one sample a second) that the lag chart
// draws; pure, so it is tested without a cluster.
//
// API (no vscode):
//   new LagHistory({ windowMs?, maxPoints? })
//   h.add(status, at?) → LagPoint (also when nothing changed: the chart moves on with time)
//   h.points           samples oldest first, none older than windowMs before the newest
//   lagPoint(status, at)  → LagPoint (pure)
import type { ClusterStatus } from '../status';

export interface LagValue {
  /** Bytes behind the primary (replay position). */
  readonly bytes: number | null;
  /** replay_lag in seconds (0 when idle and caught up; null when unknown). */
  readonly seconds: number | null;
}

export interface LagPoint {
  /** Epoch ms. */
  readonly t: number;
  /** Per node key; a node that is not a streaming replica has no entry. */
  readonly v: Readonly<Record<string, LagValue>>;
}

export const LAG_WINDOW_MS = 10 * 60_000;

export function lagPoint(s: ClusterStatus, at: number = s.at): LagPoint {
  const v: Record<string, LagValue> = {};
  for (const n of s.nodes) {
    if (!n.lag) continue;
    v[n.key] = { bytes: n.lag.bytes, seconds: n.lag.replayMs === null ? null : n.lag.replayMs / 1000 };
  }
  return { t: at, v };
}

export class LagHistory {
  private readonly ring: LagPoint[] = [];
  readonly windowMs: number;
  private readonly maxPoints: number;

  constructor(o: { windowMs?: number; maxPoints?: number } = {}) {
    this.windowMs = o.windowMs ?? LAG_WINDOW_MS;
    // A sample a second from the monitor plus the demos' ten a second while they load the cluster.
    this.maxPoints = o.maxPoints ?? 12 * Math.ceil(this.windowMs / 1000);
  }

  add(s: ClusterStatus, at: number = Date.now()): LagPoint {
    const p = lagPoint(s, at);
    this.push(p);
    return p;
  }

  /**
   * Adds a sample in time order (samples from two samplers interleave). Returns false for one
   * older than the window, which is dropped.
   */
  push(p: LagPoint): boolean {
    const last = this.ring[this.ring.length - 1];
    if (last && p.t < last.t - this.windowMs) return false;
    if (!last || p.t >= last.t) this.ring.push(p);
    else {
      let i = this.ring.length - 1;
      while (i > 0 && this.ring[i - 1].t > p.t) i--;
      this.ring.splice(i, 0, p);
    }
    const cutoff = this.ring[this.ring.length - 1].t - this.windowMs;
    let drop = 0;
    while (drop < this.ring.length && this.ring[drop].t < cutoff) drop++;
    drop = Math.max(drop, this.ring.length - this.maxPoints);
    if (drop > 0) this.ring.splice(0, drop);
    return true;
  }

  get points(): readonly LagPoint[] {
    return this.ring;
  }

  clear(): void {
    this.ring.length = 0;
  }
}

/** A demo's pg_stat_replication samples (application_name = service) as chart points, one per moment. */
export function pointsFromSamples(samples: readonly { at: number; replica: string; behindBytes: number; replayLagMs: number }[], keyOfService: (service: string) => string | undefined): LagPoint[] {
  const byTime = new Map<number, Record<string, LagValue>>();
  for (const s of samples) {
    const key = keyOfService(s.replica);
    if (!key) continue;
    const v = byTime.get(s.at) ?? {};
    v[key] = { bytes: Math.max(0, s.behindBytes), seconds: Math.max(0, s.replayLagMs) / 1000 };
    byTime.set(s.at, v);
  }
  return [...byTime.entries()].sort(([a], [b]) => a - b).map(([t, v]) => ({ t, v }));
}
