-- One physical replication slot per replica: the primary keeps the WAL a replica has not
-- received yet (up to max_slot_wal_keep_size).
SELECT pg_create_physical_replication_slot('postgres_replica1');
SELECT pg_create_physical_replication_slot('postgres_replica2');
