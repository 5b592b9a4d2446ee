// The Docker engine as the rest of the code sees it: a dockerode client built from the user's
// Docker host setting, and every failure turned into a message that says what to do.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import type { ContainerState, ContainerStatusName } from '../core/status';
import { dockerodeOptions, resolveDockerEndpoint, type DockerEndpoint } from './endpoint';
import { demuxDockerLogs } from './logFrames';

export type DockerProblem = 'notRunning' | 'noPermission' | 'notFound' | 'other';

/** An error whose message is meant for the user: what failed, why, what to do. */
export class DockerError extends Error {
  constructor(
    message: string,
    readonly problem: DockerProblem,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

const endpoints = new WeakMap<Docker, DockerEndpoint>();

/**
 * Builds a client for the engine the user chose: `host` is the pgHaWorkshop.dockerHost setting (what
 * DOCKER_HOST accepts: unix:///path, tcp://host:port, npipe://, ssh://); empty means DOCKER_HOST,
 * else the current docker context, else the default local socket (src/docker/endpoint.ts).
 */
export function createDockerClient(host?: string, env: NodeJS.ProcessEnv = process.env): Docker {
  const endpoint = resolveDockerEndpoint({ setting: host, env });
  const docker = new Docker(dockerodeOptions(endpoint));
  endpoints.set(docker, endpoint);
  return docker;
}

/** The engine a client made by createDockerClient talks to (the Compose CLI is pointed at the same one). */
export function endpointOf(docker: Docker): DockerEndpoint | undefined {
  return endpoints.get(docker);
}

function errno(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function statusCode(e: unknown): number | undefined {
  return typeof e === 'object' && e !== null && 'statusCode' in e ? Number((e as { statusCode: unknown }).statusCode) : undefined;
}

/** Classifies a dockerode failure; `what` names the attempted action, e.g. "stop postgres-primary". */
export function toDockerError(e: unknown, what: string): DockerError {
  if (e instanceof DockerError) return e;
  const code = errno(e);
  const raw = e instanceof Error ? e.message : String(e);
  if (code === 'ENOENT' || code === 'ECONNREFUSED') {
    return new DockerError(
      `Could not ${what}: no Docker engine answers (${code}). Start Docker (Docker Desktop, or \`sudo systemctl start docker\` / \`sudo dockerd\` on Linux), or set "pgHaWorkshop.dockerHost" to the engine's address.`,
      'notRunning',
      e,
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new DockerError(
      `Could not ${what}: permission denied on the Docker socket. Add your user to the "docker" group (\`sudo usermod -aG docker $USER\`, then log in again), or set "pgHaWorkshop.dockerHost".`,
      'noPermission',
      e,
    );
  }
  if (statusCode(e) === 404) {
    return new DockerError(`Could not ${what}: no such container. Start the cluster first (PG HA Workshop: Start Cluster).`, 'notFound', e);
  }
  return new DockerError(`Could not ${what}: ${raw}`, 'other', e);
}

/** Resolves when the engine answers; rejects with a DockerError saying why not. */
export async function pingDocker(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (e) {
    throw toDockerError(e, 'reach the Docker engine');
  }
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Container operations by name, each failure a DockerError. */
export class Containers {
  constructor(readonly docker: Docker) {}

  private async run<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      // 304 = already in the requested state (start of a running / stop of a stopped container).
      if (statusCode(e) === 304) return undefined as T;
      throw toDockerError(e, what);
    }
  }

  inspect(name: string): Promise<Docker.ContainerInspectInfo> {
    return this.run(`inspect ${name}`, () => this.docker.getContainer(name).inspect());
  }

  /** Container state ('running', 'exited', ...) or undefined when there is no such container. */
  async state(name: string): Promise<Docker.ContainerInspectInfo['State'] | undefined> {
    try {
      return (await this.docker.getContainer(name).inspect()).State;
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw toDockerError(e, `inspect ${name}`);
    }
  }

  /** The state of each named container (status 'missing' when it does not exist), in one parallel round. */
  async snapshot(names: readonly string[]): Promise<Record<string, ContainerState>> {
    const entries = await Promise.all(
      names.map(async (name): Promise<[string, ContainerState]> => {
        try {
          return [name, toContainerState(name, (await this.docker.getContainer(name).inspect()).State)];
        } catch (e) {
          if (statusCode(e) === 404) return [name, { name, status: 'missing' }];
          throw toDockerError(e, `inspect ${name}`);
        }
      }),
    );
    return Object.fromEntries(entries);
  }

  /**
   * Streams Docker's container events for the named containers. `onEvent` gets each event as it
   * arrives; `onEnd` when the stream ends or fails (the engine stopped, the socket closed).
   * Returns a function that closes the stream.
   */
  async watch(names: readonly string[], onEvent: (e: ContainerEvent) => void, onEnd: (err?: DockerError) => void): Promise<() => void> {
    let stream: NodeJS.ReadableStream;
    try {
      // Only the actions that change a container's state: healthchecks alone would send a few
      // exec events per second per container.
      const event = ['create', 'start', 'die', 'destroy', 'pause', 'unpause', 'health_status', 'oom'];
      stream = await this.docker.getEvents({ filters: { type: ['container'], container: [...names], event } });
    } catch (e) {
      throw toDockerError(e, 'watch container events');
    }
    let buf = '';
    let ended = false;
    const end = (err?: unknown) => {
      if (ended) return;
      ended = true;
      onEnd(err === undefined ? undefined : toDockerError(err, 'watch container events'));
    };
    stream.on('data', (chunk: Buffer | string) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        const ev = parseContainerEvent(line);
        if (ev) onEvent(ev);
      }
    });
    stream.on('error', (e: unknown) => end(e));
    stream.on('end', () => end());
    stream.on('close', () => end());
    return () => {
      ended = true;
      const s = stream as NodeJS.ReadableStream & { destroy?: () => void };
      s.removeAllListeners('data');
      s.on('error', () => undefined);
      s.destroy?.();
    };
  }

  start(name: string): Promise<void> {
    return this.run(`start ${name}`, () => this.docker.getContainer(name).start());
  }

  /** Clean shutdown: SIGTERM (PostgreSQL's smart shutdown is SIGTERM), SIGKILL after `timeoutSec`. */
  stop(name: string, timeoutSec = 10): Promise<void> {
    return this.run(`stop ${name}`, () => this.docker.getContainer(name).stop({ t: timeoutSec }));
  }

  /** A crash: SIGKILL by default, no shutdown checkpoint. */
  kill(name: string, signal = 'SIGKILL'): Promise<void> {
    return this.run(`kill ${name}`, () => this.docker.getContainer(name).kill({ signal }));
  }

  restart(name: string, timeoutSec = 10): Promise<void> {
    return this.run(`restart ${name}`, () => this.docker.getContainer(name).restart({ t: timeoutSec }));
  }

  /** Runs argv in a running container and collects its output (demultiplexed). */
  async exec(name: string, argv: string[], opts: { user?: string; env?: string[]; stdin?: string } = {}): Promise<ExecResult> {
    return this.run(`run \`${argv.join(' ')}\` in ${name}`, async () => {
      const container = this.docker.getContainer(name);
      const exec = await container.exec({
        Cmd: argv,
        AttachStdout: true,
        AttachStderr: true,
        AttachStdin: opts.stdin !== undefined,
        User: opts.user,
        Env: opts.env,
      });
      const stream = await exec.start({ hijack: true, stdin: opts.stdin !== undefined });
      const out = new PassThrough();
      const err = new PassThrough();
      const chunks: { out: Buffer[]; err: Buffer[] } = { out: [], err: [] };
      out.on('data', (c: Buffer) => chunks.out.push(c));
      err.on('data', (c: Buffer) => chunks.err.push(c));
      this.docker.modem.demuxStream(stream, out, err);
      if (opts.stdin !== undefined) {
        stream.write(opts.stdin);
        stream.end();
      }
      await new Promise<void>((resolve, reject) => {
        stream.on('end', () => resolve());
        stream.on('close', () => resolve());
        stream.on('error', reject);
      });
      const info = await exec.inspect();
      return {
        exitCode: info.ExitCode ?? -1,
        stdout: Buffer.concat(chunks.out).toString('utf8'),
        stderr: Buffer.concat(chunks.err).toString('utf8'),
      };
    });
  }

  /** The last `tail` lines of a container's log (stdout and stderr interleaved). */
  async logs(name: string, tail = 200): Promise<string> {
    return this.run(`read the logs of ${name}`, async () => {
      const buf = (await this.docker.getContainer(name).logs({ stdout: true, stderr: true, tail, follow: false })) as unknown as Buffer;
      return demuxDockerLogs(buf);
    });
  }
}

export interface ContainerEvent {
  /** Container name (without the leading slash). */
  readonly name: string;
  /** start, die, stop, kill, restart, create, destroy, pause, unpause, oom, health_status ... */
  readonly action: string;
  /** For health_status events: healthy | unhealthy | starting. */
  readonly health?: 'starting' | 'healthy' | 'unhealthy';
  readonly exitCode?: number;
  readonly signal?: string;
  /** Epoch ms (engine clock). */
  readonly time: number;
}

export function parseContainerEvent(line: string): ContainerEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as { Type?: unknown; Action?: unknown; status?: unknown; Actor?: { Attributes?: Record<string, unknown> }; time?: unknown; timeNano?: unknown };
  if (r.Type !== undefined && r.Type !== 'container') return undefined;
  const fullAction = String(r.Action ?? r.status ?? '');
  const attrs = r.Actor?.Attributes ?? {};
  const name = typeof attrs.name === 'string' ? attrs.name : undefined;
  if (!name || !fullAction) return undefined;
  const [action, rest] = fullAction.split(/:\s*/, 2);
  const health = action === 'health_status' && (rest === 'healthy' || rest === 'unhealthy' || rest === 'starting') ? rest : undefined;
  const time = typeof r.timeNano === 'number' ? r.timeNano / 1e6 : typeof r.time === 'number' ? r.time * 1000 : Date.now();
  const exitCode = attrs.exitCode !== undefined ? Number(attrs.exitCode) : undefined;
  return { name, action, health, exitCode: Number.isFinite(exitCode) ? exitCode : undefined, signal: typeof attrs.signal === 'string' ? attrs.signal : undefined, time };
}

const STATUS_NAMES: readonly ContainerStatusName[] = ['running', 'created', 'restarting', 'paused', 'exited', 'dead', 'removing'];

function epochMs(iso: string | undefined): number | undefined {
  if (!iso || iso.startsWith('0001-')) return undefined;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

export function toContainerState(name: string, st: Docker.ContainerInspectInfo['State']): ContainerState {
  const status = (STATUS_NAMES as readonly string[]).includes(st.Status) ? (st.Status as ContainerStatusName) : st.Running ? 'running' : 'exited';
  const h = st.Health?.Status;
  return {
    name,
    status,
    health: h === 'starting' || h === 'healthy' || h === 'unhealthy' ? h : undefined,
    startedAt: epochMs(st.StartedAt),
    finishedAt: epochMs(st.FinishedAt),
    exitCode: status === 'running' ? undefined : st.ExitCode,
    oomKilled: st.OOMKilled || undefined,
  };
}
