#!/usr/bin/env python3
"""Deploys one samconfig.toml environment with every parameter it needs, so that what `sam deploy`
receives is exactly the environment's list plus the values given here (run through deploy/deploy.sh, which
provides the pinned SAM CLI).

Why not `sam deploy --config-env dev --parameter-overrides ...`: a command-line `--parameter-overrides`
replaces the environment's whole list (SAM does not merge), so the dev stack would silently deploy with the
template defaults, the production queue name among them. Here:

  1. the environment's overrides are read by SAM CLI's own samconfig reader and parser;
  2. the values given as arguments are merged over them (`Key=Value`, or `Key=@file` to read a file, such
     as a PEM key, kept byte for byte), each key must be a template parameter and each value pass the
     parameter's constraints;
  3. an environment other than `default` must not place on default's GameLift queue;
  4. every value is quoted for SAM's parser and the quoted list is parsed back with it: the deploy only
     goes ahead when SAM reads back exactly the merged values;
  5. build: path A `sam build --config-env <env>`; path B (`--prebuilt`) `cargo lambda build` of the
     template's binaries for the environment's Architecture, the ELF check of every zip, and the prebuilt
     template (deploy/prebuilt_template.py);
  6. `sam deploy --config-env <env> --parameter-overrides <the whole merged list>`.

usage: deploy/deploy.sh [--config-env ENV] [--prebuilt] [--skip-build] [--dry-run] [--allow-default-queue]
                        [Key=Value | Key=@file ...]
  --dry-run      do everything up to the AWS call (build only with --prebuilt and existing zips: no build),
                 print the commands (NoEcho values masked), call nothing in AWS
  --skip-build   reuse .aws-sam/build (path A) or the existing zips (path B; still ELF-checked)
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import check_artifacts  # noqa: E402
import check_samconfig  # noqa: E402


def quote(value: str) -> str:
    """A value as one SAM CLI override value: double quotes around it, its own double quotes escaped."""
    return '"' + value.replace('"', '\\"') + '"'


def override_items(values: dict[str, str]) -> list[str]:
    """The `--parameter-overrides` arguments for `values`, proven to read back whole with SAM's parser."""
    items = [f"{k}={quote(v)}" for k, v in values.items()]
    back = check_samconfig.sam_parse(items)
    if back != values:
        bad = sorted(k for k in values if back.get(k) != values[k])
        raise SystemExit(f"deploy: SAM CLI would not read back {bad} as given (a backslash before a quote?): refusing")
    return items


