-- PG HA Workshop: monitoring notebook.
-- Every query of the workshop's Monitoring Queries, Monitoring & Alerting and Troubleshooting
-- sections and of its demos, each with a short explanation and the node it belongs to.
--
-- In VS Code (PG HA Workshop extension) this file opens as a notebook: each SQL cell runs on the
-- node named in its marker line. Outside VS Code it is a plain SQL script: `psql -f` runs every
-- statement on the one server you connect to (the Markdown sits in /* ... */ comments).
--
-- Cell markers: `-- %% [sql] @node` starts a SQL cell, `-- %% [markdown]` a Markdown cell.
-- Targets:
--   @primary             the node that is primary NOW (after a failover: the promoted replica)
--   @replica             any node that is a replica now
--   @all                 every PostgreSQL node, results side by side
--   @postgres-primary, @postgres-replica1, @postgres-replica2
--                        that container, whatever its role today
--   @pgbouncer           database demodb through PgBouncer
--   @pgbouncer-admin     PgBouncer's admin console (SHOW POOLS, SHOW STATS, ...)
-- A SQL cell without a target runs on the notebook's default node (`-- %% default @node`;
-- @primary when absent).

-- %% [markdown]
/*
# Monitoring the workshop cluster

Run a cell with ▶ or **Ctrl+Enter** (**Shift+Enter** runs it and moves to the next), or **Run All**.
This is your own copy: edit and save it freely. Each SQL cell shows the node it runs on in its status bar;
click it to pick another node. **Run on all nodes** (cell toolbar) shows one result per node side by side.

## Who is primary?

`pg_is_in_recovery()` is `false` on a primary and `true` on a replica. Run on every node: exactly one
`false` is healthy; two `false` is split brain (Demo 6).
*/

-- %% [sql] @all
SELECT pg_is_in_recovery();  -- true = replica, false = primary

-- %% [markdown]
/*
# Monitoring Queries

## Replication status (primary)

One row per replica streaming from this primary. `state` should be `streaming`; `sync_state` is
`async` in the workshop. `lag_bytes` is WAL sent but not yet replayed. `replay_lag` becomes NULL
(not 0) a little after activity stops.
*/

-- %% [sql] @primary
SELECT
    application_name,
    client_addr,
    state,
    sync_state,
    replay_lag,
    pg_size_pretty(pg_wal_lsn_diff(sent_lsn, replay_lsn)) AS lag_bytes
FROM pg_stat_replication;

-- %% [markdown]
/*
## Replication lag (replica)

Time since the last replayed transaction. While the primary is idle this grows even though the
replica is fully caught up: it measures "time since last commit replayed", not lag.
*/

-- %% [sql] @replica
SELECT
    now() - pg_last_xact_replay_timestamp() AS replication_lag,
    pg_is_in_recovery() AS is_replica;

-- %% [markdown]
/*
## Replication slot status (primary)

One physical slot per replica. An inactive slot keeps WAL without limit: watch `retained_wal`.
*/

-- %% [sql] @primary
SELECT
    slot_name,
    active,
    pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) AS retained_wal
FROM pg_replication_slots;

-- %% [markdown]
/*
## Database size & activity

Three statements in one cell: each gets its own result table.
*/

-- %% [sql] @primary
-- Database size
SELECT pg_size_pretty(pg_database_size('demodb'));

-- Table size
SELECT pg_size_pretty(pg_total_relation_size('users'));

-- Active connections
SELECT count(*) FROM pg_stat_activity WHERE state = 'active';

-- %% [markdown]
/*
# Monitoring & Alerting

Each alert query returns `true` when the alert should fire.

## Alert if lag > 10 seconds
*/

-- %% [sql] @primary
SELECT EXTRACT(EPOCH FROM replay_lag) > 10 FROM pg_stat_replication;

-- %% [markdown]
/*
## Alert if a replica is disconnected

The workshop has two replicas: fewer than two streaming means one is gone.
*/

-- %% [sql] @primary
SELECT count(*) < 2 FROM pg_stat_replication WHERE state = 'streaming';

-- %% [markdown]
/*
## Alert if WAL retention is too high (disk space)

An inactive slot retaining more than 10 GB of WAL.
*/

-- %% [sql] @primary
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) > 10737418240
FROM pg_replication_slots WHERE not active;  -- 10GB

-- %% [markdown]
/*
# Troubleshooting

## Replica not connecting: does the primary allow it?

The SQL view of the primary's `pg_hba.conf`: replication connections need a line whose database
is `replication`.
*/

-- %% [sql] @primary
SELECT line_number, type, database, user_name, address, auth_method
FROM pg_hba_file_rules;

-- %% [markdown]
/*
## Replica not connecting: is its WAL receiver streaming?

On a replica, `status` is `streaming` while it is connected to its upstream.
*/

