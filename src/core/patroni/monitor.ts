// Polls a Patroni cluster (REST + etcd) and publishes PatroniStatus, like ClusterMonitor does for
// the SQL side. One round at a time; a round never throws (problems are in the status).
//
// API (no vscode): const m = new PatroniMonitor({ topology, intervalMs }); m.onDidChange(fn);
//   m.start(); await m.refresh(); m.current; m.configure({ topology }); m.dispose()
import { Emitter, type Disposable } from '../emitter';
import { readPatroniStatus, type PatroniStatus } from './status';
import type { PatroniTopology } from './topology';

export class PatroniMonitor implements Disposable {
  private readonly emitter = new Emitter<PatroniStatus>();
  readonly onDidChange = this.emitter.event;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private inFlight: Promise<PatroniStatus> | undefined;
  current: PatroniStatus | undefined;

  constructor(private o: { topology: PatroniTopology; intervalMs?: number; timeoutMs?: number }) {}

  configure(o: Partial<{ topology: PatroniTopology; intervalMs: number }>): void {
    this.o = { ...this.o, ...o };
  }

  get topology(): PatroniTopology {
    return this.o.topology;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule(this.o.intervalMs ?? 2000));
    }, ms);
  }

  refresh(): Promise<PatroniStatus> {
    this.inFlight ??= readPatroniStatus(this.o.topology, { timeoutMs: this.o.timeoutMs ?? 2000 })
      .then((s) => {
        this.current = s;
        this.emitter.fire(s);
        return s;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  /** Resolves with the first status satisfying `pred` (refreshing), or rejects after timeoutMs. */
  async waitFor(pred: (s: PatroniStatus) => boolean, timeoutMs: number, what: string): Promise<PatroniStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.refresh();
      if (pred(s)) return s;
      if (Date.now() > deadline) throw new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}.`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  dispose(): void {
    this.stop();
    this.emitter.dispose();
  }
}

/** Healthy = a running leader and every other member a replica that streams (lag known). */
export function isPatroniHealthy(s: PatroniStatus): boolean {
  const leader = s.members.filter((m) => m.role === 'leader' && m.state === 'running');
  const replicas = s.members.filter((m) => (m.role === 'replica' || m.role === 'sync_standby') && (m.state === 'running' || m.state === 'streaming') && m.lagBytes !== undefined);
  return s.reachable && leader.length === 1 && replicas.length === s.members.length - 1 && s.dcs.quorum;
}
