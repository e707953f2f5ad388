#!/usr/bin/env bash
# Deploys a samconfig.toml environment without losing its parameter list (see deploy/deploy.py):
#
#   deploy/deploy.sh --config-env dev [--prebuilt] [--dry-run] \
#       JwtIssuer=https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf JwtAudience=1example23456789 \
#       JwtPublicKeyPem=@key.pem CursorSecret="$(openssl rand -hex 32)" \
#       'GameServerFleets={"arn:aws:iam::123456789012:role/gs":["fleet-1a2b3c4d-..."]}'
#
# Values are given plainly (no SAM quoting: the script quotes them and checks SAM reads them back whole).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source deploy/venv.sh
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"
deploy_venv_cargo_lambda
# sam and cargo-lambda from the pinned venv; cargo and the AWS credentials from the caller.
export PATH="$PWD/$venv/bin:$PATH"
exec "$venv/bin/python" deploy/deploy.py "$@"
