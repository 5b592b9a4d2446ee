#!/bin/sh
# archive_command of every node (postgresql.conf): archive-wal.sh %p %f
# Copies one finished WAL file to the archive on the backup volume ($PGHA_WAL_ARCHIVE, set by the
# entry point). The copy goes to a temporary name first, so a full volume never leaves a truncated
# segment that a restore would read. A file already archived with the same content is success
# (PostgreSQL may retry after a crash); a different file under the same name is refused, so the
# archive never loses a segment. A non-zero exit makes PostgreSQL keep the segment and retry; the
# failure shows in pg_stat_archiver (failed_count, last_failed_wal) and in the node's log.
set -u
src="$1"
name="$2"
dir="${PGHA_WAL_ARCHIVE:-}"
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "archive-wal: no WAL archive folder (PGHA_WAL_ARCHIVE='$dir'): is the backup volume mounted at /backup?" >&2
  exit 1
fi
dest="$dir/$name"
if [ -f "$dest" ]; then
  if cmp -s "$src" "$dest"; then exit 0; fi
  echo "archive-wal: $dest already exists with other content: refusing to overwrite it" >&2
  exit 1
fi
tmp="$dir/.$name.partial-copy"
if ! cp "$src" "$tmp" 2>/dev/null; then
  rm -f "$tmp"
  echo "archive-wal: could not copy $name to $dir ($(df -h "$dir" 2>/dev/null | awk 'NR==2 {print $4 " free"}')): is the backup volume full?" >&2
  exit 1
fi
mv "$tmp" "$dest"
