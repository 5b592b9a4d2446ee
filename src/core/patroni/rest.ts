// A typed client for one Patroni node's REST API (port 8008 inside the cluster, published on
// 127.0.0.1). Every call has a deadline; every failure is a PatroniRestError that says which node,
// what was asked, what went wrong and what to do. Shapes follow Patroni 3.0 (Debian bookworm).
//
// API (no vscode):
//   const c = new PatroniRestClient({ baseUrl: 'http://127.0.0.1:8008', timeoutMs: 5000 })
//   await c.cluster() / history() / config() / patroni() / isPrimary()
//   await c.switchover({ leader, candidate, scheduledAt }) / failover({ candidate })
//   await c.restart() / reinitialize() / patchConfig({...}) / setPaused(true)

/** GET /cluster member (Patroni 3.0). */
export interface PatroniClusterMember {
  readonly name: string;
  /** 'leader' | 'sync_standby' | 'replica' | 'standby_leader' (and 'master' before 3.0). */
  readonly role: string;
  /** 'running' | 'streaming' | 'stopped' | 'starting' | 'crashed' | 'creating replica' | ... */
  readonly state: string;
  readonly host?: string;
  readonly port?: number;
  readonly api_url?: string;
  readonly timeline?: number;
  /** Bytes behind the leader, or 'unknown'. */
  readonly lag?: number | string;
  readonly pending_restart?: boolean;
  readonly scheduled_restart?: { readonly schedule: string };
  readonly tags?: Readonly<Record<string, unknown>>;
}

export interface PatroniClusterInfo {
  readonly members: readonly PatroniClusterMember[];
  readonly pause?: boolean;
  readonly scheduled_switchover?: { readonly at: string; readonly from: string; readonly to?: string };
}

/** GET /history row: [timeline, lsn, reason, timestamp, new leader]. */
export interface PatroniHistoryEntry {
  readonly timeline: number;
  readonly lsn: number;
  readonly reason: string;
  readonly timestamp?: string;
  readonly newLeader?: string;
}

/** GET /config: the cluster-wide (dynamic) settings kept in the DCS. */
export interface PatroniDynamicConfig {
  readonly ttl?: number;
  readonly loop_wait?: number;
  readonly retry_timeout?: number;
  readonly maximum_lag_on_failover?: number;
  readonly synchronous_mode?: boolean;
  readonly synchronous_mode_strict?: boolean;
  readonly pause?: boolean;
  readonly postgresql?: { readonly parameters?: Readonly<Record<string, unknown>>; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

/** GET /patroni: this node's own view. */
export interface PatroniNodeInfo {
  readonly state: string;
  readonly role: string;
  readonly server_version?: number;
  readonly timeline?: number;
  readonly pending_restart?: boolean;
  readonly pause?: boolean;
  readonly xlog?: {
    readonly location?: number;
    readonly received_location?: number;
    readonly replayed_location?: number;
    readonly replayed_timestamp?: string | null;
    readonly paused?: boolean;
  };
  readonly replication?: readonly { readonly application_name: string; readonly state: string; readonly sync_state: string }[];
  readonly patroni?: { readonly version?: string; readonly scope?: string };
  readonly dcs_last_seen?: number;
}

export type PatroniErrorKind = 'unreachable' | 'timeout' | 'http' | 'badResponse';

export class PatroniRestError extends Error {
  constructor(
    readonly kind: PatroniErrorKind,
    readonly url: string,
    message: string,
    readonly status?: number,
    readonly body?: string,
  ) {
    super(message);
    this.name = 'PatroniRestError';
  }
}

export interface PatroniRestOptions {
  /** e.g. http://127.0.0.1:8008 */
  readonly baseUrl: string;
  /** Per-request deadline. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** Member name, for messages. */
  readonly name?: string;
}

export interface SwitchoverRequest {
  /** Current leader (Patroni 3.0 requires it). */
  readonly leader: string;
  /** Member to promote; any healthy replica when omitted. */
  readonly candidate?: string;
  /** Scheduled time; now when omitted. Patroni needs a time zone: Date or ISO 8601 with offset. */
  readonly scheduledAt?: Date | string;
}

export interface ActionResult {
  readonly status: number;
  /** Patroni's own message (text). */
  readonly message: string;
}

function cut(s: string, n = 300): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return t.length > n ? `${t.slice(0, n)}…` : t;
}

function causeCode(e: unknown): string | undefined {
  const c = (e as { cause?: { code?: string } })?.cause;
  return c?.code;
}

export class PatroniRestClient {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly name: string;

  constructor(o: PatroniRestOptions) {
    this.baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = o.timeoutMs ?? 5000;
    this.name = o.name ?? this.baseUrl;
  }

