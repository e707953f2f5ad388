#!/usr/bin/env python3
"""Deploy rehearsal: template.yaml deployed with the real SAM CLI into the ministack AWS emulator, then every
function driven through the trigger the template gives it. Started by scripts/rehearse-deploy.sh, which
installs the tools and builds (or is given) the x86_64 zips; run it through that script.

What runs where:
  - ministack (CloudFormation with the SAM transform, Lambda running the provided.al2023 zips natively, API
    Gateway v2, SQS, SNS, DynamoDB with streams, EventBridge, CloudWatch Logs, IAM, S3) on a free port;
  - gamelift-sim on a free port, reached by the functions through AWS_ENDPOINT_URL_GAMELIFT: ministack starts
    every function with its own environment underneath the function's, so the variable is set on ministack
    and nothing in the template changes;
  - a small server of this script's, on a free port: the players' OIDC issuer (discovery document and JWKS,
    for the HTTP API's JWT authorizer), the sink of gamelift-sim's placement events, which it turns into a
    real SNS Publish on the stack's topic (so the topic -> queue -> placement-events wiring carries them),
    and the API Gateway management endpoint of the stack's WebSocket API (AWS gives each API its own host;
    an endpoint variable cannot name one, so the functions' AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI points
    here and this server forwards to the emulator's path for the API).

Each step prints one line with the time since the start and its own duration; the first failing step ends the
run (exit 1) after printing the emulator's logs of what failed. Processes are always stopped, the stack is
deleted with `sam delete` when it was created.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import yaml
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config as BotoConfig
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.sync.client import connect as ws_connect

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
ACCOUNT = "000000000000"  # ministack's default account
SERVICE_USER = "rehearsal-service"
GAME_SERVER_USER = "rehearsal-game-server"
PLAYER = "rehearsal-player-1"
OTHER_PLAYER = "rehearsal-player-2"
FLEET_US = "fleet-1a1a1a1a-0000-4000-8000-000000000001"
FLEET_EU = "fleet-2b2b2b2b-0000-4000-8000-000000000002"
KID = "rehearsal-key-1"
FUNCTIONS = ["fleet-api", "status-rpc", "placement-events", "ws", "ws-authorizer", "notifier", "sweeper"]


class StepFailed(Exception):
    """A step's check did not hold; the message says what was expected and what came."""


# What `Ref AWS::NoValue` resolves to: the key or list item holding it is dropped.
NO_VALUE = object()


