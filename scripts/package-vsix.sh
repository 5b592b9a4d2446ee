#!/usr/bin/env bash
# Builds the installable extension (.vsix) offline: production bundle (minified, no tests), then
# @vscode/vsce with the files .vscodeignore lets through. Prints the size; fails above 2 MB.
#   npm run package     → dist/pg-ha-workshop.vsix   (install: code --install-extension dist/pg-ha-workshop.vsix)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-dist/pg-ha-workshop.vsix}"
LIMIT=$((2 * 1024 * 1024))
node esbuild.mjs --production
npx --no-install vsce package --no-dependencies --allow-missing-repository --skip-license --no-rewrite-relative-links --no-update-package-json -o "$OUT"
size=$(stat -c %s "$OUT")
echo "package: $OUT is $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f MB", s / 1048576 }')); limit 2 MB"
unzip -l "$OUT" | tail -n 1 | awk '{ print "package: " $2 " files" }'
if [ "$size" -ge "$LIMIT" ]; then
  echo "package: ERROR: the .vsix is over 2 MB: leave more out in .vscodeignore (unzip -l $OUT lists what is in it)" >&2
  exit 1
fi
