// One sample of pg_stat_replication on the primary, as the workshop's `watch` commands show it:
// application_name, state, sync_state, replay_lag, and the byte lag (current WAL − replay LSN).
import type { Client } from 'pg';
import type { LoadGenerator, LoadResult } from '../load';

export interface ReplicationSample {
  readonly at: number;
  readonly replica: string;
  readonly state: string;
  readonly syncState: string;
  /** replay_lag in ms (NULL once the standby is idle and caught up: reported as 0). */
  readonly replayLagMs: number;
  /** pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), never below 0. */
  readonly behindBytes: number;
}

export const SAMPLE_SQL = `SELECT application_name, state, sync_state,
  GREATEST(COALESCE(EXTRACT(EPOCH FROM replay_lag) * 1000, 0), 0)::float8 AS replay_ms,
  GREATEST(COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0), 0)::float8 AS behind
FROM pg_stat_replication ORDER BY application_name`;

export async function sampleReplication(primary: Client): Promise<ReplicationSample[]> {
  const at = Date.now();
  const r = await primary.query<{ application_name: string; state: string; sync_state: string; replay_ms: number; behind: number }>(SAMPLE_SQL);
  return r.rows.map((x) => ({ at, replica: x.application_name, state: x.state, syncState: x.sync_state, replayLagMs: Number(x.replay_ms), behindBytes: Number(x.behind) }));
}

/** Samples every `everyMs` until `stop()` resolves or is called; bounded by `maxSamples`. */
export function startSampler(primary: Client, everyMs: number, maxSamples = 2000, onRound?: (round: readonly ReplicationSample[]) => void): { samples: ReplicationSample[]; stop: () => Promise<void> } {
  const samples: ReplicationSample[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running && i < maxSamples; i++) {
      const t0 = Date.now();
      try {
        const round = await sampleReplication(primary);
        samples.push(...round);
        onRound?.(round);
      } catch {
        // A missed sample is not a failure of the demo: the next one counts.
      }
      await new Promise((r) => setTimeout(r, Math.max(0, everyMs - (Date.now() - t0))));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Runs a write load to its end while sampling replication every `everyMs`; both stop together. */
export async function loadWhileSampling(primary: Client, everyMs: number, load: LoadGenerator, onRound?: (round: readonly ReplicationSample[]) => void): Promise<{ load: LoadResult; samples: ReplicationSample[] }> {
  const sampler = startSampler(primary, everyMs, 2000, onRound);
  try {
    return { load: await load.run(), samples: sampler.samples };
  } finally {
    load.dispose();
    await sampler.stop();
  }
}
