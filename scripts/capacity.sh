#!/usr/bin/env bash
# The capacity model: runs the real handlers on DynamoDB Local with a client that records every
# request's consumed capacity and partition key, scales the recorded mix to a workload, and writes
# DIR/capacity.json (see bench/CAPACITY.md for what the figures mean).
#
#   scripts/capacity.sh [--out DIR] [--active-sessions N] [--reports-per-sec N] [--creates-per-sec N]
#                       [--joins-per-sec N] [--list-pages-per-sec N] [more: --help]
#
# The defaults are the target deployment: 1,000,000 active sessions, 20,000 reports/s, 200 creates/s,
# 2,000 joins/s, 5,000 list pages/s, in one Region; DIR defaults to bench/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Build first, so DynamoDB Local does not idle through a compile.
cargo build --quiet -p fleet-capacity --bin fleet-capacity
# The handlers print their CloudWatch metrics (EMF lines) on stdout; the model reports on stderr.
scripts/with-dynamodb.sh cargo run --quiet -p fleet-capacity --bin fleet-capacity -- "$@" >/dev/null
