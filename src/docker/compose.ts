// The Compose CLI, for what dockerode cannot do: create and remove the whole cluster from
// cluster/docker-compose.yml. Works with Compose v2 (`docker compose`) and v1 (`docker-compose`),
// always with the topology's PGHA_* variables, and turns every failure into a message that says
// what to do (port taken, engine down, image missing, no Compose at all).
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import type Docker from 'dockerode';
import { topologyEnv, type ClusterTopology } from '../core/topology';
import { createDockerClient, DockerError, endpointOf, pingDocker } from './engine';
import { cliEnvFor, resolveDockerEndpoint } from './endpoint';

export type ComposeProblem = 'noCompose' | 'notRunning' | 'noPermission' | 'portTaken' | 'imageMissing' | 'timeout' | 'other';

/** A Compose failure whose message is meant for the user. */
export class ComposeError extends Error {
  constructor(
    message: string,
    readonly problem: ComposeProblem,
    readonly details: { port?: number; output?: string } = {},
  ) {
    super(message);
    this.name = 'ComposeError';
  }
}

export interface ComposeCli {
  readonly version: 'v2' | 'v1';
  /** Program to run and the arguments before Compose's own (`docker compose` → docker, [compose]). */
  readonly program: string;
  readonly baseArgs: readonly string[];
  /** How a user types it. */
  readonly label: string;
}

