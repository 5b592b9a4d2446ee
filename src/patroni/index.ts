// The Patroni profile in the editor: Start/Stop Patroni Cluster (one click, with progress), the
// Patroni view (members, DCS health, settings, history) fed by PatroniMonitor, member commands
// through Patroni's REST API (switchover, failover, restart, reinit, pause/resume), the Docker
// faults (kill, stop, start, cut from etcd), the timing profiles, and Demo 8.
import * as vscode from 'vscode';
import { applySettings, waitForLeader } from '../core/patroni/operations';
import { isPatroniHealthy, PatroniMonitor } from '../core/patroni/monitor';
import { PatroniManager } from '../core/patroni/manager';
import { measureLeaderKill, type LeaderKillResult } from '../core/patroni/leaderKill';
import { DEFAULT_PROFILE, FAST_PROFILE, validatePatroniSettings, settingsOf, type PatroniSettings } from '../core/patroni/settings';
import type { PatroniStatus } from '../core/patroni/status';
import { composeDown, composeUp } from '../docker/compose';
import { containersInTheWay, patroniTopologyEnv } from '../core/patroni/topology';
import type { Services } from '../services';
import { comparedRuns, renderDemo8Report } from './demo8';
import type { FailoverMeasures } from '../core/demos/primaryFailover';
import { clusterProfileSetting, patroniTopologyFromSettings } from '../configuration';
import { setClusterProfile } from './settings';
import { PatroniTreeProvider, type PatroniTreeElement } from './tree';

const t = vscode.l10n.t;
export const PATRONI_VIEW_ID = 'pgHaWorkshop.patroni';

export const PatroniCommands = {
  start: 'pgHaWorkshop.patroni.startCluster',
  stop: 'pgHaWorkshop.patroni.stopCluster',
  refresh: 'pgHaWorkshop.patroni.refresh',
  switchover: 'pgHaWorkshop.patroni.switchover',
  failover: 'pgHaWorkshop.patroni.failover',
  restart: 'pgHaWorkshop.patroni.restart',
  reinit: 'pgHaWorkshop.patroni.reinit',
  pause: 'pgHaWorkshop.patroni.pause',
  resume: 'pgHaWorkshop.patroni.resume',
  kill: 'pgHaWorkshop.patroni.kill',
  stopMember: 'pgHaWorkshop.patroni.stopMember',
  startMember: 'pgHaWorkshop.patroni.startMember',
  cutFromDcs: 'pgHaWorkshop.patroni.cutFromDcs',
  reconnectDcs: 'pgHaWorkshop.patroni.reconnectDcs',
  applyProfile: 'pgHaWorkshop.patroni.applyTimingProfile',
  demo8: 'pgHaWorkshop.demo.demo8',
} as const;

export type PatroniOutcome<T = unknown> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string; readonly cancelled?: boolean };

/** What the extension-host tests read. */
export interface PatroniFeature {
  readonly monitor: PatroniMonitor;
  readonly tree: PatroniTreeProvider;
  lastDemo8?: LeaderKillResult;
}

function memberOf(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg) return arg;
  const e = arg as Partial<PatroniTreeElement> | undefined;
  return e && e.kind === 'member' && typeof e.name === 'string' ? e.name : undefined;
}

