//! The HTTP contract, `api/openapi.yaml`, checked against the handlers (fleet-api, status-rpc).
//!
//! The spec is read as YAML and its schemas are compiled as JSON Schema 2020-12 (what OpenAPI 3.1
//! uses), with `format` validated. Each exchange below is a real request through `api::handle` or
//! `rpc::handle` (the events are built like `support_http`'s, on the in-memory fakes), and is checked
//! both ways:
//!
//! * **request**: the concrete path must match one of the spec's paths and the method one of its
//!   operations; the path, query and header parameters (percent- and form-decoded, coerced to the
//!   parameter's type) and the JSON body are validated against the operation's parameters and
//!   `requestBody` schema. Every scenario states whether its request conforms, and the validator must
//!   agree: a request the spec rejects that the handler accepts (or the reverse, where the schema can
//!   express the rule) is drift. Rules the schema cannot express (each playerId once, at most
//!   `maxPlayers` players, both player-count spellings equal, 300 KB bodies, cursor signatures,
//!   the query language's grammar) are scenarios whose request conforms and whose answer is a 400/413.
//! * **response**: the status must be documented for that operation; a documented body must come
//!   with `content-type: application/json` and validate against the schema (unknown fields fail:
//!   the schemas say `additionalProperties: false`); an undocumented body (204) must be empty;
//!   documented headers (`Retry-After` on 429 and 503) must be present and valid.
//!
//! # What is covered
//!
//! [`every_documented_status_of_every_operation_is_produced_and_conforms`] runs a scenario list that
//! produces **every status the spec documents for every operation** (it fails if one is missing, so a
//! status added to the spec needs a scenario) plus the success variants (idempotent replay with a
//! reason, fulfilled and failed placements, ENDED sessions, a listed page with and without
//! `nextCursor`, `explain`, ARN path ids, both player-count spellings), and every sample event of
//! `events/api/`. Security is not checked here (the handlers see the authorizer's context, never the
//! `Authorization` header); schemathesis (`scripts/schemathesis.sh`) checks the same spec over HTTP,
//! through the local stack's gateway, with real tokens and SigV4 signatures.
//!
//! The other tests: the validator rejects a deliberately broken answer (proof the check can fail),
//! the spec's routes equal `deploy/routes.json` (which `deploy/check_template.py` compares with
//! template.yaml), and the spec's limits equal `fleet_core::limits`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, SequentialIds};
use fleet_core::ids::PlayerId;
use fleet_core::limits;
use fleet_core::model::{PlacementStatus, PlayerSession, SessionStatus};
use fleet_core::ports::{GameLiftError, SessionStore, StoreError};
use fleet_functions::deps::{Deps, PortSet};
use serde_json::{Value, json};

use crate::support_cases::*;
use crate::support_http::*;

// ---------------------------------------------------------------------------------------------------
// The spec
// ---------------------------------------------------------------------------------------------------

/// `api/openapi.yaml`, parsed, with compiled validators cached by schema.
pub struct Spec {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

/// `api/openapi.yaml`, read once per test binary.
pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    Spec::load_once(
        &SPEC,
        "api/openapi.yaml",
        ("openapi", "3.1"),
        "an OpenAPI 3.1 document",
    )
}

/// `api/asyncapi.yaml`, read once per test binary (its schemas are JSON Schema too).
pub fn asyncapi() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    Spec::load_once(
        &SPEC,
        "api/asyncapi.yaml",
        ("asyncapi", "3."),
        "an AsyncAPI 3 document",
    )
}

impl Spec {
    /// The YAML document `relative` of the repository, read into `cell` the first time; its
    /// `version.0` field must start with `version.1` (`what` says what it then is).
    fn load_once(
        cell: &'static OnceLock<Spec>,
        relative: &str,
        version: (&str, &str),
        what: &str,
    ) -> &'static Spec {
        cell.get_or_init(|| {
            let spec = Spec::load(relative);
            let (field, prefix) = version;
            assert_eq!(
                spec.doc[field].as_str().map(|v| v.starts_with(prefix)),
                Some(true),
                "{what}"
            );
            spec
        })
    }

    /// Reads a YAML document of the repository.
    fn load(relative: &str) -> Self {
        let path = format!("{}/../../{relative}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        Spec {
            doc,
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The document as JSON.
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// Follows a local `$ref` (`#/components/…`) of a parameter, response or header object.
    fn deref<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let target = r.strip_prefix('#').and_then(|p| self.doc.pointer(p));
                self.deref(target.unwrap_or_else(|| panic!("unresolvable $ref {r}")))
            }
            None => v,
        }
    }

    /// Validation errors of `instance` against `schema` (a schema of this document: its `$ref`s point
    /// into `#/components`), as `path: message` lines.
    pub fn errors(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let key = schema.to_string();
        let validator = {
            let mut cache = self
                .validators
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            cache
                .entry(key)
                .or_insert_with(|| {
                    let root = json!({
                        "$schema": "https://json-schema.org/draft/2020-12/schema",
                        "components": self.doc["components"],
                        "allOf": [schema],
                    });
                    let v = jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .should_validate_formats(true)
                        .build(&root)
                        .unwrap_or_else(|e| {
                            panic!("the spec's schema does not compile: {e}\n{schema}")
                        });
                    Arc::new(v)
                })
                .clone()
        };
        validator
            .iter_errors(instance)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect()
    }

    /// The operation serving `method path` (a concrete, percent-encoded path): its path template,
    /// the operation and the path item.
    pub fn operation(&self, method: &str, path: &str) -> Option<(String, &Value, &Value)> {
        let paths = self.doc["paths"].as_object()?;
        let concrete: Vec<&str> = path.split('/').collect();
        for (template, item) in paths {
            let t: Vec<&str> = template.split('/').collect();
            let matches = t.len() == concrete.len()
                && t.iter().zip(&concrete).all(|(t, c)| {
                    if t.starts_with('{') {
                        !c.is_empty()
                    } else {
                        t == c
                    }
                });
            if matches {
                return item
                    .get(method.to_ascii_lowercase())
                    .map(|op| (template.clone(), op, item));
            }
        }
        None
    }

    /// An operation's parameters (path-item ones first, the operation's override by name and place).
    fn parameters<'a>(&'a self, op: &'a Value, item: &'a Value) -> Vec<&'a Value> {
        let mut out: Vec<&Value> = Vec::new();
        for p in item["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(op["parameters"].as_array().into_iter().flatten())
        {
            let p = self.deref(p);
            out.retain(|q| !(q["name"] == p["name"] && q["in"] == p["in"]));
            out.push(p);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------------
// Exchanges
// ---------------------------------------------------------------------------------------------------

/// One request and its answer, as seen on the wire.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// `GET`, `POST`, …
    pub method: String,
    /// The raw (percent-encoded) path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// Request headers, lower-case names.
    pub headers: BTreeMap<String, String>,
    /// The request body.
    pub body: Option<String>,
    /// Answer status.
    pub status: u16,
    /// Answer headers, lower-case names.
    pub response_headers: BTreeMap<String, String>,
    /// Answer body bytes.
    pub response_body: Vec<u8>,
}

impl Exchange {
    /// The answer body as JSON (`Null` when empty or not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.response_body).unwrap_or(Value::Null)
    }
}

/// Runs `ev` through a handler and records the exchange.
pub async fn exchange<S: SessionStore>(
    d: &Deps<PortSet<S, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>,
    h: H,
    ev: &Ev,
) -> Exchange {
    let e = ev.to_json();
    let response = match h {
        H::Api => fleet_functions::api::handle(d, ev.request()).await,
        H::Rpc => fleet_functions::rpc::handle(d, ev.request()).await,
    };
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Exchange {
        method: text(&e["requestContext"]["http"]["method"]),
        path: text(&e["rawPath"]),
        query: text(&e["rawQueryString"]),
        headers: e["headers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), text(v)))
                    .collect()
            })
            .unwrap_or_default(),
        body: e.get("body").map(text),
        status: response.status().as_u16(),
        response_headers: response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("<not text>").to_owned(),
                )
            })
            .collect(),
        response_body: response.body().to_vec(),
    }
}

fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A parameter's text as the type its schema declares (`limit=10` → 10, `explain=true` → true), so
/// the schema checks the value and not its spelling; text that does not convert stays text (and fails).
fn coerce(spec: &Spec, schema: &Value, raw: &str) -> Value {
    let schema = spec.deref(schema);
    match schema["type"].as_str() {
        Some("integer") => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(raw)),
        Some("boolean") => match raw {
            "true" => json!(true),
            "false" => json!(false),
            _ => json!(raw),
        },
        _ => json!(raw),
    }
}

/// Why the request does not conform to the spec (empty: it conforms).
pub fn request_problems(spec: &Spec, x: &Exchange) -> Vec<String> {
    let Some((template, op, item)) = spec.operation(&x.method, &x.path) else {
        return vec![format!("no operation for {} {}", x.method, x.path)];
    };
    let mut problems = Vec::new();
    let params = spec.parameters(op, item);

    // Path parameters, percent-decoded once.
    for (t, c) in template.split('/').zip(x.path.split('/')) {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            let Some(p) = params
                .iter()
                .find(|p| p["in"] == "path" && p["name"] == name)
            else {
                problems.push(format!("path parameter {name} is not declared"));
                continue;
            };
            match percent_decode(c, false) {
                Some(v) => problems.extend(
                    spec.errors(&p["schema"], &json!(v))
                        .into_iter()
                        .map(|e| format!("path {name}: {e}")),
                ),
                None => problems.push(format!("path {name}: bad percent-encoding")),
            }
        }
    }

    // Query parameters, form-decoded; unknown and repeated ones do not conform.
    let mut seen = BTreeSet::new();
    for part in x.query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let (Some(name), Some(value)) = (percent_decode(name, true), percent_decode(value, true))
        else {
            problems.push(format!("query {part}: bad encoding"));
            continue;
        };
        if !seen.insert(name.clone()) {
            problems.push(format!("query {name}: given twice"));
        }
        match params
            .iter()
            .find(|p| p["in"] == "query" && p["name"] == name.as_str())
        {
            Some(p) => problems.extend(
                spec.errors(&p["schema"], &coerce(spec, &p["schema"], &value))
                    .into_iter()
                    .map(|e| format!("query {name}: {e}")),
            ),
            None => problems.push(format!(
                "query {name}: not a parameter of {} {template}",
                x.method
            )),
        }
    }
    for p in params
        .iter()
        .filter(|p| p["in"] == "query" && p["required"] == true)
    {
        if !seen.contains(p["name"].as_str().unwrap_or_default()) {
            problems.push(format!("query {}: required", p["name"]));
        }
    }

    // Header parameters the operation declares (transport headers are not the contract's).
    for p in params.iter().filter(|p| p["in"] == "header") {
        let name = p["name"].as_str().unwrap_or_default().to_ascii_lowercase();
        match x.headers.get(&name) {
            Some(v) => problems.extend(
                spec.errors(&p["schema"], &json!(v))
                    .into_iter()
                    .map(|e| format!("header {name}: {e}")),
            ),
            None if p["required"] == true => problems.push(format!("header {name}: required")),
            None => {}
        }
    }

    // The body.
    let body = spec.deref(&op["requestBody"]);
    match (body.is_null(), &x.body) {
        (true, _) => {} // GET and DELETE bodies are ignored by the handlers and undocumented.
        (false, None) if body["required"] == true => problems.push("body: required".into()),
        (false, None) => {}
        (false, Some(text)) => match serde_json::from_str::<Value>(text) {
            Ok(v) => match body["content"]["application/json"]["schema"].as_object() {
                Some(_) => problems.extend(
                    spec.errors(&body["content"]["application/json"]["schema"], &v)
                        .into_iter()
                        .map(|e| format!("body {e}")),
                ),
                None => problems.push("body: no application/json schema".into()),
            },
            Err(e) => problems.push(format!("body: not JSON ({e})")),
        },
    }
    problems
}

