#!/usr/bin/env bash
# Offline checks of the deployment: cfn-lint, `sam validate --lint`, and deploy/check_template.py (binaries <->
# functions, IAM <-> deploy/aws-calls.json <-> the SDK calls in crates/fleet-aws, table <-> fleet_core::index,
# routes, event wiring, env). No AWS account, no network beyond PyPI (tools are installed, pinned, into
# .cache/deploy-venv on first use).
#
#   scripts/check-deploy.sh                            lint + validate + checks
#   scripts/check-deploy.sh --build                    also `cargo lambda build --release --x86-64 --output-format zip`
#                                                      for every function, and print each artifact's size
#   scripts/check-deploy.sh --build --arm64            the same for arm64 (what the template deploys by default)
#   scripts/check-deploy.sh --allow-pending-binaries   a function whose binary is not written yet is a note
#                                                      (a binary without a function always fails)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
PYYAML_VERSION=6.0.4
CARGO_LAMBDA_VERSION=1.9.2

build=0
arch=--x86-64
check_args=()
for a in "$@"; do
    case "$a" in
        --build) build=1 ;;
        --arm64) arch=--arm64 ;;
        --x86-64) arch=--x86-64 ;;
        --allow-pending-binaries) check_args+=("$a") ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown argument: $a" >&2; exit 2 ;;
    esac
done

venv=.cache/deploy-venv
stamp="$venv/.versions"
want="cfn-lint==$CFN_LINT_VERSION aws-sam-cli==$SAM_CLI_VERSION pyyaml==$PYYAML_VERSION"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    echo "== installing $want into $venv"
    mkdir -p .cache
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check $want
    echo "$want" > "$stamp"
fi

# Offline: no telemetry, no instance metadata lookups, a region and dummy credentials so nothing prompts.
export SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN

failed=0
step() { echo; echo "== $*"; }

step "cfn-lint $("$venv/bin/cfn-lint" --version | awk '{print $2}') template.yaml"
if "$venv/bin/cfn-lint" template.yaml; then echo "clean"; else failed=1; fi

step "sam validate --lint (SAM CLI $SAM_CLI_VERSION)"
if "$venv/bin/sam" validate --lint --template template.yaml --config-env local; then :; else failed=1; fi

step "deploy/check_template.py"
if "$venv/bin/python" deploy/check_template.py "${check_args[@]}"; then :; else failed=1; fi

if [[ $build == 1 ]]; then
    if [[ ! -x "$venv/bin/cargo-lambda" ]]; then
        echo "== installing cargo-lambda==$CARGO_LAMBDA_VERSION into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
    fi
    export PATH="$PWD/$venv/bin:$PATH"
    # The functions are the template's binaries (check_template.py has checked they match src/bin).
    mapfile -t bins < <(sed -n 's/^ *Binary: *\([a-z0-9-]*\) *$/\1/p' template.yaml)
    bin_args=()
    for b in "${bins[@]}"; do bin_args+=(--bin "$b"); done
    step "cargo lambda build --release $arch --output-format zip -p fleet-functions ${bin_args[*]}"
    if cargo lambda build --release "$arch" --output-format zip -p fleet-functions "${bin_args[@]}"; then
        target=$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
        step "artifacts ($arch) in $target/lambda"
        "$venv/bin/python" deploy/artifact_sizes.py "$target/lambda" "${bins[@]}" || failed=1
    else
        failed=1
    fi
fi

echo
if [[ $failed == 0 ]]; then echo "check-deploy: all clean"; else echo "check-deploy: FAILED"; fi
exit $failed
