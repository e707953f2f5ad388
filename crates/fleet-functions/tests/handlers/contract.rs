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
use fleet_core::ids::{PlacementId, PlayerId};
use fleet_core::limits;
use fleet_core::model::{PlacementStatus, PlayerSession, SessionStatus};
use fleet_core::ports::{GameLiftError, PlacementOutcome, SessionStore, StoreError};
use fleet_functions::deps::{Deps, PortSet};
use serde_json::{Value, json};

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
    SPEC.get_or_init(|| {
        let spec = Spec::load("api/openapi.yaml");
        assert_eq!(
            spec.doc["openapi"].as_str().map(|v| v.starts_with("3.1")),
            Some(true),
            "an OpenAPI 3.1 document"
        );
        spec
    })
}

/// `api/asyncapi.yaml`, read once per test binary (its schemas are JSON Schema too).
pub fn asyncapi() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let spec = Spec::load("api/asyncapi.yaml");
        assert_eq!(
            spec.doc["asyncapi"].as_str().map(|v| v.starts_with("3.")),
            Some(true),
            "an AsyncAPI 3 document"
        );
        spec
    })
}

impl Spec {
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

/// Which handler serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H {
    /// fleet-api.
    Api,
    /// status-rpc.
    Rpc,
}

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

fn service() -> Who {
    Who::iam(SERVICE)
}

fn player_a() -> Who {
    Who::player(PLAYER_A)
}

fn pid(s: &str) -> PlacementId {
    PlacementId::parse(s).expect("placement id")
}

/// A body just over 300 KB that is otherwise valid JSON for `schema_body` (whitespace padding).
fn oversized(body: &str) -> String {
    format!("{body}{}", " ".repeat(limits::BODY_MAX_BYTES))
}