const V2: ComposeCli = { version: 'v2', program: 'docker', baseArgs: ['compose'], label: 'docker compose' };
const V1: ComposeCli = { version: 'v1', program: 'docker-compose', baseArgs: [], label: 'docker-compose' };

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(program: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onOutput?: (line: string) => void } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; child.kill('SIGTERM'); }, opts.timeoutMs) : undefined;
    const lines = (chunk: Buffer) => {
      if (!opts.onOutput) return;
      for (const l of chunk.toString('utf8').split(/\r?\n/)) if (l.trim()) opts.onOutput(l);
    };
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString('utf8'); lines(c); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); lines(c); });
    child.on('error', (e) => { if (timer) clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      if (timedOut) reject(new ComposeError(`\`${program} ${args.join(' ')}\` did not finish within ${Math.round((opts.timeoutMs ?? 0) / 1000)} s.`, 'timeout', { output: stderr }));
      else resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

let detected: Promise<ComposeCli> | undefined;

/**
 * Finds the Compose CLI: v2 (`docker compose`) when it answers, else v1 (`docker-compose`).
 * PGHA_COMPOSE_CLI=v1|v2 forces one (to test both on one machine).
 */
export function detectComposeCli(env: NodeJS.ProcessEnv = process.env): Promise<ComposeCli> {
  const forced = env.PGHA_COMPOSE_CLI;
  if (forced === 'v1' || forced === 'v2') return probeCli(forced === 'v1' ? V1 : V2).then((ok) => {
    if (!ok) throw new ComposeError(`PGHA_COMPOSE_CLI=${forced} but \`${(forced === 'v1' ? V1 : V2).label} version\` does not answer. Install it, or unset PGHA_COMPOSE_CLI.`, 'noCompose');
    return forced === 'v1' ? V1 : V2;
  });
  detected ??= (async () => {
    if (await probeCli(V2)) return V2;
    if (await probeCli(V1)) return V1;
    detected = undefined; // look again next time: the user may install it meanwhile
    throw new ComposeError(
      'Docker Compose was not found: neither `docker compose` (v2) nor `docker-compose` (v1) runs. Install Docker Desktop, or on Linux the `docker-compose-plugin` (v2) or `docker-compose` (v1) package.',
      'noCompose',
    );
  })();
  return detected;
}

async function probeCli(cli: ComposeCli): Promise<boolean> {
  try {
    return (await run(cli.program, [...cli.baseArgs, 'version'], { timeoutMs: 20_000 })).code === 0;
  } catch {
    return false;
  }
}

/** The environment Compose runs with: the caller's, with the topology's variables on top. */
export function composeEnv(t: ClusterTopology, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, ...topologyEnv(t) };
}

/** The PGHA_* variable that sets a host port, for messages. */
export function portVariable(t: ClusterTopology, port: number): string | undefined {
  if (t.pgbouncer.hostPort === port) return 'PGHA_PGBOUNCER_PORT';
  const n = t.nodes.find((x) => x.hostPort === port);
  return n ? `PGHA_${n.key.toUpperCase()}_PORT` : undefined;
}

export interface PortProblem {
  readonly port: number;
  readonly service: string;
  /** Name of the container publishing the port, when a container does. */
  readonly takenBy?: string;
  readonly message: string;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * Ports the cluster would publish that something else already holds. A port held by this
 * cluster's own container is fine (`up` leaves it as it is).
 */
export async function findPortConflicts(t: ClusterTopology, docker: Docker = createDockerClient()): Promise<PortProblem[]> {
  const wanted = [
    ...t.nodes.map((n) => ({ port: n.hostPort, service: n.service, container: n.container })),
    { port: t.pgbouncer.hostPort, service: t.pgbouncer.service, container: t.pgbouncer.container },
  ];
  const problems: PortProblem[] = [];
  for (const w of wanted) {
    if (await portFree(t.host, w.port)) continue;
    let holder: string | undefined;
    try {
      const list = await docker.listContainers({ filters: { publish: [String(w.port)] } });
      holder = list[0]?.Names[0]?.replace(/^\//, '');
    } catch {
      // Engine unreachable: the caller finds out soon enough; name no holder.
    }
    if (holder === w.container) continue;
    const variable = portVariable(t, w.port) ?? 'the PGHA_*_PORT variable';
    const how = holder
      ? `Container "${holder}" publishes it: stop it (\`docker stop ${holder}\`)`
      : `Another program listens on it (a local PostgreSQL or PgBouncer? find it with \`sudo lsof -iTCP:${w.port} -sTCP:LISTEN\` or \`sudo ss -ltnp 'sport = :${w.port}'\`, then stop it)`;
    problems.push({
      port: w.port,
      service: w.service,
      takenBy: holder,
      message: `Port ${w.port} on ${t.host} (for ${w.service}) is already in use. ${how}, or choose another port with ${variable}=<free port>.`,
    });
  }
  return problems;
}

/** Turns Compose's stderr into a ComposeError with an actionable message. */
export function classifyComposeFailure(t: ClusterTopology, cli: ComposeCli, action: string, output: string): ComposeError {
  const text = output.trim();
  const last = text.split(/\r?\n/).filter((l) => l.trim()).slice(-3).join('\n');
  const portLine = text.split(/\r?\n/).find((l) => /port is already allocated|address already in use/i.test(l));
  if (portLine !== undefined) {
    // "Bind for 127.0.0.1:5432 failed" (v1) / "listen tcp4 127.0.0.1:6432: bind" (v2): the number after an address.
    const m = /\d+\.\d+\.\d+\.\d+:(\d{1,5})\b/.exec(portLine) ?? /:(\d{2,5})\b(?![.\d])/.exec(portLine);
    const p = m ? Number(m[1]) : undefined;
    const variable = p !== undefined ? portVariable(t, p) : undefined;
    return new ComposeError(
      `Could not ${action}: ${p !== undefined ? `port ${p} on ${t.host}` : 'a port'} is already in use. Stop whatever holds it (\`docker ps\`, \`sudo lsof -iTCP:${p ?? 'PORT'} -sTCP:LISTEN\`), or choose another port with ${variable ?? 'PGHA_PRIMARY_PORT / PGHA_REPLICA1_PORT / PGHA_REPLICA2_PORT / PGHA_PGBOUNCER_PORT'}=<free port>. (${last})`,
      'portTaken',
      { port: p, output: text },
    );
  }
  if (/permission denied[^\n]*docker\.sock|docker\.sock[^\n]*permission denied/i.test(text)) {
    return new ComposeError(
      `Could not ${action}: permission denied on the Docker socket. Add your user to the "docker" group (\`sudo usermod -aG docker $USER\`, then log in again).`,
      'noPermission',
      { output: text },
    );
  }
  if (/Cannot connect to the Docker daemon|Is the docker daemon running|Couldn't connect to Docker daemon|error during connect|connection refused[^\n]*docker/i.test(text)) {
    return new ComposeError(
      `Could not ${action}: no Docker engine answers. Start Docker (Docker Desktop, or \`sudo systemctl start docker\` on Linux) and try again.`,
      'notRunning',
      { output: text },
    );
  }
  if (/pull access denied|manifest unknown|not found: manifest|No such image|repository does not exist|failed to resolve reference|Get "?https?:\/\/[^\s]*registry/i.test(text)) {
    return new ComposeError(
      `Could not ${action}: an image is not available (PostgreSQL: ${t.postgresImage}, PgBouncer: ${t.pgbouncerImage}). Check the network and \`docker pull\` it, or set PGHA_POSTGRES_IMAGE / PGHA_PGBOUNCER_IMAGE to an image you have (see cluster/README.md for what an image must provide). (${last})`,
      'imageMissing',
      { output: text },
    );
  }
  return new ComposeError(`Could not ${action} (\`${cli.label}\` failed): ${last || 'no output'}`, 'other', { output: text });
}

export interface ComposeOptions {
  /** Each line Compose prints, as it comes. */
  readonly onOutput?: (line: string) => void;
  readonly timeoutMs?: number;
  readonly docker?: Docker;
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `compose -f FILE -p PROJECT ARGS...` in the compose file's folder. */
export async function compose(t: ClusterTopology, args: readonly string[], action: string, opts: ComposeOptions = {}): Promise<RunResult> {
  const cli = await detectComposeCli(opts.env);
  const fullArgs = [...cli.baseArgs, '-f', t.composeFile, '-p', t.projectName, ...args];
  let r: RunResult;
  try {
    // The same engine as the extension's dockerode client (setting, DOCKER_HOST or docker context).
    const endpoint = (opts.docker && endpointOf(opts.docker)) || resolveDockerEndpoint({ env: opts.env ?? process.env });
    r = await run(cli.program, fullArgs, { cwd: path.dirname(t.composeFile), env: cliEnvFor(endpoint, composeEnv(t, opts.env)), timeoutMs: opts.timeoutMs ?? 600_000, onOutput: opts.onOutput });
  } catch (e) {
    if (e instanceof ComposeError) throw e;
    throw new ComposeError(`Could not ${action}: ${e instanceof Error ? e.message : String(e)}`, 'other');
  }
  if (r.code !== 0) throw classifyComposeFailure(t, cli, action, `${r.stderr}\n${r.stdout}`);
  return r;
}

async function ensureEngine(docker: Docker, action: string): Promise<void> {
  try {
    await pingDocker(docker);
  } catch (e) {
    const de = e as DockerError;
    throw new ComposeError(de.message.replace('reach the Docker engine', action), de.problem === 'noPermission' ? 'noPermission' : 'notRunning');
  }
}

/**
 * Creates and starts the cluster (`up -d`). Idempotent: running containers are left alone,
 * stopped ones are started. Checks first that the engine answers and that no other program
 * holds the cluster's ports. Returns when Compose returns (the primary is healthy, replicas
 * may still be cloning): wait for replication separately.
 */
export async function composeUp(t: ClusterTopology, opts: ComposeOptions & { only?: readonly string[] } = {}): Promise<void> {
  const docker = opts.docker ?? createDockerClient();
  const action = 'start the cluster';
  await ensureEngine(docker, action);
  const conflicts = await findPortConflicts(t, docker);
  if (conflicts.length > 0) {
    throw new ComposeError(conflicts.map((c) => c.message).join('\n'), 'portTaken', { port: conflicts[0].port });
  }
  // `only`: these services and not their dependencies (a fenced node must not be started as one).
  await compose(t, ['up', '-d', ...(opts.only ? ['--no-deps', ...opts.only] : [])], action, opts);
}

/** Stops and removes the cluster's containers and network; with `volumes`, its data too. */
export async function composeDown(t: ClusterTopology, opts: ComposeOptions & { volumes?: boolean } = {}): Promise<void> {
  const docker = opts.docker ?? createDockerClient();
  const action = opts.volumes ? 'remove the cluster and its data' : 'remove the cluster';
  await ensureEngine(docker, action);
  // Nodes restored from a backup (Demo 9) are not Compose services but mount the backup volume:
  // they go with the cluster, else `down -v` could not remove that volume.
  const restored = await docker.listContainers({ all: true, filters: { label: [`${RESTORED_NODE_LABEL}=${t.projectName}`] } }).catch(() => []);
  for (const c of restored) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
  await detachForeignContainers(t, docker);
  await compose(t, ['down', '--remove-orphans', '-t', '5', ...(opts.volumes ? ['-v'] : [])], action, opts);
}

/**
 * Containers on the cluster's networks that are not its services (the operation lock, which an
 * operation such as Cleanup holds while it runs `down`; a rejoin helper) are disconnected first:
 * Docker refuses to remove a network with active endpoints. They keep running; only the network goes.
 */
async function detachForeignContainers(t: ClusterTopology, docker: Docker): Promise<void> {
  const networks = await docker.listNetworks({ filters: { label: [`com.docker.compose.project=${t.projectName}`] } }).catch(() => []);
  for (const n of networks) {
    const info = await docker.getNetwork(n.Id).inspect().catch(() => undefined);
    for (const id of Object.keys((info?.Containers as Record<string, unknown> | undefined) ?? {})) {
      const labels = (await docker.getContainer(id).inspect().catch(() => undefined))?.Config.Labels ?? {};
      if (labels['com.docker.compose.project'] === t.projectName) continue;
      await docker.getNetwork(n.Id).disconnect({ Container: id, Force: true }).catch(() => undefined);
    }
  }
}

export interface ServiceState {
  readonly service: string;
  readonly container: string;
  /** 'running', 'exited', ... */
  readonly state: string;
  /** 'healthy', 'unhealthy', 'starting', or undefined without a healthcheck. */
  readonly health?: string;
}

/** Label of a node restored from a backup (src/core/backup.ts, cluster/restore-backup.sh): its value is the project. */
export const RESTORED_NODE_LABEL = 'org.pgha.restore';

/** Label of a one-shot set-up service (the backup volume's owner fix): it exits 0 and is not part of the running cluster. */
export const SETUP_SERVICE_LABEL = 'org.pgha.setup';

/** The cluster's containers as the engine sees them (by Compose's project label), without one-shot set-up services. */
export async function composePs(t: ClusterTopology, docker: Docker = createDockerClient()): Promise<ServiceState[]> {
  const action = 'list the cluster';
  await ensureEngine(docker, action);
  const list = await docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${t.projectName}`] } });
  return list
    .filter((c) => c.Labels[SETUP_SERVICE_LABEL] !== 'true')
    .map((c) => {
      const health = /\((healthy|unhealthy|health: starting)\)/.exec(c.Status)?.[1]?.replace('health: ', '');
      return {
        service: c.Labels['com.docker.compose.service'] ?? '',
        container: c.Names[0]?.replace(/^\//, '') ?? '',
        state: c.State,
        health,
      };
    })
    .sort((a, b) => a.service.localeCompare(b.service));
}
