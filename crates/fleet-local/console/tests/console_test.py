"""Browser test of the local stack's console (run by scripts/console-test.sh).

Starts `fleet-local up` on free ports, opens http://127.0.0.1:<port>/console/ in headless Chromium
(Debian's package, driven by playwright) and checks, without ever reloading the page, that:

- the page follows the stack live (components, the simulator's fleets and free slots);
- a session created through the service API (SigV4, the local service key) shows FULFILLED with its
  session within seconds;
- a fault injected by clicking a button is what the simulator then answers (placements FAILED, creates
  throttled), and clearing it restores service;
- `fleet-local demo` against the stack shows its bots' traffic live;
- the clock buttons move the stack's clock;

and that the page logged no error (console errors, uncaught exceptions, failed requests) at any point.
Prints one line per test and a closing `N passed, M failed` line; exits 1 on any failure.

Environment: FLEET_LOCAL_BIN (the fleet-local binary), CHROMIUM (default /usr/bin/chromium),
CONSOLE_SCREENSHOT (where to write the screenshot, optional), CONSOLE_TEST_LOG (the stack's log file).
"""

import datetime
import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

from playwright.sync_api import expect, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium reaches for the network at start-up, and on a closed network its own
    # connections are refused: noise, and errors in the log.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVICE_KEY = ("AKIALOCALSERVICE0001", "local-service-secret")
REGION = "us-east-1"
SOON = 15_000  # ms: how long "within seconds" may take on a loaded 2-core CI machine


# ---------------------------------------------------------------- the service API, SigV4-signed


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(method, url, body, key=SERVICE_KEY):
    """The headers that sign a request for API Gateway's execute-api, as any AWS SDK signs it."""
    access, secret = key
    parts = urllib.parse.urlsplit(url)
    amz_date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    query = "&".join(
        sorted(
            f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        )
    )
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(parts.path or "/", safe="/-_.~"),
            query,
            f"host:{parts.netloc}\nx-amz-date:{amz_date}\n",
            "host;x-amz-date",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{REGION}/execute-api/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    k = _hmac(("AWS4" + secret).encode(), day)
    for part in (REGION, "execute-api", "aws4_request"):
        k = _hmac(k, part)
    signature = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return {
        "x-amz-date": amz_date,
        "authorization": f"AWS4-HMAC-SHA256 Credential={access}/{scope}, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}",
    }


def call(method, url, body=None, signed=True):
    """(status, JSON answer) of a request; never raises for an HTTP error status."""
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"content-type": "application/json"} if body is not None else {}
    if signed:
        headers.update(sigv4_headers(method, url, data))
    req = urllib.request.Request(url, data=data if body is not None else None, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            text = res.read().decode()
            return res.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        try:
            return e.code, json.loads(text)
        except ValueError:
            return e.code, {"raw": text}


def create_session(http, name, player):
    """A service create (POST /v1/sessions): (status, answer)."""
    return call(
        "POST",
        f"{http}/v1/sessions",
        {"maxPlayers": 4, "name": name, "players": [{"playerId": player}]},
    )


# ---------------------------------------------------------------- the stack


class Stack:
    """`fleet-local up` on free ports; its stdout and stderr go to `log_path`."""

    NEEDED = ("FLEETLIFT_HTTP", "FLEETLIFT_WS", "AWS_ENDPOINT_URL_GAMELIFT")

    def __init__(self, binary, log_path):
        self.binary = binary
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "up", "--http-port", "0", "--ws-port", "0", "--gamelift-port", "0",
             "--dynamodb-port", "0", "--sweep-interval", "2"],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.env = {}
        self.console_line = None
        self.ready = threading.Event()
        # Read stdout to the end on a thread, so whatever the stack prints later never blocks it.
        threading.Thread(target=self._read, daemon=True).start()
        # A first run installs DynamoDB Local.
        if not self.ready.wait(timeout=300) or not all(k in self.env for k in self.NEEDED):
            self.stop()
            raise RuntimeError(f"fleet-local up did not print its endpoints; see {log_path}")
        self.http = self.env["FLEETLIFT_HTTP"]
        self.ws = self.env["FLEETLIFT_WS"]
        self.gamelift = self.env["AWS_ENDPOINT_URL_GAMELIFT"]
        self.console = f"{self.http}/console/"

    def _read(self):
        for line in self.proc.stdout:
            self.log.write(line)
            self.log.flush()
            m = re.match(r"^export (\w+)=(\S+)", line)
            if m:
                self.env[m.group(1)] = m.group(2)
            if line.strip().startswith("Console"):
                self.console_line = line.strip()
            if all(k in self.env for k in self.NEEDED):
                self.ready.set()
        self.ready.set()

    def state(self):
        status, body = call("GET", f"{self.http}/console/api/state", signed=False)
        assert status == 200, (status, body)
        return body

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# ---------------------------------------------------------------- the tests


