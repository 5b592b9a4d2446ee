// The live cluster picture: container states from Docker (events at once, a slow inspect as a
// safety net) and one round of SQL per running node every poll interval, combined by
// deriveStatus into a ClusterStatus that views and features subscribe to.
//
// API (no vscode):
//   const m = new ClusterMonitor({ docker, topology, pollIntervalMs?, thresholds?, log? });
//   m.start() / m.stop()            enable / disable (stop closes pools and the event stream)
//   m.onDidChange(listener)         → Disposable; fires when the status changes (not on every poll)
//   m.current                       last ClusterStatus (undefined before the first round)
//   m.refresh()                     one full round now (containers + every node) → ClusterStatus
//   m.waitFor(pred, timeoutMs, what?) resolves with the first status that satisfies pred
//   m.configure({ topology?, thresholds?, pollIntervalMs?, docker? })  settings changed
//   m.stats                         counters (queries, Docker calls, events) for benchmarks
// Polling runs only while started AND someone listens (onDidChange or waitFor): idle otherwise.
// Each node is polled by its own loop, so a hung node never delays the others; a node whose
// container is not running gets no connection attempts at all.
import type Docker from 'dockerode';
import { Pool } from 'pg';
import { Containers, DockerError, toDockerError } from '../docker/engine';
import { classifyPgError, nodeClientConfig } from './connection';
import { Emitter, type Disposable } from './emitter';
import { probeNode, probePgBouncer, type NodeProbe, type PgBouncerProbe } from './probe';
import { DEFAULT_THRESHOLDS, deriveStatus, type ClusterStatus, type ContainerSnapshot, type ContainerState, type Thresholds } from './status';
import type { ClusterTopology, NodeKey } from './topology';

export interface MonitorLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

export interface MonitorOptions {
  readonly docker: Docker;
  readonly topology: ClusterTopology;
  /** SQL poll per node; default 1000 ms. */
  readonly pollIntervalMs?: number;
  readonly thresholds?: Thresholds;
  readonly log?: MonitorLog;
  /** Subscribe to Docker events (default true). Off: container states come from polling only. */
  readonly dockerEvents?: boolean;
}

export interface MonitorStats {
  /** SQL statements sent (one per node probe, two per PgBouncer probe). */
  queries: number;
  probes: number;
  dockerCalls: number;
  dockerEvents: number;
  emits: number;
}

type Target = NodeKey | 'pgbouncer';

const VOLATILE = new Set(['probedAt', 'replyAgeMs', 'lastMessageAgeMs', 'lastReplayAgeMs']);

export class ClusterMonitor implements Disposable {
  private docker: Docker;
  private containers: Containers;
  private topology: ClusterTopology;
  private thresholds: Thresholds;
  private interval: number;
  private readonly log?: MonitorLog;
  private readonly useEvents: boolean;

  private started = false;
  private running = false; // loops active
  private holds = 0; // waitFor callers
  private readonly emitter: Emitter<ClusterStatus>;
  private snapshot: ContainerSnapshot | undefined;
  private readonly probes = new Map<Target, NodeProbe | PgBouncerProbe>();
  private readonly pools = new Map<Target, Pool>();
  private readonly timers = new Map<Target | 'containers' | 'events', NodeJS.Timeout>();
  private readonly inFlight = new Set<Target>();
  private readonly failingSince = new Map<Target, number>();
  private closeEvents: (() => void) | undefined;
  private eventsLive = false;
  private deriveQueued = false;
  private lastKey = '';
  private currentStatus: ClusterStatus | undefined;
  private generation = 0; // bumps on configure/stop: late results of an older generation are dropped

  readonly stats: MonitorStats = { queries: 0, probes: 0, dockerCalls: 0, dockerEvents: 0, emits: 0 };

  constructor(opts: MonitorOptions) {
    this.docker = opts.docker;
    this.containers = new Containers(opts.docker);
    this.topology = opts.topology;
    this.thresholds = opts.thresholds ?? DEFAULT_THRESHOLDS;
    this.interval = Math.max(100, opts.pollIntervalMs ?? 1000);
    this.log = opts.log;
    this.useEvents = opts.dockerEvents ?? true;
    this.emitter = new Emitter<ClusterStatus>(
      () => this.updateActivity(),
      () => this.updateActivity(),
      (e) => this.log?.warn(`A cluster status listener failed: ${e instanceof Error ? e.message : String(e)}`),
    );
  }

  get current(): ClusterStatus | undefined {
    return this.currentStatus;
  }

