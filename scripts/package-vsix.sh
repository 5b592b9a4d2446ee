#!/usr/bin/env bash
# Builds the installable extension (.vsix) offline with @vscode/vsce, which first runs the
# `vscode:prepublish` script (the production bundle: minified, no tests), and packs the files
# .vscodeignore lets through. Prints the size; fails above 2 MB.
#   npm run package     → dist/pg-ha-workshop.vsix   (install: code --install-extension dist/pg-ha-workshop.vsix)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${1:-dist/pg-ha-workshop.vsix}"
LIMIT=$((2 * 1024 * 1024))
npx --no-install vsce package --no-dependencies --allow-missing-repository --no-rewrite-relative-links --no-update-package-json -o "$OUT"
size=$(stat -c %s "$OUT")
echo "package: $OUT is $size bytes ($(awk -v s="$size" 'BEGIN { printf "%.2f MB", s / 1048576 }')); limit 2 MB"
unzip -l "$OUT" | tail -n 1 | awk '{ print "package: " $2 " files" }'
# Every file package.json points at (icons, walkthrough media, the bundle) must be in the package.
unzip -Z1 "$OUT" | node -e '
  const inVsix = new Set(require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean).map((f) => f.replace(/^extension\//, "")));
  const refs = new Set();
  (function walk(v) {
    if (typeof v === "string") { if (/^\.?\/?(media|walkthroughs|dist|l10n|cluster)\/[^*]+\.[a-z0-9]+$/i.test(v)) refs.add(v.replace(/^\.\//, "")); }
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  })(require("./package.json"));
  // And every file the extension reads at run time without package.json naming it.
  for (const f of ["dist/main.js", "dist/vendor.js", "dist/dashboard/main.js", "dist/dashboard/main.css", "LICENSE.txt", "cluster/docker-compose.yml", "cluster/patroni/docker-compose.yml", "cluster/patroni/patroni.yml", "cluster/patroni/Dockerfile", "cluster/patroni/patch-leader-renewal.py"]) refs.add(f);
  const missing = [...refs].filter((f) => !inVsix.has(f));
  if (missing.length) { console.error("package: ERROR: package.json points at files left out of the .vsix: " + missing.join(", ") + " (see .vscodeignore)"); process.exit(1); }
  console.log("package: all " + refs.size + " files package.json points at or the extension reads are inside");
'
if [ "$size" -ge "$LIMIT" ]; then
  echo "package: ERROR: the .vsix is over 2 MB: leave more out in .vscodeignore (unzip -l $OUT lists what is in it)" >&2
  exit 1
fi
