# Sourced by scripts/check-deploy.sh and deploy/deploy.sh: the pinned deployment tools (SAM CLI, which
# brings samtranslator and aws-lambda-builders, and cfn-lint) in .cache/deploy-venv, installed from PyPI on
# first use or when a pin changes. Sets $venv.
CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
PYYAML_VERSION=6.0.4
CARGO_LAMBDA_VERSION=1.9.2

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/pinned-venv.sh"
venv=.cache/deploy-venv
pinned_venv "$venv" "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION" "pyyaml==$PYYAML_VERSION"

# cargo lambda (Zig included) for builds, on demand.
deploy_venv_cargo_lambda() {
    if [[ ! -x "$venv/bin/cargo-lambda" ]]; then
        echo "== installing cargo-lambda==$CARGO_LAMBDA_VERSION into $venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
    fi
}
