#!/usr/bin/env python3
"""Writes a copy of template.yaml whose functions use the zips `cargo lambda build --output-format zip`
already produced, so `sam deploy` can ship them without `sam build`:

    cargo lambda build --release --arm64 --output-format zip -p fleet-functions
    python3 deploy/prebuilt_template.py > .aws-sam/prebuilt.yaml
    sam deploy --template-file .aws-sam/prebuilt.yaml --guided

Each function gets `CodeUri: <target>/lambda/<binary>/bootstrap.zip` (absolute; the target dir comes from
`cargo metadata`, so CARGO_TARGET_DIR is honoured). Fails when an artifact is missing.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=root, check=True, capture_output=True, text=True).stdout)
lambda_dir = Path(meta["target_directory"]) / "lambda"
text = (root / "template.yaml").read_text()
pattern = re.compile(r"(      BuildProperties:\n        Binary: ([a-z0-9-]+)\n    Properties:\n)")
missing = []


def with_code_uri(m: re.Match) -> str:
    zip_path = lambda_dir / m.group(2) / "bootstrap.zip"
    if not zip_path.exists():
        missing.append(str(zip_path))
    return m.group(1) + f"      CodeUri: {zip_path}\n"


out, n = pattern.subn(with_code_uri, text)
if n == 0:
    sys.exit("no function with BuildProperties.Binary found in template.yaml")
if missing:
    sys.exit("missing artifacts (run cargo lambda build --release --output-format zip first):\n  " + "\n  ".join(missing))
sys.stdout.write(out)
print(f"prebuilt template: {n} functions from {lambda_dir}", file=sys.stderr)
