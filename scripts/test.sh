#!/usr/bin/env bash
# Runs every test of the workspace against a real DynamoDB Local, on any machine of this project's kind:
# installs what is missing (Java 17, DynamoDB Local), starts DynamoDB Local on a free loopback port,
# runs the tests, and always stops what it started.
#
#   scripts/test.sh [extra args for cargo nextest run]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export FLEETLIFT_CACHE="${FLEETLIFT_CACHE:-$ROOT/.cache}"
mkdir -p "$FLEETLIFT_CACHE"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

scripts/dynamodb-local.sh install

PORT="$(free_port)"
DDB_PID="$(scripts/dynamodb-local.sh start "$PORT")"
cleanup() {
  kill "$DDB_PID" 2>/dev/null || true
  wait "$DDB_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

for _ in $(seq 1 120); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  if ! kill -0 "$DDB_PID" 2>/dev/null; then
    echo "DynamoDB Local exited; its log:" >&2
    cat "$FLEETLIFT_CACHE/dynamodb-local-$PORT.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "DynamoDB Local on 127.0.0.1:$PORT (pid $DDB_PID)"

# Tests that need DynamoDB read this and make their own table each, so they run in parallel.
export FLEETLIFT_TEST_DYNAMODB="http://127.0.0.1:$PORT"

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
  cargo test --workspace --doc
else
  cargo test --workspace --no-fail-fast "$@"
fi
