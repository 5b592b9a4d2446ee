// What every cluster command shares: the node it applies to (tree item, name, or a quick pick),
// and the one place where an error becomes a message (what, why, what to do) — never an
// unhandled rejection.
import * as vscode from 'vscode';
import type { ClusterOperation, NodeOperation } from '../core/clusterManager';
import { NodeActionError, type NodeActionContext } from '../core/nodeActions';
import { processHolder } from '../core/operationLock';
import type { ClusterStatus, NodeStatus } from '../core/status';
import type { NodeKey } from '../core/topology';
import { ComposeError } from '../docker/compose';
import { DockerError } from '../docker/engine';
import type { Services } from '../services';
import type { ClusterTreeElement } from '../views/clusterTree';

const t = vscode.l10n.t;

export const ClusterCommands = {
  startCluster: 'pgHaWorkshop.startCluster',
  stopCluster: 'pgHaWorkshop.stopCluster',
  resetCluster: 'pgHaWorkshop.resetCluster',
  refresh: 'pgHaWorkshop.refreshCluster',
  stopNode: 'pgHaWorkshop.stopNode',
  startNode: 'pgHaWorkshop.startNode',
  restartNode: 'pgHaWorkshop.restartNode',
  killNode: 'pgHaWorkshop.killNode',
  promoteReplica: 'pgHaWorkshop.promoteReplica',
  openPsql: 'pgHaWorkshop.openPsql',
  showNodeLogs: 'pgHaWorkshop.showNodeLogs',
  copyConnectionString: 'pgHaWorkshop.copyConnectionString',
} as const;

/** What a command resolves to, so callers (walkthrough, tests) can tell success from a refusal. */
export type CommandOutcome<T = unknown> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string; readonly cancelled?: boolean };

export type NodeRef = NodeKey | 'pgbouncer';

export function actionContext(services: Services): NodeActionContext {
  return { topology: services.topology(), containers: services.containers(), holder: processHolder('VS Code window') };
}

/** A node named by a tree element, a key/service/container string, or `{ node: ... }`. */
export function nodeFromArg(arg: unknown): string | undefined {
  if (typeof arg === 'string' && arg) return arg;
  if (arg && typeof arg === 'object') {
    const e = arg as Partial<ClusterTreeElement> & { node?: unknown };
    if (e.kind === 'node' && 'key' in e) return e.key;
    if (e.kind === 'pgbouncer') return 'pgbouncer';
    if (typeof e.node === 'string') return e.node;
  }
  return undefined;
}

// Confirmations protect against split brain and data loss, so command arguments cannot skip them:
// any extension can run our commands with any arguments. `{ confirm: false }` is honoured only
// from this extension's own code (args made by `confirmedByUser`, marked with a symbol nobody
// else holds) and in the extension-host tests (ExtensionMode.Test).
const CONFIRMED = Symbol('pgHaWorkshop.confirmedByUser');
let scriptedConfirmations = false;

export function allowScriptedConfirmations(mode: vscode.ExtensionMode): void {
  scriptedConfirmations = mode === vscode.ExtensionMode.Test;
}

/** Arguments for one of our commands after the user already confirmed in our own UI. */
export function confirmedByUser<T extends object>(args: T): T & { confirm: false } {
  return Object.assign({ ...args, confirm: false as const }, { [CONFIRMED]: true });
}

/** True when `args` may skip the confirmation: `confirm: false` from our own code or a test. */
export function skipsConfirmation(args: unknown): boolean {
  if (!args || typeof args !== 'object' || (args as { confirm?: unknown }).confirm !== false) return false;
  return CONFIRMED in args || scriptedConfirmations;
}

/**
 * `enablement: isWorkspaceTrusted` greys a command out in menus and the palette, but
 * executeCommand (another extension, a walkthrough link) still runs it: the handler refuses too.
 */
export function requiringTrust(f: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    if (vscode.workspace.isTrusted) return f(...args);
    const message = t('This folder is not trusted: commands that change containers or run SQL are off. Trust the folder (Manage Workspace Trust) to use them.');
    void vscode.window.showWarningMessage(message);
    return { ok: false, message } satisfies CommandOutcome;
  };
}

const CLUSTER_OPERATIONS: ReadonlySet<string> = new Set<ClusterOperation>(['create', 'destroy', 'reset', 'failover', 'switchover', 'load', 'syncReplication', 'backups', 'drills', 'labs']);

/**
 * Why `op` cannot run on the active cluster now (undefined when it can). The workshop's Compose
 * cluster allows everything (each command still checks its node's state); an attached cluster
 * allows what its manager says: nothing that changes it unless its profile is a lab, and never
 * anything that needs containers.
 */
export function operationRefusal(services: Services, op: NodeOperation | ClusterOperation, node?: string): string | undefined {
  const m = services.manager();
  if (m.kind === 'compose') return undefined;
  const s = services.monitor.current;
  const n = node ? s?.nodes.find((x) => x.key === node || x.name === node || x.service === node) : undefined;
  const nodeOk = (x: NodeStatus) => m.nodeOperations(x, 'unknown').includes(op as NodeOperation);
  const allowed = (CLUSTER_OPERATIONS.has(op) && m.clusterOperations.has(op as ClusterOperation)) || (n ? nodeOk(n) : !!s?.nodes.some(nodeOk));
  if (allowed) return undefined;
  const label = services.attached()?.label ?? '';
  return m.readOnly
    ? t('The cluster "{0}" is attached read-only, so this command is off: it would change the cluster or needs the workshop\'s containers. Switch to the workshop cluster in the Cluster view\'s title bar, or attach the cluster again as a lab.', label)
    : t('The cluster "{0}" is attached: this command needs the workshop\'s Docker containers. Switch to the workshop cluster in the Cluster view\'s title bar.', label);
}