/// Why the answer does not conform to the spec (empty: it conforms).
pub fn response_problems(spec: &Spec, x: &Exchange) -> Vec<String> {
    let Some((template, op, _)) = spec.operation(&x.method, &x.path) else {
        return vec![format!("no operation for {} {}", x.method, x.path)];
    };
    let where_ = format!("{} {template} → {}", x.method, x.status);
    let Some(response) = op["responses"]
        .get(x.status.to_string())
        .map(|r| spec.deref(r))
    else {
        return vec![format!("{where_}: status not documented")];
    };
    let mut problems = Vec::new();
    match response["content"].as_object() {
        None => {
            if !x.response_body.is_empty() {
                problems.push(format!("{where_}: a body where the spec documents none"));
            }
        }
        Some(content) => {
            let ct = x
                .response_headers
                .get("content-type")
                .map(|c| c.split(';').next().unwrap_or("").trim().to_owned());
            match ct.as_deref().and_then(|c| content.get(c).map(|m| (c, m))) {
                None => problems.push(format!(
                    "{where_}: content-type {ct:?} not documented ({:?})",
                    content.keys().collect::<Vec<_>>()
                )),
                Some((_, media)) => match serde_json::from_slice::<Value>(&x.response_body) {
                    Ok(body) => problems.extend(
                        spec.errors(&media["schema"], &body)
                            .into_iter()
                            .map(|e| format!("{where_}: body {e}")),
                    ),
                    Err(e) => problems.push(format!("{where_}: body is not JSON ({e})")),
                },
            }
        }
    }
    for (name, header) in response["headers"].as_object().into_iter().flatten() {
        let header = spec.deref(header);
        match x.response_headers.get(&name.to_ascii_lowercase()) {
            Some(v) => problems.extend(
                spec.errors(&header["schema"], &coerce(spec, &header["schema"], v))
                    .into_iter()
                    .map(|e| format!("{where_}: header {name}: {e}")),
            ),
            // fleetlift's own answers always carry their documented headers.
            None => problems.push(format!("{where_}: header {name} missing")),
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------------

/// What the scenarios saw: (method, path template) → statuses.
#[derive(Default)]
struct Seen(BTreeMap<(String, String), BTreeSet<u16>>);

impl Seen {
    /// Checks one exchange: the expected status, the request's conformance as the scenario states it,
    /// and the answer's conformance; records the status.
    #[track_caller]
    fn check(&mut self, name: &str, x: &Exchange, status: u16, request_conforms: bool) {
        let spec = spec();
        assert_eq!(
            x.status,
            status,
            "{name}: {} {} answered {}",
            x.method,
            x.path,
            String::from_utf8_lossy(&x.response_body)
        );
        let req = request_problems(spec, x);
        if request_conforms {
            assert!(
                req.is_empty(),
                "{name}: the request should conform to the spec, but: {req:#?}"
            );
        } else {
            assert!(
                !req.is_empty(),
                "{name}: the spec should reject this request (the handler answered {status}): {x:?}"
            );
        }
        let res = response_problems(spec, x);
        assert!(
            res.is_empty(),
            "{name}: the answer does not conform: {res:#?}\n{}",
            String::from_utf8_lossy(&x.response_body)
        );
        if let Some((template, _, _)) = spec.operation(&x.method, &x.path) {
            self.0
                .entry((x.method.clone(), template))
                .or_default()
                .insert(x.status);
        }
    }
}

/// The scenario's request conforms to the spec.
const OK: bool = true;
/// The spec rejects the scenario's request.
const BAD: bool = false;

/// A scenario: its name, its request, the status it must get, and whether its request conforms.
type Case<'a> = (&'a str, Ev, u16, bool);

impl Seen {
    /// Runs one scenario through `h` on `d` and checks it; the exchange, for checks of its answer.
    async fn run<S: SessionStore>(&mut self, d: &AnyDeps<S>, h: H, case: Case<'_>) -> Exchange {
        let (name, ev, status, conforms) = case;
        let x = exchange(d, h, &ev).await;
        self.check(name, &x, status, conforms);
        x
    }

    /// Runs scenarios through `h`, in order, on `d`.
    async fn all<'a, S: SessionStore>(
        &mut self,
        d: &AnyDeps<S>,
        h: H,
        cases: impl IntoIterator<Item = Case<'a>>,
    ) {
        for case in cases {
            self.run(d, h, case).await;
        }
    }

    /// GameLift throttles the call `ev` makes (429), then times out on it (503); `call` names it.
    async fn gamelift_fails(&mut self, d: &TestDeps, h: H, call: &str, ev: &Ev) {
        let failures = [
            (GameLiftError::Throttled("rate".into()), "throttles", 429),
            (GameLiftError::Ambiguous("timeout".into()), "fails", 503),
        ];
        for (error, verb, status) in failures {
            d.gamelift.fail_next(error);
            let name = format!("GameLift {verb} {call}");
            self.run(d, h, (&name, ev.clone(), status, OK)).await;
        }
    }

    /// Runs `case` through fleet-api on fresh fakes whose GameLift fails its first call with
    /// `error`; the fakes and the exchange.
    async fn on_failing_gamelift(
        &mut self,
        error: GameLiftError,
        case: Case<'_>,
    ) -> (TestDeps, Exchange) {
        let d = deps();
        d.gamelift.fail_next(error);
        let x = self.run(&d, H::Api, case).await;
        (d, x)
    }

    /// Runs `case` on fresh fakes whose store fails its first call with `error` (503).
    async fn store_fails(&mut self, h: H, error: StoreError, case: Case<'_>) {
        let d = failing_deps();
        d.store.faults.fail_next(error);
        self.run(&d, h, case).await;
    }

    /// Fails unless the scenarios produced every status the spec documents for every operation.
    fn assert_every_documented_status(&self) {
        let mut missing = Vec::new();
        for (path, item) in spec().doc()["paths"].as_object().into_iter().flatten() {
            for (method, op) in
                item.as_object().into_iter().flatten().filter(|(m, _)| {
                    ["get", "post", "delete", "put", "patch"].contains(&m.as_str())
                })
            {
                let got = self
                    .0
                    .get(&(method.to_ascii_uppercase(), path.clone()))
                    .cloned()
                    .unwrap_or_default();
                for status in op["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(s, _)| s)
                {
                    if !status.parse::<u16>().is_ok_and(|s| got.contains(&s)) {
                        missing.push(format!("{} {path} {status}", method.to_ascii_uppercase()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "documented statuses no scenario produced: {missing:#?}"
        );
    }
}

/// A body just over 300 KB that is otherwise valid JSON for `schema_body` (whitespace padding).
fn oversized(body: &str) -> String {
    format!("{body}{}", " ".repeat(limits::BODY_MAX_BYTES))
}

/// `{"id": id}` as a status-rpc body.
fn id_body(id: impl serde::Serialize) -> String {
    json!({ "id": id }).to_string()
}

#[tokio::test]
async fn every_documented_status_of_every_operation_is_produced_and_conforms() {
    let mut seen = Seen::default();
    let d = deps();
    seen.all(&d, H::Api, [("health", Ev::get("/v1/health"), 200, OK)])
        .await;
    samples(&mut seen).await;
    sessions(&mut seen).await;
    session_settings(&mut seen).await;
    placements(&mut seen).await;
    game_server_reports(&mut seen).await;
    seen.assert_every_documented_status();
}

/// Every sample event of events/api/ conforms both ways.
async fn samples(seen: &mut Seen) {
    for (name, h, status) in [
        ("create-player.json", H::Api, 202),
        ("create-service.json", H::Api, 202),
        ("list.json", H::Api, 200),
        ("get-session.json", H::Api, 200),
        ("join.json", H::Api, 200),
        ("get-placement.json", H::Api, 200),
        ("delete-session.json", H::Api, 204),
        ("rpc-update-instance-info.json", H::Rpc, 204),
        ("rpc-update-instance-info-snake.json", H::Rpc, 204),
        ("rpc-delete-instance-info.json", H::Rpc, 204),
    ] {
        let d = deps();
        seed(&d, ARN_1, 8);
        store_placement(
            &d.store,
            &placement(SAMPLE_PLACEMENT, PLAYER_A, &[PLAYER_A]),
        )
        .await;
        let v = sample_json(name);
        // A sample carries the path as API Gateway hands it over, decoded (an ARN with its `/`s);
        // the spec describes what the client sends, the session id percent-encoded.
        let raw_path = v["rawPath"].as_str().unwrap_or_default();
        let path = match v["pathParameters"]["id"].as_str() {
            Some(id) => {
                let id = id.strip_suffix("/join").unwrap_or(id);
                raw_path.replacen(id, &encode(id), 1)
            }
            None => raw_path.to_owned(),
        };
        let mut ev = Ev::new(
            v["requestContext"]["http"]["method"]
                .as_str()
                .unwrap_or_default(),
            &path,
        )
        .query(v["rawQueryString"].as_str().unwrap_or_default());
        if let Some(b) = v["body"].as_str() {
            ev = ev.body(b);
        }
        for (k, val) in v["headers"].as_object().into_iter().flatten() {
            ev = ev.header(k, val.as_str().unwrap_or_default());
        }
        ev = match v["requestContext"]["authorizer"].clone() {
            Value::Null => ev,
            a => ev.by(Who::Raw(a)),
        };
        seen.run(&d, h, (name, ev, status, OK)).await;
    }
}

/// createSession, listSessions, getSession, deleteSession and joinSession.
async fn sessions(seen: &mut Seen) {
    create_session(seen).await;
    create_session_failures(seen).await;
    list_sessions(seen).await;
    get_session(seen).await;
    delete_session(seen).await;
    join_session(seen).await;
}

async fn create_session(seen: &mut Seen) {
    let create = |body: &str| route::create(body).by(service());
    let four = r#"{"maxPlayers":4}"#;
    let two = r#"{"maxPlayers":2}"#;
    let nulls = r#"{"maxPlayers":4,"players":null,"name":null,"data":null,"properties":null,"regions":null,"latencies":null}"#;
    let value_97 = json!({"maxPlayers":2,"properties":{"k":"v".repeat(97)}}).to_string();
    let regions: Vec<_> = (0..11).map(|i| format!("r-{i}")).collect();
    let regions = json!({"maxPlayers":2,"regions":regions}).to_string();
    let latency = json!({"maxPlayers":2,"latencies":[{"playerId":"p","region":"us-east-1","latencyMs":60001}]});
    let bell = json!({"maxPlayers":2,"players":[{"playerId":"a\u{7}b"}]}).to_string();
    let keyed = |body: &str| create(body).header("Idempotency-Key", "contract-1");
    let d = deps();
    seen.all(
        &d,
        H::Api,
        [
            ("minimal create", create(four), 202, OK),
            ("nulls mean absent", create(nulls), 202, OK),
            ("maxPlayers 0", create(r#"{"maxPlayers":0}"#), 400, BAD),
            ("maxPlayers 201", create(r#"{"maxPlayers":201}"#), 400, BAD),
            (
                "an unknown field",
                create(r#"{"maxPlayers":2,"nickname":"x"}"#),
                400,
                BAD,
            ),
            (
                "a property key with a dot",
                create(r#"{"maxPlayers":2,"properties":{"a.b":"x"}}"#),
                400,
                BAD,
            ),
            ("a property value of 97", create(&value_97), 400, BAD),
            ("11 regions", create(&regions), 400, BAD),
            ("latency 60001", create(&latency.to_string()), 400, BAD),
            (
                "an empty name",
                create(r#"{"maxPlayers":2,"name":""}"#),
                400,
                BAD,
            ),
            ("a control character in a playerId", create(&bell), 400, BAD),
            (
                "more players than maxPlayers (not expressible)",
                create(&create_body(1, &["a", "b"])),
                400,
                OK,
            ),
            (
                "a playerId twice (not expressible)",
                create(&create_body(4, &["a", "a"])),
                400,
                OK,
            ),
            ("not JSON", create("{"), 400, BAD),
            (
                "an Idempotency-Key of 129",
                create(two).header("Idempotency-Key", &"k".repeat(129)),
                400,
                BAD,
            ),
            (
                "an unknown query parameter",
                create(two).query("x=1"),
                400,
                BAD,
            ),
            ("nobody", route::create(two), 401, OK),
            (
                "a player for another",
                route::create(create_body(4, &[PLAYER_B])).by(player_a()),
                403,
                OK,
            ),
            (
                "a game server",
                route::create(create_body(4, &[])).by(gs_f1()),
                403,
                OK,
            ),
            ("an unknown principal", create(two).by(stranger()), 403, OK),
            (
                "over 300 KB (not expressible)",
                create(&oversized(two)),
                413,
                OK,
            ),
            ("a keyed create", keyed(four), 202, OK),
            (
                "the key with another body",
                keyed(r#"{"maxPlayers":5}"#),
                422,
                OK,
            ),
        ],
    )
    .await;
}

/// createSession when GameLift or the store fails, each on fresh fakes.
async fn create_session_failures(seen: &mut Seen) {
    let create = || route::create(r#"{"maxPlayers":4}"#).by(service());
    let rate = GameLiftError::Throttled("rate".into());
    let case = ("GameLift throttles the start", create(), 429, OK);
    seen.on_failing_gamelift(rate, case).await;
    let refused = GameLiftError::Invalid("queue not found".into());
    let retried = || create().header("Idempotency-Key", "contract-2");
    let case = ("GameLift refuses the start", retried(), 400, OK);
    let (d, _) = seen.on_failing_gamelift(refused, case).await;
    let case = ("a replay of a failed create", retried(), 202, OK);
    let replay = seen.run(&d, H::Api, case).await;
    assert_eq!(
        (
            replay.json()["status"].as_str(),
            replay.json()["reason"].is_string()
        ),
        (Some("FAILED"), true)
    );
    let unavailable = StoreError::Unavailable("timeout".into());
    let case = ("the store fails on create", create(), 503, OK);
    seen.store_fails(H::Api, unavailable, case).await;
    let reset = GameLiftError::Ambiguous("reset".into());
    let case = ("GameLift never took an ambiguous start", create(), 503, OK);
    seen.on_failing_gamelift(reset, case).await;
}

async fn list_sessions(seen: &mut Seen) {
    let d = deps();
    for i in 0..5 {
        let arn = format!("arn:aws:gamelift:us-east-1::gamesession/{F1}/gsess-{i}");
        let mut s = session(&arn, 10);
        s.created_at = T0.plus_secs(i);
        s.data = Some("round=1".into());
        d.store.seed_sessions(&[s]);
    }
    let list = |q: &str| route::list().query(q).by(player_a());
    let first = seen
        .run(&d, H::Api, ("a first page", list("limit=3"), 200, OK))
        .await;
    let cursor = first.json()["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let page = format!("limit=3&cursor={}", encode(&cursor));
    let last = seen
        .run(&d, H::Api, ("the last page", list(&page), 200, OK))
        .await;
    assert!(last.json().get("nextCursor").is_none());
    let explain = |q: &str| {
        route::list()
            .query(&format!("{q}&explain=true"))
            .by(service())
    };
    let explained = seen
        .run(
            &d,
            H::Api,
            ("explain", explain("query=%2Bregion%3Aus-east-1"), 200, OK),
        )
        .await;
    assert!(explained.json()["explain"].is_object());
    let filtered = explain("query=name%3Alob*+-properties.mode%3Aranked");
    let long_query = format!("query={}", "a".repeat(1025));
    let query = "query=%2Bregion%3Aus-east-1+%2BopenSlots%3A%3E%3D1&sort=-playerCount";
    seen.all(
        &d,
        H::Api,
        [
            ("every sort", list("sort=%2BcreatedAt"), 200, OK),
            ("a query", list(query), 200, OK),
            ("explain with a filter", filtered, 200, OK),
            (
                "a malformed query (not expressible)",
                list("query=%2Bregion%3A"),
                400,
                OK,
            ),
            ("a query of 1025", list(&long_query), 400, BAD),
            ("limit 0", list("limit=0"), 400, BAD),
            ("limit 101", list("limit=101"), 400, BAD),
            ("an unknown sort", list("sort=name"), 400, BAD),
            ("explain=yes", list("explain=yes"), 400, BAD),
            (
                "a tampered cursor (not expressible)",
                list(&format!("{page}x")),
                400,
                OK,
            ),
            ("a parameter twice", list("limit=3&limit=4"), 400, BAD),
            ("an unknown parameter", list("page=2"), 400, BAD),
        ],
    )
    .await;
    // Found by schemathesis: an empty parameter name was answered with `"field": ""`.
    for q in ["=x", "limit=3&=", "&=x&"] {
        let case = ("a parameter with an empty name", list(q), 400, BAD);
        let x = seen.run(&d, H::Api, case).await;
        assert_eq!(x.json()["error"]["field"], "query string", "{q}");
    }
    let other_route = route::get_session(short_id(ARN_1)).query("=x");
    let x = exchange(&d, H::Api, &other_route.by(player_a())).await;
    assert_eq!(
        (x.status, x.json()["error"]["field"].as_str()),
        (400, Some("query string")),
        "the other routes too"
    );
    seen.all(
        &d,
        H::Api,
        [
            ("nobody lists", route::list(), 401, OK),
            ("explain by a player", list("explain=true"), 403, OK),
        ],
    )
    .await;
    let throttled = StoreError::Throttled("busy".into());
    let case = ("the store fails on list", list(""), 503, OK);
    seen.store_fails(H::Api, throttled, case).await;
}

async fn get_session(seen: &mut Seen) {
    let get = |id: &str| route::get_session(id).by(player_a());
    let corrupt = StoreError::Corrupt {
        key: "S#x".into(),
        reason: "bad".into(),
    };
    let case = ("the store fails on get", get(&short_id(ARN_1)), 503, OK);
    seen.store_fails(H::Api, corrupt, case).await;
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let id = s.id.as_str();
    seen.all(
        &d,
        H::Api,
        [
            ("get by id", get(id), 200, OK),
            ("get by percent-encoded ARN", get(&encode(ARN_1)), 200, OK),
            ("get a malformed id", get("nope"), 400, BAD),
            ("get with a parameter", get(id).query("x=1"), 400, BAD),
            ("get an unknown id", get(&short_id(ARN_2)), 404, OK),
            (
                "an unknown principal gets",
                route::get_session(id).by(stranger()),
                403,
                OK,
            ),
            ("nobody gets", route::get_session(id), 401, OK),
        ],
    )
    .await;
    let mut ended = session(ARN_2, 4);
    ended.status = SessionStatus::Ended;
    d.store.seed_sessions(&[ended]);
    let case = ("get an ENDED session", get(&short_id(ARN_2)), 200, OK);
    let x = seen.run(&d, H::Api, case).await;
    assert_eq!(
        (x.json()["status"].as_str(), x.json()["openSlots"].as_u64()),
        (Some("ENDED"), Some(0))
    );
}

async fn delete_session(seen: &mut Seen) {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let del = |id: &str| route::delete_session(id).by(service());
    let id = s.id.as_str();
    let unknown = short_id("arn:aws:gamelift:us-east-1::gamesession/fleet-x/gsess-none");
    seen.all(
        &d,
        H::Api,
        [
            (
                "delete with terminate",
                del(id).query("terminate=true"),
                204,
                OK,
            ),
            ("delete again", del(id), 204, OK),
            ("delete an unseen ARN", del(&encode(ARN_2)), 204, OK),
            ("terminate=yes", del(id).query("terminate=yes"), 400, BAD),
            ("delete an unknown id", del(&unknown), 404, OK),
            ("nobody deletes", route::delete_session(id), 401, OK),
            (
                "a player deletes",
                route::delete_session(id).by(player_a()),
                403,
                OK,
            ),
        ],
    )
    .await;
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let terminate = del(s.id.as_str()).query("terminate=true");
    seen.gamelift_fails(&d, H::Api, "the terminate", &terminate)
        .await;
}

async fn join_session(seen: &mut Seen) {
    let d = deps();
    let s = seed(&d, ARN_1, 2);
    let join =
        |id: &str, body: &str| Ev::post(&format!("/v1/sessions/{id}/join"), body).by(service());
    let id = s.id.as_str();
    let x = join_body(&["x"]);
    let with_data = r#"{"players":[{"playerId":"p2","playerData":"x"}]}"#;
    seen.all(
        &d,
        H::Api,
        [
            ("join", join(id, &join_body(&[PLAYER_A])), 200, OK),
            (
                "join by ARN with player data",
                join(&encode(ARN_1), with_data),
                200,
                OK,
            ),
            ("join no players", join(id, r#"{"players":[]}"#), 400, BAD),
            (
                "join 26 players",
                join(id, &join_body(&[PLAYER_A; 26])),
                400,
                BAD,
            ),
            (
                "join a player twice (not expressible)",
                join(id, &join_body(&["x", "x"])),
                400,
                OK,
            ),
            ("join without players", join(id, "{}"), 400, BAD),
            ("nobody joins", route::join(id, &["x"]), 401, OK),
            (
                "a player joins another",
                route::join(id, &[PLAYER_B]).by(player_a()),
                403,
                OK,
            ),
            (
                "join an unknown session",
                join(&short_id(ARN_2), &x),
                404,
                OK,
            ),
            ("join a full session", join(id, &x), 409, OK),
            ("join over 300 KB", join(id, &oversized(&x)), 413, OK),
        ],
    )
    .await;
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    seen.gamelift_fails(&d, H::Api, "the join", &join(s.id.as_str(), &x))
        .await;
}

/// listLocations (where a placement may go), getPlacement and cancelPlacement.
async fn placements(seen: &mut Seen) {
    list_locations(seen).await;
    get_placement(seen).await;
    cancel_placement(seen).await;
}

async fn list_locations(seen: &mut Seen) {
    let locations = |who: Who| route::locations().by(who);
    let d = deps();
    seen.all(
        &d,
        H::Api,
        [
            ("a player lists locations", locations(player_a()), 200, OK),
            (
                "locations with a query parameter",
                locations(service()).query("region=us-east-1"),
                400,
                BAD,
            ),
            ("nobody lists locations", route::locations(), 401, OK),
            ("a stranger lists locations", locations(stranger()), 403, OK),
        ],
    )
    .await;
    for (error, status) in [
        (GameLiftError::Throttled("rate".into()), 429),
        (GameLiftError::Ambiguous("timeout".into()), 503),
    ] {
        let name = "GameLift fails ListLocations with nothing cached";
        seen.on_failing_gamelift(error, (name, locations(service()), status, OK))
            .await;
    }
}

async fn get_placement(seen: &mut Seen) {
    let d = deps();
    seed_fulfilled_p9(&d.store).await;
    seed_timed_out_p5(&d.store, "timed out").await;
    let getp = |id: &str, who: Who| route::get_placement(id).by(who);
    let case = (
        "a fulfilled placement, as a listed player",
        getp("p-9", player_a()),
        200,
        OK,
    );
    let x = seen.run(&d, H::Api, case).await;
    assert!(x.json()["session"].is_object() && x.json()["playerSessions"].is_array());
    seen.all(
        &d,
        H::Api,
        [
            (
                "a fulfilled placement, as a service",
                getp("p-9", service()),
                200,
                OK,
            ),
            ("a timed-out placement", getp("p-5", player_a()), 200, OK),
            (
                "a placement id with _",
                getp("bad_id", player_a()),
                400,
                BAD,
            ),
            (
                "a placement id of 49",
                getp(&"p".repeat(49), player_a()),
                400,
                BAD,
            ),
            (
                "nobody reads a placement",
                route::get_placement("p-9"),
                401,
                OK,
            ),
            (
                "an unknown principal reads a placement",
                getp("p-9", stranger()),
                403,
                OK,
            ),
            ("someone else's placement", getp("p-5", player_b()), 404, OK),
            ("no such placement", getp("p-404", service()), 404, OK),
        ],
    )
    .await;
    let unavailable = StoreError::Unavailable("timeout".into());
    let case = (
        "the store fails on a placement",
        getp("p-1", service()),
        503,
        OK,
    );
    seen.store_fails(H::Api, unavailable, case).await;
}

async fn cancel_placement(seen: &mut Seen) {
    let d = deps();
    for id in ["c-1", "c-2", "c-3"] {
        store_placement(&d.store, &placement(id, PLAYER_A, &[PLAYER_A])).await;
    }
    let cancel = |id: &str, who: Who| route::cancel(id).by(who);
    seen.all(
        &d,
        H::Api,
        [
            (
                "a player cancels its placement",
                cancel("c-1", player_a()),
                200,
                OK,
            ),
            (
                "a cancelled placement cancelled again",
                cancel("c-1", service()),
                409,
                OK,
            ),
            (
                "a placement id with _ cancelled",
                cancel("bad_id", player_a()),
                400,
                BAD,
            ),
            ("nobody cancels", route::cancel("c-2"), 401, OK),
            ("a game server cancels", cancel("c-2", gs_f1()), 403, OK),
            ("another player cancels", cancel("c-2", player_b()), 404, OK),
        ],
    )
    .await;
    d.gamelift
        .fail_next(GameLiftError::Throttled("slow down".into()));
    let case = (
        "GameLift throttles the stop",
        cancel("c-2", player_a()),
        429,
        OK,
    );
    seen.all(&d, H::Api, [case]).await;
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    let case = ("GameLift fails the stop", cancel("c-3", service()), 503, OK);
    seen.all(&d, H::Api, [case]).await;
}

/// updateSession and getConnections.
async fn session_settings(seen: &mut Seen) {
    update_session(seen).await;
    get_connections(seen).await;
}

async fn update_session(seen: &mut Seen) {
    let patch = |id: &str, body: &str, who: Who| route::patch(id, body).by(who);
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let id = s.id.as_str();
    let (lock, unlock) = (r#"{"joinable":false}"#, r#"{"joinable":true}"#);
    seen.all(
        &d,
        H::Api,
        [
            (
                "a service locks a session",
                patch(id, lock, service()),
                200,
                OK,
            ),
            (
                "a game server protects its fleet's session by ARN",
                patch(&encode(ARN_1), r#"{"protected":true}"#, gs_f1()),
                200,
                OK,
            ),
            ("an empty patch", patch(id, "{}", service()), 400, BAD),
            (
                "joinable as a string",
                patch(id, r#"{"joinable":"no"}"#, service()),
                400,
                BAD,
            ),
            ("nobody patches", route::patch(id, unlock), 401, OK),
            ("a player patches", patch(id, unlock, player_a()), 403, OK),
            (
                "patch an unknown session",
                patch(&short_id(ARN_2), unlock, service()),
                404,
                OK,
            ),
            (
                "patch over 300 KB",
                patch(id, &oversized(unlock), service()),
                413,
                OK,
            ),
        ],
    )
    .await;
    let unlocking = patch(id, unlock, service());
    seen.gamelift_fails(&d, H::Api, "the update", &unlocking)
        .await;
    d.gamelift
        .fail_next(GameLiftError::NotActive("TERMINATING".into()));
    let case = ("GameLift says the session is ending", unlocking, 409, OK);
    seen.all(&d, H::Api, [case]).await;
}

async fn get_connections(seen: &mut Seen) {
    let (d, s) = with_session(gateway_deps(), ARN_1, 8);
    let direct = seed(&d, ARN_2, 8);
    let id = s.id.as_str();
    let mine_of = |id: &str, who: Who| route::connection(id, &[PLAYER_A]).by(who);
    let mine = format!(r#"{{"players":[{{"playerId":"{PLAYER_A}"}}]}}"#);
    let too_large = Ev::post(&format!("/v1/sessions/{id}/connection"), oversized(&mine));
    let many: Vec<String> = (0..26).map(|i| format!("p-{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    seen.all(
        &d,
        H::Api,
        [
            (
                "a player refreshes its gateway token",
                mine_of(id, player_a()),
                200,
                OK,
            ),
            (
                "a service asks for a direct fleet's endpoint",
                mine_of(&encode(direct.arn.as_str()), service()),
                200,
                OK,
            ),
            (
                "26 players",
                route::connection(id, &many).by(service()),
                400,
                BAD,
            ),
            (
                "nobody asks for connections",
                route::connection(id, &[PLAYER_A]),
                401,
                OK,
            ),
            (
                "a game server asks for connections",
                mine_of(id, gs_f1()),
                403,
                OK,
            ),
            (
                "connections of an unknown session",
                mine_of("gs-AAAAAAAAAAAAAAAAAAAAAA", player_a()),
                404,
                OK,
            ),
            ("connections over 300 KB", too_large.by(player_a()), 413, OK),
        ],
    )
    .await;
    seen.gamelift_fails(&d, H::Api, "the details", &mine_of(id, player_a()))
        .await;
    assert_eq!(
        d.store
            .end_session(fleet_core::ports::SessionKey::Id(&s.id), T0)
            .await
            .expect("store"),
        fleet_core::ports::Applied::Applied
    );
    let case = (
        "connections of an ended session",
        mine_of(id, player_a()),
        409,
        OK,
    );
    seen.all(&d, H::Api, [case]).await;
}

/// updateInstanceInfo and deleteInstanceInfo.
async fn game_server_reports(seen: &mut Seen) {
    update_instance_info(seen).await;
    delete_instance_info(seen).await;
}

async fn update_instance_info(seen: &mut Seen) {
    const UPDATE: &str = "/v1/rpc/update_instance_info";
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let update = |body: &str, who: Who| Ev::post(UPDATE, body).by(who);
    let mine = id_body(&s.id);
    let (unknown, huge) = (id_body(short_id(ARN_2)), oversized(&mine));
    let nulls = json!({"id": ARN_1, "playerCount": 2, "metadata": {"GameSessionName": null, "GameSessionData": "d", "GameProperties": null}});
    let unknown_field = json!({"id": s.id, "metadata": {"Foo": "x"}}).to_string();
    let both = json!({"id": s.id, "playerCount": 1, "player_count": 2}).to_string();
    let body = |count: &str, n: u32| json!({"id": s.id, count: n}).to_string();
    seen.all(
        &d,
        H::Rpc,
        [
            ("a liveness ping", update(&mine, gs_f1()), 204, OK),
            (
                "player_count",
                update(&body("player_count", 2), gs_f1()),
                204,
                OK,
            ),
            (
                "metadata with nulls",
                update(&nulls.to_string(), gs_f1()),
                204,
                OK,
            ),
            (
                "playerCount 201",
                update(&body("playerCount", 201), gs_f1()),
                400,
                BAD,
            ),
            (
                "an unknown metadata field",
                update(&unknown_field, gs_f1()),
                400,
                BAD,
            ),
            ("no id", update(r#"{"playerCount":1}"#, gs_f1()), 400, BAD),
            (
                "both spellings, different (not expressible)",
                update(&both, gs_f1()),
                400,
                OK,
            ),
            ("nobody reports", Ev::post(UPDATE, mine.clone()), 401, OK),
            ("a player reports", update(&mine, player_a()), 403, OK),
            (
                "another fleet's game server",
                update(&id_body(ARN_1), gs_f2()),
                403,
                OK,
            ),
            ("an unknown short id", update(&unknown, service()), 404, OK),
            ("a report over 300 KB", update(&huge, gs_f1()), 413, OK),
        ],
    )
    .await;
    let rename = json!({"id": s.id, "metadata": {"GameSessionName": "renamed"}}).to_string();
    seen.gamelift_fails(&d, H::Rpc, "the update", &update(&rename, gs_f1()))
        .await;
    let end = Ev::post("/v1/rpc/delete_instance_info", mine.clone()).by(gs_f1());
    seen.all(
        &d,
        H::Rpc,
        [
            ("end it", end, 204, OK),
            (
                "a report on an ENDED session",
                update(&body("playerCount", 1), gs_f1()),
                409,
                OK,
            ),
        ],
    )
    .await;
}

async fn delete_instance_info(seen: &mut Seen) {
    const DELETE: &str = "/v1/rpc/delete_instance_info";
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let end = |body: &str, who: Who| Ev::post(DELETE, body).by(who);
    let by_arn = id_body(ARN_1);
    let (unknown, huge) = (id_body(short_id(ARN_2)), oversized(&by_arn));
    seen.all(
        &d,
        H::Rpc,
        [
            ("end by ARN", end(&by_arn, gs_f1()), 204, OK),
            (
                "end by id, as a service",
                end(&id_body(&s.id), service()),
                204,
                OK,
            ),
            ("end without id", end("{}", gs_f1()), 400, BAD),
            (
                "end a malformed id",
                end(r#"{"id":"nope"}"#, gs_f1()),
                400,
                BAD,
            ),
            (
                "end with a parameter",
                end(&by_arn, gs_f1()).query("x=1"),
                400,
                BAD,
            ),
            ("nobody ends", Ev::post(DELETE, by_arn.clone()), 401, OK),
            ("a player ends", end(&by_arn, player_a()), 403, OK),
            ("an unknown short id ends", end(&unknown, gs_f1()), 404, OK),
            ("an end over 300 KB", end(&huge, gs_f1()), 413, OK),
        ],
    )
    .await;
    let unavailable = StoreError::Unavailable("timeout".into());
    let case = ("the store fails on an end", end(&by_arn, gs_f1()), 503, OK);
    seen.store_fails(H::Rpc, unavailable, case).await;
}

// ---------------------------------------------------------------------------------------------------
// The check can fail
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_deliberately_broken_answer_is_caught_by_the_conformance_check() {
    let spec = spec();
    let d = deps();
    let created = exchange(
        &d,
        H::Api,
        &Ev::post("/v1/sessions", r#"{"maxPlayers":4}"#).by(Who::iam(SERVICE)),
    )
    .await;
    assert!(
        response_problems(spec, &created).is_empty(),
        "the real answer conforms"
    );

    let broken = |mutate: &dyn Fn(&mut Exchange)| {
        let mut x = created.clone();
        mutate(&mut x);
        response_problems(spec, &x)
    };
    let rename = broken(&|x| {
        let body = String::from_utf8_lossy(&x.response_body).replace("placementId", "placementID");
        x.response_body = body.into_bytes();
    });
    assert!(
        rename.iter().any(|p| p.contains("placementID")),
        "a renamed field is caught: {rename:?}"
    );
    let status =
        broken(&|x| x.response_body = br#"{"placementId":"p-1","status":"QUEUED"}"#.to_vec());
    assert!(!status.is_empty(), "an unknown status value is caught");
    let code = broken(&|x| x.status = 200);
    assert!(
        code.iter().any(|p| p.contains("not documented")),
        "an undocumented status is caught: {code:?}"
    );
    let ct = broken(&|x| {
        x.response_headers
            .insert("content-type".into(), "text/plain".into());
    });
    assert!(!ct.is_empty(), "a wrong content-type is caught");

    // A session answer with `openSlots` as a string, and with an internal field leaking.
    let s = seed(&d, ARN_1, 8);
    let got = exchange(
        &d,
        H::Api,
        &Ev::get(&format!("/v1/sessions/{}", s.id)).by(Who::player(PLAYER_A)),
    )
    .await;
    assert!(response_problems(spec, &got).is_empty());
    for (field, value) in [("openSlots", json!("8")), ("reservedSeats", json!(0))] {
        let mut x = got.clone();
        let mut body = x.json();
        body[field] = value;
        x.response_body = body.to_string().into_bytes();
        assert!(!response_problems(spec, &x).is_empty(), "{field} is caught");
    }
    // An error answer without its Retry-After, and one with the wrong code for its status.
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    let throttled = exchange(
        &d,
        H::Api,
        &Ev::post("/v1/sessions", r#"{"maxPlayers":4}"#).by(Who::iam(SERVICE)),
    )
    .await;
    assert_eq!(throttled.status, 429);
    assert!(response_problems(spec, &throttled).is_empty());
    let mut x = throttled.clone();
    x.response_headers.remove("retry-after");
    assert!(
        !response_problems(spec, &x).is_empty(),
        "a missing Retry-After is caught"
    );
    let mut x = throttled;
    let body =
        String::from_utf8_lossy(&x.response_body).replace("\"throttled\"", "\"unavailable\"");
    x.response_body = body.into_bytes();
    assert!(
        !response_problems(spec, &x).is_empty(),
        "a code that is not the status's is caught"
    );
}

// ---------------------------------------------------------------------------------------------------
// The WebSocket API
// ---------------------------------------------------------------------------------------------------

/// `schema` with every local `$ref` replaced by its target, recursively (the schemas are not recursive).
fn inlined(spec: &Spec, schema: &Value) -> Value {
    match schema {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, v) in m {
                if k == "$ref" {
                    let target = v
                        .as_str()
                        .and_then(|r| r.strip_prefix('#'))
                        .and_then(|p| spec.doc.pointer(p))
                        .cloned()
                        .unwrap_or(Value::Null);
                    if let Value::Object(t) = inlined(spec, &target) {
                        out.extend(t);
                    }
                } else {
                    out.insert(k.clone(), inlined(spec, v));
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| inlined(spec, v)).collect()),
        other => other.clone(),
    }
}

#[test]
fn the_asyncapi_copies_of_openapi_schemas_are_identical() {
    let (a, o) = (asyncapi(), spec());
    let mut shared = 0;
    for (name, schema) in a.doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let Some(theirs) = o.doc["components"]["schemas"].get(name) else {
            continue;
        };
        if name == "GatewayMessage" {
            continue; // the WebSocket API's carries connectionId and requestId too
        }
        shared += 1;
        assert_eq!(
            inlined(a, schema),
            inlined(o, theirs),
            "components.schemas.{name} differs between api/asyncapi.yaml and api/openapi.yaml"
        );
    }
    assert!(
        shared >= 10,
        "the session and placement schemas are shared ({shared})"
    );
}

#[test]
fn the_messages_the_websocket_api_sends_conform_to_the_asyncapi_document() {
    use fleet_functions::notifier::{error_message, placement_message};
    let a = asyncapi();
    let payload = |message: &str| a.doc["components"]["messages"][message]["payload"].clone();
    let check = |message: &str, bytes: &[u8]| {
        let v: Value = serde_json::from_slice(bytes).expect("a JSON message");
        let errors = a.errors(&payload(message), &v);
        assert!(errors.is_empty(), "{message}: {errors:#?}\n{v}");
    };

    let mut p = placement("p-9", SERVICE, &[PLAYER_A, PLAYER_B]);
    check("placement", &placement_message(&p, None, PLAYER_A));
    let mut s = session(ARN_1, 8);
    s.data = Some("round=1".into());
    p.status = PlacementStatus::Fulfilled;
    p.session_id = Some(s.id.clone());
    p.player_sessions = vec![PlayerSession {
        player_id: PlayerId::parse(PLAYER_A).expect("id"),
        player_session_id: "psess-a".into(),
    }];
    check("placement", &placement_message(&p, Some(&s), PLAYER_A));
    check("placement", &placement_message(&p, Some(&s), PLAYER_B));
    s.status = SessionStatus::Ended;
    check("placement", &placement_message(&p, Some(&s), PLAYER_A));
    let full: Value =
        serde_json::from_slice(&placement_message(&p, Some(&s), PLAYER_A)).expect("JSON");
    assert!(full["session"].is_object() && full["playerSession"]["port"].is_u64());
    p.status = PlacementStatus::TimedOut;
    p.reason = Some("timed out".into());
    check("placement", &placement_message(&p, None, PLAYER_A));
    for code in ["invalid_argument", "unauthenticated", "not_found"] {
        check("error", &error_message(code, "why", Some("p-9")));
        check("error", &error_message(code, "why", None));
    }
    check(
        "subscribe",
        br#"{"action":"subscribe","placementId":"9b2f6c1e-4a7d-4f0e-8c3b-2e5d7a9f1b04"}"#,
    );

    // The check can fail: a renamed field, an extra field, and a subscribe the handler would refuse.
    let mut broken: Value =
        serde_json::from_slice(&placement_message(&p, None, PLAYER_A)).expect("JSON");
    broken["placementID"] = broken["placementId"].take();
    assert!(!a.errors(&payload("placement"), &broken).is_empty());
    assert!(
        !a.errors(
            &payload("subscribe"),
            &json!({"action": "subscribe", "placementId": "p-1", "x": 1})
        )
        .is_empty()
    );
    assert!(
        !a.errors(
            &payload("error"),
            &json!({"type": "error", "error": {"code": "conflict", "message": "m"}})
        )
        .is_empty()
    );
}

// ---------------------------------------------------------------------------------------------------
// Routes and limits
// ---------------------------------------------------------------------------------------------------

/// `(method, path, function, apis, public)` of a route.
type Route = (String, String, String, Vec<String>, bool);

#[test]
fn the_specs_operations_are_exactly_the_deployed_routes() {
    let path = format!("{}/../../deploy/routes.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let routes: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let strings = |v: &Value| -> Vec<String> {
        let mut s: Vec<String> = v
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        s.sort();
        s
    };
    let deployed: BTreeSet<Route> = routes["routes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            (
                text("method"),
                text("path"),
                text("function"),
                strings(&r["apis"]),
                r["public"] == true,
            )
        })
        .collect();

    let doc = spec().doc();
    let server_api = |servers: &Value| -> Vec<String> {
        // A server list names its APIs by their URL's API-id variable.
        let mut apis: Vec<String> = servers
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["url"].as_str())
            .map(|u| {
                if u.contains("{serviceApiId}") {
                    "service".to_owned()
                } else if u.contains("{playerApiId}") {
                    "player".to_owned()
                } else {
                    u.to_owned()
                }
            })
            .collect();
        apis.sort();
        apis
    };
    let top_level = server_api(&doc["servers"]);
    assert_eq!(
        top_level,
        ["player", "service"],
        "the two HTTP APIs are the spec's servers"
    );

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(m, _)| ["get", "post", "delete", "put", "patch"].contains(&m.as_str()))
        {
            let apis = strings(&op["x-fleetlift-apis"]);
            let public = op["x-fleetlift-public"] == true;
            let function = op["x-fleetlift-function"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let name = format!("{} {path}", method.to_ascii_uppercase());
            // Where the operation is served must say the same: the servers that apply to it…
            let servers = if op.get("servers").is_some() {
                &op["servers"]
            } else if item.get("servers").is_some() {
                &item["servers"]
            } else {
                &doc["servers"]
            };
            assert_eq!(
                server_api(servers),
                apis,
                "{name}: servers and x-fleetlift-apis disagree"
            );
            // …and its security: a public route has none, else one scheme per API.
            let mut schemes: Vec<String> = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: no per-operation security"))
                .iter()
                .flat_map(|r| r.as_object().into_iter().flatten().map(|(k, _)| k.clone()))
                .collect();
            schemes.sort();
            let expected: Vec<String> = if public {
                vec![]
            } else {
                apis.iter()
                    .map(|a| {
                        if a == "player" {
                            "playerJwt".to_owned()
                        } else {
                            "serviceSigV4".to_owned()
                        }
                    })
                    .collect()
            };
            assert_eq!(
                schemes, expected,
                "{name}: security and x-fleetlift-apis disagree"
            );
            // A session route is documented at the path clients call and deployed as the greedy
            // route that serves it, which the operation names in `x-fleetlift-route`.
            let (route_method, route_path) = match op["x-fleetlift-route"].as_str() {
                Some(route) => {
                    let (m, p) = route
                        .split_once(' ')
                        .unwrap_or_else(|| panic!("{name}: x-fleetlift-route is `METHOD /path`"));
                    assert_eq!(
                        m,
                        method.to_ascii_uppercase(),
                        "{name}: x-fleetlift-route's method"
                    );
                    (m.to_owned(), p.to_owned())
                }
                None => (method.to_ascii_uppercase(), path.clone()),
            };
            documented.insert((route_method, route_path, function, apis, public));
        }
    }
    let only_spec: Vec<_> = documented.difference(&deployed).collect();
    let only_deployed: Vec<_> = deployed.difference(&documented).collect();
    assert!(
        only_spec.is_empty() && only_deployed.is_empty(),
        "api/openapi.yaml and deploy/routes.json disagree.\nonly in the spec: {only_spec:#?}\nonly deployed: {only_deployed:#?}"
    );
}

#[test]
fn the_specs_limits_are_fleet_cores_limits() {
    use fleet_core::limits::*;
    let doc = spec().doc();
    // Where each limit stands under #/components, and fleet_core's value for it (one a line).
    #[rustfmt::skip]
    let keywords: [(&str, u64); 17] = [
        ("schemas/CreateSessionRequest/properties/maxPlayers/maximum", n(MAX_PLAYERS)),
        ("schemas/CreateSessionRequest/properties/players/maxItems", n(MAX_PLAYERS)),
        ("schemas/JoinSessionRequest/properties/players/maxItems", n(MAX_PLAYERS_PER_JOIN)),
        ("schemas/JoinResult/properties/playerSessions/maxItems", n(MAX_PLAYERS_PER_JOIN)),
        ("schemas/PlayerId/maxLength", n(PLAYER_ID_MAX)),
        ("schemas/PlayerData/maxLength", n(PLAYER_DATA_MAX)),
        ("schemas/GameProperties/maxProperties", n(PROPERTIES_MAX)),
        ("schemas/GameProperties/propertyNames/maxLength", n(PROPERTY_KEY_MAX)),
        ("schemas/GameProperties/additionalProperties/maxLength", n(PROPERTY_VALUE_MAX)),
        ("schemas/SessionName/maxLength", n(NAME_MAX)),
        ("schemas/Session/properties/name/maxLength", n(NAME_MAX)),
        ("schemas/SessionData/maxLength", n(DATA_MAX)),
        ("schemas/CreateSessionRequest/properties/latencies/maxItems", n(LATENCIES_MAX)),
        ("schemas/LatencyRequest/properties/latencyMs/maximum", n(LATENCY_MS_MAX)),
        ("schemas/CreateSessionRequest/properties/regions/maxItems", n(REGIONS_MAX)),
        ("schemas/PlacementId/maxLength", n(PLACEMENT_ID_MAX)),
        ("parameters/IdempotencyKey/schema/maxLength", n(IDEMPOTENCY_KEY_MAX)),
    ];
    // The list's query parameters: name, schema keyword, fleet_core's value.
    let list_params: [(&str, &str, u64); 5] = [
        ("query", "maxLength", n(QUERY_MAX)),
        ("limit", "minimum", n(LIMIT_MIN)),
        ("limit", "maximum", n(LIMIT_MAX)),
        ("limit", "default", n(LIMIT_DEFAULT)),
        (
            "cursor",
            "maxLength",
            n(fleet_core::query::cursor::CURSOR_MAX),
        ),
    ];
    let params = doc["paths"]["/v1/sessions"]["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut wrong = Vec::new();
    for (pointer, code) in keywords {
        let spec = doc
            .pointer(&format!("/components/{pointer}"))
            .and_then(Value::as_u64);
        if spec != Some(code) {
            wrong.push((pointer.to_owned(), spec, code));
        }
    }
    for (name, keyword, code) in list_params {
        let param = params.iter().find(|p| p["name"] == name);
        let spec = param.and_then(|p| p["schema"][keyword].as_u64());
        if spec != Some(code) {
            wrong.push((format!("list parameter {name}.{keyword}"), spec, code));
        }
    }
    assert!(
        wrong.is_empty(),
        "limits in api/openapi.yaml differ from fleet_core::limits (where, spec, code): {wrong:#?}"
    );
    assert_eq!(limits::BODY_MAX_BYTES, 307_200);
    assert!(
        doc["info"]["description"]
            .as_str()
            .is_some_and(|d| d.contains("300 KB (307,200 bytes)")),
        "the body limit is stated in the description"
    );
}

// ---------------------------------------------------------------------------------------------------
// The handlers over HTTP, for schemathesis without the local stack
// ---------------------------------------------------------------------------------------------------

/// Serves fleet-api and status-rpc on the in-memory fakes over plain HTTP/1.1 (one request per
/// connection) until killed, on `FLEETLIFT_CONTRACT_PORT` (default 4010), so `scripts/schemathesis.sh`
/// can run against the handlers alone:
///
/// ```text
/// cargo test -p fleet-functions --test handlers contract::serve_the_handlers -- --ignored --nocapture &
/// FLEETLIFT_HTTP=http://127.0.0.1:4010 FLEETLIFT_TOKEN=player-7f3c2a scripts/schemathesis.sh
/// ```
///
/// It stands in for API Gateway's authorizers without checking anything: `Bearer <t>` is the player
/// whose `sub` is the JWT's `sub` (or `t` itself when it is not a JWT); a SigV4 `Authorization` is
/// the configured service; anything else has no identity (401). The real gateway, with real JWT
/// and SigV4 checks, is the local stack's.
#[tokio::test]
#[ignore = "a server for scripts/schemathesis.sh; runs until killed"]
async fn serve_the_handlers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let port: u16 = std::env::var("FLEETLIFT_CONTRACT_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(4010);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    let d = deps();
    seed(&d, ARN_1, 8);
    println!("serving the handlers on http://127.0.0.1:{port}");
    loop {
        let Ok((mut socket, _)) = listener.accept().await else {
            continue;
        };
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        // Headers, then Content-Length bytes of body.
        let (head_end, length) = loop {
            let Ok(n) = socket.read(&mut chunk).await else {
                break (None, 0);
            };
            if n == 0 {
                break (None, 0);
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_string();
                let length = head
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                break (Some(i + 4), length);
            }
        };
        let Some(head_end) = head_end else { continue };
        while buf.len() < head_end + length {
            match socket.read(&mut chunk).await {
                Ok(n) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                _ => break,
            }
        }
        let head = String::from_utf8_lossy(&buf[..head_end - 4]).to_string();
        let body = buf[head_end..].to_vec();
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or_default().split(' ');
        let (method, target) = (
            first.next().unwrap_or("GET").to_owned(),
            first.next().unwrap_or("/").to_owned(),
        );
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let mut ev = Ev::new(&method, path).query(query);
        let mut who = Who::Nobody;
        for (k, v) in lines.filter_map(|l| l.split_once(':')) {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("authorization") {
                if let Some(token) = v.strip_prefix("Bearer ") {
                    let sub = token
                        .split('.')
                        .nth(1)
                        .and_then(base64_url)
                        .and_then(|claims| serde_json::from_slice::<Value>(&claims).ok())
                        .and_then(|c| c["sub"].as_str().map(str::to_owned))
                        .unwrap_or_else(|| token.to_owned());
                    who = Who::player(&sub);
                } else if v.starts_with("AWS4-HMAC-SHA256 ") {
                    who = Who::iam(SERVICE);
                }
            } else if !k.eq_ignore_ascii_case("host") {
                ev = ev.header(k, v);
            }
        }
        if !body.is_empty() || method == "POST" {
            ev = match String::from_utf8(body.clone()) {
                Ok(text) => ev.body(text),
                Err(_) => ev.base64_body(&body),
            };
        }
        let ev = ev.by(who);
        let h = if path.starts_with("/v1/rpc/") {
            H::Rpc
        } else {
            H::Api
        };
        // What hyper or API Gateway would refuse before any handler (a header value http cannot hold).
        if let Err(e) = serde_json::from_value::<lambda_http::request::LambdaRequest>(ev.to_json())
        {
            println!("not an API Gateway event ({e}): {method} {target}");
            let _ = socket
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            continue;
        }
        let x = exchange(&d, h, &ev).await;
        let mut out = format!("HTTP/1.1 {} X\r\n", x.status);
        for (k, v) in &x.response_headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!(
            "content-length: {}\r\nconnection: close\r\n\r\n",
            x.response_body.len()
        ));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&x.response_body);
        let _ = socket.write_all(&bytes).await;
        let _ = socket.shutdown().await;
    }
}

/// A limit as the spec's JSON number.
fn n(limit: impl TryInto<u64, Error: std::fmt::Debug>) -> u64 {
    limit.try_into().expect("a limit fits in 64 bits")
}

/// Base64url without padding, decoded (for a JWT's claims).
fn base64_url(s: &str) -> Option<Vec<u8>> {
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        bits = bits << 6 | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    Some(out)
}
