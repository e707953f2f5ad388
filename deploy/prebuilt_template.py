#!/usr/bin/env python3
"""Writes a copy of template.yaml whose functions use the zips `cargo lambda build --output-format zip`
already produced, so `sam deploy` can ship them without `sam build` (deploy path B):

    cargo lambda build --release --arm64 --output-format zip -p fleet-functions
    python3 deploy/prebuilt_template.py --arch arm64 > .aws-sam/prebuilt.yaml
    sam deploy --template-file .aws-sam/prebuilt.yaml ...        (deploy/deploy.sh --prebuilt does all three)

Each function gets `CodeUri: <target>/lambda/<binary>/bootstrap.zip` (absolute; the target dir comes from
`cargo metadata`, so CARGO_TARGET_DIR is honoured). Before writing anything it reads every zip's bootstrap
ELF header (deploy/check_artifacts.py) and fails unless all are built for `--arch`; the copy then allows
only that value for its Architecture parameter, so CloudFormation itself refuses a deploy whose
Architecture does not match the code. Fails when an artifact is missing.
"""
import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_artifacts  # noqa: E402

root = Path(__file__).resolve().parent.parent


def prebuilt(text: str, lambda_dir: Path, arch: str) -> tuple[str, int]:
    """The template text with CodeUri on every function and Architecture pinned to `arch`."""
    pattern = re.compile(r"(      BuildProperties:\n        Binary: ([a-z0-9-]+)\n    Properties:\n)")
    out, n = pattern.subn(lambda m: m.group(1) + f"      CodeUri: {lambda_dir / m.group(2) / 'bootstrap.zip'}\n", text)
    arch_param = re.compile(r"(  Architecture:\n    Type: String\n    Default: )[a-z0-9_]+\n    AllowedValues: \[[^\]]*\]\n")
    out, pinned = arch_param.subn(lambda m: m.group(1) + f"{arch}\n    AllowedValues: [{arch}] # the prebuilt zips' architecture\n", out)
    if pinned != 1:
        sys.exit("prebuilt_template.py: the Architecture parameter of template.yaml no longer has the expected shape")
    return out, n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=["arm64", "x86_64"], help="the architecture the zips must be (and the stack deploys)")
    ap.add_argument("--lambda-dir", type=Path, help="default: cargo's target directory + /lambda")
    args = ap.parse_args()
    lambda_dir = args.lambda_dir or check_artifacts.cargo_lambda_dir()
    problems = check_artifacts.check(lambda_dir, check_artifacts.template_binaries(), args.arch, out=lambda line: print(line, file=sys.stderr))
    if problems:
        print("refusing to write a prebuilt template:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    out, n = prebuilt((root / "template.yaml").read_text(), lambda_dir, args.arch)
    if n == 0:
        sys.exit("no function with BuildProperties.Binary found in template.yaml")
    sys.stdout.write(out)
    print(f"prebuilt template: {n} functions, {args.arch}, from {lambda_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
