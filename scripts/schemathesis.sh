#!/usr/bin/env bash
# Runs schemathesis against a running fleetlift HTTP API (the local stack's gateway) with api/openapi.yaml:
# once as a player (JWT bearer token) over the player API's operations, once as the service (every
# request SigV4-signed by api/schemathesis_hooks.py) over every operation. Checks: not_a_server_error,
# status_code_conformance, content_type_conformance, response_schema_conformance. Installs a pinned
# schemathesis into .cache/schemathesis-venv on first use.
#
#   FLEETLIFT_HTTP=http://127.0.0.1:4000 FLEETLIFT_TOKEN=$(fleet-local token --sub player-1) scripts/schemathesis.sh
#
# Environment:
#   FLEETLIFT_HTTP          the HTTP API's base URL (required)
#   FLEETLIFT_TOKEN         a player token for the player run (required)
#   FLEETLIFT_SIGV4_KEY / FLEETLIFT_SIGV4_SECRET / FLEETLIFT_SIGV4_REGION
#                           the service key (default: the local stack's AKIALOCALSERVICE0001 / local-service-secret / us-east-1)
#   SCHEMATHESIS_MAX_EXAMPLES  examples per operation and phase (default 25)
#   SCHEMATHESIS_SEED       a seed, to reproduce a run (default: random, printed by schemathesis)
#   SCHEMATHESIS_EXTRA      extra arguments for both runs (e.g. "--workers 1 -v")
#
# Exit status: 0 when both runs pass with no failure and no authentication failure (a 401 is documented,
# so a token or signature the API refuses would otherwise pass every check); 1 otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SCHEMATHESIS_VERSION=4.32.5
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

: "${FLEETLIFT_HTTP:?set FLEETLIFT_HTTP to the running stack HTTP API, e.g. http://127.0.0.1:4000}"
: "${FLEETLIFT_TOKEN:?set FLEETLIFT_TOKEN to a player token, e.g. \$(fleet-local token --sub contract-player)}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-25}"

venv=.cache/schemathesis-venv
stamp="$venv/.versions"
want="schemathesis==$SCHEMATHESIS_VERSION"
if [[ ! -x "$venv/bin/schemathesis" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "== installing $want into $venv"
    mkdir -p .cache
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$want"
    echo "$want" > "$stamp"
fi

for _ in $(seq 1 60); do
    if curl -fs -o /dev/null "$FLEETLIFT_HTTP/v1/health"; then break; fi
    sleep 1
done
curl -fsS -o /dev/null "$FLEETLIFT_HTTP/v1/health" || { echo "schemathesis: $FLEETLIFT_HTTP/v1/health does not answer 200" >&2; exit 1; }

export PYTHONPATH="$PWD/api${PYTHONPATH:+:$PYTHONPATH}" SCHEMATHESIS_HOOKS=schemathesis_hooks
export SCHEMATHESIS_TELEMETRY=false
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
common=(api/openapi.yaml --url "$FLEETLIFT_HTTP" --checks "$CHECKS" --max-examples "$max_examples"
        --phases examples,coverage,fuzzing --no-color --suppress-health-check all)
[[ -n "${SCHEMATHESIS_SEED:-}" ]] && common+=(--seed "$SCHEMATHESIS_SEED")
# shellcheck disable=SC2206
[[ -n "${SCHEMATHESIS_EXTRA:-}" ]] && common+=($SCHEMATHESIS_EXTRA)

failed=0
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
