#!/usr/bin/env python3
"""Checks the `cargo lambda build --output-format zip` artifacts before anything deploys them: each
function's `<lambda dir>/<binary>/bootstrap.zip` holds an executable `bootstrap` built for the architecture
the template deploys, read from its ELF header (e_machine 0xB7 = aarch64 = Lambda's arm64, 0x3E = x86_64).
A zip of the other architecture would deploy fine and then fail every cold start with `exec format error`.
Prints each artifact's architecture and sizes.

usage: check_artifacts.py --arch arm64|x86_64 [--lambda-dir DIR] [binary ...]
       (binaries default to the template's BuildProperties.Binary list; the lambda dir to cargo's
       target directory + /lambda, so CARGO_TARGET_DIR is honoured). Exit 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# ELF e_machine values (System V ABI), as Lambda names the architectures.
E_MACHINE = {0xB7: "arm64", 0x3E: "x86_64"}


def elf_architecture(head: bytes) -> str:
    """The Lambda architecture of an ELF executable from its first 20 bytes, or a description of what
    it is instead ("not an ELF file", "ELF machine 0x28", ...)."""
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return "not an ELF file"
    if head[4] != 2:
        return "a 32-bit ELF file"
    order = "little" if head[5] == 1 else "big"
    machine = int.from_bytes(head[18:20], order)
    return E_MACHINE.get(machine, f"ELF machine {machine:#x}")


def inspect(zip_path: Path) -> tuple[str, int, bool]:
    """(architecture, bootstrap size, executable bit set) of the bootstrap in `zip_path`."""
    with zipfile.ZipFile(zip_path) as z:
        info = z.getinfo("bootstrap")  # KeyError when absent
        with z.open(info) as f:
            head = f.read(20)
        mode = info.external_attr >> 16
        return elf_architecture(head), info.file_size, bool(mode & 0o111)


def template_binaries() -> list[str]:
    return re.findall(r"^ +Binary: *([a-z0-9-]+) *$", (ROOT / "template.yaml").read_text(), re.M)


def cargo_lambda_dir() -> Path:
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT, check=True, capture_output=True, text=True)
    return Path(json.loads(meta.stdout)["target_directory"]) / "lambda"


def check(lambda_dir: Path, binaries: list[str], arch: str, out=print) -> list[str]:
    """Problems with the artifacts (empty when every zip is deployable as `arch`)."""
    problems = []
    out(f"{'function':<18} {'architecture':<14} {'bootstrap':>10} {'zip':>10}")
    for b in binaries:
        z = lambda_dir / b / "bootstrap.zip"
        if not z.exists():
            problems.append(f"{b}: {z} is missing (cargo lambda build --release --{'arm64' if arch == 'arm64' else 'x86-64'} --output-format zip)")
            out(f"{b:<18} {'missing':<14}")
            continue
        try:
            got, size, executable = inspect(z)
        except (KeyError, zipfile.BadZipFile) as e:
            problems.append(f"{b}: {z} has no readable bootstrap ({e})")
            continue
        out(f"{b:<18} {got:<14} {size / 1e6:>8.2f}MB {z.stat().st_size / 1e6:>8.2f}MB")
        if got != arch:
            problems.append(f"{b}: bootstrap is {got}, the functions are {arch}: Lambda would fail every start with exec format error")
        if not executable:
            problems.append(f"{b}: bootstrap is not executable in the zip (Lambda cannot start it)")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(set(E_MACHINE.values())))
    ap.add_argument("--lambda-dir", type=Path)
    ap.add_argument("binaries", nargs="*")
    args = ap.parse_args()
    lambda_dir = args.lambda_dir or cargo_lambda_dir()
    problems = check(lambda_dir, args.binaries or template_binaries(), args.arch)
    for p in problems:
        print(f"FAIL {p}")
    print(f"artifacts in {lambda_dir}: {'all ' + args.arch if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
