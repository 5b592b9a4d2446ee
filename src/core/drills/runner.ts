// Runs one fault drill on the live cluster: standard shape, synchronous mode as the drill says,
// the drill writer on its own table, the steps (faults and actions) in order, then the checker on
// every node's table and the drill's time-bounded expectations. Failover, switchover, sync mode and
// rejoin go through their public APIs (the same ones the commands use).
// With `patroni` (the Patroni profile): the same faults on the leader's container, the writer
// through the router (HAProxy), and Patroni's own actions (see patroniProfile.ts); ctx.topology is
// then the Patroni topology's PostgreSQL side (its `cluster`).
//
// API (no vscode):
//   runDrill(ctx, spec, { onProgress?, historyDir?, patroni? }) → DrillRun
//   evaluateExpectations(spec, report, facts)          → ExpectationResult[] (pure)
import * as path from 'node:path';
import { classifyPgError, withNodeClient } from '../connection';
import { AutoFailoverWatcher, DEFAULT_AUTO_FAILOVER, type AutoFailoverReport } from '../autoFailover';
import { failover, FailoverError, parseSyncNames, surveyCluster, type FailoverContext, type FailoverResult } from '../failover';
import { fenceNode } from '../fencing';
import { promoteReplica } from '../nodeActions';
import { repointPgBouncer } from '../pgbouncer';
import { rejoinAsReplica } from '../rejoin';
import { switchover } from '../switchover';
import { setSynchronousReplication } from '../syncReplication';
import type { NodeKey, PgNodeSpec } from '../topology';
import { checkHistory, observeTables, type HistoryReport } from '../history/checker';
import { HISTORY_TABLE, HISTORY_VERSION, saveHistory, type EventRecord, type HistoryRecord } from '../history/history';
import { DrillWriter, ensureHistoryTable } from '../history/writer';
import { applySettings, switchover as patroniSwitchover } from '../patroni/operations';
import type { PatroniTopology } from '../patroni/topology';
import { injectFault } from './faults';
import { healMember, leaderTimeline, patroniLeader, restorePatroniShape, syncStandbyOf, waitForNewLeader, waitForReplicaOf } from './patroniProfile';
import { drillForProfile, skipReason, type DrillProfile, type DrillSpec, type DrillStep, type Expectation, type NodeRef } from './spec';
import { restoreStandardShape } from './standardShape';

export interface DrillProgress {
  readonly at: number;
  readonly phase: 'setup' | 'fault' | 'action' | 'step' | 'wait' | 'check' | 'note';
  readonly message: string;
}

/** What the runner saw that the history alone does not say. */
export interface DrillFacts {
  readonly initialTimeline?: number;
  readonly actions: readonly { readonly kind: string; readonly at: number; readonly doneAt: number; readonly ok: boolean; readonly problem?: string; readonly message: string }[];
  /** ms from the start of the rejoin action to the old primary streaming again. */
  readonly rejoinMs?: number;
  readonly rejoinOk?: boolean;
  readonly primariesAtEnd: number;
  readonly faultAt?: number;
  /** First action after the first fault (sync standby replaced ...). */
  readonly firstActionAfterFaultAt?: number;
}

export interface ExpectationResult {
  readonly text: string;
  readonly ok: boolean;
  readonly detail: string;
  /** Why this one is known to fail until a pending change lands (from the drill's `known`). */
  readonly known?: string;
}

export interface DrillRun {
  /** The drill as the profile ran it (its steps and bounds there). */
  readonly spec: DrillSpec;
  readonly profile: DrillProfile;
  readonly runId: string;
  readonly records: readonly HistoryRecord[];
  readonly report: HistoryReport;
  readonly facts: DrillFacts;
  readonly expectations: readonly ExpectationResult[];
  /** Every expectation held. */
  readonly passed: boolean;
  readonly historyFile?: string;
  readonly failovers: readonly FailoverResult[];
  readonly autoFailover?: AutoFailoverReport;
  readonly error?: string;
}

