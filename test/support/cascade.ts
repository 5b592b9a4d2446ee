// The five-node cascade of test/fixtures/cascade (primary, replica-a, replica-b, a cascading
// replica under replica-a, a delayed replica), for the attach tests of every layer. Its project,
// prefix and ports derive from the tests' own cluster variables, so helpers never collide.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { discoverCluster } from '../../src/core/discovery';
import { repoRoot } from '../../src/core/topology';
import { waitFor } from './cluster';

const run = promisify(execFile);
// repoRoot(): this file also runs bundled, from dist/test/vscode.
const CASCADE_FILE = path.join(repoRoot(), 'test', 'fixtures', 'cascade', 'docker-compose.yml');

export const CASCADE_IMAGE = process.env.PGHA_POSTGRES_IMAGE || 'pgha-local:15';
export const CASCADE_PROJECT = `${process.env.COMPOSE_PROJECT_NAME || 'pgha'}cascade`;
export const CASCADE_PREFIX = `${process.env.COMPOSE_PROJECT_NAME || 'pgha'}c-`;
/** First of the ports the attach tests publish (the cascade's five, then a TLS server and a closed port). */
export const ATTACH_PORT_BASE = Number(process.env.PGHA_ATTACH_PORT_BASE || 37441);
export const CASCADE_PORTS = { primary: ATTACH_PORT_BASE, replicaA: ATTACH_PORT_BASE + 1, replicaB: ATTACH_PORT_BASE + 2, cascade: ATTACH_PORT_BASE + 3, delayed: ATTACH_PORT_BASE + 4 } as const;
/** PGHA_KEEP_ATTACH_FIXTURES=1 leaves the cascade running after the tests (screenshots, a second run). */
export const KEEP_ATTACH_FIXTURES = process.env.PGHA_KEEP_ATTACH_FIXTURES === '1';

export const local = (port: number) => ({ host: '127.0.0.1', port });

function cascadeEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGHA_POSTGRES_IMAGE: CASCADE_IMAGE,
    PGHA_CASCADE_PREFIX: CASCADE_PREFIX,
    PGHA_CASCADE_PORT_PRIMARY: String(CASCADE_PORTS.primary),
    PGHA_CASCADE_PORT_REPLICA_A: String(CASCADE_PORTS.replicaA),
    PGHA_CASCADE_PORT_REPLICA_B: String(CASCADE_PORTS.replicaB),
    PGHA_CASCADE_PORT_CASCADE: String(CASCADE_PORTS.cascade),
    PGHA_CASCADE_PORT_DELAYED: String(CASCADE_PORTS.delayed),
  };
}

async function compose(...args: string[]): Promise<void> {
  // Compose v2 when there is one, else v1 (Debian 12 ships only docker-compose).
  const v2 = await run('docker', ['compose', 'version']).then(() => true, () => false);
  const [cmd, pre] = v2 ? ['docker', ['compose']] : ['docker-compose', []];
  await run(cmd, [...pre, '-p', CASCADE_PROJECT, '-f', CASCADE_FILE, ...args], { env: cascadeEnv(), timeout: 600_000 });
}

/** Up, and streaming: the cascade from replica-a, the other three from the primary. */
export async function cascadeUp(): Promise<void> {
  await compose('up', '-d');
  await waitFor(
    async () => {
      const d = await discoverCluster([local(CASCADE_PORTS.primary), local(CASCADE_PORTS.replicaA)], { user: 'postgres', password: 'postgres', database: 'postgres', ssl: { mode: 'prefer' }, timeoutMs: 3000 });
      return d.nodes.length === 5 && d.nodes.filter((n) => n.inRecovery).length === 4 ? d : undefined;
    },
    480_000,
    'the five cascade nodes streaming',
    2000,
  );
}

export async function cascadeDown(): Promise<void> {
  if (!KEEP_ATTACH_FIXTURES) await compose('down', '-v').catch(() => undefined);
}

/** The connection string a user would paste: every node, the pg_monitor role. */
export function cascadeConnectionString(): string {
  return `postgresql://watcher:watcher@${Object.values(CASCADE_PORTS)
    .map((p) => `127.0.0.1:${p}`)
    .join(',')}/postgres?sslmode=prefer`;
}
