// Exercise 4, automatic failover: an opt-in watcher that probes the primary, declares it failed
// after N failed probes within a time window, and then runs the one failover implementation
// (failover(): best replica by replay LSN, fence, promote, repoint replicas and PgBouncer, RTO/RPO).
// It reports how long detection took, the failover's own figures, and the outage as a whole.
//
// Why its own probe and not the monitor's: detection needs a short, fixed probe period and timeout
// that do not depend on which views are open; the probe is one `SELECT 1` on one connection.
//
// API (no vscode):
//   validateAutoFailoverSettings(s)  → string[] problems (pure)
//   new AutoFailoverWatcher(ctx, settings, deps?)
//   w.start() / w.stop() / w.dispose(); w.state; w.watching (container name)
//   w.onDidChangeState(fn), w.onDidFailover(fn: AutoFailoverReport), w.onDidFail(fn: { message })
//   DEFAULT_AUTO_FAILOVER
// deps (for tests and the extension): failover (default the core's), probe, ledger/loadRunning
// for RTO and RPO of a running load.
import { withNodeClient } from './connection';
import { Emitter, type Disposable } from './emitter';
import { OperationBusyError } from './operationLock';
import { failover as coreFailover, FailoverError, surveyCluster, type FailoverContext, type FailoverOptions, type FailoverResult, type FencingMode } from './failover';
import type { WriteLedger } from './ledger';
import type { NodeKey, PgNodeSpec } from './topology';

export interface AutoFailoverSettings {
  /** Period between probes of the primary. */
  readonly probeIntervalMs: number;
  /** Deadline of one probe (connect + SELECT 1). */
  readonly probeTimeoutMs: number;
  /** Failed probes that declare the primary failed ... */
  readonly failuresToTrigger: number;
  /** ... when they all fall within this window. */
  readonly windowMs: number;
  /** How the old primary is fenced when it still runs (a hung primary). */
  readonly fencing: FencingMode;
  /** Pause after a failover (or a failed attempt) before watching again. */
  readonly cooldownMs: number;
}

export const DEFAULT_AUTO_FAILOVER: AutoFailoverSettings = {
  probeIntervalMs: 500,
  probeTimeoutMs: 1000,
  failuresToTrigger: 3,
  windowMs: 3000,
  fencing: 'kill',
  cooldownMs: 10_000,
};

export function validateAutoFailoverSettings(s: AutoFailoverSettings): string[] {
  const p: string[] = [];
  const whole = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) p.push(`${name} must be a whole number from ${min} to ${max} (got ${String(v)}).`);
  };
  whole('The probe interval (ms)', s.probeIntervalMs, 100, 60_000);
  whole('The probe timeout (ms)', s.probeTimeoutMs, 100, 60_000);
  whole('The failed probes to trigger', s.failuresToTrigger, 1, 100);
  whole('The detection window (ms)', s.windowMs, 100, 600_000);
  whole('The cooldown (ms)', s.cooldownMs, 0, 3_600_000);
  if (s.fencing !== 'kill' && s.fencing !== 'stop') p.push(`Fencing must be "kill" or "stop" (got ${String(s.fencing)}).`);
  if (p.length === 0 && (s.failuresToTrigger - 1) * s.probeIntervalMs > s.windowMs) {
    p.push(`${s.failuresToTrigger} probes ${s.probeIntervalMs} ms apart cannot all fall within a ${s.windowMs} ms window: widen the window or probe more often.`);
  }
  return p;
}

export type WatcherState =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'searching'; readonly message: string } // no single primary to watch yet
  | { readonly kind: 'watching'; readonly primary: NodeKey; readonly container: string; readonly failures: number }
  | { readonly kind: 'failingOver'; readonly primary: NodeKey; readonly container: string }
  | { readonly kind: 'cooldown'; readonly until: number };

export interface AutoFailoverReport {
  readonly failedPrimary: { readonly key: NodeKey; readonly container: string };
  /** Last successful probe before the failure (the outage began after it). */
  readonly lastSuccessAt?: number;
  /** First failed probe of the run that triggered. */
  readonly firstFailureAt: number;
  readonly detectedAt: number;
  /** firstFailureAt → detectedAt. */
  readonly detectionMs: number;
  /** First failed probe → new primary accepts writes. */
  readonly outageMs: number;
  readonly result: FailoverResult;
}