export interface RunDrillOptions {
  readonly onProgress?: (p: DrillProgress) => void;
  /** Folder for the JSON-lines history; none saved when undefined. */
  readonly historyDir?: string;
  /** Skip restoring the standard shape first (the caller just did). */
  readonly skipRestore?: boolean;
  /** Run on the Patroni profile, this cluster (ctx.topology must be its `cluster`). */
  readonly patroni?: PatroniTopology;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmtMs = (ms: number | undefined) => (ms === undefined ? 'n/a' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);

export async function runDrill(ctx: FailoverContext, drill: DrillSpec, o: RunDrillOptions = {}): Promise<DrillRun> {
  const profile: DrillProfile = o.patroni ? 'patroni' : 'workshop';
  const pt = o.patroni;
  const skip = skipReason(drill, profile);
  if (skip) throw new Error(`The drill ${drill.name} does not run on the ${profile} profile: ${skip}.`);
  const spec = drillForProfile(drill, profile);
  const t = ctx.topology;
  const records: HistoryRecord[] = [];
  const events: EventRecord[] = [];
  const progress = (phase: DrillProgress['phase'], message: string) => {
    const at = Date.now();
    ctx.log?.(`drill ${spec.name}: ${message}`);
    o.onProgress?.({ at, phase, message });
    if (phase !== 'note' && phase !== 'wait') events.push({ type: 'event', at, kind: phase, message });
  };
  const spec0 = (k: NodeKey) => t.nodes.find((n) => n.key === k)!;
  const refs: { primary: NodeKey; replica1: NodeKey; replica2: NodeKey; oldPrimary?: NodeKey; newPrimary?: NodeKey; syncStandby?: NodeKey } = { primary: 'primary', replica1: 'replica1', replica2: 'replica2' };
  const resolve = (r: NodeRef): { container: string; port?: number; node?: PgNodeSpec } => {
    if (r === 'pgbouncer') return { container: t.pgbouncer.container, port: t.pgbouncer.hostPort };
    const key: NodeKey | undefined = r === 'primary' ? refs.primary : r === 'replica1' || r === 'replica2' ? refs[r] : r === 'sync-standby' ? refs.syncStandby : r === 'old-primary' ? refs.oldPrimary : refs.newPrimary;
    if (!key) throw new Error(`${r} is not known at this point of the drill (no failover yet, or no synchronous standby).`);
    const n = spec0(key);
    return { container: n.container, port: n.hostPort, node: n };
  };
  const actions: { kind: string; at: number; doneAt: number; ok: boolean; problem?: string; message: string }[] = [];
  const failovers: FailoverResult[] = [];
  let writer: DrillWriter | undefined;
  let watcher: AutoFailoverWatcher | undefined;
  let autoReport: AutoFailoverReport | undefined;
  let autoFailure: string | undefined;
  let rejoinMs: number | undefined;
  let rejoinOk: boolean | undefined;
  let faultAt: number | undefined;
  let firstActionAfterFaultAt: number | undefined;
  let initialTimeline: number | undefined;
  let error: string | undefined;
  const startedAt = Date.now();

  try {
    // Setup
    if (!o.skipRestore) {
      progress('setup', pt ? 'bringing the Patroni cluster to its starting shape (a leader, two streaming replicas)' : 'bringing the cluster to its standard shape');
      if (pt) await restorePatroniShape(ctx, pt, { sync: !!spec.setup.sync, note: (m) => progress('note', m) });
      else await restoreStandardShape(ctx, (m) => progress('note', m));
    }
    if (pt) {
      // The names are only names on Patroni: `primary` is whoever leads, replica1/replica2 the others in order.
      const leader = await patroniLeader(pt);
      if (!leader) throw new Error('the Patroni cluster has no leader: start it (or let it elect one) first.');
      refs.primary = leader;
      const others = t.nodes.filter((n) => n.key !== leader).map((n) => n.key);
      refs.replica1 = others[0];
      refs.replica2 = others[1];
    }
    const primaryPort = spec0(refs.primary).hostPort;
    await ensureHistoryTable(t, primaryPort).catch((e: unknown) => {
      throw new Error(`could not create the drill table ${HISTORY_TABLE} on ${spec0(refs.primary).container} (port ${primaryPort}): ${classifyPgError(e).message}. Is the cluster up and the machine not overloaded?`);
    });
    if (pt) {
      if (spec.setup.sync) {
        await applySettings(pt, { synchronous_mode: true });
        refs.syncStandby = await syncStandbyOf(pt, 120_000);
        if (!refs.syncStandby) throw new Error('synchronous_mode is on but Patroni named no Sync Standby within 120 s.');
        progress('setup', `Patroni synchronous_mode: on (Sync Standby ${spec0(refs.syncStandby).container}; the drill's "${spec.setup.sync}" is Patroni's choice here)`);
      } else progress('setup', 'asynchronous replication (Patroni synchronous_mode: off)');
    } else if (spec.setup.sync) {
      const p = parseSyncNames(spec.setup.sync);
      if (!p) throw new Error(`setup.sync "${spec.setup.sync}" is not a synchronous_standby_names value.`);
      await setSynchronousReplication(ctx, { method: p.method, num: p.num, standbys: p.names, commit: 'on' });
      refs.syncStandby = t.nodes.find((n) => n.service === p.names[0])?.key;
      progress('setup', `synchronous replication: ${spec.setup.sync}`);
    } else progress('setup', 'asynchronous replication');
    initialTimeline = pt ? await leaderTimeline(pt) : (await surveyCluster(ctx)).nodes.find((n) => n.key === 'primary')?.timeline;
    const w = spec.setup.writes;
    writer = new DrillWriter(t, { port: w.via === 'pgbouncer' ? t.pgbouncer.hostPort : primaryPort, clients: w.clients, pauseMs: w.pauseMs, writeTimeoutMs: w.timeoutMs, reconnectEachWrite: w.reconnectEachWrite, maxDurationMs: 300_000 });
    records.push({ type: 'header', version: HISTORY_VERSION, drill: spec.name, title: spec.title, runId: writer.runId, startedAt, via: w.via, sync: spec.setup.sync || 'off' });
    writer.start();
    progress('setup', `writer started: ${w.clients} clients through ${w.via === 'pgbouncer' ? t.pgbouncer.container : spec0(refs.primary).container}`);
    // A few acknowledged writes before any fault (a busy machine may need a while for the first).
    const warm = Date.now() + 60_000;
    while (writer.acknowledged < 5 && Date.now() < warm) await sleep(100);
    if (writer.acknowledged === 0) throw new Error('the writer got no write acknowledged within 60 s before any fault: the cluster does not accept writes.');

    for (const [i, step] of spec.steps.entries()) {
      await runStep(step, i + 1);
    }
    progress('step', 'letting the writes run 2 s more');
    await sleep(2000);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
    progress('note', `drill stopped: ${error}`);
  } finally {
    watcher?.dispose();
    if (writer) await writer.stop();
  }

  // Check
  progress('check', 'reading the drill table on every node');
  let rows = await observeTables(t, writer?.runId ?? '-');
  for (let i = 0; i < 40 && !rows.some((r) => r.role === 'primary'); i++) {
    await sleep(500);
    rows = await observeTables(t, writer?.runId ?? '-');
  }
  records.push(...(writer?.writes ?? []), ...events, ...rows);
  const report = checkHistory(records);
  const facts: DrillFacts = { initialTimeline, actions, rejoinMs, rejoinOk, primariesAtEnd: rows.filter((r) => r.role === 'primary').length, faultAt, firstActionAfterFaultAt };
  const ackTimes = (writer?.writes ?? []).filter((x) => x.outcome === 'ok').map((x) => x.doneAt).sort((a, b) => a - b);
  const checked = evaluateExpectations(spec, report, facts, ackTimes);
  const expectations = error ? [{ text: 'the drill ran to its end', ok: false, detail: error }, ...checked] : checked;
  let historyFile: string | undefined;
  if (o.historyDir && writer) {
    historyFile = path.join(o.historyDir, `${spec.name}-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}-${writer.runId}.jsonl`);
    await saveHistory(historyFile, records);
  }
  progress('check', `${report.verdict}; RTO ${fmtMs(report.rto?.ms)}`);
  return {
    spec,
    profile,
    runId: writer?.runId ?? '-',
    records,
    report,
    facts,
    expectations,
    passed: expectations.every((e) => e.ok),
    historyFile,
    failovers,
    autoFailover: autoReport,
    error,
  };

  async function fault(kind: DrillStep & { fault: unknown }, label: string): Promise<void> {
    const f = kind as Extract<DrillStep, { fault: unknown }>;
    const target = resolve(f.node);
    if (faultAt === undefined && ['kill', 'stop', 'pause', 'disconnect'].includes(f.fault)) {
      // The lag at the moment of the fault: what asynchronous replication may lose.
      const lag = await withNodeClient(t, spec0(refs.primary).hostPort, (c) => c.query<{ a: string; b: string | null }>('SELECT application_name AS a, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint::text AS b FROM pg_stat_replication'), { connectTimeoutMs: 1000, queryTimeoutMs: 1000 })
        .then((r) => Object.fromEntries(r.rows.map((x) => [x.a, x.b === null ? null : Number(x.b)])))
        .catch(() => undefined);
      if (lag) events.push({ type: 'event', at: Date.now(), kind: 'lag', message: `replay lag at the fault: ${Object.entries(lag).map(([k, v]) => `${k} ${v ?? '?'} B`).join(', ')}`, lagBytes: lag });
      faultAt = Date.now();
    }
    // On Patroni a partition cuts the node from the cluster's own network (etcd, replication, the
    // peers' REST calls); the router and its published port still reach it: it must demote itself.
    const r = await injectFault(ctx, f.fault, target.container, target.port, { megabytes: f.megabytes, networks: pt && f.fault === 'disconnect' ? [pt.dcsNetwork] : undefined });
    progress('fault', `${label}${r.message}`);
  }

  /**
   * An action on the Patroni profile: Patroni decides, we ask (switchover) or wait. failover and
   * auto-failover: wait for the new leader; switchover: REST switchover, then the new leader;
   * rejoin: heal the old leader's fault (start, unpause, reconnect) and wait until it is a replica.
   */
  async function patroniAction(kind: string, timeout: number | undefined, label: string, candidate?: NodeRef, node?: NodeRef, at = Date.now()): Promise<void> {
    const p = pt!;
    if (kind === 'arm') {
      // Arming a watcher: nothing to arm, Patroni always watches.
      actions.push({ kind: 'auto-failover', at, doneAt: Date.now(), ok: true, message: 'Patroni watches the leader itself (its lock in etcd)' });
      progress('action', `${label}auto-failover: nothing to arm, Patroni watches the leader itself`);
      return;
    }
    if (faultAt !== undefined && firstActionAfterFaultAt === undefined) firstActionAfterFaultAt = at;
    const record = (ok: boolean, message: string, problem?: string) => {
      actions.push({ kind, at, doneAt: Date.now(), ok, problem, message });
      progress('action', `${label}${kind}: ${message}`);
    };
    const electionMs = timeout ?? 180_000;
    try {
      switch (kind) {
        case 'failover':
        case 'auto-failover': {
          const old = refs.primary;
          progress('wait', `${label}${kind}: nothing from us, waiting for Patroni to elect a new leader (at most ${fmtMs(electionMs)})`);
          const leader = await waitForNewLeader(p, old, electionMs);
          refs.oldPrimary = old;
          refs.newPrimary = leader;
          refs.primary = leader;
          record(true, `Patroni elected ${spec0(leader).container} ${fmtMs(Date.now() - (faultAt ?? at))} after the fault`);
          break;
        }
        case 'switchover': {
          const old = refs.primary;
          const cand = candidate ? p.members.find((m) => m.key === resolve(candidate).node?.key)?.name : undefined;
          const r = await patroniSwitchover(p, { candidate: cand });
          const leader = await waitForNewLeader(p, old, electionMs);
          refs.oldPrimary = old;
          refs.newPrimary = leader;
          refs.primary = leader;
          const back = await waitForReplicaOf(p, old, 180_000);
          record(true, `REST switchover (${r.message.trim()}): ${spec0(leader).container} leads; ${spec0(old).container} ${back ? 'runs as a replica again' : 'NOT back as a replica within 180 s'}`);
          break;
        }
        case 'rejoin': {
          const target = resolve(node ?? 'old-primary');
          const healed = await healMember(ctx, p, target.node!.key);
          if (healed.length) progress('step', `   healed: ${healed.join('; ')}`);
          rejoinOk = await waitForReplicaOf(p, target.node!.key, timeout ?? 300_000);
          rejoinMs = Date.now() - at;
          record(rejoinOk, `${target.container} ${rejoinOk ? 'is a replica again (Patroni rejoined it)' : 'is NOT a replica'} after ${fmtMs(rejoinMs)}`);
          break;
        }
        default:
          throw new Error(`${kind} does not exist on the Patroni profile`);
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      record(false, `failed: ${msg}`, 'error');
      if (kind === 'rejoin') {
        rejoinMs = Date.now() - at;
        rejoinOk = false;
      }
    }
  }

  async function runStep(step: DrillStep, n: number): Promise<void> {
    const label = `${n}. `;
    if ('wait' in step) {
      progress('wait', `${label}wait ${fmtMs(step.wait)}`);
      await sleep(step.wait);
      return;
    }
    if ('waitFor' in step && step.waitFor === 'writes') {
      const from = Date.now();
      progress('wait', `${label}waiting until writes are acknowledged again (at most ${fmtMs(step.timeout)})`);
      while (!writer?.writes.some((x) => x.outcome === 'ok' && x.doneAt > from) && Date.now() - from < step.timeout) await sleep(100);
      return;
    }
    if ('waitFor' in step && pt) {
      await patroniAction('auto-failover', step.timeout, label);
      return;
    }
    if ('waitFor' in step) {
      progress('wait', `${label}waiting for the automatic failover (at most ${fmtMs(step.timeout)})`);
      const deadline = Date.now() + step.timeout;
      while (!autoReport && !autoFailure && Date.now() < deadline) await sleep(100);
      const a0 = Date.now();
      if (autoReport) {
        failovers.push(autoReport.result);
        refs.oldPrimary = autoReport.failedPrimary.key;
        refs.newPrimary = autoReport.result.newPrimary.key;
        refs.primary = refs.newPrimary;
        actions.push({ kind: 'auto-failover', at: autoReport.detectedAt, doneAt: autoReport.result.finishedAt, ok: true, message: `detected in ${autoReport.detectionMs} ms, ${autoReport.result.newPrimary.container} promoted` });
        progress('action', `${label}automatic failover: detected in ${autoReport.detectionMs} ms, ${autoReport.result.newPrimary.container} promoted (timeline ${autoReport.result.newPrimary.timeline})`);
      } else {
        actions.push({ kind: 'auto-failover', at: a0, doneAt: a0, ok: false, message: autoFailure ?? 'timed out' });
        throw new Error(`automatic failover did not happen: ${autoFailure ?? `nothing within ${fmtMs(step.timeout)}`}`);
      }
      watcher?.dispose();
      watcher = undefined;
      return;
    }
    if ('fault' in step) {
      await fault(step, label);
      return;
    }
    const a0 = Date.now();
    events.push({ type: 'event', at: a0, kind: 'action-start', message: `${label}${step.action} starts` });
    if (faultAt !== undefined && firstActionAfterFaultAt === undefined) firstActionAfterFaultAt = a0;
    const record = (ok: boolean, message: string, problem?: string) => {
      actions.push({ kind: step.action, at: a0, doneAt: Date.now(), ok, problem, message });
      progress('action', `${label}${step.action}: ${message}`);
    };
    if (pt) {
      await patroniAction(step.action === 'auto-failover' ? 'arm' : step.action, step.timeout, label, step.candidate, step.node, a0);
      return;
    }
    try {
      switch (step.action) {
        case 'failover': {
          const r = await failover(ctx, {
            candidate: step.candidate ? resolve(step.candidate).node?.key : undefined,
            fencing: step.fencing ?? 'kill',
            // Accepting data loss covers both guards: a candidate beyond the lag limit, and no survivor proven to hold every acknowledged commit.
            confirmLag: step.acceptDataLoss ? async () => true : undefined,
            acceptDataLoss: step.acceptDataLoss,
            onStep: (s) => {
              progress('step', `   ${s.name} (${s.ms} ms): ${s.message}`);
              // The 'choose' step's message starts with the chosen node's container name.
              if (s.name === 'choose') {
                const chosen = t.nodes.find((x) => s.message.startsWith(`${x.container} `));
                if (chosen) refs.newPrimary = chosen.key;
              }
              if (step.during && s.name === step.during.step) {
                const d = step.during;
                void fault({ fault: d.fault, node: d.node } as DrillStep & { fault: unknown }, '   during the failover: ').catch((e: Error) => progress('note', `fault during the failover failed: ${e.message}`));
              }
            },
          });
          failovers.push(r);
          refs.oldPrimary = r.oldPrimary?.key;
          refs.newPrimary = r.newPrimary.key;
          refs.primary = r.newPrimary.key;
          record(true, `${r.newPrimary.container} promoted (timeline ${r.newPrimary.timeline}, ${r.chosenBecause}); old primary ${r.fencing.mode}${r.warnings.length ? `; ${r.warnings.join(' ')}` : ''}`);
          break;
        }
        case 'switchover': {
          const r = await switchover(ctx, { candidate: step.candidate ? resolve(step.candidate).node?.key : undefined, onStep: (s) => progress('step', `   ${s.name} (${s.ms} ms): ${s.message}`) });
          failovers.push(r.failover);
          refs.oldPrimary = r.failover.oldPrimary?.key;
          refs.newPrimary = r.failover.newPrimary.key;
          refs.primary = r.failover.newPrimary.key;
          record(true, `${r.failover.newPrimary.container} is the primary; ${r.rejoin ? r.rejoin.message : `old primary not rejoined: ${r.rejoinError}`}`);
          break;
        }
        case 'auto-failover': {
          watcher = new AutoFailoverWatcher(ctx, { ...DEFAULT_AUTO_FAILOVER, cooldownMs: 600_000 });
          watcher.onDidFailover((r) => (autoReport = r));
          watcher.onDidFail((f) => (autoFailure = f.message));
          watcher.start();
          const deadline = Date.now() + (step.timeout ?? 30_000);
          while (watcher.state.kind !== 'watching' && Date.now() < deadline) await sleep(100);
          if (watcher.state.kind !== 'watching') throw new Error(`the watcher found no primary to watch (${JSON.stringify(watcher.state)})`);
          record(true, `watching ${watcher.state.container} (probe every ${DEFAULT_AUTO_FAILOVER.probeIntervalMs} ms, ${DEFAULT_AUTO_FAILOVER.failuresToTrigger} failures within ${DEFAULT_AUTO_FAILOVER.windowMs} ms)`);
          break;
        }
        case 'promote': {
          const target = resolve(step.node ?? 'replica1');
          const r = await promoteReplica(ctx, target.node!.key, { waitSeconds: 60 });
          refs.oldPrimary = refs.primary;
          refs.newPrimary = target.node!.key;
          record(true, `${r.message} (nothing fenced: two nodes accept writes now)`);
          break;
        }
        case 'fence': {
          const target = resolve(step.node ?? 'old-primary');
          const r = await fenceNode(ctx, target.container, step.fencing ?? 'stop');
          record(true, r.message);
          break;
        }
        case 'repoint-pgbouncer': {
          const target = resolve(step.node ?? 'new-primary');
          const r = await repointPgBouncer(ctx, target.node!.service);
          if (refs.newPrimary) refs.primary = refs.newPrimary;
          record(true, `PgBouncer now sends writes to ${r.to}`);
          break;
        }
        case 'set-sync': {
          const v = step.sync ?? '';
          const p = parseSyncNames(v);
          await setSynchronousReplication(ctx, p ? { method: p.method, num: p.num, standbys: p.names, force: true } : { method: 'async' });
          record(true, `synchronous_standby_names = '${v}'`);
          break;
        }
        case 'rejoin': {
          const target = resolve(step.node ?? 'old-primary');
          const r = await rejoinAsReplica(ctx, target.node!.key, { method: 'auto', onStep: (m) => progress('step', `   ${m}`) });
          rejoinMs = Date.now() - a0;
          rejoinOk = r.streaming;
          record(r.streaming, `${r.message} (${r.method}, ${fmtMs(rejoinMs)})`);
          break;
        }
      }
    } catch (e) {
      const problem = e instanceof FailoverError ? e.problem : undefined;
      const msg = e instanceof Error ? e.message : String(e);
      record(false, `refused or failed: ${msg}`, problem ?? 'error');
      if (step.action === 'rejoin') {
        rejoinMs = Date.now() - a0;
        rejoinOk = false;
      }
    }
  }
}

function describe(e: Expectation): string {
  switch (e.kind) {
    case 'writes-resume':
      return `writes resume within ${fmtMs(e.withinMs)} (longest gap between acknowledged writes)`;
    case 'writes-resume-after-action':
      return `writes resume within ${fmtMs(e.withinMs)} of the first action after the fault`;
    case 'lost':
      return e.max === 0 ? '0 acknowledged writes lost' : `at most ${e.max} acknowledged writes lost`;
    case 'lost-at-least':
      return `at least ${e.min} acknowledged write(s) lost (the lesson of this drill)`;
    case 'unexpected':
      return `at most ${e.max} unexpected writes`;
    case 'failed-writes':
      return e.max === 0 ? '0 failed writes' : `at most ${e.max} failed writes`;
    case 'stale-acks':
      return e.max === 0 ? 'no write acknowledged on an older timeline after a newer one took writes' : `at most ${e.max} writes acknowledged on an older timeline`;
    case 'timeline':
      return e.value === 'changed' ? 'the timeline changes (a replica was promoted)' : 'the timeline does not change';
    case 'old-primary-rejoins':
      return `the old primary rejoins as a replica within ${fmtMs(e.withinMs)}`;
    case 'action-refused':
      return `the action is refused (${e.problem}) and nothing is promoted`;
    case 'no-read-only-after-recovery':
      return 'no write routed to a read-only node (SQLSTATE 25006) after RTO + 1 s';
    case 'commits-blocked':
      return 'commits wait (none acknowledged) from 1 s after the fault until the next action';
    case 'one-primary-at-end':
      return 'exactly one node accepts writes at the end';
  }
}

/** Checks the drill's expectations against the checker's report and the runner's facts. Pure. */
export function evaluateExpectations(spec: DrillSpec, r: HistoryReport, f: DrillFacts, ackTimes: readonly number[]): ExpectationResult[] {
  const acks = () => r.totals.ok;
  const firstAckAfter = (at: number) => ackTimes.find((x) => x > at);
  const acksBetween = (a: number, b: number) => ackTimes.filter((x) => x > a && x < b).length;
  return spec.expect.map((e) => {
    let ok: boolean;
    let detail: string;
    switch (e.kind) {
      case 'writes-resume':
        ok = r.rto !== undefined && r.rto.ms <= e.withinMs;
        detail = r.rto ? `longest gap ${fmtMs(r.rto.ms)} (timeline ${r.rto.fromTimeline ?? '?'} → ${r.rto.toTimeline ?? '?'})` : 'no acknowledged write after the fault';
        break;
      case 'writes-resume-after-action': {
        const at = f.firstActionAfterFaultAt;
        const first = at === undefined ? undefined : firstAckAfter(at);
        ok = first !== undefined && first - at! <= e.withinMs;
        detail = at === undefined ? 'no action after the fault' : first === undefined ? 'no acknowledged write after the action' : `first acknowledgement ${fmtMs(first - at)} after the action`;
        break;
      }
      case 'lost':
        ok = r.totals.lost <= e.max && r.judgedOn !== undefined;
        detail = `${r.totals.lost} of ${acks()} acknowledged writes lost${r.rpo.lagBytesAtFault ? ` (replay lag at the fault: ${Object.entries(r.rpo.lagBytesAtFault).map(([k, v]) => `${k} ${v ?? '?'} B`).join(', ')})` : ''}`;
        break;
      case 'lost-at-least':
        ok = r.totals.lost >= e.min;
        detail = `${r.totals.lost} acknowledged writes lost`;
        break;
      case 'unexpected':
        ok = r.totals.unexpected <= e.max;
        detail = `${r.totals.unexpected} unexpected`;
        break;
      case 'failed-writes':
        ok = r.totals.failed + r.totals.indeterminate <= e.max;
        detail = `${r.totals.failed} failed, ${r.totals.indeterminate} indeterminate of ${r.totals.attempted}`;
        break;
      case 'stale-acks':
        ok = r.staleAcks.length <= e.max;
        detail = `${r.staleAcks.length} acknowledged on an older timeline (timelines in order: ${r.timelines.join(' → ') || 'none'})`;
        break;
      case 'timeline': {
        const changed = r.timelines.length > 1 || (f.initialTimeline !== undefined && r.timelines.some((x) => x !== f.initialTimeline));
        ok = e.value === 'changed' ? changed : !changed;
        detail = `timelines that acknowledged writes: ${r.timelines.join(' → ') || 'none'} (started on ${f.initialTimeline ?? '?'})`;
        break;
      }
      case 'old-primary-rejoins':
        ok = f.rejoinOk === true && f.rejoinMs !== undefined && f.rejoinMs <= e.withinMs;
        detail = f.rejoinMs === undefined ? 'no rejoin step ran' : `${f.rejoinOk ? 'streaming' : 'NOT streaming'} after ${fmtMs(f.rejoinMs)}`;
        break;
      case 'action-refused': {
        const a = f.actions.find((x) => x.kind === 'failover' || x.kind === 'switchover' || x.kind === 'auto-failover');
        ok = !!a && !a.ok && a.problem === e.problem;
        detail = a ? (a.ok ? `not refused: ${a.message}` : `${a.problem}: ${a.message}`) : 'no failover action ran';
        break;
      }
      case 'no-read-only-after-recovery':
        ok = r.readOnlyErrorsAfterRecovery === 0;
        detail = `${r.readOnlyErrorsAfterRecovery} writes got SQLSTATE 25006 after RTO + 1 s`;
        break;
      case 'commits-blocked': {
        const from = (f.faultAt ?? 0) + 1000;
        const to = f.firstActionAfterFaultAt ?? Infinity;
        const n = acksBetween(from, to);
        ok = f.faultAt !== undefined && n === 0;
        detail = `${n} writes acknowledged while the synchronous standby was gone`;
        break;
      }
      case 'one-primary-at-end':
        ok = f.primariesAtEnd === 1;
        detail = `${f.primariesAtEnd} node(s) accept writes at the end`;
        break;
    }
    return { text: describe(e), ok, detail, known: ok ? undefined : spec.known[e.kind] };
  });
}
