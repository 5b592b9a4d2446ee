-- Runs once, on the primary's first start, before it accepts network connections.
ALTER ROLE postgres WITH PASSWORD 'postgres';
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD 'replicator';