  /** One HTTP request; resolves with status and text for any HTTP answer, throws when there is none. */
  async request(method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body?: unknown, timeoutMs = this.timeoutMs): Promise<{ status: number; text: string }> {
    const url = `${this.baseUrl}${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const name = (e as { name?: string })?.name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new PatroniRestError('timeout', url, `Patroni on ${this.name} did not answer ${method} ${path} within ${timeoutMs} ms: the node may be overloaded, paused or cut off. Check the container, or retry with a longer timeout.`);
      }
      const code = causeCode(e) ?? (e instanceof Error ? e.message : String(e));
      throw new PatroniRestError('unreachable', url, `Cannot reach Patroni on ${this.name} (${url}): ${code}. Is the container running and its REST port published? Start the Patroni cluster (cluster/patroni).`);
    }
    const text = await res.text().catch(() => '');
    return { status: res.status, text };
  }

  private async getJson<T>(path: string, okStatuses: readonly number[] = [200]): Promise<T> {
    const { status, text } = await this.request('GET', path);
    if (!okStatuses.includes(status)) {
      throw new PatroniRestError('http', `${this.baseUrl}${path}`, `Patroni on ${this.name} answered GET ${path} with HTTP ${status}: ${cut(text) || 'no body'}.`, status, text);
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new PatroniRestError('badResponse', `${this.baseUrl}${path}`, `Patroni on ${this.name} answered GET ${path} with something that is not JSON: ${cut(text, 120)}. Is that port really a Patroni REST API?`, status, text);
    }
  }

  private async action(method: 'POST' | 'PATCH' | 'PUT', path: string, body: unknown, timeoutMs = this.timeoutMs): Promise<ActionResult> {
    const { status, text } = await this.request(method, path, body, timeoutMs);
    if (status >= 200 && status < 300) return { status, message: cut(text, 500) };
    throw new PatroniRestError('http', `${this.baseUrl}${path}`, `Patroni on ${this.name} refused ${method} ${path} (HTTP ${status}): ${cut(text) || 'no reason given'}.`, status, text);
  }

  cluster(): Promise<PatroniClusterInfo> {
    return this.getJson<PatroniClusterInfo>('/cluster');
  }

  async history(): Promise<PatroniHistoryEntry[]> {
    const rows = await this.getJson<unknown[]>('/history');
    if (!Array.isArray(rows)) throw new PatroniRestError('badResponse', `${this.baseUrl}/history`, `Patroni on ${this.name} answered GET /history with something that is not a list.`);
    return rows.map(parseHistoryRow);
  }

  config(): Promise<PatroniDynamicConfig> {
    return this.getJson<PatroniDynamicConfig>('/config');
  }

  /** This node's own state. Patroni answers 503 with the same body when PostgreSQL is down. */
  patroni(): Promise<PatroniNodeInfo> {
    return this.getJson<PatroniNodeInfo>('/patroni', [200, 503]);
  }

  /** GET /primary: true on the leader (200), false otherwise (503). What routers ask. */
  async isPrimary(): Promise<boolean> {
    const { status } = await this.request('GET', '/primary');
    return status === 200;
  }

  /** PATCH /config: merges into the dynamic configuration (null removes a key). */
  async patchConfig(patch: Readonly<Record<string, unknown>>): Promise<PatroniDynamicConfig> {
    const r = await this.action('PATCH', '/config', patch);
    try {
      return JSON.parse(r.message) as PatroniDynamicConfig;
    } catch {
      return this.config();
    }
  }

  /** Maintenance mode: Patroni stops managing PostgreSQL (no automatic failover) while paused. */
  setPaused(paused: boolean): Promise<PatroniDynamicConfig> {
    return this.patchConfig({ pause: paused });
  }

  switchover(r: SwitchoverRequest): Promise<ActionResult> {
    const body: Record<string, string> = { leader: r.leader };
    if (r.candidate) body.candidate = r.candidate;
    if (r.scheduledAt !== undefined) body.scheduled_at = typeof r.scheduledAt === 'string' ? r.scheduledAt : r.scheduledAt.toISOString();
    // A switchover now waits for the demotion and promotion: give it more than a GET.
    return this.action('POST', '/switchover', body, Math.max(this.timeoutMs, 60_000));
  }

  /** Cancels a scheduled switchover. */
  async cancelSwitchover(): Promise<ActionResult> {
    const { status, text } = await this.request('DELETE', '/switchover');
    if (status >= 200 && status < 300) return { status, message: cut(text, 500) };
    throw new PatroniRestError('http', `${this.baseUrl}/switchover`, `Patroni on ${this.name} refused to cancel the scheduled switchover (HTTP ${status}): ${cut(text) || 'no reason given'}.`, status, text);
  }

  /** Promote `candidate` now, also when there is no healthy leader (manual failover). */
  failover(r: { candidate: string; leader?: string }): Promise<ActionResult> {
    const body: Record<string, string> = { candidate: r.candidate };
    if (r.leader) body.leader = r.leader;
    return this.action('POST', '/failover', body, Math.max(this.timeoutMs, 60_000));
  }

  /** Restart PostgreSQL on this node (only when a restart is pending, with restartPending). */
  restart(o: { restartPending?: boolean; scheduledAt?: Date | string } = {}): Promise<ActionResult> {
    const body: Record<string, unknown> = {};
    if (o.restartPending) body.restart_pending = true;
    if (o.scheduledAt !== undefined) body.schedule = typeof o.scheduledAt === 'string' ? o.scheduledAt : o.scheduledAt.toISOString();
    return this.action('POST', '/restart', body, Math.max(this.timeoutMs, 60_000));
  }

  /** Throw away this replica's data and clone it again from the leader. Refused on the leader. */
  reinitialize(o: { force?: boolean } = {}): Promise<ActionResult> {
    return this.action('POST', '/reinitialize', o.force ? { force: true } : {}, Math.max(this.timeoutMs, 30_000));
  }

  /** Reload patroni.yml and PostgreSQL's configuration on this node. */
  reload(): Promise<ActionResult> {
    return this.action('POST', '/reload', {});
  }
}

export function parseHistoryRow(row: unknown): PatroniHistoryEntry {
  if (!Array.isArray(row) || typeof row[0] !== 'number') return { timeline: NaN, lsn: NaN, reason: `unreadable history row ${JSON.stringify(row)}` };
  return {
    timeline: row[0],
    lsn: typeof row[1] === 'number' ? row[1] : Number(row[1]),
    reason: typeof row[2] === 'string' ? row[2] : '',
    timestamp: typeof row[3] === 'string' ? row[3] : undefined,
    newLeader: typeof row[4] === 'string' ? row[4] : undefined,
  };
}