def check(cond: bool, message: str) -> None:
    if not cond:
        raise StepFailed(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def wait_for(what: str, probe, timeout: float, interval: float = 0.2):
    """Calls `probe` until it returns something truthy; StepFailed after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            got = probe()
            if got:
                return got
        except Exception as e:  # the thing waited for may refuse connections while it starts
            last_error = e
        time.sleep(interval)
    raise StepFailed(f"{what}: nothing after {timeout:.0f} s" + (f" (last error: {last_error})" if last_error else ""))


# --------------------------------------------------------------------------------------------------------
# Intended values of samconfig's parameter_overrides, read the way a person writing them means them
# --------------------------------------------------------------------------------------------------------


def intended(pair: str) -> tuple[str, str]:
    """`Key=value` as meant: the value is everything after the first `=`; one pair of surrounding quotes
    is removed with its backslash escapes. SAM's own parser must agree, or a value was cut (the check)."""
    key, _, value = pair.partition("=")
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return key, value


def sam_quoted(value: str) -> str:
    """A value quoted for SAM's parameter parser (double quotes, `\\` and `"` escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------------------------------------
# The template, read with its intrinsic functions kept as plain data
# --------------------------------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_CfnLoader)


def sign_token(key: rsa.RSAPrivateKey, issuer: str, audience: str, sub: str, ttl: int = 900) -> str:
    """An RS256 JWT shaped like an OIDC ID token."""
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": KID}
    claims = {"iss": issuer, "aud": audience, "sub": sub, "iat": now, "exp": now + ttl,
              "token_use": "id"}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


# --------------------------------------------------------------------------------------------------------
# The helper server: OIDC issuer, placement-event sink -> SNS Publish, API Gateway management forwarder
# --------------------------------------------------------------------------------------------------------


class Helper:
    def __init__(self, port: int, key: rsa.RSAPrivateKey, audience: str):
        self.port = port
        self.audience = audience
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.base}/issuer"
        self.key = key
        self.topic_arn: str | None = None
        self.sns = None
        self.ministack: str | None = None
        self.ws_api_id: str | None = None
        self.lock = threading.Lock()
        self.published: list[dict] = []  # {"placementId", "type", "messageId"}
        self.forward_errors: list[str] = []
        self.pushes = 0
        self.management_calls: list[str] = []
        numbers = key.public_key().public_numbers()
        self.jwks = {"keys": [{
            "kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256",
            "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
            "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")),
        }]}
        helper = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: the steps say what happened
                pass

            def _answer(self, status: int, body: bytes = b"", ctype: str = "application/json"):
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("content-length") or 0))

            def do_GET(self):
                if self.path == "/issuer/.well-known/openid-configuration":
                    doc = {"issuer": helper.issuer, "jwks_uri": f"{helper.issuer}/jwks.json"}
                    return self._answer(200, json.dumps(doc).encode())
                if self.path == "/issuer/jwks.json":
                    return self._answer(200, json.dumps(helper.jwks).encode())
                if self.path.startswith("/ws-management/"):
                    return self._forward("GET", b"")
                return self._answer(404)

            def do_DELETE(self):
                if self.path.startswith("/ws-management/"):
                    return self._forward("DELETE", b"")
                return self._answer(404)

            def do_POST(self):
                body = self._body()
                if self.path == "/sns":
                    return self._publish(body)
                if self.path.startswith("/ws-management/"):
                    return self._forward("POST", body)
                return self._answer(404)

            def _publish(self, body: bytes):
                # gamelift-sim POSTs the SNS envelope it would have had SNS deliver; the EventBridge event
                # inside goes out again through the emulator's SNS, so the stack's topic, subscription
                # and queue carry it as they would GameLift's own publish.
                try:
                    envelope = json.loads(body)
                    message = envelope["Message"]
                    detail = json.loads(message).get("detail", {})
                    check(helper.topic_arn is not None, "a placement event before the stack exists")
                    out = helper.sns.publish(TopicArn=helper.topic_arn, Message=message)
                    with helper.lock:
                        helper.published.append({
                            "placementId": detail.get("placementId"), "type": detail.get("type"),
                            "messageId": out["MessageId"], "at": time.monotonic(),
                        })
                    return self._answer(200, b"{}")
                except Exception as e:
                    with helper.lock:
                        helper.forward_errors.append(f"SNS publish: {e}")
                    return self._answer(500, json.dumps({"error": str(e)}).encode())

            def _forward(self, method: str, body: bytes):
                # The SDK's management client sends /@connections/{id} below its endpoint; the emulator
                # serves the WebSocket API's connections at /_aws/execute-api/{api}/{stage}/@connections/{id}.
                rest = urllib.parse.unquote(self.path[len("/ws-management"):])
                if helper.ws_api_id is None or not rest.startswith("/@connections/"):
                    with helper.lock:
                        helper.forward_errors.append(f"management API: unexpected {method} {self.path}")
                    return self._answer(404)
                rest = "/@connections/" + urllib.parse.quote(rest[len("/@connections/"):], safe="")
                url = f"{helper.ministack}/_aws/execute-api/{helper.ws_api_id}/live{rest}"
                req = urllib.request.Request(url, data=body if method == "POST" else None, method=method)
                try:
                    with urllib.request.urlopen(req, timeout=5) as r:
                        status, data = r.status, r.read()
                except urllib.error.HTTPError as e:
                    status, data = e.code, e.read()
                with helper.lock:
                    helper.management_calls.append(f"{method} {rest} -> {status}")
                    if method == "POST" and status == 200:
                        helper.pushes += 1
                return self._answer(status, data)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()

    def token(self, sub: str) -> str:
        """An RS256 player token from this issuer (what the OIDC provider would hand a game client)."""
        return sign_token(self.key, self.issuer, self.audience, sub)

    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode().strip()


# --------------------------------------------------------------------------------------------------------
# The rehearsal
# --------------------------------------------------------------------------------------------------------


class Rehearsal:
    def __init__(self, args):
        self.args = args
        self.work = Path(args.work_dir)
        self.work.mkdir(parents=True, exist_ok=True)
        self.t0 = time.monotonic()
        self.step_no = 0
        self.procs: list[subprocess.Popen] = []
        self.stack_created = False
        self.samconfig = tomllib.loads((ROOT / "samconfig.toml").read_text())["rehearsal"]
        self.stack_name = self.samconfig["global"]["parameters"]["stack_name"]
        self.overrides = self.samconfig["global"]["parameters"]["parameter_overrides"]
        self.params = dict(intended(p) for p in self.overrides)
        self.ports = {"ministack": free_port(), "sim": free_port(), "helper": free_port()}
        self.ministack = f"http://127.0.0.1:{self.ports['ministack']}"
        self.sim = f"http://127.0.0.1:{self.ports['sim']}"
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.helper = Helper(self.ports["helper"], key, self.params["JwtAudience"])
        self.tool_env = {
            **os.environ,
            "AWS_ENDPOINT_URL": self.ministack,
            "AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
            "SAM_CLI_TELEMETRY": "0", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": "",
        }
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            self.tool_env.pop(k, None)
        self.boto = boto3.session.Session(aws_access_key_id="rehearsal", aws_secret_access_key="rehearsal",
                                          region_name=REGION)
        self.outputs: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.keys: dict[str, Credentials] = {}
        self.ws = None
        self.placement = None
        self.session = None

    # ---- plumbing ----------------------------------------------------------------------------------

    def client(self, service: str):
        return self.boto.client(service, endpoint_url=self.ministack,
                                config=BotoConfig(retries={"max_attempts": 2}, read_timeout=60))

    def step(self, name: str, fn):
        self.step_no += 1
        start = time.monotonic()
        try:
            detail = fn()
        except Exception as e:
            took = time.monotonic() - start
            print(f"[{start - self.t0:6.1f} s] {self.step_no:2d}. {name}: FAILED after {took:.1f} s", flush=True)
            print(f"    {type(e).__name__}: {e}", flush=True)
            if not isinstance(e, StepFailed):
                traceback.print_exc()
            raise
        took = time.monotonic() - start
        print(f"[{start - self.t0:6.1f} s] {self.step_no:2d}. {name}: ok ({took:.1f} s)"
              + (f" - {detail}" if detail else ""), flush=True)

    def spawn(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "w")
        # A session of its own: stopping the process group also stops what it started (ministack's
        # function processes).
        p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append(p)
        with open(self.args.pid_file, "a") as f:
            f.write(f"{p.pid}\n")
        return p

    def stop_processes(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
        for p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.procs.clear()

    def http(self, method: str, url: str, body=None, headers=None, sign_as: str | None = None):
        """One HTTP call; `sign_as` signs it with SigV4 (service execute-api) as that IAM user."""
        data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
        headers = dict(headers or {})
        if data is not None:
            headers.setdefault("content-type", "application/json")
        if sign_as:
            req = AWSRequest(method=method, url=url, data=data, headers=headers)
            SigV4Auth(self.keys[sign_as], "execute-api", REGION).add_auth(req)
            headers = dict(req.headers.items())
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed

    def player_api(self, path: str) -> str:
        return f"{self.ministack}/_aws/execute-api/{self.resources['PlayerApi']}/$default{path}"

    def service_api(self, path: str) -> str:
        return f"{self.ministack}/_aws/execute-api/{self.resources['ServiceApi']}/$default{path}"

    # ---- steps ------------------------------------------------------------------------------------

    def start_helper_and_sim(self):
        self.helper.start()
        template = load_template(ROOT / "template.yaml")
        # The queue as the template would create it: its PriorityConfiguration decides whether GameLift
        # accepts a create's `regions`, so the simulator's queue gets the template's.
        queue_props = template["Resources"]["GameLiftQueue"]["Properties"]
        priority = queue_props.get("PriorityConfiguration")
        queue = {
            "name": self.params["GameLiftQueueName"], "region": REGION,
            "timeoutSeconds": int(self.params["PlacementTimeoutSeconds"]),
            "destinations": [FLEET_US, FLEET_EU],
        }
        if priority:
            queue["priorityConfiguration"] = {
                "priorityOrder": priority["PriorityOrder"],
                **({"locationOrder": priority["LocationOrder"]} if "LocationOrder" in priority else {}),
            }
        model = {
            "accountId": ACCOUNT,
            "topicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:replaced-by-the-stack-topic",
            "seed": 20, "placementDelayMs": 300, "reservationTimeoutSeconds": 60, "throttling": True,
            "fleets": [
                {"id": FLEET_US, "region": "us-east-1", "locations": [{"location": "us-east-1", "slots": 10}]},
                {"id": FLEET_EU, "region": "eu-west-1", "locations": [{"location": "eu-west-1", "slots": 10}],
                 "playerGatewayMode": "ENABLED"},
            ],
            "queues": [queue],
        }
        (self.work / "sim-model.json").write_text(json.dumps(model, indent=2))
        self.spawn("gamelift-sim", [
            self.args.sim_bin, "--port", str(self.ports["sim"]), "--model", str(self.work / "sim-model.json"),
            "--event-url", f"{self.helper.base}/sns",
        ], {**os.environ, "RUST_LOG": "info"})
        wait_for("gamelift-sim health", lambda: urllib.request.urlopen(f"{self.sim}/_sim/health", timeout=2).status == 200, 30)
        order = queue.get("priorityConfiguration", {}).get("priorityOrder", "none")
        return f"{self.sim}, queue {queue['name']} with the template's priority order {order}"

    def start_ministack(self):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
            "GATEWAY_PORT": str(self.ports["ministack"]),
            "BIND_HOST": "127.0.0.1",
            "IOT_MTLS_ENABLED": "0",  # else an MQTT listener on the fixed port 8883
            "LOG_LEVEL": "INFO",
            # Inherited by every function process (ministack starts them with its own environment under the
            # function's): the functions' SDKs call the emulator, GameLift calls go to gamelift-sim, and
            # WebSocket pushes go to this script's forwarder.
            "AWS_ENDPOINT_URL": self.ministack,
            "AWS_ENDPOINT_URL_GAMELIFT": self.sim,
            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI": f"{self.helper.base}/ws-management",
            "AWS_ACCESS_KEY_ID": "rehearsal", "AWS_SECRET_ACCESS_KEY": "rehearsal",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        }
        self.spawn("ministack", [sys.executable, "-m", "ministack"], env)
        wait_for("ministack health",
                 lambda: urllib.request.urlopen(f"{self.ministack}/_ministack/health", timeout=2).status == 200, 60)
        self.helper.ministack = self.ministack
        self.helper.sns = self.client("sns")
        return f"{self.ministack} (ministack {self.args.ministack_version})"

    def iam_and_bucket(self):
        iam = self.client("iam")
        for user in (SERVICE_USER, GAME_SERVER_USER):
            iam.create_user(UserName=user)
            k = iam.create_access_key(UserName=user)["AccessKey"]
            self.keys[user] = Credentials(k["AccessKeyId"], k["SecretAccessKey"])
        bucket = self.samconfig["deploy"]["parameters"]["s3_bucket"]
        self.client("s3").create_bucket(Bucket=bucket)
        return f"users {SERVICE_USER}, {GAME_SERVER_USER} (the template's ServicePrincipals and GameServerFleets); bucket {bucket}"

    def prebuilt_template(self):
        # Deploy path B (deploy/README.md): the template with each function's CodeUri on its zip.
        zips = Path(self.args.zips)
        text = (ROOT / "template.yaml").read_text()
        pattern = re.compile(r"(      BuildProperties:\n        Binary: ([a-z0-9-]+)\n    Properties:\n)")
        sizes = []

        def with_code_uri(m):
            z = zips / m.group(2) / "bootstrap.zip"
            check(z.exists(), f"missing artifact {z}")
            # The template says Architecture=x86_64 here; an arm64 bootstrap would fail at its first start.
            with zipfile.ZipFile(z) as archive:
                head = archive.open("bootstrap").read(20)
            machine = int.from_bytes(head[18:20], "little")
            check(head[:4] == b"\x7fELF" and machine == 0x3E,
                  f"{z}: bootstrap is not an x86_64 ELF executable (e_machine {machine:#x})")
            sizes.append(z.stat().st_size)
            return m.group(1) + f"      CodeUri: {z}\n"

        out, n = pattern.subn(with_code_uri, text)
        check(n == len(FUNCTIONS), f"{n} functions with BuildProperties.Binary, expected {len(FUNCTIONS)}")
        self.template_file = self.work / "prebuilt.yaml"
        self.template_file.write_text(out)
        return f"{n} functions, {sum(sizes) / 1e6:.1f} MB of x86_64 zips from {zips}"

    def sam_deploy(self):
        dynamic = {"JwtIssuer": self.helper.issuer, "JwtPublicKeyPem": self.helper.public_pem()}
        self.params.update(dynamic)
        # --config-file: SAM looks for samconfig.toml beside the template, and this one is generated.
        argv = [self.args.sam, "deploy", "--config-file", str(ROOT / "samconfig.toml"), "--config-env", "rehearsal",
                "--template-file", str(self.template_file),
                "--no-progressbar", "--parameter-overrides", *self.overrides,
                *(f"{k}={sam_quoted(v)}" for k, v in dynamic.items())]
        log = self.work / "sam-deploy.log"
        with open(log, "w") as f:
            r = subprocess.run(argv, cwd=ROOT, env=self.tool_env, stdout=f, stderr=subprocess.STDOUT, timeout=600)
        self.stack_created = True
        check(r.returncode == 0, f"sam deploy exited {r.returncode}; its output:\n{tail(log, 40)}")
        cfn = self.client("cloudformation")
        stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        check(stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), f"stack is {stack['StackStatus']}")
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        self.deployed_params = {p["ParameterKey"]: p.get("ParameterValue") for p in stack.get("Parameters", [])}
        for r_ in cfn.describe_stack_resources(StackName=self.stack_name)["StackResources"]:
            self.resources[r_["LogicalResourceId"]] = r_["PhysicalResourceId"]
        self.helper.topic_arn = self.outputs["PlacementTopicArn"]
        self.helper.ws_api_id = self.resources["WebSocketApi"]
        return f"stack {self.stack_name}: {len(self.resources)} resources, {len(self.outputs)} outputs"

    def parameters_whole(self):
        wrong = []
        for key, want in self.params.items():
            got = self.deployed_params.get(key)
            if key == "CursorSecret":  # NoEcho: CloudFormation masks it
                continue
            if got != want:
                wrong.append(f"{key}: samconfig means {want!r}, the stack got {got!r}")
        check(not wrong, "values SAM's parser did not pass whole:\n    " + "\n    ".join(wrong))
        return f"{len(self.params) - 1} values as written (CursorSecret is NoEcho)"

    def import_http_routes(self):
        # ministack does not import the OpenAPI body SAM generates for an HttpApi, so the routes would 404.
        # What API Gateway does with that body, done here from SAM's own output (GetTemplate, Processed):
        # each path and method becomes a route with its integration and its authorizer.
        cfn = self.client("cloudformation")
        processed = cfn.get_template(StackName=self.stack_name, TemplateStage="Processed")["TemplateBody"]
        if isinstance(processed, str):
            processed = json.loads(processed) if processed.lstrip().startswith("{") else load_template_text(processed)
        apigw = self.client("apigatewayv2")
        lam = self.client("lambda")
        function_arns = {}
        for logical, physical in self.resources.items():
            if processed["Resources"].get(logical, {}).get("Type") == "AWS::Lambda::Function":
                function_arns[logical] = lam.get_function(FunctionName=physical)["Configuration"]["FunctionArn"]
        counts = []
        for logical in ("PlayerApi", "ServiceApi"):
            api_id = self.resources[logical]
            body = processed["Resources"][logical]["Properties"]["Body"]
            self.conditions = processed.get("Conditions", {})
            body = self.resolve(body, function_arns)
            authorizers = {}
            for name, scheme in body.get("components", {}).get("securitySchemes", {}).items():
                spec = scheme.get("x-amazon-apigateway-authorizer", {})
                if spec.get("type") == "jwt":
                    jwt = spec["jwtConfiguration"]
                    authorizers[name] = apigw.create_authorizer(
                        ApiId=api_id, Name=name, AuthorizerType="JWT",
                        IdentitySource=[spec["identitySource"]],
                        JwtConfiguration={"Issuer": jwt["issuer"], "Audience": jwt["audience"]},
                    )["AuthorizerId"]
            default_security = body.get("security", [])
            integrations = {}
            n = 0
            for path, methods in body["paths"].items():
                for method, op in methods.items():
                    integ = op["x-amazon-apigateway-integration"]
                    uri = integ["uri"]
                    if uri not in integrations:
                        integrations[uri] = apigw.create_integration(
                            ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=uri,
                            IntegrationMethod="POST", PayloadFormatVersion=integ.get("payloadFormatVersion", "2.0"),
                        )["IntegrationId"]
                    security = op.get("security", default_security)
                    route = {"ApiId": api_id, "RouteKey": f"{method.upper()} {path}",
                             "Target": f"integrations/{integrations[uri]}"}
                    names = [k for s in security for k in s]
                    if not names or names == ["NONE"]:
                        route["AuthorizationType"] = "NONE"
                    elif names == ["AWS_IAM"]:
                        route["AuthorizationType"] = "AWS_IAM"
                    else:
                        check(len(names) == 1 and names[0] in authorizers, f"{path} {method}: security {security}")
                        route.update(AuthorizationType="JWT", AuthorizerId=authorizers[names[0]])
                    apigw.create_route(**route)
                    n += 1
            counts.append(f"{logical} {n}")
        return "routes " + ", ".join(counts) + " from SAM's OpenAPI bodies"

    def resolve(self, node, function_arns):
        """The few intrinsic functions SAM leaves in an HttpApi body, resolved against this stack: Ref,
        Fn::Sub, Fn::GetAtt, and Fn::If on the template's conditions (a branch that is AWS::NoValue drops
        its key, as CloudFormation does)."""
        pseudo = {"AWS::Region": REGION, "AWS::Partition": "aws", "AWS::AccountId": ACCOUNT,
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": self.stack_name}

        def ref(name):
            if name == "AWS::NoValue":
                return NO_VALUE
            if name in pseudo:
                return pseudo[name]
            if name in self.params:
                return self.params[name]
            check(name in self.resources, f"unresolvable Ref {name}")
            return self.resources[name]

        def sub(text):
            def one(m):
                name = m.group(1)
                if name.endswith(".Arn"):
                    check(name[:-4] in function_arns, f"unresolvable ${{{name}}}")
                    return function_arns[name[:-4]]
                return ref(name)
            return re.sub(r"\$\{([^}]+)\}", one, text)

        if isinstance(node, list):
            items = [self.resolve(x, function_arns) for x in node]
            return [x for x in items if x is not NO_VALUE]
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return self.resolve(yes if self.condition(name) else no, function_arns)
            if set(node) == {"Ref"}:
                return ref(node["Ref"])
            if set(node) == {"Fn::Sub"}:
                check(isinstance(node["Fn::Sub"], str), f"Fn::Sub with variables: {node}")
                return sub(node["Fn::Sub"])
            if set(node) == {"Fn::GetAtt"}:
                logical, attr = node["Fn::GetAtt"]
                check(attr == "Arn" and logical in function_arns, f"unresolvable GetAtt {node}")
                return function_arns[logical]
            items = {k: self.resolve(v, function_arns) for k, v in node.items()}
            return {k: v for k, v in items.items() if v is not NO_VALUE}
        return node

    def condition(self, name: str) -> bool:
        """A template condition evaluated on this stack's parameters (the functions conditions may use)."""
        def value(node):
            if isinstance(node, dict) and set(node) == {"Ref"}:
                return self.deployed_params.get(node["Ref"], self.params.get(node["Ref"], ""))
            if isinstance(node, dict) and set(node) == {"Condition"}:
                return self.condition(node["Condition"])
            if isinstance(node, dict) and len(node) == 1:
                (fn, args), = node.items()
                if fn == "Fn::Equals":
                    return value(args[0]) == value(args[1])
                if fn == "Fn::Not":
                    return not value(args[0])
                if fn == "Fn::And":
                    return all(value(a) for a in args)
                if fn == "Fn::Or":
                    return any(value(a) for a in args)
            check(not isinstance(node, (dict, list)), f"condition {name}: cannot evaluate {node}")
            return node
        check(name in self.conditions, f"unknown condition {name}")
        return bool(value(self.conditions[name]))

    def health(self):
        status, body = self.http("GET", self.player_api("/v1/health"))
        check(status == 200 and body == {"status": "ok"}, f"GET /v1/health: {status} {body}")
        return "player API, public route, through fleet-api"

    def ws_connect(self):
        base = f"ws://127.0.0.1:{self.ports['ministack']}/_aws/execute-api/{self.resources['WebSocketApi']}/live"
        # A token signed by another key is refused by the real ws-authorizer...
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        foreign = sign_token(stranger, self.helper.issuer, self.helper.audience, PLAYER)
        refused = None
        try:
            with ws_connect(f"{base}?token={foreign}", open_timeout=20) as bad:
                bad.recv(timeout=3)
        except Exception as e:
            refused = e
        status = re.search(r"HTTP (\d{3})", str(refused or ""))
        check(refused is not None and (status is not None and status.group(1) in ("401", "403")
                                       or "1008" in str(refused)),
              f"a token from another key was not refused ({refused!r})")
        # ... and the player's own token opens a connection whose row the ws function wrote.
        self.ws = ws_connect(f"{base}?token={self.helper.token(PLAYER)}", open_timeout=20)
        rows = wait_for("the connection row in the table", lambda: self.connection_rows(PLAYER), 10)
        how = f"HTTP {status.group(1)}" if status else "close 1008"
        return f"a token signed by another key refused ({how}); the player's connected, {len(rows)} connection row"

    def connection_rows(self, user: str) -> list:
        ddb = self.client("dynamodb")
        out = ddb.query(TableName=self.resources["Table"], IndexName="connectionsByUser",
                        KeyConditionExpression="cUser = :u", ExpressionAttributeValues={":u": {"S": user}})
        return out["Items"]

    def player_create(self):
        token = self.helper.token(PLAYER)
        body = {"maxPlayers": 4, "players": [{"playerId": PLAYER}], "name": "rehearsal lobby",
                "latencies": [{"playerId": PLAYER, "region": "us-east-1", "latencyMs": 30},
                              {"playerId": PLAYER, "region": "eu-west-1", "latencyMs": 90}]}
        self.created_at = time.monotonic()
        status, out = self.http("POST", self.player_api("/v1/sessions"), body,
                                {"authorization": f"Bearer {token}", "idempotency-key": f"rehearsal-{uuid.uuid4()}"})
        check(status == 202 and isinstance(out, dict) and out.get("status") == "PENDING", f"create: {status} {out}")
        self.placement = out["placementId"]
        self.ws.send(json.dumps({"action": "subscribe", "placementId": self.placement}))
        return f"202 placement {self.placement}; subscribed on the WebSocket"

    def placement_event(self):
        def published():
            with self.helper.lock:
                errors = list(self.helper.forward_errors)
                hit = [p for p in self.helper.published if p["placementId"] == self.placement]
            check(not errors, f"the event could not be published: {errors}")
            return hit
        hit = wait_for("gamelift-sim's PlacementFulfilled on the topic", published, 20)[0]
        check(hit["type"] == "PlacementFulfilled", f"event type {hit['type']}")
        return f"{hit['type']} published to {self.helper.topic_arn.rsplit(':', 1)[-1]} (SNS message {hit['messageId'][:8]}…)"

    def result_on_websocket(self):
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            try:
                text = self.ws.recv(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            try:
                msg = json.loads(text)
            except ValueError:
                seen.append(text)  # the emulator echoes a route's response body; API Gateway would not
                continue
            seen.append(msg)
            if isinstance(msg, dict) and msg.get("type") == "placement" and msg.get("placementId") == self.placement:
                check(msg.get("status") == "FULFILLED", f"pushed result: {msg}")
                self.session = msg["session"]
                took = time.monotonic() - self.created_at
                # It came through the management API (PostToConnection), as in AWS; the forwarder counts
                # a push once the emulator has answered it, which may be just after the frame arrived.
                wait_for("the push through the management API", lambda: self.helper.pushes >= 1, 5, 0.05)
                return (f"FULFILLED in {self.session.get('region')} ({self.session['id']}), "
                        f"{took:.1f} s after the create; {self.helper.pushes} push(es) through the management API")
        raise StepFailed(f"no result for {self.placement} on the WebSocket in 30 s; received: {seen}")

    def join(self):
        token = self.helper.token(OTHER_PLAYER)
        status, out = self.http("POST", self.player_api(f"/v1/sessions/{self.session['id']}/join"),
                                {"players": [{"playerId": OTHER_PLAYER}]}, {"authorization": f"Bearer {token}"})
        check(status == 200, f"join: {status} {out}")
        ps = out["playerSessions"][0]["playerSessionId"]
        check(ps.startswith("psess-"), f"player session {ps}")
        return f"200, {OTHER_PLAYER} holds {ps} (CreatePlayerSessions in gamelift-sim)"

    def status_report(self):
        report = {"id": self.session["arn"], "playerCount": 2,
                  "metadata": {"GameProperties": {"round": "1"}}}
        status, out = self.http("POST", self.service_api("/v1/rpc/update_instance_info"), report,
                                sign_as=GAME_SERVER_USER)
        check(status == 204, f"update_instance_info: {status} {out}")
        status, got = self.http("GET", self.service_api(f"/v1/sessions/{self.session['id']}"), sign_as=SERVICE_USER)
        check(status == 200 and got.get("playerCount") == 2 and got.get("properties", {}).get("round") == "1",
              f"the session after the report: {status} {got}")
        return "204 from status-rpc (SigV4 as the game server); the service API reads playerCount 2"

    def regions_create(self):
        # `regions` reaches GameLift as a location override: accepted only because the queue (the
        # template's priority configuration) prioritises LOCATION.
        status, out = self.http("POST", self.service_api("/v1/sessions"),
                                {"maxPlayers": 2, "regions": ["eu-west-1"], "name": "rehearsal eu"},
                                {"idempotency-key": f"rehearsal-{uuid.uuid4()}"}, sign_as=SERVICE_USER)
        check(status == 202, f"create with regions: {status} {out}")
        pid = out["placementId"]

        def done():
            s, p = self.http("GET", self.service_api(f"/v1/placements/{pid}"), sign_as=SERVICE_USER)
            return p if s == 200 and p.get("status") != "PENDING" else None
        p = wait_for(f"placement {pid} to finish", done, 30, 0.5)
        check(p["status"] == "FULFILLED" and p["session"]["region"] == "eu-west-1", f"placement: {p}")
        self.eu_session = p["session"]["id"]
        return f"FULFILLED in eu-west-1 (service API, SigV4): the override was accepted"

    def locations(self):
        token = self.helper.token(PLAYER)
        status, out = self.http("GET", self.player_api("/v1/locations"), None, {"authorization": f"Bearer {token}"})
        check(status == 200, f"locations: {status} {out}")
        names = [l["location"] for l in out["locations"]]
        check(names == ["us-east-1", "eu-west-1"], f"the configured locations in order: {names}")
        beacons = [l.get("pingBeacon", {}).get("udpEndpoint", {}).get("domain") for l in out["locations"]]
        check(all(beacons), f"every location has a ping beacon: {out}")
        return f"{names} with beacons {beacons} (ListLocations in gamelift-sim, GameLiftLocations order)"

    def lock_and_unlock(self):
        sid = self.session["id"]
        status, out = self.http("PATCH", self.service_api(f"/v1/sessions/{sid}"), {"joinable": False},
                                sign_as=GAME_SERVER_USER)
        check(status == 200 and out.get("joinable") is False and out.get("openSlots") == 0,
              f"lock by the fleet's game server: {status} {out}")
        # A player without a seat there (a seated one would get its seat back: a rejoin).
        latecomer = "rehearsal-player-3"
        token = self.helper.token(latecomer)
        status, out = self.http("POST", self.player_api(f"/v1/sessions/{sid}/join"),
                                {"players": [{"playerId": latecomer}]}, {"authorization": f"Bearer {token}"})
        check(status == 409, f"a join of the locked session: {status} {out}")
        status, out = self.http("PATCH", self.service_api(f"/v1/sessions/{sid}"), {"joinable": True},
                                sign_as=SERVICE_USER)
        check(status == 200 and out.get("joinable") is True, f"unlock by the service: {status} {out}")
        return "PATCH (UpdateGameSession DENY_ALL) -> join 409 -> PATCH (ACCEPT_ALL) -> joinable again"

    def gateway_join(self):
        token = self.helper.token(OTHER_PLAYER)
        status, out = self.http("POST", self.player_api(f"/v1/sessions/{self.eu_session}/join"),
                                {"players": [{"playerId": OTHER_PLAYER}]}, {"authorization": f"Bearer {token}"})
        check(status == 200, f"join on the gateway fleet: {status} {out}")
        conn = out["playerSessions"][0].get("connection", {})
        check(conn.get("playerGatewayToken") and conn.get("expiresAt") and conn.get("endpoints"),
              f"relay endpoints and a token: {conn}")
        status, fresh = self.http("POST", self.player_api(f"/v1/sessions/{self.eu_session}/connection"),
                                  {"players": [{"playerId": OTHER_PLAYER}]}, {"authorization": f"Bearer {token}"})
        check(status == 200 and fresh["connections"][0]["playerGatewayToken"] != conn["playerGatewayToken"],
              f"a fresh token: {status} {fresh}")
        return (f"{len(conn['endpoints'])} relay endpoint(s) and a token until {conn['expiresAt']}; "
                "the connection route gave a fresh one (GetPlayerConnectionDetails)")

    def refused_combination(self):
        status, out = self.http("POST", self.service_api("/v1/sessions"),
                                {"maxPlayers": 2, "regions": ["eu-west-1"],
                                 "latencies": [{"playerId": PLAYER, "region": "eu-west-1", "latencyMs": 20}]},
                                sign_as=SERVICE_USER)
        field = (out or {}).get("error", {}).get("field") if isinstance(out, dict) else None
        check(status == 400 and field == "regions", f"regions with latencies: {status} {out}")
        return "400 naming `regions`, before any GameLift call"

    def delete(self):
        for sid in (self.session["id"], self.eu_session):
            status, out = self.http("DELETE", self.service_api(f"/v1/sessions/{sid}?terminate=true"),
                                    sign_as=SERVICE_USER)
            check(status == 204, f"delete {sid}: {status} {out}")
        status, got = self.http("GET", self.service_api(f"/v1/sessions/{self.session['id']}"), sign_as=SERVICE_USER)
        check(status == 200 and got.get("status") == "ENDED", f"after delete: {status} {got}")
        # As the functions do: a session's calls go to its home Region (gamelift-sim refuses others).
        home = self.session["arn"].split(":")[3]
        gamelift = self.boto.client("gamelift", endpoint_url=self.sim, region_name=home)
        gs = gamelift.describe_game_sessions(GameSessionId=self.session["arn"])["GameSessions"][0]["Status"]
        check(gs in ("TERMINATING", "TERMINATED"), f"gamelift-sim says {gs}")
        return f"204 twice; the session is ENDED, GameLift's is {gs}"

    def notifier_fired(self):
        lines = wait_for("a notifier invocation from the table's stream",
                         lambda: self.log_lines("notifier", "START RequestId"), 30, 1)
        return f"{len(lines)} invocation(s) through the filtered stream mapping"

    def ws_disconnect(self):
        self.ws.close()
        self.ws = None
        wait_for("the connection row to go", lambda: not self.connection_rows(PLAYER), 15, 0.5)
        return "$disconnect deleted the connection row"

    def sweeper_ran(self):
        # rate(1 minute): EventBridge fires a minute after the rule was created.
        lines = wait_for("the sweeper's scheduled run", lambda: self.log_lines("sweeper", "REPORT RequestId"), 100, 2)
        errors = self.log_lines("sweeper", '"level":"ERROR"')
        check(not errors, f"the sweeper logged errors: {errors[:3]}")
        return f"{len(lines)} scheduled run(s), no errors"

    def no_function_errors(self):
        problems = []
        counts = []
        for fn in FUNCTIONS:
            starts = self.log_lines(fn, "START RequestId")
            counts.append(f"{fn} {len(starts)}")
            for line in self.log_lines(fn, ""):
                if '"level":"ERROR"' in line or "errorType" in line or "panicked" in line:
                    problems.append(f"{fn}: {line[:300]}")
        check(all(not c.endswith(" 0") for c in counts), "a function never ran: " + ", ".join(counts))
        check(not problems, "errors in the function logs:\n    " + "\n    ".join(problems[:10]))
        return "invocations: " + ", ".join(counts)

    def log_lines(self, fn: str, needle: str) -> list[str]:
        logs = self.client("logs")
        group = f"/aws/lambda/{self.stack_name}-{fn}"
        try:
            events = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [e["message"] for e in events if needle in e["message"]]

    def sam_delete(self):
        if self.ws is not None:
            self.ws.close()
        argv = [self.args.sam, "delete", "--stack-name", self.stack_name, "--region", REGION, "--no-prompts"]
        log = self.work / "sam-delete.log"
        with open(log, "w") as f:
            r = subprocess.run(argv, cwd=ROOT, env=self.tool_env, stdout=f, stderr=subprocess.STDOUT, timeout=300)
        check(r.returncode == 0, f"sam delete exited {r.returncode}:\n{tail(log, 20)}")
        self.stack_created = False
        cfn = self.client("cloudformation")
        try:
            status = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]["StackStatus"]
        except Exception:
            status = "gone"
        check(status in ("gone", "DELETE_COMPLETE"), f"after sam delete the stack is {status}")
        return f"stack {status}"

    def dump_logs(self):
        """After a failure: what the emulator and the functions said."""
        print("\n==== logs (the last lines of each; all of them in " + str(self.work) + ")")
        for name in ("gamelift-sim", "ministack"):
            path = self.work / f"{name}.log"
            if path.exists():
                print(f"---- {name}\n{tail(path, 25)}")
        if self.stack_created:
            for fn in FUNCTIONS:
                try:
                    lines = self.log_lines(fn, "")
                except Exception:
                    continue
                if lines:
                    print(f"---- /aws/lambda/{self.stack_name}-{fn}")
                    print("\n".join(line.rstrip() for line in lines[-12:]))

    def run(self) -> int:
        steps = [
            ("start gamelift-sim and the helper server", self.start_helper_and_sim),
            ("start ministack", self.start_ministack),
            ("IAM users and artifact bucket in the emulator", self.iam_and_bucket),
            ("template with the prebuilt zips (deploy path B)", self.prebuilt_template),
            ("sam deploy --config-env rehearsal", self.sam_deploy),
            ("samconfig values reached the stack whole", self.parameters_whole),
            ("HTTP API routes", self.import_http_routes),
            ("GET /v1/health", self.health),
            ("WebSocket $connect through ws-authorizer", self.ws_connect),
            ("player create through fleet-api (JWT)", self.player_create),
            ("placement event: gamelift-sim -> SNS -> SQS -> placement-events", self.placement_event),
            ("result pushed on the WebSocket", self.result_on_websocket),
            ("join through fleet-api", self.join),
            ("status report through status-rpc", self.status_report),
            ("create with regions, placed through the queue's priority", self.regions_create),
            ("locations with ping beacons", self.locations),
            ("lock, join refused, unlock", self.lock_and_unlock),
            ("join on a player-gateway fleet, token refreshed", self.gateway_join),
            ("latencies with regions refused", self.refused_combination),
            ("delete with terminate", self.delete),
            ("notifier fired by the stream", self.notifier_fired),
            ("WebSocket $disconnect", self.ws_disconnect),
            ("sweeper on its schedule", self.sweeper_ran),
            ("no function logged an error", self.no_function_errors),
            ("sam delete", self.sam_delete),
        ]
        failed = False
        try:
            for name, fn in steps:
                self.step(name, fn)
        except Exception:
            failed = True
            try:
                self.dump_logs()
            except Exception as e:
                print(f"(could not read the logs: {e})")
            if self.stack_created:
                try:
                    self.step("sam delete (after the failure)", self.sam_delete)
                except Exception:
                    pass
        finally:
            if self.ws is not None:
                try:
                    self.ws.close()
                except Exception:
                    pass
            self.helper.stop()
            self.stop_processes()
        total = time.monotonic() - self.t0
        print(f"rehearsal: {'FAILED' if failed else 'all steps passed'} in {total:.1f} s", flush=True)
        return 1 if failed else 0


def tail(path: Path, n: int) -> str:
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-n:])


def load_template_text(text: str) -> dict:
    return yaml.load(text, Loader=_CfnLoader)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--zips", required=True, help="directory with <binary>/bootstrap.zip (x86_64)")
    p.add_argument("--sim-bin", required=True, help="the gamelift-sim binary")
    p.add_argument("--sam", required=True, help="the SAM CLI")
    p.add_argument("--work-dir", required=True, help="logs and generated files")
    p.add_argument("--pid-file", required=True, help="pids of the started process groups are appended here")
    p.add_argument("--ministack-version", default="?")
    args = p.parse_args()
    rehearsal = Rehearsal(args)

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)
    try:
        return rehearsal.run()
    except KeyboardInterrupt as e:
        rehearsal.stop_processes()
        print(f"rehearsal: interrupted ({e or 'SIGINT'}); processes stopped", flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())
