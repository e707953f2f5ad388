#!/usr/bin/env bash
# Runs every test of the workspace against a real DynamoDB Local, on any machine of this project's kind:
# installs what is missing (Java 17, DynamoDB Local), starts DynamoDB Local on a free loopback port,
# runs the tests, and always stops what it started.
#
#   scripts/test.sh [extra args for cargo nextest run]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

run_tests() {
  # This runs in a child bash (`bash -c`), which does not inherit `set -e`: without it a failing
  # nextest run would be masked by the doc tests' exit status.
  set -euo pipefail
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
    cargo test --workspace --doc
  else
    cargo test --workspace --no-fail-fast "$@"
  fi
}

# The reliability suites (crates/fleet-reliability) append one `scorecard:` line per row here; the file is
# emptied before the run and printed after it, whatever the result (test runners hide passing tests' output).
export FLEETLIFT_SCORECARD="${FLEETLIFT_SCORECARD:-${CARGO_TARGET_DIR:-$ROOT/target}/scorecard.txt}"
mkdir -p "$(dirname "$FLEETLIFT_SCORECARD")"
: > "$FLEETLIFT_SCORECARD"

export -f run_tests
status=0
scripts/with-dynamodb.sh bash -c 'run_tests "$@"' run_tests "$@" || status=$?
echo "---- reliability scorecard ($FLEETLIFT_SCORECARD)"
cat "$FLEETLIFT_SCORECARD"
exit "$status"
