// Cluster-changing operations on a Patroni cluster, through Patroni's REST API (Patroni decides;
// we ask), plus the waits and the Demo 8 measurement. Docker is used only for faults (kill, stop,
// cut from etcd), never to change roles.
//
// API (no vscode):
//   waitForLeader(t, { other?, timeoutMs })          → leader name (a different one with `other`)
//   switchover(t, { candidate?, scheduledAt? }) · failover(t, candidate) · restartMember · reinitMember
//   setPaused(t, paused) · applySettings(t, change)  (validated: loop_wait + 2·retry_timeout ≤ ttl)
import { sleep } from './sleep';
import { PatroniRestClient, PatroniRestError, type ActionResult, type PatroniDynamicConfig } from './rest';
import { settingsOf, validatePatroniSettings, type PatroniSettings } from './settings';
import { askAny, memberRows, normalizeRole } from './status';
import { memberByName, type PatroniMemberSpec, type PatroniTopology } from './topology';

export class PatroniOperationError extends Error {
  constructor(
    message: string,
    readonly problem: 'unknownMember' | 'noLeader' | 'invalidSettings' | 'refused' | 'unreachable' | 'timeout',
  ) {
    super(message);
    this.name = 'PatroniOperationError';
  }
}

function member(t: PatroniTopology, name: string): PatroniMemberSpec {
  const m = memberByName(t, name);
  if (!m) throw new PatroniOperationError(`"${name}" is not a member of this Patroni cluster: use ${t.members.map((x) => x.name).join(', ')}.`, 'unknownMember');
  return m;
}

export function clientFor(t: PatroniTopology, name: string, timeoutMs = 5000): PatroniRestClient {
  const m = member(t, name);
  return new PatroniRestClient({ baseUrl: m.restUrl, timeoutMs, name: m.container });
}

/** The current leader as the cluster reports it (GET /cluster on any answering member). */
export async function currentLeader(t: PatroniTopology, timeoutMs = 3000): Promise<string | undefined> {
  const r = await askAny(t, (c) => c.cluster(), timeoutMs);
  return r.value?.members.find((m) => normalizeRole(m.role) === 'leader')?.name;
}

/**
 * Resolves with the leader's name once a leader is running and accepts writes through its own
 * REST check (GET /primary = 200); with `other`, a leader different from that member.
 */
export async function waitForLeader(t: PatroniTopology, o: { other?: string; timeoutMs?: number; pollMs?: number } = {}): Promise<string> {
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  let last = '';
  for (;;) {
    const r = await askAny(t, (c) => c.cluster(), 2000);
    const rows = r.value ? memberRows(r.value) : [];
    const leader = rows.find((m) => m.role === 'leader' && m.state === 'running');
    if (leader && leader.name !== o.other) {
      const primary = await clientFor(t, leader.name, 2000).isPrimary().catch(() => false);
      if (primary) return leader.name;
    }
    last = rows.length ? rows.map((m) => `${m.name}: ${m.roleLabel} ${m.state}`).join(', ') : (r.problems[0] ?? 'no member answers');
    if (Date.now() > deadline) {
      throw new PatroniOperationError(`No ${o.other ? `leader other than ${o.other}` : 'leader'} within ${Math.round((o.timeoutMs ?? 120_000) / 1000)} s (last seen: ${last}). Look at the nodes' logs (docker logs) and at etcd's health.`, 'timeout');
    }
    await sleep(o.pollMs ?? 250);
  }
}

function wrap(e: unknown, what: string): never {
  if (e instanceof PatroniRestError) {
    throw new PatroniOperationError(`${what}: ${e.message}`, e.kind === 'http' ? 'refused' : e.kind === 'timeout' ? 'timeout' : 'unreachable');
  }
  throw e;
}

/** Planned change of leader; now, or at `scheduledAt`. Asked of the current leader's API. */
export async function switchover(t: PatroniTopology, o: { candidate?: string; scheduledAt?: Date } = {}): Promise<ActionResult & { leader: string }> {
  const leader = await currentLeader(t);
  if (!leader) throw new PatroniOperationError('No leader to switch over from: the cluster has no leader now. Use Failover to promote a replica.', 'noLeader');
  if (o.candidate) member(t, o.candidate);
  if (o.candidate === leader) throw new PatroniOperationError(`${o.candidate} is already the leader: choose one of the replicas.`, 'refused');
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await clientFor(t, leader).switchover({ leader, candidate: o.candidate, scheduledAt: o.scheduledAt })), leader };
    } catch (e) {
      // Patroni's leader checks each candidate with one GET /patroni of 2 s and no retry; a busy
      // candidate (just reloading its configuration, a loaded machine) fails it and Patroni answers
      // 503 "Switchover failed" with nothing changed. Ask once more before saying so.
      if (attempt === 1 && !o.scheduledAt && e instanceof PatroniRestError && e.status === 503 && (await currentLeader(t)) === leader) {
        await sleep(2000);
        continue;
      }
      wrap(e, `Switchover from ${leader}${o.candidate ? ` to ${o.candidate}` : ''} failed${e instanceof PatroniRestError && e.status === 503 ? ' twice (Patroni found no healthy candidate: its reason is in the leader\'s log, docker logs)' : ''}`);
    }
  }
}

/** Promote `candidate` now (works without a healthy leader). Asked of the candidate's own API. */
export async function failover(t: PatroniTopology, candidate: string): Promise<ActionResult> {
  member(t, candidate);
  try {
    return await clientFor(t, candidate).failover({ candidate });
  } catch (e) {
    wrap(e, `Failover to ${candidate} failed`);
  }
}

export async function restartMember(t: PatroniTopology, name: string, o: { restartPending?: boolean } = {}): Promise<ActionResult> {
  try {
    return await clientFor(t, name).restart(o);
  } catch (e) {
    wrap(e, `Restart of ${name} failed`);
  }
}

export async function reinitMember(t: PatroniTopology, name: string): Promise<ActionResult> {
  try {
    return await clientFor(t, name).reinitialize({ force: true });
  } catch (e) {
    wrap(e, `Reinitialize of ${name} failed`);
  }
}

async function anyClient(t: PatroniTopology): Promise<PatroniRestClient> {
  const r = await askAny(t, async (c) => {
    await c.config();
    return c;
  }, 10_000);
  if (!r.value) throw new PatroniOperationError(`No Patroni member answers. ${r.problems[0] ?? ''}`.trim(), 'unreachable');
  return r.value;
}

/** Maintenance mode on/off (PATCH /config {pause}). */
export async function setPaused(t: PatroniTopology, paused: boolean): Promise<PatroniDynamicConfig> {
  const c = await anyClient(t);
  try {
    return await c.setPaused(paused);
  } catch (e) {
    wrap(e, paused ? 'Pause failed' : 'Resume failed');
  }
}

/**
 * Validated PATCH /config: refuses (and changes nothing) when the merged settings break a rule.
 * Resolves with the settings Patroni now reports.
 */
export async function applySettings(t: PatroniTopology, change: Partial<PatroniSettings>): Promise<PatroniSettings> {
  const c = await anyClient(t);
  const current = settingsOf(await c.config());
  const problems = validatePatroniSettings(change, current);
  if (problems.length) throw new PatroniOperationError(`Patroni settings not changed: ${problems.join(' ')}`, 'invalidSettings');
  try {
    return settingsOf(await c.patchConfig(change));
  } catch (e) {
    wrap(e, 'Changing the Patroni settings failed');
  }
}
