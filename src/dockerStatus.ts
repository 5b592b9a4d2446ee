// Whether a Docker engine answers, as the context key the cluster view's welcome content reads
// (pgHaWorkshop.dockerState: running | notRunning | noPermission | other), set at activation and
// by "Check Docker Again". The cluster monitor keeps the key current afterwards.
import * as vscode from 'vscode';
import { createDockerClient, DockerError, pingDocker, type DockerProblem } from './docker/engine';
import type { Services } from './services';

const t = vscode.l10n.t;

export const DOCKER_STATE_KEY = 'pgHaWorkshop.dockerState';
export type DockerState = { readonly ok: true } | { readonly ok: false; readonly problem: DockerProblem; readonly message: string };

/** Pings the engine of the pgHaWorkshop.dockerHost setting and publishes the result as the context key. */
export async function checkDocker(services: Services): Promise<DockerState> {
  let state: DockerState;
  try {
    // A client for the setting as it is now (the shared one follows setting changes a moment later).
    await pingDocker(createDockerClient(vscode.workspace.getConfiguration('pgHaWorkshop').get<string>('dockerHost', '')));
    state = { ok: true };
  } catch (e) {
    const err = e instanceof DockerError ? e : new DockerError(String(e), 'other', e);
    state = { ok: false, problem: err.problem, message: err.message };
  }
  await vscode.commands.executeCommand('setContext', DOCKER_STATE_KEY, state.ok ? 'running' : state.problem);
  if (state.ok) services.log.info('Docker engine answers');
  else services.log.warn(state.message);
  return state;
}

export function registerDockerStatus(context: vscode.ExtensionContext, services: Services): void {
  context.subscriptions.push(
    // Returns the DockerState, so the walkthrough and the tests can read the outcome.
    vscode.commands.registerCommand('pgHaWorkshop.checkDocker', async (): Promise<DockerState> => {
      const state = await checkDocker(services);
      if (state.ok) {
        void vscode.window.showInformationMessage(t('Docker engine answers.'));
        void services.monitor.refresh().catch(() => undefined);
      } else {
        const showLog = t('Show Log');
        void vscode.window.showErrorMessage(state.message, showLog).then((pick) => (pick === showLog ? services.log.show() : undefined));
      }
      return state;
    }),
    vscode.commands.registerCommand('pgHaWorkshop.showLog', () => services.log.show()),
  );
  // After activation, not during it: the first Docker call loads the Docker client library
  // (dist/vendor.js); the welcome content shows "Looking for a Docker engine…" meanwhile.
  setTimeout(() => void checkDocker(services), 0);
}
