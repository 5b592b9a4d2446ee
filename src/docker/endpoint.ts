// Which Docker engine to talk to, decided once, the way the docker CLI decides it, so that dockerode
// (the extension's own calls) and the Compose CLI (up/down) always reach the same engine:
//   1. the "pgHaWorkshop.dockerHost" setting,
//   2. DOCKER_HOST,
//   3. the docker context: DOCKER_CONTEXT, else "currentContext" in $DOCKER_CONFIG/config.json
//      (Docker Desktop, Colima, rootless Docker and remote engines are contexts),
//   4. the default local socket.
// The Compose CLI then runs with DOCKER_HOST set to the result: Compose v1 ignores contexts.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type EndpointSource = 'setting' | 'DOCKER_HOST' | 'context' | 'default';

export interface DockerEndpoint {
  /** In DOCKER_HOST form: unix:///path, tcp://host:port, npipe:////./pipe/name, ssh://user@host. */
  readonly host: string;
  readonly source: EndpointSource;
  /** The docker context's name, when the endpoint came from one. */
  readonly context?: string;
}

export const DEFAULT_DOCKER_HOST = process.platform === 'win32' ? 'npipe:////./pipe/docker_engine' : 'unix:///var/run/docker.sock';

export interface EndpointInputs {
  /** The pgHaWorkshop.dockerHost setting ('' when unset). */
  readonly setting?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Reads a file, or returns undefined when it does not exist (tests pass their own). */
  readonly readFile?: (file: string) => string | undefined;
  readonly homeDir?: string;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** The docker CLI's configuration folder: DOCKER_CONFIG, else ~/.docker. */
function dockerConfigDir(env: NodeJS.ProcessEnv, home: string): string {
  return env.DOCKER_CONFIG || path.join(home, '.docker');
}

/** Endpoint of a named context, from contexts/meta/<sha256(name)>/meta.json as the docker CLI stores it. */
function contextHost(name: string, configDir: string, readFile: (f: string) => string | undefined): string | undefined {
  const meta = readFile(path.join(configDir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'), 'meta.json'));
  if (!meta) return undefined;
  try {
    const host = (JSON.parse(meta) as { Endpoints?: { docker?: { Host?: unknown } } }).Endpoints?.docker?.Host;
    return typeof host === 'string' && host ? host : undefined;
  } catch {
    return undefined;
  }
}

/** Resolves the engine to use (see the order at the top of this file). */
export function resolveDockerEndpoint(inputs: EndpointInputs = {}): DockerEndpoint {
  const env = inputs.env ?? process.env;
  const setting = inputs.setting?.trim();
  if (setting) return { host: setting.startsWith('/') ? `unix://${setting}` : setting, source: 'setting' };
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: 'DOCKER_HOST' };
  const readFile = inputs.readFile ?? readIfExists;
  const configDir = dockerConfigDir(env, inputs.homeDir ?? os.homedir());
  let context = env.DOCKER_CONTEXT;
  if (!context) {
    try {
      const c = (JSON.parse(readFile(path.join(configDir, 'config.json')) ?? '{}') as { currentContext?: unknown }).currentContext;
      context = typeof c === 'string' ? c : undefined;
    } catch {
      context = undefined;
    }
  }
  if (context && context !== 'default') {
    const host = contextHost(context, configDir, readFile);
    if (host) return { host, source: 'context', context };
  }
  return { host: DEFAULT_DOCKER_HOST, source: 'default' };
}

/** A short description for messages and the log: "unix:///var/run/docker.sock (docker context colima)". */
export function describeEndpoint(e: DockerEndpoint): string {
  const why = e.source === 'setting' ? 'setting pgHaWorkshop.dockerHost' : e.source === 'context' ? `docker context ${e.context}` : e.source;
  return `${e.host} (${why})`;
}

/** dockerode's connection options for an endpoint. */
export function dockerodeOptions(e: DockerEndpoint): { socketPath: string } | { host: string; port: number; protocol: 'http' | 'https' | 'ssh'; username?: string } {
  const h = e.host;
  if (h.startsWith('unix://')) return { socketPath: h.slice('unix://'.length) };
  if (h.startsWith('npipe://')) return { socketPath: h.slice('npipe://'.length) };
  if (h.startsWith('/')) return { socketPath: h };
  const url = new URL(h.replace(/^tcp:/, 'http:'));
  if (url.protocol === 'ssh:') return { host: url.hostname, port: Number(url.port || 22), protocol: 'ssh', ...(url.username ? { username: url.username } : {}) };
  return { host: url.hostname, port: Number(url.port || 2375), protocol: url.protocol === 'https:' ? 'https' : 'http' };
}

/**
 * Environment for a docker/Compose CLI child process so that it reaches `e`: DOCKER_HOST set to it
 * (DOCKER_CONTEXT dropped: the CLI refuses both at once). The default endpoint leaves the
 * environment alone, so the CLI keeps its own defaults.
 */
export function cliEnvFor(e: DockerEndpoint, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (e.source === 'default') return { ...base };
  const { DOCKER_CONTEXT: _ignored, ...rest } = base;
  return { ...rest, DOCKER_HOST: e.host };
}