def parse_args_values(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        if "=" not in p:
            raise SystemExit(f"deploy: {p!r} is not Key=Value")
        k, v = p.split("=", 1)
        if v.startswith("@"):
            path = Path(v[1:]).expanduser()
            if not path.is_file():
                raise SystemExit(f"deploy: {k}: {path} is not a file")
            v = path.read_text()
        out[k] = v
    return out


def masked(items: list[str], params: dict) -> list[str]:
    """The items as printed: NoEcho values hidden, multi-line values shortened."""
    shown = []
    for item in items:
        k, v = item.split("=", 1)
        if params.get(k, {}).get("NoEcho") in (True, "true", "True"):
            v = '"****"'
        elif "\n" in v:
            v = f'"<{v.count(chr(10))} lines>"'
        shown.append(f"{k}={v}")
    return shown


def run(cmd: list[str], dry: bool, shown: list[str] | None = None) -> None:
    print("+ " + " ".join(shlex.quote(c) for c in (shown or cmd)), flush=True)
    if not dry:
        subprocess.run(cmd, cwd=ROOT, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config-env", default="default")
    ap.add_argument("--prebuilt", action="store_true", help="path B: cargo lambda zips + the prebuilt template")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--allow-default-queue", action="store_true", help="let a non-default environment use default's queue")
    ap.add_argument("values", nargs="*", metavar="Key=Value|Key=@file")
    args = ap.parse_args()
    env = args.config_env
    samconfig, template = ROOT / "samconfig.toml", ROOT / "template.yaml"

    # 1. the environment's list, as `sam deploy --config-env` reads it
    resolved = check_samconfig.sam_resolved(samconfig, env, "deploy")
    if not resolved.get("stack_name"):
        raise SystemExit(f"deploy: samconfig.toml has no environment {env!r} with a stack_name")
    base = check_samconfig.sam_parse(resolved.get("parameter_overrides") or [])
    params = check_samconfig.template_parameters(template)

    # 2. merged with the arguments, each checked against the template
    extra = parse_args_values(args.values)
    merged = {**base, **extra}
    problems = []
    for k, v in merged.items():
        problems += check_samconfig.value_problems(k, v, params)
    # 3. never the production queue from another environment
    if env != "default" and not args.allow_default_queue:
        default_base = check_samconfig.sam_parse(check_samconfig.sam_resolved(samconfig, "default", "deploy").get("parameter_overrides") or [])
        default_queue = default_base.get("GameLiftQueueName", params["GameLiftQueueName"].get("Default"))
        if merged.get("GameLiftQueueName", params["GameLiftQueueName"].get("Default")) == default_queue:
            problems.append(f"[{env}] would place on default's GameLift queue {default_queue!r} (--allow-default-queue if you mean it)")
    if problems:
        print("deploy: refusing:\n  - " + "\n  - ".join(problems), file=sys.stderr)
        return 1
    # 4. quoted for SAM's parser and proven to read back whole
    items = override_items(merged)
    arch = merged.get("Architecture", params["Architecture"]["Default"])
    missing = [k for k, p in params.items() if "Default" not in p and k not in merged]
    print(f"environment {env}: stack {resolved['stack_name']}, region {resolved.get('region')}, {arch}, "
          f"{len(base)} overrides from samconfig.toml + {len(extra)} given -> {len(merged)}, read back whole by SAM CLI's parser")
    if missing:
        print(f"note: {', '.join(missing)} not given: fine for an existing stack (SAM reuses the previous values), "
              "required by a first deploy (CloudFormation refuses the change set before creating anything)")

    # 5. build
    deploy_cmd = ["sam", "deploy", "--config-env", env]
    if args.prebuilt:
        bins = check_artifacts.template_binaries()
        if not args.skip_build:
            build = ["cargo", "lambda", "build", "--release", "--arm64" if arch == "arm64" else "--x86-64",
                     "--output-format", "zip", "-p", "fleet-functions"] + [a for b in bins for a in ("--bin", b)]
            run(build, args.dry_run)
        prebuilt = ROOT / ".aws-sam" / f"prebuilt-{env}.yaml"
        if args.dry_run and not args.skip_build:
            print(f"+ python3 deploy/prebuilt_template.py --arch {arch} > {prebuilt.relative_to(ROOT)}   (ELF check of every zip first)")
        else:
            prebuilt.parent.mkdir(exist_ok=True)
            with open(prebuilt, "w") as f:
                r = subprocess.run([sys.executable, str(HERE / "prebuilt_template.py"), "--arch", arch], cwd=ROOT, stdout=f)
            if r.returncode != 0:
                prebuilt.unlink(missing_ok=True)
                return r.returncode
            print(f"wrote {prebuilt.relative_to(ROOT)}")
        deploy_cmd += ["--template-file", str(prebuilt.relative_to(ROOT))]
    elif not args.skip_build:
        run(["sam", "build", "--config-env", env], args.dry_run)

    # 6. deploy, with the whole list
    run(deploy_cmd + ["--parameter-overrides"] + items, args.dry_run, deploy_cmd + ["--parameter-overrides"] + masked(items, params))
    if args.dry_run:
        print("dry run: nothing was sent to AWS")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except subprocess.CalledProcessError as e:
        sys.exit(e.returncode)