class Ctx:
    def __init__(self, stack, page, errors):
        self.stack = stack
        self.page = page
        self.errors = errors


def test_the_console_follows_the_stack_live(c):
    page = c.page
    assert c.stack.console_line and c.stack.console in c.stack.console_line, c.stack.console_line
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=SOON)
    # Every component the health check knows, all up.
    for name in ["dynamodb", "gamelift", "httpGateway", "wsGateway", "placementEvents", "notifier", "sweeper"]:
        expect(page.locator(f"#components span.ok", has_text=name)).to_have_count(1)
    # The local model's fleets, one row per fleet and location (four fleets, one of them with a remote
    # location), with their free slots.
    rows = page.locator("#fleets tbody tr")
    expect(rows).to_have_count(5)
    expect(page.locator('#fleets tr[data-location="eu-central-1"] td.free')).to_have_text("50")
    # The sweeper runs every 2 s here: its runs appear without a reload.
    expect(page.locator("#sweeps tbody tr td.num").first).to_be_visible(timeout=SOON)


def test_a_session_created_through_the_service_api_appears_fulfilled_with_its_session(c):
    page, stack = c.page, c.stack
    name = f"console-{uuid.uuid4().hex[:8]}"
    started = time.time()
    status, answer = create_session(stack.http, name, "console-player-1")
    assert status == 202, (status, answer)
    pid = answer["placementId"]
    row = page.locator(f'#placements tr[data-placement-id="{pid}"]')
    expect(row).to_have_attribute("data-status", "FULFILLED", timeout=SOON)
    expect(row.locator("td.status")).to_contain_text("PENDING")
    expect(row.locator("td.status")).to_contain_text("FULFILLED")
    _, placement = call("GET", f"{stack.http}/v1/placements/{pid}")
    sid = placement["session"]["id"]
    expect(row.locator("td.tail")).to_contain_text(sid)
    session = page.locator(f'#sessions tr[data-session-id="{sid}"]')
    expect(session.locator("td.name")).to_have_text(name, timeout=SOON)
    expect(session.locator("td.players")).to_have_text("0 / 4")
    expect(page.locator("#regions .chip").first).to_contain_text("sessions")
    print(f"    placement {pid} FULFILLED and session {sid} shown {time.time() - started:.1f} s after the create")