  readonly onDidChange = (listener: (s: ClusterStatus) => void): Disposable => this.emitter.event(listener);

  start(): void {
    this.started = true;
    this.updateActivity();
  }

  async stop(): Promise<void> {
    this.started = false;
    await this.deactivate();
  }

  dispose(): void {
    void this.stop();
    this.emitter.dispose();
  }

  configure(o: { topology?: ClusterTopology; thresholds?: Thresholds; pollIntervalMs?: number; docker?: Docker }): void {
    const reconnect = (o.topology && JSON.stringify(o.topology) !== JSON.stringify(this.topology)) || (o.docker && o.docker !== this.docker);
    if (o.topology) this.topology = o.topology;
    if (o.thresholds) this.thresholds = o.thresholds;
    if (o.pollIntervalMs) this.interval = Math.max(100, o.pollIntervalMs);
    if (o.docker) {
      this.docker = o.docker;
      this.containers = new Containers(o.docker);
    }
    if (reconnect) {
      this.probes.clear();
      this.snapshot = undefined;
      void this.deactivate().then(() => this.updateActivity());
    } else {
      this.queueDerive();
    }
  }

  /** One full round now, whether or not the loops run. Never rejects. */
  async refresh(): Promise<ClusterStatus> {
    await this.pollContainers();
    const targets = this.runningTargets();
    await Promise.all(targets.map((t) => this.probe(t)));
    return this.deriveNow();
  }

