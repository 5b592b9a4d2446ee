#!/usr/bin/env bash
# The whole test suite (`npm test`): typecheck, lint (ESLint), unit tests, integration tests against a real
# cluster on a real Docker engine, extension-host tests. Prints a final line
#   tests: N passed, M failed
# and exits non-zero when anything failed.
#   bash scripts/test.sh [all|unit|integration|vscode|vsix]   (vscode includes the untrusted and packaged runs and the served workshop)
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"
WHAT="${1:-all}"

# The tests' own cluster (project pghatest, ports 30432-30434/30632, the local image) unless the
# PGHA_* variables name another; refuses the workshop's own (scripts/lib/test-cluster.mjs, the one
# guard every test and benchmark entry point shares).
if ! guard="$(node scripts/test-cluster-env.mjs scripts/test.sh)"; then
  echo "tests: 0 passed, 1 failed"
  exit 1
fi
eval "$guard"

OUT="$ROOT/.cache/test-results"
mkdir -p "$OUT"
passed=0
failed=0
failures=()

# count FILE: prints "PASS FAIL", the sums of the TAP summary lines (# pass N / # fail N) in FILE.
count() {
  awk '/^# pass [0-9]+$/ { p += $3 } /^# fail [0-9]+$/ { f += $3 } END { print p + 0, f + 0 }' "$1" 2>/dev/null || echo "0 0"
}

# step NAME COMMAND...: runs a step that is a single check (typecheck, setup).
step() {
  local name="$1"; shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); failures+=("$name")
  fi
}

# node_tests NAME FILE...: node's test runner, spec on the console, TAP into a file for counting.
node_tests() {
  local name="$1"; shift
  local tap="$OUT/$name.tap"
  if [ $# -eq 0 ]; then echo "=== $name: no test files"; return 0; fi
  echo "=== $name ($# files)"
  rm -f "$tap"
  node --import tsx --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" "$@"
  local rc=$?
  read -r p f < <(count "$tap")
  passed=$((passed + p)); failed=$((failed + f))
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then
    failed=$((failed + 1)); failures+=("$name (runner exit $rc)")
  elif [ "$f" != 0 ]; then
    failures+=("$name ($f failed)")
  fi
}

shopt -s nullglob globstar
if [ "$WHAT" = all ]; then
  step typecheck npm run --silent typecheck
  step lint npm run --silent lint
fi
if [ "$WHAT" = all ] || [ "$WHAT" = unit ]; then
  node_tests unit test/unit/**/*.test.ts
fi
if [ "$WHAT" = all ] || [ "$WHAT" = integration ]; then
  if bash scripts/ensure-docker.sh; then
    node_tests integration test/integration/**/*.test.ts
    if [ -z "${PGHA_KEEP_CLUSTER:-}" ]; then
      bash scripts/compose.sh down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
    fi
  else
    failed=$((failed + 1)); failures+=("integration setup (scripts/ensure-docker.sh)")
  fi
fi
# Extension-host tests (mocha inside a real VS Code). The runner prints TAP summary lines
# (# pass N / # fail N), counted like node's.
# host_tests NAME COMMAND...: one extension-host run, its output in $OUT/NAME.log.
host_tests() {
  local name="$1"; shift
  echo "=== $name"
  local log="$OUT/$name.log" rc
  if bash scripts/ensure-docker.sh; then
    "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    if [ -z "${PGHA_KEEP_CLUSTER:-}" ]; then
      bash scripts/compose.sh down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
    fi
  else
    echo "# fail 1" >"$log"; rc=1
  fi
  read -r p f < <(count "$log")
  passed=$((passed + p)); failed=$((failed + f))
  if [ "$rc" -ne 0 ] && [ "$f" = 0 ]; then failed=$((failed + 1)); failures+=("$name (runner exit $rc)");
  elif [ "$f" != 0 ]; then failures+=("$name ($f failed)"); fi
}
if [ -f scripts/run-vscode-tests.mjs ]; then
  if [ "$WHAT" = all ] || [ "$WHAT" = vscode ]; then
    host_tests vscode npm run --silent test:vscode
    # Restricted Mode: the same extension in an untrusted folder (commands refuse, no watcher).
    host_tests untrusted node scripts/run-vscode-tests.mjs --file trust --untrusted
  fi
  # The packaged extension: the .vsix installed into code-server, every surface opened once.
  if [ "$WHAT" = all ] || [ "$WHAT" = vscode ] || [ "$WHAT" = vsix ]; then
    host_tests vsix bash -c 'bash scripts/package-vsix.sh && node scripts/run-vscode-tests.mjs --vsix'
    # The workshop as a learner is served it (the installed .vsix, `npm run workshop`'s arguments, no test
    # mode) driven through Chromium: first screen trusted, toasts and Demo Results visible, Ctrl+Enter runs a
    # notebook cell.
    host_tests workshop node scripts/workshop-check.mjs --notebook
  fi
fi

echo
for x in "${failures[@]}"; do echo "failed: $x"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
