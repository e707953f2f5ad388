#!/usr/bin/env python3
"""Checks samconfig.toml with SAM CLI's own code, the way `sam build` and `sam deploy` will read it.

Run by scripts/check-deploy.sh with the pinned SAM CLI of .cache/deploy-venv (it imports samcli):

  overrides   every `parameter_overrides` item of every environment and command section, parsed by SAM
              CLI's `CfnParameterOverridesType` (the parser behind `--parameter-overrides` and samconfig),
              comes back whole: one key, the value the TOML string means (`Key=Value` split at the first
              `=`, wrapping quotes removed). An unquoted value stops at its first space (`rate(1 minute)`
              is read as `rate(1`), a JSON value at `{`: both deploy something else than written.
  values      each key is a template parameter and its value passes that parameter's constraints
              (AllowedValues, AllowedPattern, Min/MaxValue, Min/MaxLength), as CloudFormation will check.
  build=deploy `sam build` and `sam deploy` of an environment resolve the same overrides (SAM's own
              samconfig reader): the Architecture a function is built for is the one it is deployed as.
  queues      an environment other than `default` names its own stack and its own GameLift queue, so a
              dev deploy cannot place on the production queue.
  build plan  (needs `cargo`) what `sam build --config-env <env>` would run per function, from SAM's own
              function provider (Globals resolved with the environment's overrides) and aws-lambda-builders'
              own actions: the architecture, the `cargo lambda build` command and the file it copies.

usage: check_samconfig.py [--samconfig FILE] [--template FILE] [--no-build-plan]
Exit status 1 when any check fails; every failure names the environment, section and parameter.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------------------------------------------
# SAM CLI's parser
# --------------------------------------------------------------------------------------------------------------
def sam_parse(items: list[str] | str) -> dict[str, str]:
    """The overrides as SAM CLI reads them (raises click's BadParameter on an item it cannot read at all)."""
    from samcli.cli.types import CfnParameterOverridesType

    return CfnParameterOverridesType().convert(items, None, None)


def meant(item: str) -> tuple[str, str] | None:
    """What an override item says to a reader: `Key=Value` split at the first `=`, the value's wrapping
    quotes removed (and the quotes escaped inside them unescaped)."""
    if "=" not in item:
        return None
    key, value = item.strip().split("=", 1)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        q = value[0]
        value = value[1:-1].replace("\\" + q, q)
    return key, value


def item_problems(item: str) -> list[str]:
    """Why SAM CLI would not read `item` as the one parameter it says (empty when it would)."""
    want = meant(item)
    if want is None:
        return [f"{item!r} is not Key=Value"]
    try:
        got = sam_parse([item])
    except Exception as e:  # click.BadParameter: SAM refuses the whole command
        return [f"{item!r}: SAM CLI refuses it: {getattr(e, 'message', e)}"]
    key, value = want
    if list(got) != [key]:
        return [f"{item!r}: SAM CLI reads the keys {sorted(got)}, not just {key!r} (quote the value)"]
    if got[key] != value:
        return [f"{key}: SAM CLI reads {got[key]!r}, not {value!r}: quote the value, e.g. {key}=\"{value}\""]
    return []


# --------------------------------------------------------------------------------------------------------------
# template parameters
# --------------------------------------------------------------------------------------------------------------
def template_parameters(template: Path) -> dict:
    from samcli.yamlhelper import yaml_parse

    return yaml_parse(template.read_text()).get("Parameters", {})


def value_problems(key: str, value: str, params: dict) -> list[str]:
    """CloudFormation's checks of a parameter value against its declaration."""
    p = params.get(key)
    if p is None:
        return [f"{key} is not a parameter of the template"]
    out = []
    allowed = p.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        out.append(f"{key}={value!r} is not one of {allowed}")
    pattern = p.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        out.append(f"{key}={value!r} does not match AllowedPattern {pattern}")
    if p.get("Type") == "Number":
        try:
            n = float(value)
        except ValueError:
            return out + [f"{key}={value!r} is not a number"]
        if "MinValue" in p and n < float(p["MinValue"]):
            out.append(f"{key}={value} < MinValue {p['MinValue']}")
        if "MaxValue" in p and n > float(p["MaxValue"]):
            out.append(f"{key}={value} > MaxValue {p['MaxValue']}")
    if "MinLength" in p and len(value) < int(p["MinLength"]):
        out.append(f"{key}: shorter than MinLength {p['MinLength']}")
    if "MaxLength" in p and len(value) > int(p["MaxLength"]):
        out.append(f"{key}: longer than MaxLength {p['MaxLength']}")
    return out


# --------------------------------------------------------------------------------------------------------------
# samconfig as SAM reads it
# --------------------------------------------------------------------------------------------------------------
def as_items(v) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [x for x in v if isinstance(x, str)]
    return []


def sam_resolved(samconfig: Path, env: str, command: str) -> dict:
    """`[env.global.parameters]` merged with `[env.<command>.parameters]` by SAM CLI's own reader."""
    import importlib

    import click
    from samcli.cli.cli_config_file import ConfigProvider

    # The reader adapts values to the options of the running command (a click context), as `sam <command>` does.
    cmd = importlib.import_module(f"samcli.commands.{command}.command").cli
    with click.Context(cmd, info_name=command):
        return ConfigProvider(section="parameters")(samconfig, env, [command])


def check(samconfig: Path, template: Path, build_plan: bool = True, out=print) -> list[str]:
    """Every problem found (printed as it is found); empty when samconfig is fine."""
    problems: list[str] = []

    def report(name: str, found: list[str]) -> None:
        problems.extend(found)
        out(("FAIL " if found else "ok   ") + name)
        for f in found:
            out(f"     - {f}")

    doc = tomllib.loads(samconfig.read_text())
    params = template_parameters(template)
    envs = [e for e, v in doc.items() if isinstance(v, dict)]

    # overrides: every item of every section, one by one, as SAM's parser reads it.
    found = []
    n_items = 0
    for env in envs:
        for command, section in doc[env].items():
            items = as_items(section.get("parameters", {}).get("parameter_overrides")) if isinstance(section, dict) else []
            for item in items:
                n_items += 1
                found += [f"[{env}.{command}] {p}" for p in item_problems(item)]
    report(f"overrides ({n_items} parameter_overrides items in {len(envs)} environments, read by SAM CLI's CfnParameterOverridesType)", found)

    # values, build=deploy and queues: per environment, as `sam build` / `sam deploy --config-env` resolve it.
    resolved: dict[str, dict[str, str]] = {}
    found_values, found_same, found_queues = [], [], []
    for env in envs:
        per_cmd = {}
        for command in ("build", "deploy"):
            raw = sam_resolved(samconfig, env, command).get("parameter_overrides")
            try:
                per_cmd[command] = sam_parse(raw) if raw else {}
            except Exception as e:
                per_cmd[command] = {}
                found_values.append(f"[{env}] sam {command}: SAM CLI refuses parameter_overrides: {getattr(e, 'message', e)}")
        resolved[env] = per_cmd["deploy"]
        for k, v in per_cmd["deploy"].items():
            found_values += [f"[{env}] {p}" for p in value_problems(k, v, params)]
        if per_cmd["build"] != per_cmd["deploy"]:
            diff = sorted(k for k in set(per_cmd["build"]) | set(per_cmd["deploy"]) if per_cmd["build"].get(k) != per_cmd["deploy"].get(k))
            found_same.append(
                f"[{env}] `sam build` and `sam deploy` resolve different overrides ({', '.join(diff)}): put parameter_overrides "
                f"in [{env}.global.parameters] so the build targets the deployed Architecture"
            )
    report("values (each override is a template parameter and passes its constraints)", found_values)
    report("build=deploy (sam build and sam deploy of each environment read the same overrides)", found_same)

    default_queue = resolved.get("default", {}).get("GameLiftQueueName", str(params.get("GameLiftQueueName", {}).get("Default", "")))
    default_stack = sam_resolved(samconfig, "default", "deploy").get("stack_name")
    for env in envs:
        if env == "default":
            continue
        cfg = sam_resolved(samconfig, env, "deploy")
        if not cfg.get("stack_name") or cfg.get("stack_name") == default_stack:
            found_queues.append(f"[{env}] needs a stack_name of its own (default's is {default_stack!r})")
        if isinstance(doc[env].get("deploy"), dict):  # an environment that deploys (local only validates)
            queue = resolved[env].get("GameLiftQueueName")
            if queue is None or queue == default_queue:
                found_queues.append(f"[{env}] GameLiftQueueName must be set and differ from default's {default_queue!r}")
    report(f"queues (every environment but default has its own stack and GameLift queue; default's queue {default_queue!r})", found_queues)

    if build_plan:
        report_plan(samconfig, template, envs, resolved, params, report, out)
    return problems


def report_plan(samconfig: Path, template: Path, envs, resolved, params, report, out) -> None:
    """What `sam build --config-env <env>` would build, per SAM CLI's and aws-lambda-builders' own code."""
    import types

    from aws_lambda_builders.utils import which
    from aws_lambda_builders.workflows.rust_cargo.actions import RustCargoLambdaBuildAction, RustCopyAndRenameAction
    from aws_lambda_builders.workflows.rust_cargo.cargo_lambda import SubprocessCargoLambda
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    cargo = shutil.which("cargo")
    if cargo is None:
        out("note build plan skipped: no cargo on PATH")
        return
    binaries = {"cargo": types.SimpleNamespace(binary_path=cargo)}
    meta = subprocess.run([cargo, "metadata", "--format-version", "1", "--no-deps"], cwd=template.parent, check=True, capture_output=True, text=True)
    lambda_dir = os.path.join(json.loads(meta.stdout)["target_directory"], "lambda")  # where cargo lambda writes
    cargo_lambda = SubprocessCargoLambda(which=which)
    found, lines = [], []
    cwd = os.getcwd()
    os.chdir(template.parent)  # SAM resolves CodeUri and runs cargo from the template's directory
    try:
        for env in envs:
            want = resolved[env].get("Architecture", params.get("Architecture", {}).get("Default"))
            stacks, _ = SamLocalStackProvider.get_stacks(template.name, parameter_overrides=resolved[env])
            archs = set()
            for fn in SamFunctionProvider(stacks, ignore_code_extraction_warnings=True).get_all():
                arch = (fn.architectures or ["x86_64"])[0]
                archs.add(arch)
                if arch != want:
                    found.append(f"[{env}] {fn.name}: sam build targets {arch}, the deploy says Architecture={want}")
                binary = (fn.metadata or {}).get("BuildProperties", {}).get("Binary")
                build = RustCargoLambdaBuildAction(fn.codeuri, binaries, "release", cargo_lambda, fn.runtime, arch, binary)
                copy = RustCopyAndRenameAction(fn.codeuri, "/dev/null", binary, binaries, cargo_lambda)
                if binary == "fleet-api":  # one line per environment is enough to read the plan
                    lines.append(f"     {env}: {' '.join(['cargo'] + build.build_command()[1:])}  ->  copies {copy.binary_path()}")
                if os.path.realpath(copy.base_path()) != os.path.realpath(lambda_dir):
                    found.append(
                        f"[{env}] {fn.name}: sam build copies from {copy.base_path()}, but cargo lambda writes to {lambda_dir} "
                        "(an aws-lambda-builders older than 1.67 ignores CARGO_TARGET_DIR: unset it or upgrade SAM CLI)"
                    )
            lines[-1] += f"  ({len(archs)} architecture: {sorted(archs)})"
    finally:
        os.chdir(cwd)
    report("build plan (Architecture reaches sam build; the copy step reads cargo's own target dir, CARGO_TARGET_DIR included)", found)
    for line in lines:
        out(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samconfig", type=Path, default=ROOT / "samconfig.toml")
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--no-build-plan", action="store_true", help="skip the build plan (which runs `cargo metadata`)")
    args = ap.parse_args()
    problems = check(args.samconfig.resolve(), args.template.resolve(), build_plan=not args.no_build_plan)
    print(f"\nsamconfig checks: {'clean' if not problems else f'{len(problems)} problems'} ({args.samconfig})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