  /** Resolves with the first status (current or coming) that satisfies `pred`; rejects after `timeoutMs`. */
  waitFor(pred: (s: ClusterStatus) => boolean, timeoutMs: number, what = 'the expected cluster state'): Promise<ClusterStatus> {
    if (this.currentStatus && pred(this.currentStatus)) return Promise.resolve(this.currentStatus);
    return new Promise<ClusterStatus>((resolve, reject) => {
      this.holds++;
      this.updateActivity();
      let sub: Disposable | undefined;
      const done = () => {
        clearTimeout(timer);
        sub?.dispose();
        this.holds--;
        this.updateActivity();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}.`));
      }, timeoutMs);
      sub = this.emitter.event((s) => {
        if (pred(s)) {
          done();
          resolve(s);
        }
      });
      if (this.currentStatus && pred(this.currentStatus)) {
        done();
        resolve(this.currentStatus);
      }
    });
  }

  // ---- activity ----

  private updateActivity(): void {
    const want = this.started && (this.emitter.listenerCount > 0 || this.holds > 0);
    if (want && !this.running) this.activate();
    else if (!want && this.running) void this.deactivate();
  }

  private activate(): void {
    this.running = true;
    const gen = this.generation;
    if (this.attached) {
      this.setSnapshot(this.externalSnapshot());
    } else {
      if (this.useEvents) void this.openEvents(gen);
      void this.containerLoop(gen);
    }
    for (const t of this.allTargets()) void this.probeLoop(t, gen);
  }

  private async deactivate(): Promise<void> {
    this.running = false;
    this.generation++;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.closeEvents?.();
    this.closeEvents = undefined;
    this.eventsLive = false;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
  }

  /** An attached cluster's nodes are no containers of ours: Docker is never asked about them. */
  private get attached(): boolean {
    return this.topology.kind === 'attached';
  }

  private allTargets(): Target[] {
    return this.attached ? this.topology.nodes.map((n) => n.key) : [...this.topology.nodes.map((n) => n.key), 'pgbouncer'];
  }

  private containerOf(t: Target): string {
    return t === 'pgbouncer' ? this.topology.pgbouncer.container : this.topology.nodes.find((n) => n.key === t)!.container;
  }

  private isRunning(t: Target): boolean {
    const s = this.snapshot;
    const st = s?.ok ? s.states[this.containerOf(t)]?.status : undefined;
    return st === 'running' || st === 'external';
  }

  private runningTargets(): Target[] {
    return this.allTargets().filter((t) => this.isRunning(t));
  }

  private schedule(key: Target | 'containers' | 'events', ms: number, gen: number, f: () => void): void {
    if (gen !== this.generation || !this.running) return;
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (gen === this.generation && this.running) f();
      }, ms),
    );
  }

  // ---- containers ----

  private async containerLoop(gen: number): Promise<void> {
    await this.pollContainers();
    // Events carry changes at once; the inspect round is only a safety net while they flow.
    const next = this.eventsLive ? Math.max(5000, this.interval * 5) : this.interval;
    this.schedule('containers', next, gen, () => void this.containerLoop(gen));
  }

  private names(): string[] {
    return [...this.topology.nodes.map((n) => n.container), this.topology.pgbouncer.container];
  }

  private externalSnapshot(): ContainerSnapshot {
    return { ok: true, states: Object.fromEntries(this.topology.nodes.map((n) => [n.container, { name: n.container, status: 'external' } satisfies ContainerState])) };
  }

  private async pollContainers(): Promise<void> {
    if (this.attached) {
      this.setSnapshot(this.externalSnapshot());
      return;
    }
    const gen = this.generation;
    this.stats.dockerCalls += this.names().length;
    let snap: ContainerSnapshot;
    try {
      snap = { ok: true, states: await this.containers.snapshot(this.names()) };
    } catch (e) {
      const d = e instanceof DockerError ? e : toDockerError(e, 'read the container states');
      snap = { ok: false, problem: d.problem, message: d.message };
    }
    if (gen !== this.generation && this.running) return;
    this.setSnapshot(snap);
  }

  private setSnapshot(snap: ContainerSnapshot): void {
    const before = this.snapshot;
    this.snapshot = snap;
    if (snap.ok) {
      // A container that stopped: close its pool so no reconnect is attempted. One that started
      // (or restarted): probe it now rather than at the next tick.
      for (const t of this.allTargets()) {
        const now = snap.states[this.containerOf(t)];
        const was = before?.ok ? before.states[this.containerOf(t)] : undefined;
        if (now?.status === 'external') {
          if (this.running && was?.status !== 'external') this.kick(t);
        } else if (now?.status !== 'running') this.dropPool(t);
        else if (this.running && (was?.status !== 'running' || was.startedAt !== now.startedAt)) this.kick(t);
      }
    }
    if (!snap.ok && before?.ok !== false) this.log?.warn(snap.message);
    this.queueDerive();
  }

  private async openEvents(gen: number): Promise<void> {
    try {
      this.stats.dockerCalls++;
      const close = await this.containers.watch(
        this.names(),
        (ev) => {
          if (gen !== this.generation) return;
          this.stats.dockerEvents++;
          this.onContainerEvent(ev.name, ev.action, ev.time, ev.exitCode, ev.health);
        },
        (err) => {
          if (gen !== this.generation) return;
          this.eventsLive = false;
          this.closeEvents = undefined;
          if (err) this.log?.debug(`Docker event stream ended: ${err.message}`);
          this.schedule('events', 2000, gen, () => void this.openEvents(gen));
          // Fall back to polling containers at the SQL rate until the stream is back.
          this.schedule('containers', this.interval, gen, () => void this.containerLoop(gen));
        },
      );
      if (gen !== this.generation) {
        close();
        return;
      }
      this.closeEvents = close;
      this.eventsLive = true;
    } catch (e) {
      this.eventsLive = false;
      this.log?.debug(`Docker events unavailable: ${e instanceof Error ? e.message : String(e)}`);
      this.schedule('events', 2000, gen, () => void this.openEvents(gen));
    }
  }

  /** Applies an event to the snapshot at once (no inspect round trip), then confirms by inspect. */
  private onContainerEvent(name: string, action: string, time: number, exitCode?: number, health?: ContainerState['health']): void {
    const snap = this.snapshot;
    if (!snap?.ok || !(name in snap.states)) {
      void this.pollContainers();
      return;
    }
    const cur = snap.states[name];
    let next: ContainerState | undefined;
    switch (action) {
      case 'die':
        next = { name, status: 'exited', exitCode, finishedAt: time, startedAt: cur.startedAt };
        break;
      case 'start':
      case 'unpause':
        next = { name, status: 'running', startedAt: action === 'start' ? time : cur.startedAt, health: action === 'start' ? 'starting' : cur.health };
        break;
      case 'pause':
        next = { ...cur, status: 'paused' };
        break;
      case 'destroy':
        next = { name, status: 'missing' };
        break;
      case 'create':
        next = { name, status: 'created' };
        break;
      case 'health_status':
        next = health ? { ...cur, health } : undefined;
        break;
      default:
        next = undefined; // kill, stop, restart, exec_*: the die/start that follow carry the change
    }
    if (!next) return;
    this.log?.debug(`Docker: ${name} ${action}`);
    this.setSnapshot({ ok: true, states: { ...snap.states, [name]: next } });
  }

  // ---- SQL probes ----

  private poolFor(t: Target): Pool {
    let p = this.pools.get(t);
    if (p) return p;
    const spec = t === 'pgbouncer' ? undefined : this.topology.nodes.find((n) => n.key === t)!;
    const port = spec ? spec.hostPort : this.topology.pgbouncer.hostPort;
    // Each node has its own loop, so these bound only that node's round, never the others'.
    const budget = Math.max(5000, this.interval);
    const cfg = nodeClientConfig(this.topology, port, {
      database: t === 'pgbouncer' ? 'pgbouncer' : undefined,
      connectTimeoutMs: budget,
      queryTimeoutMs: budget + 2000,
      statementTimeoutMs: t === 'pgbouncer' ? undefined : budget,
      applicationName: 'pg-ha-workshop monitor',
      host: spec?.host,
    });
    p = new Pool({ ...cfg, max: 1, idleTimeoutMillis: 0 });
    // An idle connection that breaks (node stopped) emits 'error' on the pool; the pool drops it.
    p.on('error', () => undefined);
    this.pools.set(t, p);
    return p;
  }

  private dropPool(t: Target): void {
    const p = this.pools.get(t);
    if (!p) return;
    this.pools.delete(t);
    void p.end().catch(() => undefined);
  }

  private async probe(t: Target): Promise<void> {
    if (this.inFlight.has(t)) return;
    this.inFlight.add(t);
    const gen = this.generation;
    try {
      const pool = this.poolFor(t);
      this.stats.probes++;
      let result: NodeProbe | PgBouncerProbe;
      if (t === 'pgbouncer') {
        this.stats.queries += 2;
        result = await probePgBouncer(pool);
      } else {
        this.stats.queries++;
        result = await probeNode(pool, { key: t });
      }
      if (gen !== this.generation && this.running) return;
      // A busy machine can make one probe time out: keep the last good answer for a few
      // intervals instead of flapping the node to "not answering". Docker events still report
      // a stopped container at once.
      // Likewise, until the first answer, timeouts within a grace period leave the node "starting"
      // (connecting) rather than "not answering".
      const prev = this.probes.get(t);
      const grace = Math.max(10_000, 5 * this.interval);
      if (!result.ok && result.failure.kind === 'timeout') {
        const since = this.failingSince.get(t) ?? Date.now();
        this.failingSince.set(t, since);
        if (Date.now() - since < grace && (prev === undefined || prev.ok)) return;
      } else {
        this.failingSince.delete(t);
      }
      this.probes.set(t, result);
      this.queueDerive();
    } catch (e) {
      // probeNode/probePgBouncer turn failures into values; this covers pool misuse only.
      this.probes.set(t, t === 'pgbouncer' ? { ok: false, at: Date.now(), failure: classifyPgError(e) } : { ok: false, node: t, at: Date.now(), tookMs: 0, failure: classifyPgError(e) });
    } finally {
      this.inFlight.delete(t);
    }
  }

  private async probeLoop(t: Target, gen: number): Promise<void> {
    const t0 = Date.now();
    if (this.isRunning(t)) await this.probe(t);
    const wait = Math.max(50, this.interval - (Date.now() - t0));
    this.schedule(t, wait, gen, () => void this.probeLoop(t, gen));
  }

  /** Probe `t` now and restart its loop from here. */
  private kick(t: Target): void {
    const gen = this.generation;
    clearTimeout(this.timers.get(t));
    this.timers.delete(t);
    void this.probeLoop(t, gen);
  }

  // ---- status ----

  private queueDerive(): void {
    if (this.deriveQueued) return;
    this.deriveQueued = true;
    setImmediate(() => {
      this.deriveQueued = false;
      try {
        this.deriveNow();
      } catch (e) {
        // A defect in the derivation must not take the extension host down with it.
        this.log?.warn(`Could not derive the cluster status: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    });
  }

  private deriveNow(): ClusterStatus {
    const snap: ContainerSnapshot = this.snapshot ?? { ok: true, states: {} };
    const nodes: Partial<Record<NodeKey, NodeProbe>> = {};
    for (const n of this.topology.nodes) {
      const p = this.probes.get(n.key);
      if (p && 'node' in p) nodes[n.key] = p;
    }
    const b = this.probes.get('pgbouncer');
    const status = deriveStatus({ nodes, pgbouncer: b && !('node' in b) ? b : undefined }, snap, this.topology, this.thresholds, Date.now());
    this.currentStatus = status;
    // Ages tick every poll; they alone are not a change worth re-rendering the views for.
    const key = JSON.stringify({ ...status, at: 0 }, (k, v: unknown) => (VOLATILE.has(k) ? undefined : v));
    if (key !== this.lastKey) {
      this.lastKey = key;
      this.stats.emits++;
      this.emitter.fire(status);
    }
    return status;
  }
}