export interface AutoFailoverDeps {
  readonly failover?: (ctx: FailoverContext, o: FailoverOptions) => Promise<FailoverResult>;
  /** true when the node at `spec` answers as a writable primary within the timeout. */
  readonly probe?: (spec: PgNodeSpec, timeoutMs: number) => Promise<boolean>;
  readonly ledger?: () => WriteLedger | undefined;
  readonly loadRunning?: () => boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class AutoFailoverWatcher implements Disposable {
  private readonly stateEmitter = new Emitter<WatcherState>();
  private readonly failoverEmitter = new Emitter<AutoFailoverReport>();
  private readonly failEmitter = new Emitter<{ readonly message: string }>();
  private current: WatcherState = { kind: 'stopped' };
  private run = 0;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidFailover = this.failoverEmitter.event;
  readonly onDidFail = this.failEmitter.event;

  constructor(
    private readonly ctx: FailoverContext,
    private settings: AutoFailoverSettings = DEFAULT_AUTO_FAILOVER,
    private readonly deps: AutoFailoverDeps = {},
  ) {
    const problems = validateAutoFailoverSettings(settings);
    if (problems.length) throw new Error(problems.join(' '));
  }

  get state(): WatcherState {
    return this.current;
  }

  get running(): boolean {
    return this.current.kind !== 'stopped';
  }

  configure(settings: AutoFailoverSettings): void {
    const problems = validateAutoFailoverSettings(settings);
    if (problems.length) throw new Error(problems.join(' '));
    this.settings = settings;
  }

  start(): void {
    if (this.running) return;
    const run = ++this.run;
    this.setState({ kind: 'searching', message: 'looking for the primary' });
    void this.loop(run);
  }

  stop(): void {
    this.run++;
    clearTimeout(this.timer);
    this.wake?.();
    this.setState({ kind: 'stopped' });
  }

  dispose(): void {
    this.stop();
    this.stateEmitter.dispose();
    this.failoverEmitter.dispose();
    this.failEmitter.dispose();
  }

  private setState(s: WatcherState): void {
    this.current = s;
    this.stateEmitter.fire(s);
  }

  /** Sleeps, but wakes at once on stop(). */
  private pause(ms: number): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
      this.timer = setTimeout(r, ms);
    });
  }

  private async probe(spec: PgNodeSpec): Promise<boolean> {
    if (this.deps.probe) return this.deps.probe(spec, this.settings.probeTimeoutMs);
    try {
      return await withNodeClient(this.ctx.topology, spec.hostPort, async (c) => (await c.query<{ r: boolean }>('SELECT NOT pg_is_in_recovery() AS r')).rows[0]?.r === true, {
        database: 'postgres',
        connectTimeoutMs: this.settings.probeTimeoutMs,
        queryTimeoutMs: this.settings.probeTimeoutMs,
        applicationName: 'pg-ha-workshop auto-failover',
      });
    } catch {
      return false;
    }
  }

  private async findPrimary(): Promise<PgNodeSpec | string> {
    try {
      const s = await surveyCluster(this.ctx);
      if (s.splitBrain) return `split brain (${s.writable.join(', ')}): fence one node first`;
      if (!s.primary) return 'no node accepts writes';
      return this.ctx.topology.nodes.find((n) => n.key === s.primary)!;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  private async loop(run: number): Promise<void> {
    const live = () => run === this.run;
    while (live()) {
      const found = await this.findPrimary();
      if (!live()) return;
      if (typeof found === 'string') {
        this.setState({ kind: 'searching', message: found });
        await this.pause(2000);
        continue;
      }
      const outcome = await this.watch(found, live);
      if (!live()) return;
      if (outcome) {
        const until = Date.now() + this.settings.cooldownMs;
        this.setState({ kind: 'cooldown', until });
        await this.pause(this.settings.cooldownMs);
      }
    }
  }

  /** Probes `primary` until it fails (then fails over: true) or it is no longer the primary (false). */
  private async watch(primary: PgNodeSpec, live: () => boolean): Promise<boolean> {
    const { probeIntervalMs, failuresToTrigger, windowMs } = this.settings;
    let failures: number[] = [];
    let lastSuccessAt: number | undefined;
    this.setState({ kind: 'watching', primary: primary.key, container: primary.container, failures: 0 });
    while (live()) {
      const t0 = Date.now();
      const ok = await this.probe(primary);
      if (!live()) return false;
      const now = Date.now();
      if (ok) {
        lastSuccessAt = now;
        if (failures.length) this.setState({ kind: 'watching', primary: primary.key, container: primary.container, failures: 0 });
        failures = [];
      } else {
        failures = [...failures.filter((f) => now - f <= windowMs), t0];
        this.setState({ kind: 'watching', primary: primary.key, container: primary.container, failures: failures.length });
        if (failures.length >= failuresToTrigger) {
          await this.failOver(primary, failures[0], now, lastSuccessAt, live);
          return true;
        }
      }
      await this.pause(Math.max(0, probeIntervalMs - (Date.now() - t0)));
    }
    return false;
  }

  private async failOver(primary: PgNodeSpec, firstFailureAt: number, detectedAt: number, lastSuccessAt: number | undefined, live: () => boolean): Promise<void> {
    this.setState({ kind: 'failingOver', primary: primary.key, container: primary.container });
    this.ctx.log?.(`Automatic failover: ${primary.container} failed ${this.settings.failuresToTrigger} probes within ${this.settings.windowMs} ms (detected in ${detectedAt - firstFailureAt} ms)`);
    const run = this.deps.failover ?? coreFailover;
    try {
      const result = await run(this.ctx, {
        candidate: 'auto',
        fencing: this.settings.fencing,
        ledger: this.deps.ledger?.(),
        loadRunning: this.deps.loadRunning,
        // Unattended: a candidate far behind is still better than no primary; the RPO says what it cost.
        maxLagBytes: Number.MAX_SAFE_INTEGER,
        kind: 'failover',
        // Only the failure this watcher saw: when another operation (a manual failover, another
        // window's watcher) changed the primary meanwhile, the survey refuses instead of fencing
        // the freshly promoted node. And never wait behind another operation: look again after it.
        expectFailedPrimary: primary.key,
        lockWaitMs: 0,
      });
      if (!live()) return;
      const writableAt = result.newPrimary.promotedAt;
      this.failoverEmitter.fire({
        failedPrimary: { key: primary.key, container: primary.container },
        lastSuccessAt,
        firstFailureAt,
        detectedAt,
        detectionMs: detectedAt - firstFailureAt,
        outageMs: writableAt - firstFailureAt,
        result,
      });
    } catch (e) {
      if (e instanceof OperationBusyError || (e instanceof FailoverError && e.problem === 'primaryChanged')) {
        this.ctx.log?.(`Automatic failover of ${primary.container} not started: ${e.message}`);
        return;
      }
      const message = e instanceof FailoverError ? `${e.message} (cluster: ${e.state})` : e instanceof Error ? e.message : String(e);
      this.ctx.log?.(`Automatic failover failed: ${message}`);
      this.failEmitter.fire({ message: `Automatic failover of ${primary.container} failed: ${message}` });
      await sleep(0);
    }
  }
}
