// Pure parts of the Patroni profile: the timing rule, what `patronictl list` shows from /cluster
// and /patroni answers (shapes recorded from Patroni 3.0.2), history rows, the topology variables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHistoryRow, type PatroniClusterInfo, type PatroniNodeInfo } from '../../src/core/patroni/rest';
import { DEFAULT_PROFILE, FAST_PROFILE, PATRONI_DEFAULTS, settingsNotes, settingsOf, validatePatroniSettings } from '../../src/core/patroni/settings';
import { formatMemberTable, lsnText, memberRows } from '../../src/core/patroni/status';
import { containersInTheWay, patroniTopologyEnv, patroniTopologyFromEnv } from '../../src/core/patroni/topology';
import { topologyFromEnv } from '../../src/core/topology';

test('settings: both profiles keep loop_wait + 2·retry_timeout ≤ ttl', () => {
  assert.deepEqual(validatePatroniSettings(DEFAULT_PROFILE), []);
  assert.deepEqual(validatePatroniSettings(FAST_PROFILE), []);
});

test('settings: a change that breaks the rule is refused with the numbers and a fix', () => {
  const p = validatePatroniSettings({ ttl: 10 }, PATRONI_DEFAULTS); // 10 + 2·10 = 30 > 10
  assert.equal(p.length, 1);
  assert.match(p[0], /10 \+ 2·10 = 30 > 10/);
  assert.match(p[0], /Raise ttl to 30/);
  assert.deepEqual(validatePatroniSettings({ ttl: 10, loop_wait: 2, retry_timeout: 4 }, PATRONI_DEFAULTS), []);
  assert.equal(validatePatroniSettings({ ttl: 11, loop_wait: 2, retry_timeout: 5 }).length, 1);
});

test('settings: non-numbers, too small values and strict without sync mode are refused', () => {
  assert.match(validatePatroniSettings({ loop_wait: 0 }).join(' '), /loop_wait must be a whole number of at least 1/);
  assert.match(validatePatroniSettings({ retry_timeout: 2.5 }).join(' '), /retry_timeout/);
  assert.match(validatePatroniSettings({ ttl: Number.NaN }).join(' '), /ttl/);
  assert.match(validatePatroniSettings({ synchronous_mode_strict: true }).join(' '), /turn synchronous_mode on/);
  assert.deepEqual(validatePatroniSettings({ synchronous_mode: true, synchronous_mode_strict: true }), []);
});

test('settings: read from GET /config with Patroni defaults for what is not set; ttl < 20 noted', () => {
  const s = settingsOf({ ttl: 10, loop_wait: 2, retry_timeout: 4, synchronous_mode: true });
  assert.deepEqual(s, { ttl: 10, loop_wait: 2, retry_timeout: 4, maximum_lag_on_failover: 1048576, synchronous_mode: true, synchronous_mode_strict: false });
  assert.equal(settingsNotes(s).length, 1);
  assert.deepEqual(settingsNotes(settingsOf({})), []);
});

const CLUSTER: PatroniClusterInfo = {
  members: [
    { name: 'postgres-replica1', role: 'sync_standby', state: 'streaming', api_url: 'http://postgres-replica1:8008/patroni', host: 'postgres-replica1', port: 5432, timeline: 2, lag: 0 },
    { name: 'postgres-primary', role: 'leader', state: 'running', api_url: 'http://postgres-primary:8008/patroni', host: 'postgres-primary', port: 5432, timeline: 2 },
    { name: 'postgres-replica2', role: 'replica', state: 'running', host: 'postgres-replica2', port: 5432, timeline: 2, lag: 3145728, pending_restart: true, tags: { nofailover: true } },
  ],
};

test('memberRows: what patronictl list shows, LSNs from each member, sorted by name', () => {
  const nodes = new Map<string, PatroniNodeInfo>([
    ['postgres-primary', { state: 'running', role: 'master', timeline: 2, xlog: { location: 0x3000060 } }],
    ['postgres-replica1', { state: 'running', role: 'replica', xlog: { received_location: 0x3000060, replayed_location: 0x3000028 } }],
  ]);
  const rows = memberRows(CLUSTER, nodes);
  assert.deepEqual(rows.map((r) => [r.name, r.roleLabel, r.state, r.timeline, r.lagBytes, r.pendingRestart]), [
    ['postgres-primary', 'Leader', 'running', 2, undefined, false],
    ['postgres-replica1', 'Sync Standby', 'streaming', 2, 0, false],
    ['postgres-replica2', 'Replica', 'running', 2, 3145728, true],
  ]);
  assert.equal(rows[0].lsn, '0/3000060');
  assert.equal(rows[1].receiveLsn, '0/3000060');
  assert.equal(rows[1].replayLsn, '0/3000028');
  assert.equal(rows[2].receiveLsn, undefined);
  assert.deepEqual(rows[2].tags, { nofailover: true });
  const table = formatMemberTable(rows);
  assert.match(table, /\| postgres-replica2 \| postgres-replica2 \| Replica +\| running +\| 2 +\| 3 +\| \* +\|/);
});

