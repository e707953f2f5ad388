#!/usr/bin/env bash
# Browser test of the local stack's web console: builds fleet-local, starts `fleet-local up` on free
# ports, and drives http://127.0.0.1:<port>/console/ in headless Chromium with playwright
# (crates/fleet-local/console/tests/console_test.py). Prints one line per test and a closing
# `N passed, M failed`; exits non-zero on any failure.
#
#   scripts/console-test.sh                      what CI runs
#   scripts/console-test.sh --update-screenshot  also writes docs/console.png (the README's picture)
#
# Installs what it needs on first use: Debian's `chromium` (apt-get, when /usr/bin/chromium is missing)
# and a pinned playwright from PyPI in .cache/console-venv (its own browsers are never downloaded: the
# test launches Debian's Chromium).
#
# Environment:
#   FLEET_LOCAL_BIN   use this fleet-local binary instead of building one
#   CHROMIUM          the browser (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PLAYWRIGHT_VERSION=1.65.2
venv=.cache/console-venv
work=.cache/console-test

update_screenshot=0
for a in "$@"; do
    case "$a" in
        --update-screenshot) update_screenshot=1 ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done
started=$(date +%s)
mkdir -p "$work"

chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
    echo "== installing Debian's chromium"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium > "$work/apt.log" 2>&1 \
        || { tail -20 "$work/apt.log" >&2; echo "console-test: apt-get install chromium failed" >&2; exit 1; }
    [[ -x "$chromium" ]] || { echo "console-test: chromium installed, but not at $chromium" >&2; exit 1; }
fi

source scripts/pinned-venv.sh
pinned_venv "$venv" "playwright==$PLAYWRIGHT_VERSION"

if [[ -z "${FLEET_LOCAL_BIN:-}" ]]; then
    echo "== cargo build -p fleet-local"
    cargo build -q -p fleet-local
    target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    # A copy, so another build in the same target directory cannot swap the binary under the test.
    cp "$target/debug/fleet-local" "$work/fleet-local"
    FLEET_LOCAL_BIN="$work/fleet-local"
fi

echo "== console test (headless $("$chromium" --version 2>/dev/null | head -1))"
shot="$work/console.png"
rm -f "$shot"
status=0
FLEET_LOCAL_BIN="$FLEET_LOCAL_BIN" CHROMIUM="$chromium" CONSOLE_SCREENSHOT="$shot" \
    CONSOLE_TEST_LOG="$work/stack.log" \
    "$venv/bin/python" crates/fleet-local/console/tests/console_test.py || status=$?
if [[ $status -ne 0 ]]; then
    echo "console-test: the stack's log is $work/stack.log" >&2
fi
if [[ $update_screenshot == 1 && $status -eq 0 && -f "$shot" ]]; then
    if command -v pngquant > /dev/null; then
        pngquant --force --quality 70-90 --output docs/console.png "$shot"
    else
        cp "$shot" docs/console.png
    fi
    echo "wrote docs/console.png ($(wc -c < docs/console.png) bytes)"
fi
echo "console-test: $(( $(date +%s) - started )) s"
exit $status
