#!/usr/bin/env bash
# Runs schemathesis against a running fleetlift HTTP API (the local stack's gateway) with api/openapi.yaml:
# once as a player (JWT bearer token) over the player API's operations, once as the service (every
# request SigV4-signed by api/schemathesis_hooks.py) over every operation. Checks: not_a_server_error,
# status_code_conformance, content_type_conformance, response_schema_conformance. Installs a pinned
# schemathesis into .cache/schemathesis-venv on first use. Also checks that the stack serves
# GET /v1/openapi.json and /v1/asyncapi.json equal to api/*.yaml (a note while it does not serve them).
#
#   scripts/schemathesis.sh --local-stack      builds and starts `fleet-local up` on free ports, mints a
#                                              player token, runs, and stops the stack (what CI runs)
#   FLEETLIFT_HTTP=http://127.0.0.1:4000 FLEETLIFT_TOKEN=$(fleet-local token --sub player-1) scripts/schemathesis.sh
#                                              against a stack that is already running
#
# Environment:
#   FLEETLIFT_HTTP          the HTTP API's base URL (required without --local-stack)
#   FLEETLIFT_TOKEN         a player token for the player run (required without --local-stack)
#   FLEETLIFT_SIGV4_KEY / FLEETLIFT_SIGV4_SECRET / FLEETLIFT_SIGV4_REGION
#                           the service key (default: the local stack's AKIALOCALSERVICE0001 / local-service-secret / us-east-1)
#   SCHEMATHESIS_MAX_EXAMPLES  examples per operation and phase (default 50: about a minute for both runs)
#   SCHEMATHESIS_SEED       a seed, to reproduce a run (default: random, printed by schemathesis)
#   SCHEMATHESIS_EXTRA      extra arguments for both runs (e.g. "--workers 1 -v")
#   SCHEMATHESIS_WAIT       seconds to wait for /v1/health (default 300: a first run installs DynamoDB Local)
#
# Exit status: 0 when both runs pass with no failure and no authentication failure (a 401 is documented,
# so a token or signature the API refuses would otherwise pass every check); 1 otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCHEMATHESIS_VERSION=4.32.5
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

local_stack=0
for a in "$@"; do
    case "$a" in
        --local-stack) local_stack=1 ;;
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-50}"
wait_secs="${SCHEMATHESIS_WAIT:-300}"
logs=$(mktemp -d)
stack_pid=""
cleanup() {
    if [[ -n "$stack_pid" ]]; then kill "$stack_pid" 2>/dev/null || true; wait "$stack_pid" 2>/dev/null || true; fi
    rm -rf "$logs"
}
trap cleanup EXIT

if [[ $local_stack == 1 ]]; then
    echo "== cargo build -p fleet-local"
    cargo build -q -p fleet-local
    target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    fleet_local="$target/debug/fleet-local"
    "$fleet_local" up --http-port 0 --ws-port 0 --gamelift-port 0 --dynamodb-port 0 > "$logs/stack.log" 2>&1 &
    stack_pid=$!
    for _ in $(seq 1 "$wait_secs"); do
        FLEETLIFT_HTTP=$(sed -n 's/^export FLEETLIFT_HTTP=\(http[^ ]*\).*/\1/p' "$logs/stack.log" | head -1)
        [[ -n "$FLEETLIFT_HTTP" ]] && break
        kill -0 "$stack_pid" 2>/dev/null || { cat "$logs/stack.log" >&2; echo "schemathesis: fleet-local up stopped" >&2; exit 1; }
        sleep 1
    done
    [[ -n "$FLEETLIFT_HTTP" ]] || { cat "$logs/stack.log" >&2; echo "schemathesis: fleet-local up printed no endpoint" >&2; exit 1; }
    FLEETLIFT_TOKEN=$("$fleet_local" token --sub contract-player)
    echo "== local stack at $FLEETLIFT_HTTP (pid $stack_pid)"
fi
: "${FLEETLIFT_HTTP:?set FLEETLIFT_HTTP to the running stack HTTP API (e.g. http://127.0.0.1:4000), or pass --local-stack}"
: "${FLEETLIFT_TOKEN:?set FLEETLIFT_TOKEN to a player token (fleet-local token --sub contract-player), or pass --local-stack}"
export FLEETLIFT_HTTP FLEETLIFT_TOKEN

source scripts/pinned-venv.sh
venv=.cache/schemathesis-venv
pinned_venv "$venv" "schemathesis==$SCHEMATHESIS_VERSION"

for _ in $(seq 1 "$wait_secs"); do
    if curl -fs -o /dev/null "$FLEETLIFT_HTTP/v1/health"; then break; fi
    sleep 1
done
curl -fsS -o /dev/null "$FLEETLIFT_HTTP/v1/health" || { echo "schemathesis: $FLEETLIFT_HTTP/v1/health does not answer 200" >&2; exit 1; }

failed=0

# The documents the stack serves must be api/*.yaml.
for doc in openapi asyncapi; do
    code=$(curl -s -o "$logs/$doc.json" -w '%{http_code}' "$FLEETLIFT_HTTP/v1/$doc.json" || true)
    if [[ "$code" == 200 ]]; then
        if "$venv/bin/python" - "$logs/$doc.json" "api/$doc.yaml" <<'PY'
import json, sys, yaml
served, source = json.load(open(sys.argv[1])), yaml.safe_load(open(sys.argv[2]))
sys.exit(0 if served == source else 1)
PY
        then echo "== GET /v1/$doc.json: api/$doc.yaml"
        else echo "schemathesis: GET /v1/$doc.json differs from api/$doc.yaml" >&2; failed=1
        fi
    else
        echo "== note: GET /v1/$doc.json answered $code (the stack does not serve it yet)"
    fi
done

export PYTHONPATH="$PWD/api${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks
export SCHEMATHESIS_TELEMETRY=false
common=(api/openapi.yaml --url "$FLEETLIFT_HTTP" --checks "$CHECKS" --max-examples "$max_examples"
        --phases examples,coverage,fuzzing --no-color --suppress-health-check all)
[[ -n "${SCHEMATHESIS_SEED:-}" ]] && common+=(--seed "$SCHEMATHESIS_SEED")
# shellcheck disable=SC2206
[[ -n "${SCHEMATHESIS_EXTRA:-}" ]] && common+=($SCHEMATHESIS_EXTRA)

run() {  # run <name> <status log> <args…>
    local name=$1 log=$2; shift 2
    echo
    echo "== schemathesis ($name)"
    if FLEETLIFT_STATUS_LOG="$log" "$venv/bin/schemathesis" run "${common[@]}" "$@"; then :; else failed=1; fi
    echo "-- $name: answers by status"
    cut -d' ' -f1 "$log" 2>/dev/null | sort | uniq -c | sed 's/^/   /'
    if grep -q '^401 ' "$log" 2>/dev/null; then
        echo "schemathesis ($name): the API refused the credentials (401):" >&2
        grep '^401 ' "$log" | sort | uniq -c | head -5 >&2
        failed=1
    fi
}

FLEETLIFT_SIGV4=0 run "player API, JWT bearer" "$logs/player" \
    --include-by '/x-fleetlift-apis/0 == "player"' -H "Authorization: Bearer $FLEETLIFT_TOKEN"
FLEETLIFT_SIGV4=1 run "service API, SigV4" "$logs/service"

echo
if [[ $failed == 0 ]]; then echo "schemathesis: both runs passed"; else echo "schemathesis: FAILED"; fi
exit $failed
