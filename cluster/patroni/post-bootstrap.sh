#!/bin/sh
# Patroni's post_bootstrap hook: runs once, on the node that initialised the cluster, with a
# connection string as $1. Creates the workshop's database and table (cluster/init/02-demodb.sql);
# Patroni itself has already created the postgres and replicator roles and manages the slots.
set -eu
psql -X -v ON_ERROR_STOP=1 -d "$1" -f /pgha-init/02-demodb.sql
