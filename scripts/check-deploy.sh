#!/usr/bin/env bash
# Offline checks of the deployment with AWS's own tools (SAM CLI's parser and samconfig reader, SAM's
# transform, cfn-lint) and deploy/check_template.py (binaries <-> functions, IAM <-> deploy/aws-calls.json
# <-> the SDK calls in crates/fleet-aws, table <-> fleet_core::index, routes, event wiring, env, alarms). No
# AWS account, no network beyond PyPI (tools are installed, pinned, into .cache/deploy-venv on first use:
# deploy/venv.sh). One timed line per step, then a summary; exit 1 when any step fails.
#
#   scripts/check-deploy.sh                   the checks (about a minute once the tools are installed)
#   scripts/check-deploy.sh --build           also `cargo lambda build --release --arm64 --output-format zip`
#                                             of every function (the shipped architecture; once per CI run)
#                                             and the ELF check + sizes of every zip
#   scripts/check-deploy.sh --build --arch x86_64   the same build for x86_64 instead
#   scripts/check-deploy.sh --allow-pending-binaries  a function whose binary is not written yet is a note
#                                             (a binary without a function always fails)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build=0
arch=arm64
check_args=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --build) build=1 ;;
        --arch) arch="${2:?--arch needs arm64 or x86_64}"; shift ;;
        --arm64) arch=arm64 ;;
        --x86-64|--x86_64) arch=x86_64 ;;
        --allow-pending-binaries) check_args+=("$1") ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
case "$arch" in arm64|x86_64) ;; *) echo "--arch: arm64 or x86_64, not $arch" >&2; exit 2 ;; esac

source deploy/venv.sh
py="$venv/bin/python"

# Offline: no telemetry, no instance metadata lookups, a region and dummy credentials so nothing prompts.
export SAM_CLI_TELEMETRY=0 AWS_EC2_METADATA_DISABLED=true AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline AWS_PAGER=""
unset AWS_PROFILE AWS_SESSION_TOKEN
mkdir -p .cache/deploy

failed=0
summary=()
# step NAME COMMAND...: runs the command under a header, then one line with its result and time.
step() {
    local name="$1"; shift
    echo; echo "== $name"
    local t0=$SECONDS status=ok
    if ! "$@"; then status=FAILED; failed=1; fi
    local line
    line=$(printf '%-7s %4ds  %s' "$status" $((SECONDS - t0)) "$name")
    echo "-- $line"
    summary+=("$line")
}

step "self-tests of the checks (deploy/tests: the old samconfig.toml must fail)" \
    "$py" deploy/tests/test_deploy_checks.py
step "samconfig.toml through SAM CLI's parser and samconfig reader (deploy/check_samconfig.py)" \
    "$py" deploy/check_samconfig.py
step "cfn-lint $("$venv/bin/cfn-lint" --version | awk '{print $2}') template.yaml" \
    "$venv/bin/cfn-lint" template.yaml
step "SAM transform (samtranslator, as sam validate) -> .cache/deploy/template.transformed.json" \
    "$py" deploy/transform_template.py --out .cache/deploy/template.transformed.json
step "cfn-lint of the transformed CloudFormation" \
    "$venv/bin/cfn-lint" .cache/deploy/template.transformed.json
step "sam validate --lint (SAM CLI $SAM_CLI_VERSION)" \
    "$venv/bin/sam" validate --lint --template template.yaml --config-env local
step "deploy/check_template.py (template <-> code)" \
    "$py" deploy/check_template.py "${check_args[@]}"

if [[ $build == 1 ]]; then
    deploy_venv_cargo_lambda
    export PATH="$PWD/$venv/bin:$PATH"
    # The functions are the template's binaries (check_template.py has checked they match src/bin).
    mapfile -t bins < <(sed -n 's/^ *Binary: *\([a-z0-9-]*\) *$/\1/p' template.yaml)
    bin_args=()
    for b in "${bins[@]}"; do bin_args+=(--bin "$b"); done
    flag=--arm64; [[ $arch == x86_64 ]] && flag=--x86-64
    step "cargo lambda build --release $flag --output-format zip (${#bins[@]} functions)" \
        cargo lambda build --release "$flag" --output-format zip -p fleet-functions "${bin_args[@]}"
    step "zips: bootstrap ELF architecture == $arch, sizes (deploy/check_artifacts.py)" \
        "$py" deploy/check_artifacts.py --arch "$arch" "${bins[@]}"
fi

echo
echo "check-deploy summary:"
printf '  %s\n' "${summary[@]}"
if [[ $failed == 0 ]]; then echo "check-deploy: all clean"; else echo "check-deploy: FAILED"; fi
exit $failed