/** A command handler that runs only when the active cluster allows `op` (see operationRefusal). */
export function requiringOperation(services: Services, op: NodeOperation | ClusterOperation, f: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  return (...args: unknown[]) => {
    const refusal = operationRefusal(services, op, nodeFromArg(args[0]));
    if (!refusal) return f(...args);
    void vscode.window.showWarningMessage(refusal);
    return { ok: false, message: refusal } satisfies CommandOutcome;
  };
}

export function optionsFromArgs(args: unknown[]): Record<string, unknown> {
  for (const a of args) if (a && typeof a === 'object' && !Array.isArray(a) && !('kind' in a)) return a as Record<string, unknown>;
  return {};
}

/** Asks which node, offering only the ones `fits` accepts. undefined when the user cancels. */
export async function pickNode(services: Services, title: string, fits: (n: NodeStatus | 'pgbouncer', s: ClusterStatus) => boolean, includePgBouncer = false): Promise<NodeRef | undefined> {
  const s = services.monitor.current ?? (await services.monitor.refresh());
  type Item = vscode.QuickPickItem & { ref: NodeRef };
  const items: Item[] = s.nodes.filter((n) => fits(n, s)).map((n) => ({ label: n.container, description: n.role, detail: n.problem, ref: n.key }));
  if (includePgBouncer && fits('pgbouncer', s)) items.push({ label: s.pgbouncer.container, description: 'PgBouncer', ref: 'pgbouncer' });
  if (items.length === 0) {
    void vscode.window.showWarningMessage(t('{0}: no node fits right now. Check the cluster view.', title));
    return undefined;
  }
  const choice = await vscode.window.showQuickPick(items, { title, placeHolder: t('Pick a node') });
  return choice?.ref;
}

/** The user-facing text of any error, and the buttons that fix its usual causes. */
export function describeError(e: unknown): { message: string; actions: string[] } {
  if (e instanceof NodeActionError) {
    if (e.problem === 'noContainer') return { message: e.message, actions: [t('Start Cluster')] };
    if (e.problem === 'docker') return { message: e.message, actions: [t('Open Docker Host Setting')] };
    return { message: e.message, actions: [t('Show Node Logs')].filter(() => e.problem === 'promoteFailed' || e.problem === 'unreachable') };
  }
  if (e instanceof DockerError) return { message: e.message, actions: e.problem === 'notFound' ? [t('Start Cluster')] : [t('Open Docker Host Setting')] };
  if (e instanceof ComposeError) return { message: e.message, actions: e.problem === 'notRunning' || e.problem === 'noPermission' ? [t('Open Docker Host Setting')] : [] };
  return { message: e instanceof Error ? e.message : String(e), actions: [] };
}

/** Runs a command body; shows and logs any error; never rejects. */
export async function runCommand<T>(services: Services, what: string, body: () => PromiseLike<T>, node?: string): Promise<CommandOutcome<T>> {
  try {
    return { ok: true, value: await body() };
  } catch (e) {
    const { message, actions } = describeError(e);
    services.log.error(`${what}: ${message}`);
    void vscode.window.showErrorMessage(message, ...actions).then(async (pick) => {
      if (pick === t('Start Cluster')) await vscode.commands.executeCommand(ClusterCommands.startCluster);
      else if (pick === t('Open Docker Host Setting')) await vscode.commands.executeCommand('workbench.action.openSettings', 'pgHaWorkshop.dockerHost');
      else if (pick === t('Show Node Logs') && node) await vscode.commands.executeCommand(ClusterCommands.showNodeLogs, node);
    });
    return { ok: false, message };
  }
}

export function cancelled(where?: string): CommandOutcome<never> {
  return { ok: false, message: where ?? t('Cancelled.'), cancelled: true };
}

/** An AbortSignal that follows a progress notification's Cancel button. */
export function abortOn(token: vscode.CancellationToken): AbortSignal {
  const ac = new AbortController();
  if (token.isCancellationRequested) ac.abort();
  token.onCancellationRequested(() => ac.abort());
  return ac.signal;
}

/** The node a command applies to: from the argument, else asked; undefined when cancelled. */
export async function targetNode(services: Services, arg: unknown, title: string, fits: (n: NodeStatus | 'pgbouncer', s: ClusterStatus) => boolean, includePgBouncer = true): Promise<string | undefined> {
  return nodeFromArg(arg) ?? (await pickNode(services, title, fits, includePgBouncer));
}

export const isRunning = (n: NodeStatus | 'pgbouncer', s: ClusterStatus) => (n === 'pgbouncer' ? s.pgbouncer.containerState.status : n.containerState.status) === 'running';
export const isStopped = (n: NodeStatus | 'pgbouncer', s: ClusterStatus) => {
  const st = n === 'pgbouncer' ? s.pgbouncer.containerState.status : n.containerState.status;
  return st !== 'running' && st !== 'missing';
};
