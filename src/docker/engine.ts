// The Docker engine as the rest of the code sees it: a dockerode client built from the user's
// Docker host setting, and every failure turned into a message that says what to do.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';

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

/**
 * Builds a client. `host` accepts what DOCKER_HOST accepts (unix:///path, tcp://host:port, npipe://);
 * empty means DOCKER_HOST from the environment, else the default local socket.
 */
export function createDockerClient(host?: string): Docker {
  const h = host?.trim() || process.env.DOCKER_HOST || '';
  if (!h) return new Docker();
  if (h.startsWith('unix://')) return new Docker({ socketPath: h.slice('unix://'.length) });
  if (h.startsWith('npipe://')) return new Docker({ socketPath: h.slice('npipe://'.length) });
  if (h.startsWith('/')) return new Docker({ socketPath: h });
  const url = new URL(h.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
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
      const out = new PassThrough();
      const parts: Buffer[] = [];
      out.on('data', (c: Buffer) => parts.push(c));
      // Logs of a container without a TTY are multiplexed: 8-byte frame headers.
      let i = 0;
      while (i + 8 <= buf.length) {
        const len = buf.readUInt32BE(i + 4);
        parts.push(buf.subarray(i + 8, i + 8 + len));
        i += 8 + len;
      }
      return Buffer.concat(parts).toString('utf8');
    });
  }
}
