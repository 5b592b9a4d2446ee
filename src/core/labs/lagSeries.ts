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
    this.maxPoints = o.maxPoints ?? 2 * Math.ceil(this.windowMs / 1000);
  }

  add(s: ClusterStatus, at: number = Date.now()): LagPoint {
    const p = lagPoint(s, at);
    this.push(p);
    return p;
  }

  push(p: LagPoint): void {
    const last = this.ring[this.ring.length - 1];
    if (last && p.t < last.t) return; // keep time order
    this.ring.push(p);
    const cutoff = p.t - this.windowMs;
    let drop = 0;
    while (drop < this.ring.length && this.ring[drop].t < cutoff) drop++;
    drop = Math.max(drop, this.ring.length - this.maxPoints);
    if (drop > 0) this.ring.splice(0, drop);
  }

  get points(): readonly LagPoint[] {
    return this.ring;
  }

  clear(): void {
    this.ring.length = 0;
  }
}
