// SQL helpers for the failover tests with deadlines that hold on a heavily loaded machine (a
// failover test must fail on a wrong result, not on a slow connection).
import { Client } from 'pg';
import { nodeClientConfig } from '../../src/core/connection';
import type { NodeKey } from '../../src/core/topology';
import { nodePort, topology } from '../support/cluster';

export async function q<R extends Record<string, unknown> = Record<string, unknown>>(target: NodeKey | number, sql: string, params: unknown[] = [], database = topology.superuser.database): Promise<R[]> {
  const port = typeof target === 'number' ? target : nodePort(target);
  for (let attempt = 1; ; attempt++) {
    const c = new Client(nodeClientConfig(topology, port, { database, connectTimeoutMs: 30_000, queryTimeoutMs: 180_000, applicationName: 'pgha-test' }));
    c.on('error', () => undefined);
    try {
      await c.connect();
    } catch (e) {
      await c.end().catch(() => undefined);
      if (attempt >= 3) throw e;
      continue;
    }
    try {
      return (await c.query<R>(sql, params)).rows;
    } finally {
      await c.end().catch(() => undefined);
    }
  }
}

export async function inRecovery(target: NodeKey | number): Promise<boolean> {
  return (await q<{ r: boolean }>(target, 'SELECT pg_is_in_recovery() AS r', [], 'postgres'))[0].r;
}
