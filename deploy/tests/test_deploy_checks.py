#!/usr/bin/env python3
"""Self-tests of the deployment checks (no pytest: run by scripts/check-deploy.sh with the pinned SAM CLI's
Python). Each test is a function named as a sentence; the last line is the plain 'N passed, N failed'.

The point of the samconfig tests: the check must FAIL on the samconfig.toml the project had before the
values were quoted (kept verbatim in fixtures/samconfig-before-quoting.toml), and pass on today's.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEPLOY = HERE.parent
ROOT = DEPLOY.parent
sys.path.insert(0, str(DEPLOY))

import check_artifacts  # noqa: E402
import check_samconfig  # noqa: E402
import check_template  # noqa: E402
import deploy as deploy_py  # noqa: E402
import prebuilt_template  # noqa: E402

TEMPLATE = ROOT / "template.yaml"


def run_check(samconfig: Path) -> tuple[list[str], str]:
    lines: list[str] = []
    problems = check_samconfig.check(samconfig, TEMPLATE, build_plan=False, out=lines.append)
    return problems, "\n".join(lines)


# ---- template <-> code ---------------------------------------------------------------------------------------
def sdk_calls_are_found_on_every_client_shape_the_adapters_use():
    src = """
        let result = self.client.get().post_to_connection().connection_id(c);
        client.put_item().table_name(t);
        self.placement_client().start_game_session_placement();
        self.session_client(arn)?.update_game_session();
        let c = self.client.get().clone();
    """
    ops = [m.group(2) for m in check_template.CALL_RE.finditer(src) if m.group(2) not in check_template.NOT_OPERATIONS]
    assert ops == ["post_to_connection", "put_item", "start_game_session_placement", "update_game_session"], ops


# ---- samconfig.toml through SAM CLI's parser ------------------------------------------------------------------
def the_samconfig_before_quoting_fails_because_sam_reads_the_schedules_cut_at_their_space():
    problems, text = run_check(HERE / "fixtures" / "samconfig-before-quoting.toml")
    assert problems, "the check passed the unquoted samconfig.toml"
    assert "[default.deploy] SweeperSchedule: SAM CLI reads 'rate(1', not 'rate(1 minute)'" in text, text
    assert "[dev.deploy] SweeperSchedule: SAM CLI reads 'rate(5', not 'rate(5 minutes)'" in text, text


def the_samconfig_before_quoting_fails_because_sam_build_never_saw_the_architecture():
    problems, _ = run_check(HERE / "fixtures" / "samconfig-before-quoting.toml")
    assert any("[default] `sam build` and `sam deploy` resolve different overrides (Architecture" in p for p in problems), problems


def todays_samconfig_passes_every_check():
    problems, text = run_check(ROOT / "samconfig.toml")
    assert problems == [], text


def an_unquoted_json_value_is_reported_with_what_sam_reads_instead():
    problems = check_samconfig.item_problems('GameServerFleets={"arn:aws:iam::1:role/gs":["fleet-1"]}')
    assert len(problems) == 1 and "SAM CLI reads '{'" in problems[0], problems


def quoted_json_and_a_multi_line_pem_come_back_whole():
    assert check_samconfig.item_problems("""GameServerFleets='{"arn:aws:iam::1:role/gs":["fleet-1"]}'""") == []
    assert check_samconfig.item_problems('GameServerFleets="{\\"arn:aws:iam::1:role/gs\\":[\\"fleet-1\\"]}"') == []
    pem = "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----"
    assert check_samconfig.item_problems(f'JwtPublicKeyPem="{pem}"') == []


def an_item_holding_two_parameters_is_refused():
    problems = check_samconfig.item_problems("LogLevel=info CreateAlarms=false")
    assert problems and "reads the keys" in problems[0], problems


def a_value_outside_the_parameters_constraints_is_named():
    params = check_samconfig.template_parameters(TEMPLATE)
    assert check_samconfig.value_problems("SweeperSchedule", "rate(1", params), "rate(1 passed AllowedPattern"
    assert check_samconfig.value_problems("SweeperSchedule", "rate(5 minutes)", params) == []
    assert check_samconfig.value_problems("SweeperSchedule", "cron(0/5 * * * ? *)", params) == []
    assert check_samconfig.value_problems("PlacementEventsBatchWindowSeconds", "300", params), "a window past the queue's visibility passed"
    assert check_samconfig.value_problems("Architecture", "amd64", params)
    assert check_samconfig.value_problems("PlayerApiCorsOrigins", "https://play.example.com,http://localhost:8080", params) == []
    assert check_samconfig.value_problems("PlayerApiCorsOrigins", "*", params) == []
    assert check_samconfig.value_problems("PlayerApiCorsOrigins", "https://a.example,*", params)
    assert check_samconfig.value_problems("NoSuchParameter", "1", params) == ["NoSuchParameter is not a parameter of the template"]


# ---- deploy.sh's quoting ---------------------------------------------------------------------------------------
def deploy_quotes_every_value_so_that_sam_reads_it_back_whole():
    values = {
        "SweeperSchedule": "rate(5 minutes)",
        "GameServerFleets": '{"arn:aws:iam::123456789012:role/gs":["fleet-1","fleet-2"]}',
        "JwtPublicKeyPem": "-----BEGIN PUBLIC KEY-----\nMIIBIjAN BgkqhkiG9w0\n-----END PUBLIC KEY-----\n",
        "ServicePrincipals": "",
        "LogLevel": "info,fleet_functions=debug",
    }
    items = deploy_py.override_items(values)
    assert check_samconfig.sam_parse(items) == values


def deploy_refuses_a_value_sam_would_read_differently():
    try:
        deploy_py.override_items({"X": 'ends with a backslash-quote \\"'})
    except SystemExit as e:
        assert "would not read back ['X']" in str(e), e
    else:
        raise AssertionError("a value SAM reads differently was accepted")


# ---- zips: the ELF check ---------------------------------------------------------------------------------------
def elf_header(machine: int) -> bytes:
    # e_ident: magic, 64-bit, little-endian, version 1; then e_type (EXEC) and e_machine.
    return b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<HH", 2, machine) + bytes(44)


def write_zip(path: Path, content: bytes, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = (0o100000 | mode) << 16
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(info, content)


def the_elf_header_tells_arm64_from_x86_64():
    assert check_artifacts.elf_architecture(elf_header(0xB7)) == "arm64"
    assert check_artifacts.elf_architecture(elf_header(0x3E)) == "x86_64"
    assert check_artifacts.elf_architecture(elf_header(0x28)) == "ELF machine 0x28"
    assert check_artifacts.elf_architecture(b"#!/bin/sh\necho hi\n  ") == "not an ELF file"


def x86_64_zips_are_refused_for_arm64_functions_and_so_are_missing_or_non_executable_ones():
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_zip(d / "fleet-api" / "bootstrap.zip", elf_header(0x3E))
        write_zip(d / "ws" / "bootstrap.zip", elf_header(0xB7), mode=0o644)
        write_zip(d / "sweeper" / "bootstrap.zip", elf_header(0xB7))
        problems = check_artifacts.check(d, ["fleet-api", "ws", "sweeper", "notifier"], "arm64", out=lambda _: None)
        text = "\n".join(problems)
        assert "fleet-api: bootstrap is x86_64, the functions are arm64" in text, text
        assert "ws: bootstrap is not executable" in text, text
        assert "notifier:" in text and "missing" in text, text
        assert "sweeper" not in text, text
        assert check_artifacts.check(d, ["sweeper"], "arm64", out=lambda _: None) == []


def the_prebuilt_template_points_at_the_zips_and_allows_only_their_architecture():
    text, n = prebuilt_template.prebuilt(TEMPLATE.read_text(), Path("/t/lambda"), "x86_64")
    assert n == len(check_artifacts.template_binaries()) == 7, n
    assert "      CodeUri: /t/lambda/fleet-api/bootstrap.zip\n" in text
    assert "    Default: x86_64\n    AllowedValues: [x86_64]" in text
    from samcli.yamlhelper import yaml_parse

    assert yaml_parse(text)["Parameters"]["Architecture"]["AllowedValues"] == ["x86_64"]


def main() -> int:
    tests = [v for k, v in globals().items() if callable(v) and v.__module__ == "__main__" and k[0].islower()
             and k not in ("main", "run_check", "elf_header", "write_zip")]
    passed = failed = 0
    for t in tests:
        try:
            t()
            passed += 1
            print(f"ok   {t.__name__.replace('_', ' ')}")
        except Exception:
            failed += 1
            print(f"FAIL {t.__name__.replace('_', ' ')}")
            print("     " + traceback.format_exc().replace("\n", "\n     "))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
