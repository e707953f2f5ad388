#!/usr/bin/env bash
# Deploy rehearsal: template.yaml deployed with the real SAM CLI (samconfig environment `rehearsal`) into the
# ministack AWS emulator, with gamelift-sim as GameLift, then every function driven through its trigger:
# WebSocket $connect through ws-authorizer, a player create through fleet-api, the placement event published
# to the stack's SNS topic and carried by its queue to placement-events, the result pushed on the WebSocket,
# a join, a status report, a delete, the notifier on the table's stream, the sweeper on its schedule, then
# `sam delete`. One line per step with its time; exit 1 on the first failing step. No AWS account, no Docker.
# What it proves and what only AWS can: deploy/README.md. The steps themselves: deploy/rehearse.py.
#
#   scripts/rehearse-deploy.sh               build the x86_64 zips with cargo lambda, then rehearse
#   scripts/rehearse-deploy.sh --zips DIR    use zips already built (DIR/<binary>/bootstrap.zip), e.g.
#                                            "$CARGO_TARGET_DIR/lambda" after `scripts/check-deploy.sh --build`
#   FLEETLIFT_REHEARSAL_ZIPS=DIR             the same as --zips
#
# Installs, pinned: ministack (+ the SAM translator and cryptography it needs for SAM templates and JWT
# authorizers, boto3 and websockets for the driver) into .cache/rehearsal-venv; SAM CLI into
# .cache/deploy-venv exactly as scripts/check-deploy.sh does (same pins, same venv). Logs of the last run:
# .cache/rehearsal/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

MINISTACK_VERSION=1.5.33
SAM_TRANSLATOR_VERSION=1.115.0 # the translator SAM CLI's pinned version ships, so both transform alike
CRYPTOGRAPHY_VERSION=50.0.2
BOTO3_VERSION=1.43.106 # matches the botocore ministack pins
WEBSOCKETS_VERSION=15.0.1

zips="${FLEETLIFT_REHEARSAL_ZIPS:-}"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --zips) zips="${2:?--zips needs a directory}"; shift 2 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done

start=$SECONDS
say() { printf '[%6s s] %s\n' "$((SECONDS - start))" "$*"; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/fleetlift/target}"

# ---- tools ----------------------------------------------------------------------------------------------
rvenv=.cache/rehearsal-venv
want="ministack==$MINISTACK_VERSION aws-sam-translator==$SAM_TRANSLATOR_VERSION cryptography==$CRYPTOGRAPHY_VERSION boto3==$BOTO3_VERSION websockets==$WEBSOCKETS_VERSION"
if [[ ! -x "$rvenv/bin/python" || "$(cat "$rvenv/.versions" 2>/dev/null)" != "$want" ]]; then
    say "installing $want into $rvenv"
    mkdir -p .cache
    python3 -m venv "$rvenv"
    "$rvenv/bin/pip" install --quiet --disable-pip-version-check $want
    echo "$want" > "$rvenv/.versions"
fi
# SAM CLI and cargo-lambda: the same pinned venv as scripts/check-deploy.sh.
source deploy/venv.sh
sam_venv=$venv

# ---- the x86_64 zips (this machine's architecture: ministack runs them as native processes) ----------
if [[ -z "$zips" ]]; then
    deploy_venv_cargo_lambda
    mapfile -t bins < <(sed -n 's/^ *Binary: *\([a-z0-9-]*\) *$/\1/p' template.yaml)
    bin_args=()
    for b in "${bins[@]}"; do bin_args+=(--bin "$b"); done
    zips="$CARGO_TARGET_DIR/rehearsal/lambda"
    say "cargo lambda build --release --x86-64 --output-format zip (${#bins[@]} functions) -> $zips"
    built=$SECONDS
    PATH="$PWD/$sam_venv/bin:$PATH" cargo lambda build --release --x86-64 --output-format zip \
        --lambda-dir "$zips" -p fleet-functions "${bin_args[@]}"
    say "zips built in $((SECONDS - built)) s"
fi

# ---- gamelift-sim --------------------------------------------------------------------------------------
say "cargo build -p gamelift-sim"
cargo build --quiet -p gamelift-sim --bin gamelift-sim
sim_bin="$CARGO_TARGET_DIR/debug/gamelift-sim"

# ---- the rehearsal ---------------------------------------------------------------------------------------
work=.cache/rehearsal
rm -rf "$work"
mkdir -p "$work"
pids="$work/pids"
: > "$pids"
# deploy/rehearse.py stops what it starts; this catches what an interrupted or killed driver left behind:
# each line is the id of a process group the driver started (the process and its children).
cleanup() {
    while read -r pid; do
        [[ -n "$pid" ]] && kill -TERM -- "-$pid" 2>/dev/null || true
    done < "$pids"
}
trap cleanup EXIT
say "rehearsal (deploy/rehearse.py; logs in $work)"
"$rvenv/bin/python" deploy/rehearse.py --zips "$zips" --sim-bin "$sim_bin" --sam "$PWD/$sam_venv/bin/sam" \
    --work-dir "$work" --pid-file "$pids" --ministack-version "$MINISTACK_VERSION"