def test_a_fault_injected_from_the_page_shows_in_the_simulators_answers(c):
    page, stack = c.page, c.stack
    # Placements fail: the simulator ends them FAILED, and the console shows why.
    page.click("#fault-fail-placements")
    expect(page.locator("#fault-fail-placements")).to_have_attribute("aria-pressed", "true")
    assert stack.state()["status"]["sim"]["faults"]["events"]["placementFailureRate"] == 1.0
    status, answer = create_session(stack.http, "doomed", "console-player-2")
    assert status == 202, (status, answer)
    row = page.locator(f'#placements tr[data-placement-id="{answer["placementId"]}"]')
    expect(row).to_have_attribute("data-status", "FAILED", timeout=SOON)
    expect(row.locator("td.tail")).not_to_be_empty()
    _, sim_stats = call("GET", f"{stack.gamelift}/_sim/stats", signed=False)
    assert sim_stats["placementsFailed"] >= 1, sim_stats

    # StartGameSessionPlacement throttled: the create itself is refused with 429.
    page.click("#faults-clear")
    expect(page.locator("#fault-fail-placements")).to_have_attribute("aria-pressed", "false")
    page.click("#fault-throttle")
    expect(page.locator("#fault-throttle")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#faults-active")).to_contain_text("ThrottlingException")
    status, answer = create_session(stack.http, "throttled", "console-player-3")
    assert status == 429 and answer["error"]["code"] == "throttled", (status, answer)
    _, sim_stats = call("GET", f"{stack.gamelift}/_sim/stats", signed=False)
    assert sim_stats["faultsInjected"] >= 1, sim_stats
    expect(page.locator("#sim-breakdown")).not_to_contain_text("faults injected 0", timeout=SOON)

    # Cleared: service is back.
    page.click("#faults-clear")
    expect(page.locator("#faults-active")).to_contain_text("no fault injected")
    status, answer = create_session(stack.http, "recovered", "console-player-4")
    assert status == 202, (status, answer)
    expect(page.locator(f'#placements tr[data-placement-id="{answer["placementId"]}"]')).to_have_attribute(
        "data-status", "FULFILLED", timeout=SOON
    )


def test_the_demo_bots_traffic_shows_live(c):
    page, stack = c.page, c.stack
    before = int(page.locator("#placements-started").inner_text().replace(",", ""))
    bots, rounds = 3, 2
    demo = subprocess.run(
        [stack.binary, "demo", "--http", stack.http, "--ws", stack.ws, "--bots", str(bots), "--rounds", str(rounds)],
        capture_output=True, text=True, timeout=180,
    )
    assert demo.returncode == 0, demo.stderr[-2000:]
    want = before + bots * rounds
    expect(page.locator("#placements-started")).to_have_text(re.compile(r"\d+"), timeout=SOON)
    deadline = time.time() + SOON / 1000
    while int(page.locator("#placements-started").inner_text().replace(",", "")) < want:
        assert time.time() < deadline, f"placements counter stuck below {want}"
        page.wait_for_timeout(200)
    bot_rows = page.locator('#placements tr[data-status="FULFILLED"]', has_text="demo-bot-")
    expect(bot_rows).to_have_count(bots * rounds, timeout=SOON)
    # The demo ends its sessions: they show as ENDED.
    expect(page.locator("#sessions tr.ended").first).to_be_visible(timeout=SOON)
    shot = os.environ.get("CONSOLE_SCREENSHOT")
    if shot:
        # The top of the page, tall enough for the cards, the charts, placements and sessions.
        page.evaluate("window.scrollTo(0, 0)")
        page.set_viewport_size({"width": 1280, "height": 1180})
        page.wait_for_timeout(1500)  # one more status tick for the cards and charts
        page.screenshot(path=shot)
        page.set_viewport_size({"width": 1280, "height": 1000})


def test_the_clock_buttons_move_the_stack_clock(c):
    page, stack = c.page, c.stack
    before = stack.state()["status"]["clock"]["offsetMs"]
    page.click("#clock-advance-60s")
    expect(page.locator("#clock .offset")).to_contain_text("ahead", timeout=SOON)
    assert stack.state()["status"]["clock"]["offsetMs"] == before + 60_000


TESTS = [
    test_the_console_follows_the_stack_live,
    test_a_session_created_through_the_service_api_appears_fulfilled_with_its_session,
    test_a_fault_injected_from_the_page_shows_in_the_simulators_answers,
    test_the_demo_bots_traffic_shows_live,
    # Last: the clock only moves forward.
    test_the_clock_buttons_move_the_stack_clock,
]


def main():
    binary = os.environ["FLEET_LOCAL_BIN"]
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    log_path = os.environ.get("CONSOLE_TEST_LOG", "console-test-stack.log")
    passed = failed = 0
    stack = Stack(binary, log_path)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            errors = []
            page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
            page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url} {r.failure}")
                    if not r.url.endswith("/console/api/events") else None)
            page.goto(stack.console)
            # A reload would clear this: the tests check it is still there.
            page.evaluate("window.__sameDocument = true")
            ctx = Ctx(stack, page, errors)
            for test in TESTS:
                started = time.time()
                try:
                    test(ctx)
                    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
                    assert not errors, "the page logged errors: " + "; ".join(errors)
                    passed += 1
                    print(f"PASS {test.__name__} ({time.time() - started:.1f} s)", flush=True)
                except Exception:  # noqa: BLE001 - every failure is reported, then the next test runs
                    failed += 1
                    print(f"FAIL {test.__name__} ({time.time() - started:.1f} s)", flush=True)
                    traceback.print_exc()
                    errors.clear()
            browser.close()
    finally:
        stack.stop()
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
