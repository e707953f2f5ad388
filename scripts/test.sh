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
  if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
    cargo test --workspace --doc
  else
    cargo test --workspace --no-fail-fast "$@"
  fi
}

export -f run_tests
exec scripts/with-dynamodb.sh bash -c 'run_tests "$@"' run_tests "$@"