#[tokio::test]
async fn every_documented_status_of_every_operation_is_produced_and_conforms() {
    let mut seen = Seen::default();
    let ok = true;
    let bad = false;

    // ---- health
    let d = deps();
    seen.check(
        "health",
        &exchange(&d, H::Api, &Ev::get("/v1/health")).await,
        200,
        ok,
    );

    // ---- samples: every sample event of events/api/ conforms both ways.
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
        d.store
            .create_placement(&placement(SAMPLE_PLACEMENT, PLAYER_A, &[PLAYER_A]), None)
            .await
            .expect("store");
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
        let x = exchange(&d, h, &ev).await;
        seen.check(name, &x, status, ok);
    }

    // ---- createSession
    let create = |body: &str| Ev::post("/v1/sessions", body).by(service());
    let d = deps();
    seen.check(
        "minimal create",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":4}"#)).await,
        202,
        ok,
    );
    seen.check(
        "nulls mean absent",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":4,"players":null,"name":null,"data":null,"properties":null,"regions":null,"latencies":null}"#)).await,
        202,
        ok,
    );
    seen.check(
        "maxPlayers 0",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":0}"#)).await,
        400,
        bad,
    );
    seen.check(
        "maxPlayers 201",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":201}"#)).await,
        400,
        bad,
    );
    seen.check(
        "an unknown field",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":2,"nickname":"x"}"#)).await,
        400,
        bad,
    );
    seen.check(
        "a property key with a dot",
        &exchange(
            &d,
            H::Api,
            &create(r#"{"maxPlayers":2,"properties":{"a.b":"x"}}"#),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "a property value of 97",
        &exchange(
            &d,
            H::Api,
            &create(&json!({"maxPlayers":2,"properties":{"k":"v".repeat(97)}}).to_string()),
        )
        .await,
        400,
        bad,
    );
    seen.check("11 regions", &exchange(&d, H::Api, &create(&json!({"maxPlayers":2,"regions":(0..11).map(|i| format!("r-{i}")).collect::<Vec<_>>()}).to_string())).await, 400, bad);
    seen.check("latency 60001", &exchange(&d, H::Api, &create(&json!({"maxPlayers":2,"latencies":[{"playerId":"p","region":"us-east-1","latencyMs":60001}]}).to_string())).await, 400, bad);
    seen.check(
        "an empty name",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":2,"name":""}"#)).await,
        400,
        bad,
    );
    seen.check(
        "a control character in a playerId",
        &exchange(
            &d,
            H::Api,
            &create(&json!({"maxPlayers":2,"players":[{"playerId":"a\u{7}b"}]}).to_string()),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "more players than maxPlayers (not expressible)",
        &exchange(&d, H::Api, &create(&create_body(1, &["a", "b"]))).await,
        400,
        ok,
    );
    seen.check(
        "a playerId twice (not expressible)",
        &exchange(&d, H::Api, &create(&create_body(4, &["a", "a"]))).await,
        400,
        ok,
    );
    seen.check(
        "not JSON",
        &exchange(&d, H::Api, &create("{")).await,
        400,
        bad,
    );
    seen.check(
        "an Idempotency-Key of 129",
        &exchange(
            &d,
            H::Api,
            &create(r#"{"maxPlayers":2}"#).header("Idempotency-Key", &"k".repeat(129)),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "an unknown query parameter",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":2}"#).query("x=1")).await,
        400,
        bad,
    );
    seen.check(
        "nobody",
        &exchange(&d, H::Api, &Ev::post("/v1/sessions", r#"{"maxPlayers":2}"#)).await,
        401,
        ok,
    );
    seen.check(
        "a player for another",
        &exchange(
            &d,
            H::Api,
            &Ev::post("/v1/sessions", create_body(4, &[PLAYER_B])).by(player_a()),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "a game server",
        &exchange(
            &d,
            H::Api,
            &Ev::post("/v1/sessions", create_body(4, &[])).by(Who::iam(GS_F1)),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "an unknown principal",
        &exchange(
            &d,
            H::Api,
            &create(r#"{"maxPlayers":2}"#).by(Who::iam(STRANGER)),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "over 300 KB (not expressible)",
        &exchange(&d, H::Api, &create(&oversized(r#"{"maxPlayers":2}"#))).await,
        413,
        ok,
    );
    let keyed = |body: &str| create(body).header("Idempotency-Key", "contract-1");
    seen.check(
        "a keyed create",
        &exchange(&d, H::Api, &keyed(r#"{"maxPlayers":4}"#)).await,
        202,
        ok,
    );
    seen.check(
        "the key with another body",
        &exchange(&d, H::Api, &keyed(r#"{"maxPlayers":5}"#)).await,
        422,
        ok,
    );
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    seen.check(
        "GameLift throttles the start",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":4}"#)).await,
        429,
        ok,
    );
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Invalid("queue not found".into()));
    let key = "contract-2";
    seen.check(
        "GameLift refuses the start",
        &exchange(
            &d,
            H::Api,
            &create(r#"{"maxPlayers":4}"#).header("Idempotency-Key", key),
        )
        .await,
        400,
        ok,
    );
    let replay = exchange(
        &d,
        H::Api,
        &create(r#"{"maxPlayers":4}"#).header("Idempotency-Key", key),
    )
    .await;
    seen.check("a replay of a failed create", &replay, 202, ok);
    assert_eq!(
        (
            replay.json()["status"].as_str(),
            replay.json()["reason"].is_string()
        ),
        (Some("FAILED"), true)
    );
    let d = failing_deps();
    d.store
        .faults
        .fail_next(StoreError::Unavailable("timeout".into()));
    seen.check(
        "the store fails on create",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":4}"#)).await,
        503,
        ok,
    );
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("reset".into()));
    seen.check(
        "GameLift never took an ambiguous start",
        &exchange(&d, H::Api, &create(r#"{"maxPlayers":4}"#)).await,
        503,
        ok,
    );

    // ---- listSessions
    let d = deps();
    for i in 0..5 {
        let arn = format!("arn:aws:gamelift:us-east-1::gamesession/{F1}/gsess-{i}");
        let mut s = session(&arn, 10);
        s.created_at = T0.plus_secs(i);
        s.data = Some("round=1".into());
        d.store.seed_sessions(&[s]);
    }
    let list = |q: &str| Ev::get("/v1/sessions").query(q).by(player_a());
    let first = exchange(&d, H::Api, &list("limit=3")).await;
    seen.check("a first page", &first, 200, ok);
    let cursor = first.json()["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let last = exchange(
        &d,
        H::Api,
        &list(&format!("limit=3&cursor={}", encode(&cursor))),
    )
    .await;
    seen.check("the last page", &last, 200, ok);
    assert!(last.json().get("nextCursor").is_none());
    seen.check(
        "every sort",
        &exchange(&d, H::Api, &list("sort=%2BcreatedAt")).await,
        200,
        ok,
    );
    seen.check(
        "a query",
        &exchange(
            &d,
            H::Api,
            &list("query=%2Bregion%3Aus-east-1+%2BopenSlots%3A%3E%3D1&sort=-playerCount"),
        )
        .await,
        200,
        ok,
    );
    let explained = exchange(
        &d,
        H::Api,
        &Ev::get("/v1/sessions")
            .query("query=%2Bregion%3Aus-east-1&explain=true")
            .by(service()),
    )
    .await;
    seen.check("explain", &explained, 200, ok);
    assert!(explained.json()["explain"].is_object());
    let explained = exchange(
        &d,
        H::Api,
        &Ev::get("/v1/sessions")
            .query("query=name%3Alob*+-properties.mode%3Aranked&explain=true")
            .by(service()),
    )
    .await;
    seen.check("explain with a filter", &explained, 200, ok);
    seen.check(
        "a malformed query (not expressible)",
        &exchange(&d, H::Api, &list("query=%2Bregion%3A")).await,
        400,
        ok,
    );
    seen.check(
        "a query of 1025",
        &exchange(&d, H::Api, &list(&format!("query={}", "a".repeat(1025)))).await,
        400,
        bad,
    );
    seen.check(
        "limit 0",
        &exchange(&d, H::Api, &list("limit=0")).await,
        400,
        bad,
    );
    seen.check(
        "limit 101",
        &exchange(&d, H::Api, &list("limit=101")).await,
        400,
        bad,
    );
    seen.check(
        "an unknown sort",
        &exchange(&d, H::Api, &list("sort=name")).await,
        400,
        bad,
    );
    seen.check(
        "explain=yes",
        &exchange(&d, H::Api, &list("explain=yes")).await,
        400,
        bad,
    );
    seen.check(
        "a tampered cursor (not expressible)",
        &exchange(
            &d,
            H::Api,
            &list(&format!("limit=3&cursor={}x", encode(&cursor))),
        )
        .await,
        400,
        ok,
    );
    seen.check(
        "a parameter twice",
        &exchange(&d, H::Api, &list("limit=3&limit=4")).await,
        400,
        bad,
    );
    seen.check(
        "an unknown parameter",
        &exchange(&d, H::Api, &list("page=2")).await,
        400,
        bad,
    );
    // Found by schemathesis: an empty parameter name was answered with `"field": ""`.
    for q in ["=x", "limit=3&=", "&=x&"] {
        let x = exchange(&d, H::Api, &list(q)).await;
        seen.check("a parameter with an empty name", &x, 400, bad);
        assert_eq!(x.json()["error"]["field"], "query string", "{q}");
    }
    let x = exchange(
        &d,
        H::Api,
        &Ev::get(&format!("/v1/sessions/{}", short_id(ARN_1)))
            .query("=x")
            .by(player_a()),
    )
    .await;
    assert_eq!(
        (x.status, x.json()["error"]["field"].as_str()),
        (400, Some("query string")),
        "the other routes too"
    );
    seen.check(
        "nobody lists",
        &exchange(&d, H::Api, &Ev::get("/v1/sessions")).await,
        401,
        ok,
    );
    seen.check(
        "explain by a player",
        &exchange(&d, H::Api, &list("explain=true")).await,
        403,
        ok,
    );
    let d = failing_deps();
    d.store
        .faults
        .fail_next(StoreError::Throttled("busy".into()));
    seen.check(
        "the store fails on list",
        &exchange(&d, H::Api, &Ev::get("/v1/sessions").by(player_a())).await,
        503,
        ok,
    );

    // ---- getSession
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let get = |id: &str| Ev::get(&format!("/v1/sessions/{id}")).by(player_a());
    seen.check(
        "get by id",
        &exchange(&d, H::Api, &get(s.id.as_str())).await,
        200,
        ok,
    );
    seen.check(
        "get by percent-encoded ARN",
        &exchange(&d, H::Api, &get(&encode(ARN_1))).await,
        200,
        ok,
    );
    seen.check(
        "get a malformed id",
        &exchange(&d, H::Api, &get("nope")).await,
        400,
        bad,
    );
    seen.check(
        "get with a parameter",
        &exchange(&d, H::Api, &get(s.id.as_str()).query("x=1")).await,
        400,
        bad,
    );
    seen.check(
        "get an unknown id",
        &exchange(&d, H::Api, &get(&short_id(ARN_2))).await,
        404,
        ok,
    );
    seen.check(
        "nobody gets",
        &exchange(&d, H::Api, &Ev::get(&format!("/v1/sessions/{}", s.id))).await,
        401,
        ok,
    );
    seen.check(
        "an unknown principal gets",
        &exchange(
            &d,
            H::Api,
            &Ev::get(&format!("/v1/sessions/{}", s.id)).by(Who::iam(STRANGER)),
        )
        .await,
        403,
        ok,
    );
    let mut ended = session(ARN_2, 4);
    ended.status = SessionStatus::Ended;
    d.store.seed_sessions(&[ended]);
    let x = exchange(&d, H::Api, &get(&short_id(ARN_2))).await;
    seen.check("get an ENDED session", &x, 200, ok);
    assert_eq!(
        (x.json()["status"].as_str(), x.json()["openSlots"].as_u64()),
        (Some("ENDED"), Some(0))
    );
    let d = failing_deps();
    d.store.faults.fail_next(StoreError::Corrupt {
        key: "S#x".into(),
        reason: "bad".into(),
    });
    seen.check(
        "the store fails on get",
        &exchange(&d, H::Api, &get(&short_id(ARN_1))).await,
        503,
        ok,
    );

    // ---- deleteSession
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let del = |id: &str| Ev::delete(&format!("/v1/sessions/{id}")).by(service());
    seen.check(
        "delete with terminate",
        &exchange(&d, H::Api, &del(s.id.as_str()).query("terminate=true")).await,
        204,
        ok,
    );
    seen.check(
        "delete again",
        &exchange(&d, H::Api, &del(s.id.as_str())).await,
        204,
        ok,
    );
    seen.check(
        "delete an unseen ARN",
        &exchange(&d, H::Api, &del(&encode(ARN_2))).await,
        204,
        ok,
    );
    seen.check(
        "terminate=yes",
        &exchange(&d, H::Api, &del(s.id.as_str()).query("terminate=yes")).await,
        400,
        bad,
    );
    seen.check(
        "delete an unknown id",
        &exchange(
            &d,
            H::Api,
            &del(&short_id(
                "arn:aws:gamelift:us-east-1::gamesession/fleet-x/gsess-none",
            )),
        )
        .await,
        404,
        ok,
    );
    seen.check(
        "nobody deletes",
        &exchange(&d, H::Api, &Ev::delete(&format!("/v1/sessions/{}", s.id))).await,
        401,
        ok,
    );
    seen.check(
        "a player deletes",
        &exchange(
            &d,
            H::Api,
            &Ev::delete(&format!("/v1/sessions/{}", s.id)).by(player_a()),
        )
        .await,
        403,
        ok,
    );
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    seen.check(
        "GameLift throttles the terminate",
        &exchange(&d, H::Api, &del(s.id.as_str()).query("terminate=true")).await,
        429,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    seen.check(
        "GameLift fails the terminate",
        &exchange(&d, H::Api, &del(s.id.as_str()).query("terminate=true")).await,
        503,
        ok,
    );

    // ---- joinSession
    let d = deps();
    let s = seed(&d, ARN_1, 2);
    let join =
        |id: &str, body: &str| Ev::post(&format!("/v1/sessions/{id}/join"), body).by(service());
    seen.check(
        "join",
        &exchange(&d, H::Api, &join(s.id.as_str(), &join_body(&[PLAYER_A]))).await,
        200,
        ok,
    );
    seen.check(
        "join by ARN with player data",
        &exchange(
            &d,
            H::Api,
            &join(
                &encode(ARN_1),
                r#"{"players":[{"playerId":"p2","playerData":"x"}]}"#,
            ),
        )
        .await,
        200,
        ok,
    );
    seen.check(
        "join no players",
        &exchange(&d, H::Api, &join(s.id.as_str(), r#"{"players":[]}"#)).await,
        400,
        bad,
    );
    seen.check(
        "join 26 players",
        &exchange(
            &d,
            H::Api,
            &join(s.id.as_str(), &join_body(&[PLAYER_A; 26])),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "join a player twice (not expressible)",
        &exchange(&d, H::Api, &join(s.id.as_str(), &join_body(&["x", "x"]))).await,
        400,
        ok,
    );
    seen.check(
        "join without players",
        &exchange(&d, H::Api, &join(s.id.as_str(), "{}")).await,
        400,
        bad,
    );
    seen.check(
        "nobody joins",
        &exchange(
            &d,
            H::Api,
            &Ev::post(&format!("/v1/sessions/{}/join", s.id), join_body(&["x"])),
        )
        .await,
        401,
        ok,
    );
    seen.check(
        "a player joins another",
        &exchange(
            &d,
            H::Api,
            &Ev::post(
                &format!("/v1/sessions/{}/join", s.id),
                join_body(&[PLAYER_B]),
            )
            .by(player_a()),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "join an unknown session",
        &exchange(&d, H::Api, &join(&short_id(ARN_2), &join_body(&["x"]))).await,
        404,
        ok,
    );
    seen.check(
        "join a full session",
        &exchange(&d, H::Api, &join(s.id.as_str(), &join_body(&["x"]))).await,
        409,
        ok,
    );
    seen.check(
        "join over 300 KB",
        &exchange(
            &d,
            H::Api,
            &join(s.id.as_str(), &oversized(&join_body(&["x"]))),
        )
        .await,
        413,
        ok,
    );
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    seen.check(
        "GameLift throttles the join",
        &exchange(&d, H::Api, &join(s.id.as_str(), &join_body(&["x"]))).await,
        429,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    seen.check(
        "GameLift fails the join",
        &exchange(&d, H::Api, &join(s.id.as_str(), &join_body(&["x"]))).await,
        503,
        ok,
    );

    // ---- getPlacement
    let d = deps();
    d.store
        .create_placement(&placement("p-9", SERVICE, &[PLAYER_A, PLAYER_B]), None)
        .await
        .expect("store");
    let s = session(ARN_1, 8);
    let fulfilled = PlacementOutcome::Fulfilled {
        session: Box::new(s.clone()),
        player_sessions: vec![
            PlayerSession {
                player_id: PlayerId::parse(PLAYER_A).expect("id"),
                player_session_id: "psess-a".into(),
            },
            PlayerSession {
                player_id: PlayerId::parse(PLAYER_B).expect("id"),
                player_session_id: "psess-b".into(),
            },
        ],
    };
    d.store
        .finish_placement(&pid("p-9"), &fulfilled, T0.plus_secs(5))
        .await
        .expect("finish");
    d.store
        .create_placement(&placement("p-5", PLAYER_A, &[]), None)
        .await
        .expect("store");
    let timed_out = PlacementOutcome::Unfulfilled {
        status: PlacementStatus::TimedOut,
        reason: Some("timed out".into()),
    };
    d.store
        .finish_placement(&pid("p-5"), &timed_out, T0.plus_secs(600))
        .await
        .expect("finish");
    let getp = |id: &str, who: Who| Ev::get(&format!("/v1/placements/{id}")).by(who);
    let x = exchange(&d, H::Api, &getp("p-9", player_a())).await;
    seen.check("a fulfilled placement, as a listed player", &x, 200, ok);
    assert!(x.json()["session"].is_object() && x.json()["playerSessions"].is_array());
    seen.check(
        "a fulfilled placement, as a service",
        &exchange(&d, H::Api, &getp("p-9", service())).await,
        200,
        ok,
    );
    seen.check(
        "a timed-out placement",
        &exchange(&d, H::Api, &getp("p-5", player_a())).await,
        200,
        ok,
    );
    seen.check(
        "a placement id with _",
        &exchange(&d, H::Api, &getp("bad_id", player_a())).await,
        400,
        bad,
    );
    seen.check(
        "a placement id of 49",
        &exchange(&d, H::Api, &getp(&"p".repeat(49), player_a())).await,
        400,
        bad,
    );
    seen.check(
        "nobody reads a placement",
        &exchange(&d, H::Api, &Ev::get("/v1/placements/p-9")).await,
        401,
        ok,
    );
    seen.check(
        "an unknown principal reads a placement",
        &exchange(&d, H::Api, &getp("p-9", Who::iam(STRANGER))).await,
        403,
        ok,
    );
    seen.check(
        "someone else's placement",
        &exchange(&d, H::Api, &getp("p-5", Who::player(PLAYER_B))).await,
        404,
        ok,
    );
    seen.check(
        "no such placement",
        &exchange(&d, H::Api, &getp("p-404", service())).await,
        404,
        ok,
    );
    let d = failing_deps();
    d.store
        .faults
        .fail_next(StoreError::Unavailable("timeout".into()));
    seen.check(
        "the store fails on a placement",
        &exchange(&d, H::Api, &getp("p-1", service())).await,
        503,
        ok,
    );

    // ---- cancelPlacement
    let d = deps();
    for id in ["c-1", "c-2", "c-3"] {
        d.store
            .create_placement(&placement(id, PLAYER_A, &[PLAYER_A]), None)
            .await
            .expect("store");
    }
    let cancel = |id: &str, who: Who| Ev::delete(&format!("/v1/placements/{id}")).by(who);
    seen.check(
        "a player cancels its placement",
        &exchange(&d, H::Api, &cancel("c-1", player_a())).await,
        200,
        ok,
    );
    seen.check(
        "a cancelled placement cancelled again",
        &exchange(&d, H::Api, &cancel("c-1", service())).await,
        409,
        ok,
    );
    seen.check(
        "a placement id with _ cancelled",
        &exchange(&d, H::Api, &cancel("bad_id", player_a())).await,
        400,
        bad,
    );
    seen.check(
        "nobody cancels",
        &exchange(&d, H::Api, &Ev::delete("/v1/placements/c-2")).await,
        401,
        ok,
    );
    seen.check(
        "a game server cancels",
        &exchange(&d, H::Api, &cancel("c-2", Who::iam(GS_F1))).await,
        403,
        ok,
    );
    seen.check(
        "another player cancels",
        &exchange(&d, H::Api, &cancel("c-2", Who::player(PLAYER_B))).await,
        404,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Throttled("slow down".into()));
    seen.check(
        "GameLift throttles the stop",
        &exchange(&d, H::Api, &cancel("c-2", player_a())).await,
        429,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    seen.check(
        "GameLift fails the stop",
        &exchange(&d, H::Api, &cancel("c-3", service())).await,
        503,
        ok,
    );

    // ---- listLocations
    let locations = |who: Who| Ev::get("/v1/locations").by(who);
    let d = deps();
    seen.check(
        "a player lists locations",
        &exchange(&d, H::Api, &locations(player_a())).await,
        200,
        ok,
    );
    seen.check(
        "locations with a query parameter",
        &exchange(&d, H::Api, &locations(service()).query("region=us-east-1")).await,
        400,
        bad,
    );
    seen.check(
        "nobody lists locations",
        &exchange(&d, H::Api, &Ev::get("/v1/locations")).await,
        401,
        ok,
    );
    seen.check(
        "a stranger lists locations",
        &exchange(&d, H::Api, &locations(Who::iam(STRANGER))).await,
        403,
        ok,
    );
    for (error, status) in [
        (GameLiftError::Throttled("rate".into()), 429),
        (GameLiftError::Ambiguous("timeout".into()), 503),
    ] {
        let d = deps();
        d.gamelift.fail_next(error);
        seen.check(
            "GameLift fails ListLocations with nothing cached",
            &exchange(&d, H::Api, &locations(service())).await,
            status,
            ok,
        );
    }

    // ---- updateSession
    let patch = |id: &str, body: &str, who: Who| {
        Ev::new("PATCH", &format!("/v1/sessions/{id}"))
            .body(body.to_owned())
            .by(who)
    };
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    seen.check(
        "a service locks a session",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), r#"{"joinable":false}"#, service()),
        )
        .await,
        200,
        ok,
    );
    seen.check(
        "a game server protects its fleet's session by ARN",
        &exchange(
            &d,
            H::Api,
            &patch(&encode(ARN_1), r#"{"protected":true}"#, Who::iam(GS_F1)),
        )
        .await,
        200,
        ok,
    );
    seen.check(
        "an empty patch",
        &exchange(&d, H::Api, &patch(s.id.as_str(), "{}", service())).await,
        400,
        bad,
    );
    seen.check(
        "joinable as a string",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), r#"{"joinable":"no"}"#, service()),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "nobody patches",
        &exchange(
            &d,
            H::Api,
            &Ev::new("PATCH", &format!("/v1/sessions/{}", s.id)).body(r#"{"joinable":true}"#),
        )
        .await,
        401,
        ok,
    );
    seen.check(
        "a player patches",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), r#"{"joinable":true}"#, player_a()),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "patch an unknown session",
        &exchange(
            &d,
            H::Api,
            &patch(&short_id(ARN_2), r#"{"joinable":true}"#, service()),
        )
        .await,
        404,
        ok,
    );
    seen.check(
        "patch over 300 KB",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), &oversized(r#"{"joinable":true}"#), service()),
        )
        .await,
        413,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    seen.check(
        "GameLift throttles the update",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), r#"{"joinable":true}"#, service()),
        )
        .await,
        429,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    seen.check(
        "GameLift fails the update",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), r#"{"joinable":true}"#, service()),
        )
        .await,
        503,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::NotActive("TERMINATING".into()));
    seen.check(
        "GameLift says the session is ending",
        &exchange(
            &d,
            H::Api,
            &patch(s.id.as_str(), r#"{"joinable":true}"#, service()),
        )
        .await,
        409,
        ok,
    );

    // ---- getConnections
    let connection = |id: &str, body: &str, who: Who| {
        Ev::post(&format!("/v1/sessions/{id}/connection"), body.to_owned()).by(who)
    };
    let mine = format!(r#"{{"players":[{{"playerId":"{PLAYER_A}"}}]}}"#);
    let mut d = deps();
    d.config.player_gateway_fleets = vec![fleet_core::ids::FleetId::parse(F1).expect("fleet")];
    d.gamelift.enable_gateway(F1);
    let s = seed(&d, ARN_1, 8);
    let direct = seed(&d, ARN_2, 8);
    seen.check(
        "a player refreshes its gateway token",
        &exchange(&d, H::Api, &connection(s.id.as_str(), &mine, player_a())).await,
        200,
        ok,
    );
    seen.check(
        "a service asks for a direct fleet's endpoint",
        &exchange(
            &d,
            H::Api,
            &connection(&encode(direct.arn.as_str()), &mine, service()),
        )
        .await,
        200,
        ok,
    );
    let many: Vec<Value> = (0..26)
        .map(|i| json!({"playerId": format!("p-{i}")}))
        .collect();
    seen.check(
        "26 players",
        &exchange(
            &d,
            H::Api,
            &connection(
                s.id.as_str(),
                &json!({"players": many}).to_string(),
                service(),
            ),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "nobody asks for connections",
        &exchange(
            &d,
            H::Api,
            &Ev::post(&format!("/v1/sessions/{}/connection", s.id), mine.clone()),
        )
        .await,
        401,
        ok,
    );
    seen.check(
        "a game server asks for connections",
        &exchange(
            &d,
            H::Api,
            &connection(s.id.as_str(), &mine, Who::iam(GS_F1)),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "connections of an unknown session",
        &exchange(
            &d,
            H::Api,
            &connection("gs-AAAAAAAAAAAAAAAAAAAAAA", &mine, player_a()),
        )
        .await,
        404,
        ok,
    );
    seen.check(
        "connections over 300 KB",
        &exchange(
            &d,
            H::Api,
            &connection(s.id.as_str(), &oversized(&mine), player_a()),
        )
        .await,
        413,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    seen.check(
        "GameLift throttles the details",
        &exchange(&d, H::Api, &connection(s.id.as_str(), &mine, player_a())).await,
        429,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    seen.check(
        "GameLift fails the details",
        &exchange(&d, H::Api, &connection(s.id.as_str(), &mine, player_a())).await,
        503,
        ok,
    );
    assert_eq!(
        d.store
            .end_session(fleet_core::ports::SessionKey::Id(&s.id), T0)
            .await
            .expect("store"),
        fleet_core::ports::Applied::Applied
    );
    seen.check(
        "connections of an ended session",
        &exchange(&d, H::Api, &connection(s.id.as_str(), &mine, player_a())).await,
        409,
        ok,
    );

    // ---- updateInstanceInfo
    const UPDATE: &str = "/v1/rpc/update_instance_info";
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let update = |body: &str, who: Who| Ev::post(UPDATE, body).by(who);
    let gs = || Who::iam(GS_F1);
    seen.check(
        "a liveness ping",
        &exchange(&d, H::Rpc, &update(&json!({"id": s.id}).to_string(), gs())).await,
        204,
        ok,
    );
    seen.check(
        "player_count",
        &exchange(
            &d,
            H::Rpc,
            &update(&json!({"id": s.id, "player_count": 2}).to_string(), gs()),
        )
        .await,
        204,
        ok,
    );
    seen.check(
        "metadata with nulls",
        &exchange(&d, H::Rpc, &update(&json!({"id": ARN_1, "playerCount": 2, "metadata": {"GameSessionName": null, "GameSessionData": "d", "GameProperties": null}}).to_string(), gs())).await,
        204,
        ok,
    );
    seen.check(
        "playerCount 201",
        &exchange(
            &d,
            H::Rpc,
            &update(&json!({"id": s.id, "playerCount": 201}).to_string(), gs()),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "an unknown metadata field",
        &exchange(
            &d,
            H::Rpc,
            &update(
                &json!({"id": s.id, "metadata": {"Foo": "x"}}).to_string(),
                gs(),
            ),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "no id",
        &exchange(&d, H::Rpc, &update(r#"{"playerCount":1}"#, gs())).await,
        400,
        bad,
    );
    seen.check(
        "both spellings, different (not expressible)",
        &exchange(
            &d,
            H::Rpc,
            &update(
                &json!({"id": s.id, "playerCount": 1, "player_count": 2}).to_string(),
                gs(),
            ),
        )
        .await,
        400,
        ok,
    );
    seen.check(
        "nobody reports",
        &exchange(
            &d,
            H::Rpc,
            &Ev::post(UPDATE, json!({"id": s.id}).to_string()),
        )
        .await,
        401,
        ok,
    );
    seen.check(
        "a player reports",
        &exchange(
            &d,
            H::Rpc,
            &update(&json!({"id": s.id}).to_string(), player_a()),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "another fleet's game server",
        &exchange(
            &d,
            H::Rpc,
            &update(&json!({"id": ARN_1}).to_string(), Who::iam(GS_F2)),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "an unknown short id",
        &exchange(
            &d,
            H::Rpc,
            &update(&json!({"id": short_id(ARN_2)}).to_string(), service()),
        )
        .await,
        404,
        ok,
    );
    seen.check(
        "a report over 300 KB",
        &exchange(
            &d,
            H::Rpc,
            &update(&oversized(&json!({"id": s.id}).to_string()), gs()),
        )
        .await,
        413,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    let rename = json!({"id": s.id, "metadata": {"GameSessionName": "renamed"}}).to_string();
    seen.check(
        "GameLift throttles the update",
        &exchange(&d, H::Rpc, &update(&rename, gs())).await,
        429,
        ok,
    );
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    seen.check(
        "GameLift fails the update",
        &exchange(&d, H::Rpc, &update(&rename, gs())).await,
        503,
        ok,
    );
    seen.check(
        "end it",
        &exchange(
            &d,
            H::Rpc,
            &Ev::post(
                "/v1/rpc/delete_instance_info",
                json!({"id": s.id}).to_string(),
            )
            .by(gs()),
        )
        .await,
        204,
        ok,
    );
    seen.check(
        "a report on an ENDED session",
        &exchange(
            &d,
            H::Rpc,
            &update(&json!({"id": s.id, "playerCount": 1}).to_string(), gs()),
        )
        .await,
        409,
        ok,
    );

    // ---- deleteInstanceInfo
    const DELETE: &str = "/v1/rpc/delete_instance_info";
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let end = |body: &str, who: Who| Ev::post(DELETE, body).by(who);
    seen.check(
        "end by ARN",
        &exchange(&d, H::Rpc, &end(&json!({"id": ARN_1}).to_string(), gs())).await,
        204,
        ok,
    );
    seen.check(
        "end by id, as a service",
        &exchange(
            &d,
            H::Rpc,
            &end(&json!({"id": s.id}).to_string(), service()),
        )
        .await,
        204,
        ok,
    );
    seen.check(
        "end without id",
        &exchange(&d, H::Rpc, &end("{}", gs())).await,
        400,
        bad,
    );
    seen.check(
        "end a malformed id",
        &exchange(&d, H::Rpc, &end(r#"{"id":"nope"}"#, gs())).await,
        400,
        bad,
    );
    seen.check(
        "end with a parameter",
        &exchange(
            &d,
            H::Rpc,
            &end(&json!({"id": ARN_1}).to_string(), gs()).query("x=1"),
        )
        .await,
        400,
        bad,
    );
    seen.check(
        "nobody ends",
        &exchange(
            &d,
            H::Rpc,
            &Ev::post(DELETE, json!({"id": ARN_1}).to_string()),
        )
        .await,
        401,
        ok,
    );
    seen.check(
        "a player ends",
        &exchange(
            &d,
            H::Rpc,
            &end(&json!({"id": ARN_1}).to_string(), player_a()),
        )
        .await,
        403,
        ok,
    );
    seen.check(
        "an unknown short id ends",
        &exchange(
            &d,
            H::Rpc,
            &end(&json!({"id": short_id(ARN_2)}).to_string(), gs()),
        )
        .await,
        404,
        ok,
    );
    seen.check(
        "an end over 300 KB",
        &exchange(
            &d,
            H::Rpc,
            &end(&oversized(&json!({"id": ARN_1}).to_string()), gs()),
        )
        .await,
        413,
        ok,
    );
    let d = failing_deps();
    d.store
        .faults
        .fail_next(StoreError::Unavailable("timeout".into()));
    seen.check(
        "the store fails on an end",
        &exchange(&d, H::Rpc, &end(&json!({"id": ARN_1}).to_string(), gs())).await,
        503,
        ok,
    );

    // ---- every documented status was produced
    let mut missing = Vec::new();
    for (path, item) in spec().doc()["paths"].as_object().into_iter().flatten() {
        for (method, op) in item
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(m, _)| ["get", "post", "delete", "put", "patch"].contains(&m.as_str()))
        {
            let got = seen
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
    let doc = spec().doc();
    let at = |pointer: &str| -> u64 {
        doc.pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or_else(|| panic!("api/openapi.yaml has no number at {pointer}"))
    };
    let s = "/components/schemas";
    let create = format!("{s}/CreateSessionRequest/properties");
    let list_params = doc["paths"]["/v1/sessions"]["get"]["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let param = |name: &str, key: &str| -> u64 {
        list_params
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["schema"][key].as_u64())
            .unwrap_or_else(|| panic!("list parameter {name}.{key}"))
    };
    let usize_ = |n: usize| n as u64;
    let cases: [(&str, u64, u64); 22] = [
        (
            "maxPlayers maximum",
            at(&format!("{create}/maxPlayers/maximum")),
            u64::from(limits::MAX_PLAYERS),
        ),
        (
            "players per create",
            at(&format!("{create}/players/maxItems")),
            u64::from(limits::MAX_PLAYERS),
        ),
        (
            "players per join",
            at(&format!(
                "{s}/JoinSessionRequest/properties/players/maxItems"
            )),
            usize_(limits::MAX_PLAYERS_PER_JOIN),
        ),
        (
            "join result player sessions",
            at(&format!(
                "{s}/JoinResult/properties/playerSessions/maxItems"
            )),
            usize_(limits::MAX_PLAYERS_PER_JOIN),
        ),
        (
            "playerId",
            at(&format!("{s}/PlayerId/maxLength")),
            usize_(limits::PLAYER_ID_MAX),
        ),
        (
            "playerData",
            at(&format!("{s}/PlayerData/maxLength")),
            usize_(limits::PLAYER_DATA_MAX),
        ),
        (
            "properties",
            at(&format!("{s}/GameProperties/maxProperties")),
            usize_(limits::PROPERTIES_MAX),
        ),
        (
            "property key",
            at(&format!("{s}/GameProperties/propertyNames/maxLength")),
            usize_(limits::PROPERTY_KEY_MAX),
        ),
        (
            "property value",
            at(&format!(
                "{s}/GameProperties/additionalProperties/maxLength"
            )),
            usize_(limits::PROPERTY_VALUE_MAX),
        ),
        (
            "name",
            at(&format!("{s}/SessionName/maxLength")),
            usize_(limits::NAME_MAX),
        ),
        (
            "session name",
            at(&format!("{s}/Session/properties/name/maxLength")),
            usize_(limits::NAME_MAX),
        ),
        (
            "data",
            at(&format!("{s}/SessionData/maxLength")),
            usize_(limits::DATA_MAX),
        ),
        (
            "latencies",
            at(&format!("{create}/latencies/maxItems")),
            usize_(limits::LATENCIES_MAX),
        ),
        (
            "latencyMs",
            at(&format!("{s}/LatencyRequest/properties/latencyMs/maximum")),
            u64::from(limits::LATENCY_MS_MAX),
        ),
        (
            "regions",
            at(&format!("{create}/regions/maxItems")),
            usize_(limits::REGIONS_MAX),
        ),
        (
            "query",
            param("query", "maxLength"),
            usize_(limits::QUERY_MAX),
        ),
        (
            "limit minimum",
            param("limit", "minimum"),
            u64::from(limits::LIMIT_MIN),
        ),
        (
            "limit maximum",
            param("limit", "maximum"),
            u64::from(limits::LIMIT_MAX),
        ),
        (
            "limit default",
            param("limit", "default"),
            u64::from(limits::LIMIT_DEFAULT),
        ),
        (
            "cursor",
            param("cursor", "maxLength"),
            usize_(fleet_core::query::cursor::CURSOR_MAX),
        ),
        (
            "placementId",
            at(&format!("{s}/PlacementId/maxLength")),
            usize_(limits::PLACEMENT_ID_MAX),
        ),
        (
            "Idempotency-Key",
            at("/components/parameters/IdempotencyKey/schema/maxLength"),
            usize_(limits::IDEMPOTENCY_KEY_MAX),
        ),
    ];
    let wrong: Vec<_> = cases
        .iter()
        .filter(|(_, spec, code)| spec != code)
        .collect();
    assert!(
        wrong.is_empty(),
        "limits in api/openapi.yaml differ from fleet_core::limits (name, spec, code): {wrong:#?}"
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
