// Open psql on Node: an integrated terminal running psql against the node — the host's psql when
// there is one on PATH, else psql inside the container (docker exec -it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { NodeActionError, resolveNode } from '../core/nodeActions';
import { endpointOf } from '../docker/engine';
import type { Services } from '../services';
import { cancelled, isRunning, runCommand, targetNode, type CommandOutcome } from './common';

const t = vscode.l10n.t;

/** Absolute path of an executable on PATH, or undefined. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const exts = process.platform === 'win32' ? (env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, name + ext);
      try {
        fs.accessSync(p, fs.constants.X_OK);
        if (fs.statSync(p).isFile()) return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export interface PsqlLaunch {
  readonly terminalName: string;
  readonly shellPath: string;
  readonly shellArgs: string[];
  readonly env: Record<string, string>;
}

export async function openPsql(services: Services, arg?: unknown): Promise<CommandOutcome<PsqlLaunch>> {
  const node = await targetNode(services, arg, t('Open psql on which node?'), isRunning);
  if (!node) return cancelled();
  return runCommand(
    services,
    'Open psql',
    async () => {
      const topo = services.topology();
      const target = resolveNode(topo, node);
      const st = await services.containers().state(target.container);
      if (!st?.Running) {
        throw new NodeActionError(
          st ? t('{0} is not running ({1}): start it first (PG HA Workshop: Start Node).', target.container, st.Status) : t('{0} does not exist: start the cluster first (PG HA Workshop: Start Cluster).', target.container),
          st ? 'notRunning' : 'noContainer',
        );
      }
      const u = topo.superuser;
      const host = onPath('psql');
      const endpoint = endpointOf(services.docker());
      const launch: PsqlLaunch = host
        ? {
            terminalName: `psql · ${target.container}`,
            shellPath: host,
            shellArgs: ['-h', topo.host, '-p', String(target.hostPort), '-U', u.user, u.database],
            env: { PGPASSWORD: u.password, PGAPPNAME: 'pg-ha-workshop psql' },
          }
        : {
            terminalName: `psql · ${target.container} (docker exec)`,
            shellPath: onPath('docker') ?? 'docker',
            shellArgs:
              target.kind === 'pgbouncer'
                ? ['exec', '-it', '-e', `PGPASSWORD=${u.password}`, target.container, 'psql', '-h', '127.0.0.1', '-p', '6432', '-U', u.user, u.database]
                : ['exec', '-it', target.container, 'psql', '-U', u.user, u.database],
            // The engine the extension talks to (setting, DOCKER_HOST or docker context).
            env: endpoint && endpoint.source !== 'default' ? { DOCKER_HOST: endpoint.host } : {},
          };
      const term = vscode.window.createTerminal({ name: launch.terminalName, shellPath: launch.shellPath, shellArgs: launch.shellArgs, env: launch.env, iconPath: new vscode.ThemeIcon('terminal') });
      term.show();
      return launch;
    },
    node,
  );
}
