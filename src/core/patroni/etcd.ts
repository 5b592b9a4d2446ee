// DCS health for a Patroni cluster on etcd 3, read through etcd's JSON gateway on each member's
// published client port: which members answer, who is the raft leader, whether a quorum exists,
// and Patroni's leader lock (holder and the TTL left on its lease).
//
// API (no vscode): readDcsHealth(etcd members, { scope, namespace, timeoutMs }) → DcsHealth
import type { EtcdMemberSpec } from './topology';

export interface EtcdMemberHealth {
  readonly name: string;
  readonly clientUrl: string;
  readonly healthy: boolean;
  /** The raft leader as this member sees it (member name), when it answers. */
  readonly isRaftLeader?: boolean;
  readonly version?: string;
  readonly problem?: string;
}

export interface LeaderLock {
  /** Member holding /<namespace>/<scope>/leader, or undefined when nobody holds it. */
  readonly holder?: string;
  /** Seconds left on the lock's lease (Patroni renews it every loop_wait). */
  readonly ttlRemainingSec?: number;
  /** TTL the lease was granted with (= Patroni's ttl). */
  readonly grantedTtlSec?: number;
}

export interface DcsHealth {
  readonly members: readonly EtcdMemberHealth[];
  readonly healthyCount: number;
  /** More than half of the members answer: etcd can accept writes (the lock can be renewed). */
  readonly quorum: boolean;
  readonly raftLeader?: string;
  readonly lock?: LeaderLock;
  /** Why the lock could not be read (no member answered). */
  readonly lockProblem?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');

async function post<T>(url: string, body: unknown, timeoutMs: number): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as T;
}

function why(e: unknown): string {
  const name = (e as { name?: string })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'no answer in time';
  const code = (e as { cause?: { code?: string } })?.cause?.code;
  return code ?? (e instanceof Error ? e.message : String(e));
}

interface StatusAnswer {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
  readonly version?: string;
}
interface MemberListAnswer {
  readonly members?: readonly { readonly ID?: string; readonly name?: string }[];
}
interface RangeAnswer {
  readonly kvs?: readonly { readonly value?: string; readonly lease?: string }[];
}
interface LeaseAnswer {
  readonly TTL?: string | number;
  readonly grantedTTL?: string | number;
}

export async function readDcsHealth(
  etcd: readonly EtcdMemberSpec[],
  o: { scope: string; namespace: string; timeoutMs?: number },
): Promise<DcsHealth> {
  const timeoutMs = o.timeoutMs ?? 2000;
  let idToName = new Map<string, string>();
  const statuses = await Promise.all(
    etcd.map(async (m) => {
      try {
        const s = await post<StatusAnswer>(`${m.clientUrl}/v3/maintenance/status`, {}, timeoutMs);
        return { m, s };
      } catch (e) {
        return { m, problem: `${m.name} (${m.clientUrl}): ${why(e)}` };
      }
    }),
  );
  const firstOk = statuses.find((x) => x.s);
  if (firstOk) {
    try {
      const list = await post<MemberListAnswer>(`${firstOk.m.clientUrl}/v3/cluster/member/list`, {}, timeoutMs);
      idToName = new Map((list.members ?? []).filter((x) => x.ID && x.name).map((x) => [x.ID!, x.name!]));
    } catch {
      /* names stay unknown: the raft leader is then shown by id */
    }
  }
  // A member answers status even without quorum: it is healthy when it knows a leader.
  const members: EtcdMemberHealth[] = statuses.map((x) => {
    if (!x.s) return { name: x.m.name, clientUrl: x.m.clientUrl, healthy: false, problem: x.problem };
    const hasLeader = !!x.s.leader && x.s.leader !== '0';
    return {
      name: x.m.name,
      clientUrl: x.m.clientUrl,
      healthy: hasLeader,
      isRaftLeader: hasLeader && x.s.leader === x.s.header?.member_id,
      version: x.s.version,
      problem: hasLeader ? undefined : `${x.m.name}: no raft leader (no quorum)`,
    };
  });
  const healthyCount = members.filter((m) => m.healthy).length;
  const leaderId = statuses.find((x) => x.s?.leader && x.s.leader !== '0')?.s?.leader;
  const raftLeader = leaderId ? (idToName.get(leaderId) ?? leaderId) : undefined;

  let lock: LeaderLock | undefined;
  let lockProblem: string | undefined;
  const key = `${o.namespace.replace(/\/+$/, '')}/${o.scope}/leader`;
  for (const x of statuses.filter((y) => y.s)) {
    try {
      const r = await post<RangeAnswer>(`${x.m.clientUrl}/v3/kv/range`, { key: b64(key) }, timeoutMs);
      const kv = r.kvs?.[0];
      if (!kv) {
        lock = {};
        break;
      }
      let ttl: LeaseAnswer | undefined;
      if (kv.lease && kv.lease !== '0') ttl = await post<LeaseAnswer>(`${x.m.clientUrl}/v3/lease/timetolive`, { ID: kv.lease }, timeoutMs).catch(() => undefined);
      lock = {
        holder: kv.value ? unb64(kv.value) : undefined,
        ttlRemainingSec: ttl?.TTL !== undefined ? Number(ttl.TTL) : undefined,
        grantedTtlSec: ttl?.grantedTTL !== undefined ? Number(ttl.grantedTTL) : undefined,
      };
      break;
    } catch (e) {
      lockProblem = `reading ${key} on ${x.m.name}: ${why(e)}`;
    }
  }
  if (!lock && !lockProblem) lockProblem = 'no etcd member answers: the leader lock cannot be read (and Patroni cannot renew it).';
  return { members, healthyCount, quorum: healthyCount * 2 > etcd.length, raftLeader, lock, lockProblem: lock ? undefined : lockProblem };
}
