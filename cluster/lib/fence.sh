# Sourced by the node entry points (POSIX sh, inside the container; needs PGDATA and log()).
# A node fenced by a failover (the mark pgha-fenced in its data directory, written by the
# extension) must not come back as a second primary: refuse to start PostgreSQL until someone
# chooses. An empty mark means the fence was lifted ("start as it is"): remove it and go on.
#   refuse_if_fenced   exits 3 while the mark holds a reason; else removes an empty mark
refuse_if_fenced() {
  FENCE="$PGDATA/pgha-fenced"
  if [ -s "$FENCE" ]; then
    log "FENCED since $(head -n 1 "$FENCE"): $(tail -n +2 "$FENCE" | tr '\n' ' ')" >&2
    log "PostgreSQL is not started: this node may still hold writes of an old primary, and another node is primary now." >&2
    log "Rejoin it as a replica (VS Code: PG HA Workshop: Rejoin as Replica), or lift the fence to start it as it is (a second primary):" >&2
    log "  : > /tmp/empty && docker cp /tmp/empty <this container>:$FENCE && docker start <this container>" >&2
    exit 3
  fi
  rm -f "$FENCE" 2>/dev/null || true
}
