#!/usr/bin/env python3
"""Offline checks of template.yaml against the code (run by scripts/check-deploy.sh, needs cfn-lint installed).

  binaries    every binary of crates/fleet-functions has exactly one function (BuildMethod rust-cargolambda,
              BuildProperties.Binary) and every function has a binary; both equal deploy/aws-calls.json
  iam         each function's role grants exactly the IAM actions derived from deploy/aws-calls.json
              (calls + platform), no "*" action anywhere, Resource "*" only for allow-listed actions and
              only with a comment on the line
  sdk-calls   the union of the 'calls' in deploy/aws-calls.json equals the SDK operations found in
              crates/fleet-aws/src (minus notRuntime)
  table       the table resource equals fleet_core::index + fleet_aws::dynamo::schema::table_spec()
  routes      the HttpApi events equal deploy/routes.json
  events      SQS visibility >= 6 x timeout + the largest batching window, DLQ maxReceiveCount 5, ReportBatchItemFailures, batch size and
              window from parameters, SNS without raw delivery, topic policy bound to the queue ARN,
              notifier stream filter, sweeper schedule
  env         every FLEETLIFT_* variable in the template is one config.rs reads; each function has the ones
              deploy/aws-calls.json says it needs, and a secret only where it says so
  alarms      an AWS/Lambda Errors and Throttles alarm and a crash metric filter per function, single-metric
  names       no explicit FunctionName (a stack name of any allowed length deploys) and Architectures only
              in Globals (what `sam build` and the deploy read alike)
  outputs     HTTP URLs, WebSocket URL, table name, topic ARN

Exit status 1 when any check fails; every failure is printed with what was expected and what was found.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
CALLS = ROOT / "deploy" / "aws-calls.json"
ROUTES = ROOT / "deploy" / "routes.json"
INDEX_RS = ROOT / "crates" / "fleet-core" / "src" / "index.rs"
SCHEMA_RS = ROOT / "crates" / "fleet-aws" / "src" / "dynamo" / "schema.rs"
CONFIG_RS = ROOT / "crates" / "fleet-functions" / "src" / "config.rs"
FUNCTIONS_CRATE = ROOT / "crates" / "fleet-functions"
ADAPTERS = ROOT / "crates" / "fleet-aws" / "src"

# Environment variables that are secrets: given only to the functions deploy/aws-calls.json lists them for.
SECRETS = {"FLEETLIFT_CURSOR_SECRET"}

SDK_CRATES = {"dynamodb": "aws-sdk-dynamodb", "gamelift": "aws-sdk-gamelift", "apigatewaymanagement": "aws-sdk-apigatewaymanagement"}


class Report:
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.notes: list[str] = []
        self.passed: list[str] = []

    def check(self, name: str, problems: list[str]) -> None:
        if problems:
            self.failures.append(name)
            print(f"FAIL {name}")
            for p in problems:
                print(f"     - {p}")
        else:
            self.passed.append(name)
            print(f"ok   {name}")

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"note {text}")


def load_template() -> dict:
    from cfnlint.decode import decode  # cfn-lint's loader understands !Ref, !GetAtt, !Sub, ...

    tmpl, matches = decode(str(TEMPLATE))
    if tmpl is None:
        sys.exit(f"cannot parse {TEMPLATE}: {matches}")
    return tmpl


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def diff(expected, found) -> str:
    e, f = set(expected), set(found)
    parts = []
    if e - f:
        parts.append(f"missing {sorted(e - f)}")
    if f - e:
        parts.append(f"unexpected {sorted(f - e)}")
    return "; ".join(parts)


def functions(tmpl: dict) -> dict[str, tuple[str, dict]]:
    """binary -> (logical id, resource)"""
    out = {}
    for lid, res in tmpl["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            meta = res.get("Metadata", {})
            binary = meta.get("BuildProperties", {}).get("Binary")
            out[binary or f"<no Binary: {lid}>"] = (lid, res)
    return out


# --------------------------------------------------------------------------------------------------------------
# binaries
# --------------------------------------------------------------------------------------------------------------
def workspace_binaries() -> set[str]:
    bins = set()
    bin_dir = FUNCTIONS_CRATE / "src" / "bin"
    for f in glob.glob(str(bin_dir / "*.rs")):
        bins.add(Path(f).stem)
    for f in glob.glob(str(bin_dir / "*" / "main.rs")):
        bins.add(Path(f).parent.name)
    cargo = (FUNCTIONS_CRATE / "Cargo.toml").read_text()
    for block in re.findall(r"\[\[bin\]\](.*?)(?=\n\[|\Z)", cargo, re.S):
        m = re.search(r'^\s*name\s*=\s*"([^"]+)"', block, re.M)
        if m:
            bins.add(m.group(1))
    return bins


def check_binaries(tmpl: dict, calls: dict, rep: Report, allow_pending: bool) -> None:
    problems = []
    fns = functions(tmpl)
    declared = set(calls["functions"])
    in_template = set(fns)
    if in_template != declared:
        problems.append(f"template functions vs deploy/aws-calls.json: {diff(declared, in_template)}")
    for binary, (lid, res) in fns.items():
        meta = res.get("Metadata", {})
        if meta.get("BuildMethod") != "rust-cargolambda":
            problems.append(f"{lid}: Metadata.BuildMethod must be rust-cargolambda")
        props = res.get("Properties", {})
        if props.get("Events") is None and binary not in ("ws", "ws-authorizer"):
            problems.append(f"{lid}: no event source")
    bins = workspace_binaries()
    extra = bins - in_template
    if extra:
        problems.append(f"binaries without a function in template.yaml: {sorted(extra)}")
    pending = in_template - bins
    if pending:
        msg = f"functions whose binary is not in crates/fleet-functions/src/bin: {sorted(pending)}"
        if allow_pending:
            rep.note(msg + " (allowed by --allow-pending-binaries)")
        else:
            problems.append(msg)
    rep.check(f"binaries ({len(bins)} in the workspace, {len(in_template)} functions)", problems)


# --------------------------------------------------------------------------------------------------------------
# SDK calls in crates/fleet-aws/src
# --------------------------------------------------------------------------------------------------------------
def pascal(snake: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in snake.split("_"))


def sdk_operations() -> dict[str, set[str]] | None:
    """service -> snake_case operation names, from the SDK sources cargo downloaded (version from Cargo.lock)."""
    lock = (ROOT / "Cargo.lock").read_text()
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    out = {}
    for svc, crate in SDK_CRATES.items():
        m = re.search(r'name = "' + re.escape(crate) + r'"\nversion = "([^"]+)"', lock)
        if not m:
            return None
        dirs = glob.glob(str(home / "registry" / "src" / "*" / f"{crate}-{m.group(1)}" / "src" / "operation"))
        if not dirs:
            return None
        out[svc] = {Path(d).name for d in glob.glob(dirs[0] + "/*") if os.path.isdir(d)}
    return out


def strip_tests(src: str) -> str:
    i = src.find("#[cfg(test)]")
    return src if i < 0 else src[:i]


# `client.op()`, `placement_client().op()`, `session_client(arn)?.op()` and `fleet_client(f)?.op()`
# (a client per Region), and `client.get().op()` (a client built on first use).
CALL_RE = re.compile(
    r"(\w*client\w*(?:\([^()]*\))?\??(?:\s*\.\s*get\(\s*\))?)\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)", re.S
)
NOT_OPERATIONS = {"clone", "config", "build", "send", "to_owned", "as_ref", "get"}


def adapter_calls(rep: Report) -> tuple[dict[str, set[str]], set[str]]:
    """('service:Operation' -> files), transaction item kinds."""
    ops = sdk_operations()
    if ops is None:
        rep.note("SDK sources not in the cargo registry (run a cargo build first): operations recognised by file imports only")
    found: dict[str, set[str]] = {}
    kinds: set[str] = set()
    for path in sorted(ADAPTERS.rglob("*.rs")):
        src = strip_tests(path.read_text())
        rel = str(path.relative_to(ROOT))
        imported = {svc for svc, crate in SDK_CRATES.items() if crate.replace("-", "_") in src}
        for m in CALL_RE.finditer(src):
            op = m.group(2)
            if op in NOT_OPERATIONS:
                continue
            if ops is not None:
                services = [svc for svc, names in ops.items() if op in names]
                if len(services) > 1:
                    services = [s for s in services if s in imported] or services
            else:
                services = sorted(imported)
            if len(services) == 1:
                found.setdefault(f"{services[0]}:{pascal(op)}", set()).add(rel)
            elif len(services) > 1:
                rep.note(f"{rel}: {op}() is an operation of several SDKs {services}; not counted")
        for k in re.findall(r"\b(Put|Update|Delete|ConditionCheck)::builder\(", src):
            kinds.add(k)
    return found, kinds


def check_sdk_calls(calls: dict, rep: Report) -> set[str]:
    found, kinds = adapter_calls(rep)
    declared = set()
    for f in calls["functions"].values():
        declared |= set(f["calls"])
    not_runtime = set(calls["notRuntime"])
    runtime_found = set(found) - not_runtime
    problems = []
    if declared != runtime_found:
        problems.append(
            "union of deploy/aws-calls.json 'calls' vs SDK calls in crates/fleet-aws/src: "
            + diff(runtime_found, declared).replace("missing", "made by code, not declared").replace("unexpected", "declared, not made by code")
        )
        for op in sorted(runtime_found - declared):
            problems.append(f"  {op} is called in {sorted(found[op])}")
    for op in sorted(not_runtime - set(found)):
        rep.note(f"notRuntime entry {op} is no longer called in crates/fleet-aws/src")
    rep.check(f"sdk-calls ({len(runtime_found)} runtime operations in crates/fleet-aws/src; transaction items: {sorted(kinds)})", problems)
    return kinds


def iam_actions_for(fn: dict, calls: dict, tx_kinds: set[str]) -> set[str]:
    actions = set(fn["platform"])
    for call in fn["calls"]:
        mapped = calls["sdkToIam"].get(call)
        if mapped == "derived":  # TransactWriteItems
            actions |= {f"dynamodb:{'ConditionCheckItem' if k == 'ConditionCheck' else k + 'Item'}" for k in tx_kinds}
        elif mapped:
            actions |= set(mapped)
        else:
            actions.add(call)
    return actions


# --------------------------------------------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------------------------------------------
def role_statements(tmpl: dict, res: dict) -> tuple[str | None, list[dict]]:
    role = res.get("Properties", {}).get("Role")
    if not (isinstance(role, dict) and "Fn::GetAtt" in role):
        return None, []
    target = role["Fn::GetAtt"]
    target = target[0] if isinstance(target, list) else target.split(".")[0]
    stmts = []
    for pol in tmpl["Resources"][target].get("Properties", {}).get("Policies", []):
        stmts += as_list(pol["PolicyDocument"]["Statement"])
    return target, stmts


def all_policy_actions(node, path="") -> list[tuple[str, str]]:
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("Action", "NotAction"):
                out += [(path, a) for a in as_list(v) if isinstance(a, str)]
            else:
                out += all_policy_actions(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += all_policy_actions(v, f"{path}[{i}]")
    return out


def check_iam(tmpl: dict, calls: dict, tx_kinds: set[str], rep: Report) -> None:
    problems = []
    star_ok = set(calls["resourceStar"])
    for binary, (lid, res) in functions(tmpl).items():
        fn = calls["functions"].get(binary)
        if fn is None:
            continue
        props = res.get("Properties", {})
        if "Policies" in props:
            problems.append(f"{lid}: uses SAM Policies; every function has its own explicit Role")
        role, stmts = role_statements(tmpl, res)
        if role is None:
            problems.append(f"{lid}: Role must be !GetAtt <RoleInThisTemplate>.Arn")
            continue
        granted = set()
        for st in stmts:
            if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
                problems.append(f"{role}: only Allow statements with Action and Resource are expected: {st}")
                continue
            acts = set(as_list(st["Action"]))
            granted |= acts
            if "*" in as_list(st.get("Resource")):
                bad = acts - star_ok
                if bad:
                    problems.append(f"{role}: Resource \"*\" for {sorted(bad)}, which accept a resource ARN")
        expected = iam_actions_for(fn, calls, tx_kinds)
        if granted != expected:
            problems.append(f"{role} ({binary}): {diff(expected, granted)}")
    for path, action in all_policy_actions(tmpl["Resources"]):
        if "*" in action:
            problems.append(f"wildcard action {action!r} at {path}")
    # Every Resource "*" carries a comment saying why (checked on the raw text: comments are not YAML data).
    for n, line in enumerate(TEMPLATE.read_text().splitlines(), 1):
        code = line.split("#", 1)[0]
        if re.search(r"Resource:\s*(\[\s*)?[\"']\*[\"']", code) or re.match(r"\s*-\s*[\"']\*[\"']\s*$", code):
            if "#" not in line or len(line.split("#", 1)[1].strip()) < 10:
                problems.append(f"template.yaml:{n}: Resource \"*\" without a comment saying why")
    rep.check("iam (roles == deploy/aws-calls.json, no * actions, commented * resources)", problems)


# --------------------------------------------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------------------------------------------
def expected_table() -> dict:
    src = INDEX_RS.read_text()
    const = lambda name: re.search(rf'pub const {name}: &str = "([^"]+)";', src).group(1)  # noqa: E731
    # Each index is `pub const NAME: IndexDef = gsi("name", "pk", "sk");` (projection ALL),
    # `keys_only("name", "pk", "sk")` or `list("name", "pk", "sk", shards)` (KEYS_ONLY); copies sit in
    # `pub const NAME: [IndexDef; N] = [...]`.
    call = r'(gsi|list|keys_only)\(\s*"([^"]+)",\s*"([^"]+)",\s*"([^"]+)"'
    projection = {"gsi": "ALL", "list": "KEYS_ONLY", "keys_only": "KEYS_ONLY"}
    defs = {}
    for m in re.finditer(rf"pub const (\w+): IndexDef =\s*{call}", src):
        const_name, fn, name, pk, sk = m.groups()
        defs[const_name] = (name, pk, sk, projection[fn])
    for m in re.finditer(r"pub const (\w+): \[IndexDef; \d+\] = \[(.*?)\];", src, re.S):
        for i, c in enumerate(re.finditer(call, m.group(2))):
            fn, name, pk, sk = c.groups()
            defs[f"{m.group(1)}[{i}]"] = (name, pk, sk, projection[fn])
    all_m = re.search(r"pub const ALL_INDEXES: \[IndexDef; (\d+)\]\s*=\s*\[(.*?)\];", src, re.S)
    names = [n.strip() for n in all_m.group(2).split(",") if n.strip()]
    if len(names) != int(all_m.group(1)):
        sys.exit("index.rs: ALL_INDEXES length does not match its entries (parser out of date?)")
    missing = [n for n in names if n not in defs]
    if missing:
        sys.exit(f"index.rs: no definition parsed for {missing} (update deploy/check_template.py's parser)")
    indexes = [defs[n] for n in names]
    schema = SCHEMA_RS.read_text()
    spec = re.search(r"pub fn table_spec\(\) -> TableSpec \{(.*?)\n\}", schema, re.S).group(1)
    field = lambda f: re.search(rf'{f}: "([^"]+)"', spec).group(1)  # noqa: E731
    for f, c in (("pk", "PK"), ("sk", "SK"), ("ttl", "TTL")):
        if not re.search(rf"\b{f}: {c},", spec):
            sys.exit(f"schema.rs: table_spec() no longer sets {f}: {c} (update deploy/check_template.py)")
    if "indexes: ALL_INDEXES.to_vec()" not in spec:
        sys.exit("schema.rs: table_spec() no longer uses ALL_INDEXES (update deploy/check_template.py)")
    attrs = [const("PK"), const("SK")]
    for _, pk, sk, _ in indexes:
        for a in (pk, sk):
            if a not in attrs:
                attrs.append(a)
    return {
        "pk": const("PK"),
        "sk": const("SK"),
        "ttl": const("TTL"),
        "attributes": attrs,
        "indexes": indexes,
        "stream": field("stream"),
        "billing": field("billing"),
    }


def check_table(tmpl: dict, rep: Report) -> None:
    exp = expected_table()
    tables = [(lid, r) for lid, r in tmpl["Resources"].items() if r.get("Type") == "AWS::DynamoDB::Table"]
    if len(tables) != 1:
        rep.check("table", [f"expected one AWS::DynamoDB::Table, found {len(tables)}"])
        return
    lid, res = tables[0]
    p = res["Properties"]
    problems = []
    got_attrs = {(a["AttributeName"], a["AttributeType"]) for a in p.get("AttributeDefinitions", [])}
    want_attrs = {(a, "S") for a in exp["attributes"]}
    if got_attrs != want_attrs:
        problems.append(f"AttributeDefinitions: {diff(want_attrs, got_attrs)}")
    key = [(k["AttributeName"], k["KeyType"]) for k in p.get("KeySchema", [])]
    if key != [(exp["pk"], "HASH"), (exp["sk"], "RANGE")]:
        problems.append(f"KeySchema: expected {exp['pk']} HASH, {exp['sk']} RANGE, found {key}")
    got_ix = []
    for ix in p.get("GlobalSecondaryIndexes", []):
        ks = [(k["AttributeName"], k["KeyType"]) for k in ix["KeySchema"]]
        proj = ix.get("Projection", {}).get("ProjectionType")
        if len(ks) != 2 or ks[0][1] != "HASH" or ks[1][1] != "RANGE":
            problems.append(f"index {ix['IndexName']}: key schema {ks}")
            continue
        got_ix.append((ix["IndexName"], ks[0][0], ks[1][0], proj))
    want_ix = exp["indexes"]
    if set(got_ix) != set(want_ix):
        problems.append("GlobalSecondaryIndexes (name, pk, sk, projection): " + diff(want_ix, got_ix))
    elif got_ix != want_ix:
        rep.note("GSIs are in a different order than ALL_INDEXES (harmless)")
    stream = p.get("StreamSpecification", {}).get("StreamViewType")
    if stream != exp["stream"]:
        problems.append(f"StreamSpecification.StreamViewType {stream}, expected {exp['stream']}")
    ttl = p.get("TimeToLiveSpecification", {})
    if ttl.get("AttributeName") != exp["ttl"] or ttl.get("Enabled") is not True:
        problems.append(f"TimeToLiveSpecification {ttl}, expected AttributeName {exp['ttl']}, Enabled true")
    if p.get("BillingMode") != exp["billing"]:
        problems.append(f"BillingMode {p.get('BillingMode')}, expected {exp['billing']}")
    if p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is not True:
        problems.append("PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled must be true")
    rep.check(f"table ({lid}: {len(exp['attributes'])} attributes, {len(want_ix)} GSIs from fleet_core::index)", problems)


# --------------------------------------------------------------------------------------------------------------
# routes
# --------------------------------------------------------------------------------------------------------------
def check_routes(tmpl: dict, rep: Report) -> None:
    spec = json.loads(ROUTES.read_text())["routes"]
    apis = {"PlayerApi": "player", "ServiceApi": "service"}
    want = set()
    for r in spec:
        for api in r["apis"]:
            want.add((api, r["method"], r["path"], r["function"], bool(r.get("public"))))
    got = set()
    problems = []
    for binary, (lid, res) in functions(tmpl).items():
        for ename, ev in (res["Properties"].get("Events") or {}).items():
            if ev.get("Type") != "HttpApi":
                continue
            ep = ev["Properties"]
            ref = ep.get("ApiId", {}).get("Ref") if isinstance(ep.get("ApiId"), dict) else None
            if ref not in apis:
                problems.append(f"{lid}.{ename}: ApiId must be !Ref PlayerApi or !Ref ServiceApi")
                continue
            public = ep.get("Auth", {}).get("Authorizer") == "NONE"
            got.add((apis[ref], ep["Method"].upper(), ep["Path"], binary, public))
    if got != want:
        problems.append("(api, method, path, function, public): " + diff(want, got))
    auth = {k: tmpl["Resources"][k]["Properties"].get("Auth", {}) for k in apis}
    if "JwtConfiguration" not in json.dumps(auth["PlayerApi"]):
        problems.append("PlayerApi: default authorizer must be a JWT authorizer")
    if auth["ServiceApi"].get("DefaultAuthorizer") != "AWS_IAM":
        problems.append("ServiceApi: DefaultAuthorizer must be AWS_IAM")
    for k in apis:
        props = tmpl["Resources"][k]["Properties"]
        if "AccessLogSettings" not in props:
            problems.append(f"{k}: no access logs")
        if "ThrottlingRateLimit" not in props.get("DefaultRouteSettings", {}):
            problems.append(f"{k}: no throttling")
    ws_routes = {r["Properties"]["RouteKey"] for r in tmpl["Resources"].values() if r.get("Type") == "AWS::ApiGatewayV2::Route"}
    if ws_routes != {"$connect", "$disconnect", "subscribe"}:
        problems.append(f"WebSocket routes {sorted(ws_routes)}")
    rep.check(f"routes ({len(want)} HTTP routes == deploy/routes.json, WebSocket $connect/$disconnect/subscribe)", problems)


# --------------------------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------------------------
def check_events(tmpl: dict, rep: Report) -> None:
    R = tmpl["Resources"]
    problems = []
    globals_timeout = tmpl.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    fns = functions(tmpl)
    _, pe = fns.get("placement-events", (None, {"Properties": {}}))
    timeout = pe["Properties"].get("Timeout", globals_timeout)
    sqs_events = [e for e in (pe["Properties"].get("Events") or {}).values() if e["Type"] == "SQS"]
    if len(sqs_events) != 1:
        problems.append("placement-events: expected one SQS event")
    else:
        ev = sqs_events[0]["Properties"]
        qid = ev["Queue"]["Fn::GetAtt"][0] if isinstance(ev["Queue"].get("Fn::GetAtt"), list) else ev["Queue"]["Fn::GetAtt"].split(".")[0]
        q = R[qid]["Properties"]
        vis = q.get("VisibilityTimeout", 30)
        window = ev.get("MaximumBatchingWindowInSeconds")
        wref = window.get("Ref") if isinstance(window, dict) else None
        wmax = int(tmpl["Parameters"].get(wref, {}).get("MaxValue", 300)) if wref else int(window or 0)
        if not (isinstance(vis, int) and isinstance(timeout, int) and vis >= 6 * timeout + wmax):
            problems.append(f"{qid}.VisibilityTimeout {vis} < 6 x placement-events timeout {timeout} + the largest batching window {wmax}")
        rp = q.get("RedrivePolicy", {})
        if rp.get("maxReceiveCount") != 5:
            problems.append(f"{qid}: RedrivePolicy.maxReceiveCount {rp.get('maxReceiveCount')}, expected 5")
        if "ReportBatchItemFailures" not in ev.get("FunctionResponseTypes", []):
            problems.append("placement-events: FunctionResponseTypes must include ReportBatchItemFailures")
        for k in ("BatchSize", "MaximumBatchingWindowInSeconds"):
            if not (isinstance(ev.get(k), dict) and "Ref" in ev[k]):
                problems.append(f"placement-events SQS event: {k} must come from a parameter")
    subs = [r["Properties"] for r in R.values() if r.get("Type") == "AWS::SNS::Subscription"]
    if len(subs) != 1 or subs[0].get("Protocol") != "sqs" or subs[0].get("RawMessageDelivery") not in (False, "false"):
        problems.append("expected one SNS -> SQS subscription with RawMessageDelivery false")
    pol = [r["Properties"] for r in R.values() if r.get("Type") == "AWS::SNS::TopicPolicy"]
    pol_text = json.dumps(pol)
    if "gamelift.amazonaws.com" not in pol_text or "gamesessionqueue/" not in pol_text or "aws:SourceArn" not in pol_text:
        problems.append("topic policy must let gamelift.amazonaws.com publish only with aws:SourceArn = the queue ARN")
    _, nt = fns.get("notifier", (None, {"Properties": {}}))
    streams = [e["Properties"] for e in (nt["Properties"].get("Events") or {}).values() if e["Type"] == "DynamoDB"]
    if len(streams) != 1 or "FilterCriteria" not in streams[0]:
        problems.append("notifier: expected one DynamoDB stream event with FilterCriteria")
    else:
        pattern = json.loads(streams[0]["FilterCriteria"]["Filters"][0]["Pattern"])
        statuses = set(pattern["dynamodb"]["NewImage"]["status"]["S"])
        if statuses != {"FULFILLED", "TIMED_OUT", "CANCELLED", "FAILED"}:
            problems.append(f"notifier filter statuses {sorted(statuses)}")
    _, sw = fns.get("sweeper", (None, {"Properties": {}}))
    if not any(e["Type"] in ("Schedule", "ScheduleV2") for e in (sw["Properties"].get("Events") or {}).values()):
        problems.append("sweeper: no schedule")
    g = tmpl.get("Globals", {}).get("Function", {})
    if g.get("Runtime") != "provided.al2023":
        problems.append("Globals.Function.Runtime must be provided.al2023")
    arch = tmpl["Parameters"].get("Architecture", {})
    if arch.get("Default") != "arm64" or set(arch.get("AllowedValues", [])) != {"arm64", "x86_64"}:
        problems.append("Architecture parameter: default arm64, allowed arm64 and x86_64")
    rep.check(f"events (visibility {R.get('PlacementQueue', {}).get('Properties', {}).get('VisibilityTimeout')} s >= 6 x {timeout} s + window, DLQ after 5, ReportBatchItemFailures, stream filter, schedule)", problems)


# --------------------------------------------------------------------------------------------------------------
# env and outputs
# --------------------------------------------------------------------------------------------------------------
def check_env(tmpl: dict, calls: dict, rep: Report) -> None:
    known = set(re.findall(r'"(FLEETLIFT_[A-Z0-9_]+)"', CONFIG_RS.read_text()))
    genv = tmpl.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    problems = []
    for v in genv:
        if v.startswith("FLEETLIFT_") and v not in known:
            problems.append(f"Globals: {v} is not read by crates/fleet-functions/src/config.rs")
    for binary, (lid, res) in functions(tmpl).items():
        env = dict(genv)
        env.update(res["Properties"].get("Environment", {}).get("Variables", {}))
        for v in env:
            if v.startswith("FLEETLIFT_") and v not in known:
                problems.append(f"{lid}: {v} is not read by crates/fleet-functions/src/config.rs")
        declared = set(calls["functions"].get(binary, {}).get("env", []))
        need = declared | {"FLEETLIFT_TABLE"}
        if need - set(env):
            problems.append(f"{lid}: missing {sorted(need - set(env))}")
        for secret in SECRETS & set(env) - declared:
            problems.append(f"{lid}: has {secret}, which deploy/aws-calls.json does not list for {binary} (secrets go only where used)")
    for secret in SECRETS & set(genv):
        problems.append(f"Globals: {secret} would reach every function; give it only to the functions that use it")
    rep.check(f"env (every FLEETLIFT_* is one of the {len(known)} config.rs reads)", problems)


def check_alarms(tmpl: dict, rep: Report) -> None:
    R = tmpl["Resources"]
    problems = []
    alarms = [r["Properties"] for r in R.values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    filters = [r["Properties"] for r in R.values() if r.get("Type") == "AWS::Logs::MetricFilter"]
    for binary, (lid, res) in functions(tmpl).items():
        for metric in ("Errors", "Throttles"):
            if not any(
                a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == metric and a.get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": lid}}]
                for a in alarms
            ):
                problems.append(f"{lid}: no single-metric AWS/Lambda {metric} alarm on FunctionName = !Ref {lid}")
        group = res["Properties"].get("LoggingConfig", {}).get("LogGroup")
        if not any(f.get("LogGroupName") == group and "Runtime.ExitError" in f.get("FilterPattern", "") for f in filters):
            problems.append(f"{lid}: no crash metric filter (Runtime.ExitError) on its log group")
    for a in alarms:
        if "Metrics" in a:
            problems.append(f"metric-math alarm {a.get('AlarmDescription', '')[:40]!r}: use single-metric alarms")
    rep.check(f"alarms (Errors, Throttles and a crash filter for each of {len(functions(tmpl))} functions; {len(alarms)} alarms)", problems)


def check_names(tmpl: dict, rep: Report) -> None:
    problems = []
    globals_arch = tmpl.get("Globals", {}).get("Function", {}).get("Architectures")
    if globals_arch != [{"Ref": "Architecture"}]:
        problems.append(f"Globals.Function.Architectures must be [!Ref Architecture] (sam build reads it), found {globals_arch}")
    for binary, (lid, res) in functions(tmpl).items():
        props = res["Properties"]
        if "FunctionName" in props:
            problems.append(f"{lid}: explicit FunctionName (64 characters at most: a long stack name would fail the deploy)")
        if "Architectures" in props:
            problems.append(f"{lid}: Architectures set on the function; keep it in Globals")
    rep.check("names (generated function names; Architectures from Globals)", problems)


def check_outputs(tmpl: dict, rep: Report) -> None:
    need = {"PlayerApiUrl", "ServiceApiUrl", "WebSocketUrl", "TableName", "PlacementTopicArn"}
    got = set(tmpl.get("Outputs", {}))
    rep.check("outputs (HTTP URLs, WebSocket URL, table, topic ARN)", [diff(need, got)] if need - got else [])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--allow-pending-binaries",
        action="store_true",
        help="a function whose binary does not exist yet is a note, not a failure (a binary without a function still fails)",
    )
    args = ap.parse_args()
    tmpl = load_template()
    calls = json.loads(CALLS.read_text())
    rep = Report()
    check_binaries(tmpl, calls, rep, args.allow_pending_binaries)
    kinds = check_sdk_calls(calls, rep)
    check_iam(tmpl, calls, kinds, rep)
    check_table(tmpl, rep)
    check_routes(tmpl, rep)
    check_events(tmpl, rep)
    check_env(tmpl, calls, rep)
    check_alarms(tmpl, rep)
    check_names(tmpl, rep)
    check_outputs(tmpl, rep)
    print(f"\ntemplate checks: {len(rep.passed)} passed, {len(rep.failures)} failed, {len(rep.notes)} notes")
    return 1 if rep.failures else 0


if __name__ == "__main__":
    sys.exit(main())