test('lsnText: high and low 32 bits in hex, like pg_lsn', () => {
  assert.equal(lsnText(0), '0/0');
  assert.equal(lsnText(0x1_0000_00a8), '1/A8');
  assert.equal(lsnText(undefined), undefined);
  assert.equal(lsnText(-1), undefined);
});

test('history rows: [timeline, lsn, reason, timestamp, new leader]', () => {
  assert.deepEqual(parseHistoryRow([1, 50331808, 'no recovery target specified', '2026-12-02T00:10:00+00:00', 'postgres-replica1']), {
    timeline: 1,
    lsn: 50331808,
    reason: 'no recovery target specified',
    timestamp: '2026-12-02T00:10:00+00:00',
    newLeader: 'postgres-replica1',
  });
  assert.ok(Number.isNaN(parseHistoryRow('junk').timeline));
});

test('topology: the compose file\'s variables and defaults, and back to the same variables', () => {
  const d = patroniTopologyFromEnv({});
  assert.deepEqual(d.members.map((m) => [m.name, m.pgHostPort, m.restHostPort]), [
    ['postgres-primary', 5432, 8008],
    ['postgres-replica1', 5433, 8009],
    ['postgres-replica2', 5434, 8010],
  ]);
  assert.deepEqual(d.etcd.map((e) => e.clientHostPort), [2379, 2479, 2579]);
  assert.equal(d.cluster.pgbouncer.container, 'haproxy');
  assert.equal(d.dcsNetwork, 'patroni_dcs');
  const env = { COMPOSE_PROJECT_NAME: 'p', PGHA_CONTAINER_PREFIX: 'x-', PGHA_PRIMARY_PORT: '36432', PGHA_REPLICA1_PORT: '36433', PGHA_REPLICA2_PORT: '36434', PGHA_PGBOUNCER_PORT: '36632', PGHA_REST1_PORT: '36008', PGHA_REST2_PORT: '36009', PGHA_REST3_PORT: '36010', PGHA_ETCD1_PORT: '36379', PGHA_ETCD2_PORT: '36380', PGHA_ETCD3_PORT: '36381', PGHA_PATRONI_IMAGE: 'img:1' };
  const t = patroniTopologyFromEnv(env);
  assert.equal(t.members[1].restUrl, 'http://127.0.0.1:36009');
  assert.equal(t.etcd[2].container, 'x-etcd3');
  assert.equal(t.dcsNetwork, 'p_dcs');
  assert.deepEqual(patroniTopologyEnv(t), env);
  assert.throws(() => patroniTopologyFromEnv({ PGHA_REST2_PORT: 'abc' }), /PGHA_REST2_PORT=abc is not a TCP port/);
});

test('the workshop containers in the Patroni cluster\'s way: same names and ports by default, none when both are moved apart', () => {
  const workshop = topologyFromEnv({});
  assert.deepEqual(containersInTheWay(workshop, patroniTopologyFromEnv({})), ['postgres-primary', 'postgres-replica1', 'postgres-replica2', 'pgbouncer']);
  const apart = patroniTopologyFromEnv({ PGHA_CONTAINER_PREFIX: 'pat-', PGHA_PRIMARY_PORT: '25432', PGHA_REPLICA1_PORT: '25433', PGHA_REPLICA2_PORT: '25434', PGHA_PGBOUNCER_PORT: '26432' });
  assert.deepEqual(containersInTheWay(workshop, apart), []);
  // A port alone is enough to be in the way (the router on PgBouncer's port).
  const router = patroniTopologyFromEnv({ PGHA_CONTAINER_PREFIX: 'pat-', PGHA_PRIMARY_PORT: '25432', PGHA_REPLICA1_PORT: '25433', PGHA_REPLICA2_PORT: '25434' });
  assert.deepEqual(containersInTheWay(workshop, router), ['pgbouncer']);
});
