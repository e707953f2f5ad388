#!/usr/bin/env bash
# Runs a command with DynamoDB Local up on a free loopback port, exported as FLEETLIFT_TEST_DYNAMODB,
# installing it first if needed, and always stops it afterwards.
#
#   scripts/with-dynamodb.sh cargo bench -p fleet-aws
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The user's cache directory (~/.cache/fleetlift unless FLEETLIFT_CACHE or XDG_CACHE_HOME says otherwise),
# exported so that the command, and any fleet-local it runs, share this one DynamoDB Local install.
FLEETLIFT_CACHE="$("$ROOT/scripts/dynamodb-local.sh" cache)"
export FLEETLIFT_CACHE
mkdir -p "$FLEETLIFT_CACHE"

"$ROOT/scripts/dynamodb-local.sh" install

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
DDB_PID="$("$ROOT/scripts/dynamodb-local.sh" start "$PORT")"
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
echo "DynamoDB Local on 127.0.0.1:$PORT (pid $DDB_PID)" >&2

# Tests and benchmarks that need DynamoDB read this and make their own table each.
export FLEETLIFT_TEST_DYNAMODB="http://127.0.0.1:$PORT"
"$@"