export function registerPatroni(context: vscode.ExtensionContext, services: Services): PatroniFeature {
  const topology = () => patroniTopologyFromSettings(process.env);
  const monitor = new PatroniMonitor({ topology: topology(), intervalMs: 2000 });
  const tree = new PatroniTreeProvider();
  const view = vscode.window.createTreeView(PATRONI_VIEW_ID, { treeDataProvider: tree });
  const feature: PatroniFeature = { monitor, tree };
  (services as { patroni?: PatroniFeature }).patroni = feature;
  const manager = () =>
    new PatroniManager({
      topology: monitor.topology,
      containers: services.containers(),
      network: {
        connect: async (n, c, aliases) => void (await services.docker().getNetwork(n).connect({ Container: c, EndpointConfig: aliases ? { Aliases: [...aliases] } : undefined })),
        disconnect: async (n, c) => void (await services.docker().getNetwork(n).disconnect({ Container: c, Force: true })),
      },
    });

  let lastState = '';
  const render = async (s: PatroniStatus) => {
    const names = [...monitor.topology.members.map((m) => m.container), ...monitor.topology.etcd.map((e) => e.container)];
    const snap = await services.containers().snapshot(names).catch(() => ({}) as Record<string, { status?: string }>);
    tree.notCreated = monitor.topology.etcd.every((e) => (snap as Record<string, { status?: string }>)[e.container]?.status === 'missing');
    tree.stopped = new Set(monitor.topology.members.filter((m) => (snap as Record<string, { status?: string }>)[m.container]?.status !== 'running').map((m) => m.name));
    tree.update(s);
    view.description = s.reachable ? (s.paused ? t('paused') : s.leader ? t('leader {0}', s.leader) : t('no leader')) : undefined;
    const state = s.reachable ? 'running' : 'stopped';
    if (state !== lastState) {
      lastState = state;
      void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.patroniState', state);
    }
    void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.patroniPaused', s.paused);
  };
  context.subscriptions.push(
    monitor,
    tree,
    view,
    monitor.onDidChange((s) => void render(s)),
    view.onDidChangeVisibility((e) => (e.visible || clusterProfileSetting() === 'patroni' ? monitor.start() : monitor.stop())),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('pgHaWorkshop')) monitor.configure({ topology: topology() });
    }),
  );
  if (clusterProfileSetting() === 'patroni' || view.visible) setTimeout(() => monitor.start(), 0);

  /** Runs `f`, logs, and turns any error into a message (never rejects). */
  const run = async <T>(what: string, f: () => PromiseLike<T>): Promise<PatroniOutcome<T>> => {
    try {
      const value = await f();
      void monitor.refresh().catch(() => undefined);
      return { ok: true, value };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      services.log.error(`${what}: ${message}`);
      void vscode.window.showErrorMessage(message);
      return { ok: false, message };
    }
  };
  const pickMember = async (arg: unknown, prompt: string, filter: (s: PatroniStatus['members'][number]) => boolean = () => true): Promise<string | undefined> => {
    const m = memberOf(arg);
    if (m) return m;
    const s = await monitor.refresh();
    const items = (s.members.length ? s.members.filter(filter).map((x) => ({ label: x.name, description: `${x.roleLabel} · ${x.state}` })) : monitor.topology.members.map((x) => ({ label: x.name, description: '' })));
    return (await vscode.window.showQuickPick(items, { placeHolder: prompt }))?.label;
  };
  const reg = (id: string, f: (...a: unknown[]) => unknown) => context.subscriptions.push(vscode.commands.registerCommand(id, f));

  reg(PatroniCommands.start, () =>
    run('Start Patroni cluster', () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Starting the Patroni cluster') }, async (progress) => {
        const started = Date.now();
        const pt = topology();
        // The workshop cluster uses the same names and ports: stopped first, by the learner's choice.
        const inTheWay = containersInTheWay(services.topology(), pt);
        // The Patroni cluster's own containers have the same names: told apart by their image.
        const present = (
          await Promise.all(
            inTheWay.map((name) =>
              services
                .docker()
                .getContainer(name)
                .inspect()
                .then((c) => (c.Config.Image === pt.image ? undefined : name))
                .catch(() => undefined),
            ),
          )
        ).filter((n): n is string => !!n);
        if (present.length) throw new Error(t('The workshop cluster ({0}) uses the container names and ports of the Patroni cluster. Run PG HA Workshop: Stop Cluster first (its data is kept; Start Cluster brings it back), then Start Patroni Cluster again.', present.join(', ')));
        await setClusterProfile('patroni');
        monitor.configure({ topology: pt });
        await composeUp(pt.cluster, { docker: services.docker(), env: { ...process.env, ...patroniTopologyEnv(pt) }, onOutput: (line) => progress.report({ message: line.replace(/\s+/g, ' ').slice(0, 120) }) });
        progress.report({ message: t('containers started; waiting for a leader and two streaming replicas…') });
        monitor.start();
        await monitor.waitFor(isPatroniHealthy, 300_000, 'a Patroni leader and two streaming replicas');
        const leader = await waitForLeader(pt, { timeoutMs: 60_000 });
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const msg = t('Patroni cluster healthy in {0} s: leader {1}, two streaming replicas, etcd quorum, HAProxy on port {2}.', seconds, leader, String(pt.cluster.pgbouncer.hostPort));
        services.log.info(msg);
        void vscode.window.showInformationMessage(msg);
        return { seconds: Number(seconds), leader };
      }),
    ),
  );
  reg(PatroniCommands.stop, async (...a) => {
    const opts = (a[0] ?? {}) as { volumes?: boolean };
    return run('Stop Patroni cluster', () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Removing the Patroni cluster') }, async () => {
        const pt = monitor.topology;
        await composeDown(pt.cluster, { docker: services.docker(), env: { ...process.env, ...patroniTopologyEnv(pt) }, volumes: opts.volumes !== false });
        monitor.stop();
        await setClusterProfile('workshop');
        await monitor.refresh();
        return true;
      }),
    );
  });
  reg(PatroniCommands.refresh, () => run('Refresh Patroni', () => monitor.refresh()));
  reg(PatroniCommands.switchover, async (arg, opts) => {
    const o = (opts ?? {}) as { scheduledAt?: string };
    const candidate = await pickMember(arg, t('Switch over to which replica?'), (m) => m.role !== 'leader');
    if (!candidate) return { ok: false, message: 'cancelled', cancelled: true };
    let scheduledAt: Date | undefined = o.scheduledAt ? new Date(o.scheduledAt) : undefined;
    if (!opts) {
      const now = t('Now');
      const later = t('At a Time…');
      const when = await vscode.window.showQuickPick([now, later], { placeHolder: t('When?') });
      if (!when) return { ok: false, message: 'cancelled', cancelled: true };
      if (when === later) {
        const text = await vscode.window.showInputBox({
          prompt: t('Time of the switchover (ISO 8601 with a time zone, e.g. {0})', new Date(Date.now() + 600_000).toISOString()),
          validateInput: (v) => (Number.isNaN(Date.parse(v)) ? t('Not a date and time: write it like {0}.', new Date().toISOString()) : Date.parse(v) < Date.now() ? t('That time is in the past.') : undefined),
        });
        if (!text) return { ok: false, message: 'cancelled', cancelled: true };
        scheduledAt = new Date(text);
      }
    }
    return run('Patroni switchover', () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Switchover to {0}', candidate) }, async () => {
        const r = await manager().switchover({ candidate, scheduledAt });
        services.log.info(`Switchover ${r.leader} → ${candidate}: ${r.message}`);
        void vscode.window.showInformationMessage(r.message || t('Switchover requested.'));
        return r;
      }),
    );
  });
  reg(PatroniCommands.failover, async (arg) => {
    const candidate = await pickMember(arg, t('Promote which replica?'), (m) => m.role !== 'leader');
    if (!candidate) return { ok: false, message: 'cancelled', cancelled: true };
    return run('Patroni failover', () => manager().failover(candidate));
  });
  const memberCommand = (id: string, what: string, f: (m: PatroniManager, name: string) => Promise<unknown>, prompt: string) =>
    reg(id, async (arg) => {
      const name = await pickMember(arg, prompt);
      if (!name) return { ok: false, message: 'cancelled', cancelled: true };
      return run(`${what} ${name}`, async () => {
        const r = await f(manager(), name);
        services.log.info(`${what} ${name}: done`);
        return r;
      });
    });
  memberCommand(PatroniCommands.restart, 'Restart (Patroni)', (m, n) => m.restart(n), t('Restart PostgreSQL on which member?'));
  memberCommand(PatroniCommands.reinit, 'Reinitialize', (m, n) => m.reinit(n), t('Reinitialize which replica?'));
  memberCommand(PatroniCommands.kill, 'Kill (fault)', (m, n) => m.kill(n), t('Kill which member?'));
  memberCommand(PatroniCommands.stopMember, 'Stop (fault)', (m, n) => m.stop(n), t('Stop which member?'));
  memberCommand(PatroniCommands.startMember, 'Start', (m, n) => m.start(n), t('Start which member?'));
  memberCommand(PatroniCommands.cutFromDcs, 'Cut from etcd (fault)', async (m, n) => {
    await m.cutFromDcs(n);
    tree.cut.add(n);
  }, t('Cut which member from etcd?'));
  memberCommand(PatroniCommands.reconnectDcs, 'Reconnect to etcd', async (m, n) => {
    await m.reconnectDcs(n);
    tree.cut.delete(n);
  }, t('Reconnect which member to etcd?'));
  reg(PatroniCommands.pause, () => run('Pause Patroni', () => manager().setPaused(true)));
  reg(PatroniCommands.resume, () => run('Resume Patroni', () => manager().setPaused(false)));
  reg(PatroniCommands.applyProfile, async (arg) => {
    let change: Partial<PatroniSettings> | undefined = typeof arg === 'object' && arg ? (arg as Partial<PatroniSettings>) : undefined;
    if (!change) {
      const cur = monitor.current?.settings ?? settingsOf({});
      const pick = await vscode.window.showQuickPick(
        [
          { label: t('Defaults'), description: 'ttl 30 · loop_wait 10 · retry_timeout 10', value: DEFAULT_PROFILE as Partial<PatroniSettings> },
          { label: t('Fast'), description: 'ttl 10 · loop_wait 2 · retry_timeout 4', value: FAST_PROFILE as Partial<PatroniSettings> },
          { label: t('Custom…'), description: `ttl ${cur.ttl} · loop_wait ${cur.loop_wait} · retry_timeout ${cur.retry_timeout}`, value: undefined },
        ],
        { placeHolder: t('Patroni timing profile (applied live with PATCH /config)') },
      );
      if (!pick) return { ok: false, message: 'cancelled', cancelled: true };
      change = pick.value;
      if (!change) {
        const text = await vscode.window.showInputBox({
          prompt: t('ttl, loop_wait, retry_timeout in seconds (loop_wait + 2·retry_timeout ≤ ttl)'),
          value: `${cur.ttl}, ${cur.loop_wait}, ${cur.retry_timeout}`,
          validateInput: (v) => {
            const n = v.split(/[,\s]+/).filter(Boolean).map(Number);
            if (n.length !== 3) return t('Write three numbers: ttl, loop_wait, retry_timeout.');
            const p = validatePatroniSettings({ ttl: n[0], loop_wait: n[1], retry_timeout: n[2] }, cur);
            return p.length ? p.join(' ') : undefined;
          },
        });
        if (!text) return { ok: false, message: 'cancelled', cancelled: true };
        const n = text.split(/[,\s]+/).filter(Boolean).map(Number);
        change = { ttl: n[0], loop_wait: n[1], retry_timeout: n[2] };
      }
    }
    const c = change;
    return run('Apply Patroni settings', async () => {
      const s = await applySettings(monitor.topology, c);
      const msg = t('Patroni settings now: ttl {0} s, loop_wait {1} s, retry_timeout {2} s.', String(s.ttl), String(s.loop_wait), String(s.retry_timeout));
      services.log.info(msg);
      void vscode.window.setStatusBarMessage(msg, 8000);
      return s;
    });
  });
  reg(PatroniCommands.demo8, async (opts) => {
    const o = (opts ?? {}) as { fault?: 'kill' | 'stop'; ratePerSec?: number; showReport?: boolean };
    const outcome = await run('Demo 8', () =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: t('Demo 8: kill the Patroni leader under load') }, async (progress) => {
        const s = await monitor.refresh();
        if (!s.reachable) throw new Error(t('The Patroni cluster is not running: run PG HA Workshop: Start Patroni Cluster first.'));
        const r = await measureLeaderKill({ topology: monitor.topology, containers: services.containers() }, { fault: o.fault, ratePerSec: o.ratePerSec, onStep: (m) => { services.log.info(`Demo 8: ${m}`); progress.report({ message: m }); } });
        feature.lastDemo8 = r;
        const passed = r.newLeader !== r.oldLeader && r.rto !== undefined;
        void vscode.commands.executeCommand('setContext', 'pgHaWorkshop.demo8.passed', passed);
        const others = comparedRuns(
          {
            demo4: t('Manual failover (Demo 4)'),
            demo4Note: t('you: promote, repoint replicas and PgBouncer'),
            watcher: t('Custom watcher (Exercise 4)'),
            watcherNote: t('the workshop\'s script: polls pg_isready, promotes; no fencing, no quorum'),
          },
          services.demoResults?.get('demo4')?.measures as Partial<FailoverMeasures> | undefined,
          services.lastAutoFailover,
        );
        const md = renderDemo8Report(r, others);
        services.log.info(md);
        if (o.showReport !== false) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument({ language: 'markdown', content: md }), { preview: true });
        return r;
      }),
    );
    return outcome;
  });
  return feature;
}