-- %% [sql] @replica
SELECT status, sender_host, sender_port, slot_name
FROM pg_stat_wal_receiver;

-- %% [markdown]
/*
## Replication lag too high: WAL generation (primary)

Total WAL written since the cluster was created; run it twice to see the rate.
*/

-- %% [sql] @primary
SELECT pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')) AS total_wal_generated;

-- %% [markdown]
/*
## Promote failed: is the replica caught up?

`true` when everything received has been replayed. Before promoting, prefer the replica with the
highest position.
*/

-- %% [sql] @postgres-replica1
SELECT pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() AS caught_up;

-- %% [markdown]
/*
# Demo 1: Basic replication

Insert a row on the primary...
*/

-- %% [sql] @primary
INSERT INTO users (name, email) VALUES ('DemoUser', 'demo@example.com') RETURNING *;

-- %% [markdown]
/*
...and read it back from each replica. *Observation: the data appears on the replicas in < 1 s.*
*/

-- %% [sql] @postgres-replica1
SELECT * FROM users ORDER BY id DESC LIMIT 5;

-- %% [sql] @postgres-replica2
SELECT * FROM users ORDER BY id DESC LIMIT 5;

-- %% [markdown]
/*
# Demo 2: Read scaling

Reads go to the replicas. Use **Run on all nodes** to compare the count on every node.
*/

-- %% [sql] @replica
SELECT COUNT(*) FROM users;

-- %% [markdown]
/*
# Demo 3: Replication lag monitoring

Start the write load (`./generate-load.sh 120 2`), then run these two: from the primary's side...
*/

-- %% [sql] @primary
SELECT application_name, state, sync_state, replay_lag FROM pg_stat_replication;

-- %% [markdown]
/*
...and from the replica's side (time since the last replayed commit: grows while the primary is idle).
*/

-- %% [sql] @postgres-replica1
SELECT now() - pg_last_xact_replay_timestamp() AS replication_lag;

-- %% [markdown]
/*
# Demo 4: Primary failure, manual failover

Replication status before the failure (on the primary):
*/

-- %% [sql] @primary
SELECT * FROM pg_stat_replication;

-- %% [markdown]
/*
After `docker stop postgres-primary` and `./promote-replica.sh postgres-replica1`, `@primary` means
the promoted node: this insert goes to postgres-replica1 without editing the cell.
*/

-- %% [sql] @primary
INSERT INTO users (name, email) VALUES ('AfterFailover', 'after@example.com') RETURNING *;

-- %% [markdown]
/*
# Demo 5: Replication lag under load

One batch of the heavy write load (100 rows)...
*/

-- %% [sql] @primary
INSERT INTO users (name, email) SELECT 'bulk_'||generate_series, 'bulk_'||generate_series||'@example.com' FROM generate_series(1, 100);

-- %% [markdown]
/*
...and the lag in bytes per replica.
*/

-- %% [sql] @primary
SELECT application_name, pg_size_pretty(pg_wal_lsn_diff(sent_lsn, replay_lsn)) AS lag FROM pg_stat_replication;

-- %% [markdown]
/*
# Demo 6: Split brain

After stopping the primary, promoting replica1 and starting the old primary again, ask every node.
*Both old and new primary return `false` = PROBLEM!*
*/

-- %% [sql] @all
SELECT pg_is_in_recovery();

-- %% [markdown]
/*
# Demo 7: Connection pooling with PgBouncer

A query through PgBouncer (port 6432 in the workshop)...
*/

-- %% [sql] @pgbouncer
SELECT * FROM users LIMIT 5;

-- %% [markdown]
/*
...and PgBouncer's own statistics from its admin console: pools (client and server connections)...
*/

-- %% [sql] @pgbouncer-admin
SHOW POOLS;

-- %% [markdown]
/*
...and traffic per database.
*/

-- %% [sql] @pgbouncer-admin
SHOW STATS;

-- %% [markdown]
/*
# Demo 8: the same queries on the Patroni cluster

Every cell above works unchanged on `cluster/patroni/` (same names, ports, users, database and
table). What Patroni itself knows (members, roles, lag, the leader lock) comes from its REST API:
the **Patroni** view shows it, or from a terminal `curl -s localhost:8008/cluster`,
`curl -s localhost:8008/history`, `curl -s localhost:8008/config`.

From SQL you can see who manages a node: under Patroni, `cluster_name` is the Patroni scope
(`pgha`), the configuration file is the one Patroni writes into the data directory, and
`synchronous_standby_names` is set by Patroni when `synchronous_mode` is on. On the workshop's
cluster: the node's own name and `/etc/postgresql/postgresql.conf`.
*/

-- %% [sql] @all
SELECT current_setting('cluster_name') AS cluster_name,
       pg_is_in_recovery() AS in_recovery,
       (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline,
       current_setting('synchronous_standby_names') AS synchronous_standby_names,
       current_setting('config_file') AS config_file;
