//! R08 bad input (I9): generated hostile bodies through the real handlers on the fakes, and the fuzz
//! targets' corpora replayed on stable.
//!
//! * Every route gets ≥ 2,000 proptest-generated requests: mutations of a valid body (fields dropped,
//!   added, renamed, values replaced by nulls, wrong types, huge numbers, long or unicode strings, at
//!   any depth; then maybe truncated, a repeated key, a raw out-of-range number), generated query
//!   strings for the list, generated path segments for the gets and the delete. Each runs under
//!   `catch_unwind`: no panic, and the status is below 500.
//! * The placement-events handler gets generated SQS bodies (mutated details inside the SNS envelope,
//!   mutated envelopes): no panic, nothing in `batchItemFailures` (the fakes never fail, so a failure
//!   could only be poison sent back to the queue).
//! * Every file of `fuzz/corpus/<target>/` goes through the same function the cargo-fuzz target runs
//!   (`fleet_reliability::fuzzing`).
//!
//! The exact 4xx and field of each hand-written case is the catalogue of
//! `crates/fleet-functions/tests/handlers/bad_input.rs`; this row only asks for "never a 5xx, never a
//! panic" over far more inputs.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use fleet_core::fakes::{FakeGameLift, MemoryStore};
use fleet_core::ports::SessionStore as _;
use fleet_functions::placement_events::process;
use fleet_reliability::fixtures::{
    T0, arn, envelope, fulfilled_body, placement, sqs_event, sqs_record,
};
use fleet_reliability::{fuzzing, scorecard};
use fleet_testkit::records;
use futures::FutureExt as _;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config as PtConfig, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};
use std::sync::Arc;

use crate::support_http::*;

/// Generated requests per route.
fn per_route() -> usize {
    2_000 * scorecard::scale() as usize
}

// ---------------------------------------------------------------- generators

/// Any JSON value a hostile client might send in place of a field.
fn arb_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        prop::sample::select(vec![
            0i64,
            -1,
            1,
            2,
            8,
            25,
            26,
            199,
            200,
            201,
            60_000,
            60_001,
            i64::from(u32::MAX) + 1
        ])
        .prop_map(|n| json!(n)),
        "\\PC{0,24}".prop_map(Value::String),
        "[a-z0-9_.:/-]{0,40}".prop_map(Value::String),
        (
            0usize..4_000,
            prop::sample::select(vec!['x', 'é', '☃', '𝄞', '\u{0}', '"', '\\'])
        )
            .prop_map(|(n, c)| Value::String(c.to_string().repeat(n))),
        prop::sample::select(vec![
            "",
            " ",
            "arn:aws:gamelift:us-east-1::gamesession/fleet-x/gsess-1",
            "player-7f3c2a",
            "us-east-1",
            "\u{202e}rtl",
            "a\u{0}b"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    arb_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One structural change, at the element a path of indices selects.
#[derive(Debug, Clone)]
enum Op {
    Drop(usize),
    Add(String, Value),
    Rename(usize, String),
    Replace(Value),
}

#[derive(Debug, Clone)]
struct Mutation {
    path: Vec<usize>,
    op: Op,
}

/// Field names worth adding or renaming to: the API's own (in the wrong place), near misses, junk.
fn arb_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "maxPlayers",
            "players",
            "playerId",
            "playerData",
            "properties",
            "name",
            "data",
            "latencies",
            "regions",
            "region",
            "latencyMs",
            "id",
            "playerCount",
            "player_count",
            "metadata",
            "GameProperties",
            "MaxPlayers",
            "maxplayers",
            "__proto__",
            "",
            " ",
            "players[0]",
            "é",
        ])
        .prop_map(str::to_owned),
        "\\PC{0,16}",
    ]
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let op = prop_oneof![
        any::<usize>().prop_map(Op::Drop),
        (arb_name(), arb_json()).prop_map(|(k, v)| Op::Add(k, v)),
        (any::<usize>(), arb_name()).prop_map(|(i, k)| Op::Rename(i, k)),
        arb_json().prop_map(Op::Replace),
    ];
    (prop::collection::vec(any::<usize>(), 0..4), op).prop_map(|(path, op)| Mutation { path, op })
}

/// A change to the serialized text.
#[derive(Debug, Clone)]
enum TextOp {
    None,
    /// Keep this fraction (‰) of the bytes (at a character boundary).
    Truncate(u16),
    /// Repeat a key right after the first `{`.
    RepeatKey(String),
    /// Replace the first number with a literal JSON cannot hold in an i64 or f64.
    RawNumber(&'static str),
    /// Wrap the body in an array.
    Wrap,
}

fn arb_text_op() -> impl Strategy<Value = TextOp> {
    prop_oneof![
        6 => Just(TextOp::None),
        1 => (0u16..1000).prop_map(TextOp::Truncate),
        1 => arb_name().prop_map(TextOp::RepeatKey),
        1 => prop::sample::select(vec!["1e400", "-1e400", "18446744073709551616", "-0", "1.0000000000000000001", "0.5e1", "1E2"]).prop_map(TextOp::RawNumber),
        1 => Just(TextOp::Wrap),
    ]
}

fn target<'a>(v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    let Some((&i, rest)) = path.split_first() else {
        return v;
    };
    let descend = match &*v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    };
    if !descend {
        return v;
    }
    match v {
        Value::Object(m) => {
            let k = m.keys().nth(i % m.len()).cloned().unwrap_or_default();
            target(m.get_mut(&k).expect("key just listed"), rest)
        }
        Value::Array(a) => {
            let n = a.len();
            target(&mut a[i % n], rest)
        }
        other => other,
    }
}

fn apply(v: &mut Value, m: &Mutation) {
    let t = target(v, &m.path);
    match (&m.op, t) {
        (Op::Drop(i), Value::Object(o)) if !o.is_empty() => {
            let k = o.keys().nth(i % o.len()).cloned().unwrap_or_default();
            o.remove(&k);
        }
        (Op::Drop(i), Value::Array(a)) if !a.is_empty() => {
            let n = a.len();
            a.remove(i % n);
        }
        (Op::Add(k, x), Value::Object(o)) => {
            o.insert(k.clone(), x.clone());
        }
        (Op::Add(_, x), Value::Array(a)) => a.push(x.clone()),
        (Op::Rename(i, k), Value::Object(o)) if !o.is_empty() => {
            let old = o.keys().nth(i % o.len()).cloned().unwrap_or_default();
            if let Some(x) = o.remove(&old) {
                o.insert(k.clone(), x);
            }
        }
        (Op::Replace(x), t) => *t = x.clone(),
        _ => {}
    }
}

fn render(v: &Value, op: &TextOp) -> String {
    let text = v.to_string();
    match op {
        TextOp::None => text,
        TextOp::Truncate(per_mille) => {
            let mut cut = text.len() * usize::from(*per_mille) / 1000;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text[..cut].to_owned()
        }
        TextOp::RepeatKey(k) => match text.find('{') {
            Some(i) => format!("{}{}:1,{}", &text[..=i], json!(k), &text[i + 1..]),
            None => text,
        },
        TextOp::RawNumber(lit) => {
            let start = text
                .char_indices()
                .find(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i);
            match start {
                Some(s) => {
                    let end = text[s..]
                        .find(|c: char| !(c.is_ascii_digit() || "eE.+-".contains(c)))
                        .map_or(text.len(), |e| s + e);
                    format!("{}{lit}{}", &text[..s], &text[end..])
                }
                None => text,
            }
        }
        TextOp::Wrap => format!("[{text}]"),
    }
}

/// `n` generated mutations of `base`, as body text (deterministic: a fixed proptest seed per route).
fn bodies(base: &Value, n: usize, seed: u8) -> Vec<String> {
    let strategy = (prop::collection::vec(arb_mutation(), 1..5), arb_text_op());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(PtConfig::default(), rng);
    (0..n)
        .map(|_| {
            let (muts, op) = strategy
                .new_tree(&mut runner)
                .expect("a generated case")
                .current();
            let mut v = base.clone();
            for m in &muts {
                apply(&mut v, m);
            }
            render(&v, &op)
        })
        .collect()
}

/// `n` generated strings of `strategy` (fixed seed).
fn generate<S: Strategy>(strategy: S, n: usize, seed: u8) -> Vec<S::Value> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]);
    let mut runner = TestRunner::new_with_rng(PtConfig::default(), rng);
    (0..n)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("a generated case")
                .current()
        })
        .collect()
}

// ---------------------------------------------------------------- the world

/// The ACTIVE session (of [`fleet_reliability::fixtures::FLEET`]) that joins, updates and deletes name.
fn seeded() -> (MemDeps<FakeGameLift>, String) {
    let d = deps();
    let a = arn("r08", 1);
    let s = records::session(a.as_str(), 8);
    d.store.seed_sessions(std::slice::from_ref(&s));
    d.gamelift.add_session(&s.arn, "ACTIVE", 8);
    (d, a.as_str().to_owned())
}

fn percent(s: &str) -> String {
    encode(s)
}

/// What a client can put on the request line unencoded: every byte a URI may not hold is
/// percent-encoded, `%` is kept as is (so broken escapes still reach the handler). API Gateway never
/// delivers anything else (and lambda_http's event conversion panics on a raw path or query string
/// that is not a valid URI, before any fleetlift code runs).
fn uri_safe(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_graphic() && !b"\"<>\\^`{|}#".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[derive(Clone, Copy)]
enum H {
    Api,
    Rpc,
}

/// Runs one request under `catch_unwind`; a violation is a panic or a 5xx.
async fn run(
    route: &str,
    h: H,
    d: &MemDeps<FakeGameLift>,
    ev: Ev,
    shown: &str,
    out: &mut Vec<String>,
) -> u16 {
    let answer = match h {
        H::Api => AssertUnwindSafe(api(d, ev)).catch_unwind().await,
        H::Rpc => AssertUnwindSafe(rpc(d, ev)).catch_unwind().await,
    };
    let shown: String = shown.chars().take(300).collect();
    match answer {
        Err(_) => {
            out.push(format!("{route}: panic on {shown:?}"));
            0
        }
        Ok(a) => {
            if a.status >= 500 {
                out.push(format!("{route}: {} {} on {shown:?}", a.status, a.body));
            }
            a.status
        }
    }
}

// ---------------------------------------------------------------- the rows

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bodies_never_panic_nor_get_a_5xx() {
    let n = per_route();
    let mut violations = Vec::new();
    let mut tried = 0u64;
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let service = Who::iam(SERVICE);
    let server = Who::iam(GS_OWN);

    let (d0, session_arn) = seeded();
    let short = fleet_core::ids::GameSessionArn::parse(&session_arn)
        .expect("arn")
        .session_id()
        .into_string();
    drop(d0);

    // Bodies: (route, handler, method+path, who, base body).
    let create_base = json!({
        "maxPlayers": 8,
        "players": [{"playerId": "player-7f3c2a", "playerData": "{\"skill\":12}"}, {"playerId": "ann"}],
        "properties": {"mode": "ranked", "map": "dust"},
        "name": "lobby", "data": "{\"x\":1}",
        "latencies": [{"playerId": "ann", "region": "us-east-1", "latencyMs": 40}],
        "regions": ["us-east-1", "eu-west-1"],
    });
    let join_base =
        json!({"players": [{"playerId": "ann", "playerData": "d"}, {"playerId": "bob"}]});
    let update_base = json!({"id": session_arn, "playerCount": 3, "metadata": {"GameProperties": {"mode": "casual", "map": "x"}}});
    let delete_info_base = json!({"id": session_arn});
    let body_routes: Vec<(&str, H, String, Who, Value, u8)> = vec![
        (
            "create",
            H::Api,
            "/v1/sessions".to_owned(),
            service.clone(),
            create_base,
            1,
        ),
        (
            "join",
            H::Api,
            format!("/v1/sessions/{short}/join"),
            service.clone(),
            join_base,
            2,
        ),
        (
            "update_instance_info",
            H::Rpc,
            "/v1/rpc/update_instance_info".to_owned(),
            server.clone(),
            update_base,
            3,
        ),
        (
            "delete_instance_info",
            H::Rpc,
            "/v1/rpc/delete_instance_info".to_owned(),
            server.clone(),
            delete_info_base,
            4,
        ),
    ];
    let mut per_route_tried = Vec::new();
    for (route, h, path, who, base, seed) in body_routes {
        let (d, _) = seeded();
        let generated = bodies(&base, n, seed);
        for (i, body) in generated.iter().enumerate() {
            let mut ev = Ev::post(&path, body.clone()).by(who.clone());
            if route == "create" && i % 3 == 0 {
                ev = ev.header("Idempotency-Key", &format!("k-{}", i % 50));
            }
            *statuses
                .entry(run(route, h, &d, ev, body, &mut violations).await)
                .or_default() += 1;
        }
        tried += generated.len() as u64;
        per_route_tried.push(format!("{route} {}", generated.len()));
    }

    // The list: generated query strings (known and unknown names, query-language fragments, escapes).
    let name = prop_oneof![
        4 => prop::sample::select(vec!["query", "limit", "cursor", "sort", "explain"]).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ];
    let value = prop_oneof![
        "[-+ :*\"()\\[\\]<>=a-zA-Z0-9._%]{0,60}",
        "\\PC{0,40}",
        prop::sample::select(vec![
            "+region:us-east-1 +openSlots:>=1",
            "name:lobby*",
            "properties.mode:ranked",
            "playerCount:[2 TO 8]",
            "-playerCount",
            "openSlots",
            "100",
            "0",
            "true",
            "%FF%FE",
            "%ZZ",
            "abc%4",
            "eyJmIjoiIn0.AAAA",
        ])
        .prop_map(str::to_owned),
        (0usize..3000).prop_map(|n| "a".repeat(n)),
    ];
    let pairs = prop::collection::vec((name, value, any::<bool>()), 0..5);
    let queries: Vec<String> = generate(pairs, n, 5)
        .into_iter()
        .map(|ps| {
            ps.iter()
                .map(|(k, v, raw)| {
                    if *raw {
                        format!("{}={}", uri_safe(k), uri_safe(v))
                    } else {
                        format!("{}={}", percent(k), percent(v))
                    }
                })
                .collect::<Vec<_>>()
                .join("&")
        })
        .collect();
    let (d, _) = seeded();
    for (i, q) in queries.iter().enumerate() {
        let who = if i % 2 == 0 {
            service.clone()
        } else {
            Who::player("player-7f3c2a")
        };
        *statuses
            .entry(
                run(
                    "list",
                    H::Api,
                    &d,
                    Ev::get("/v1/sessions").query(q).by(who),
                    q,
                    &mut violations,
                )
                .await,
            )
            .or_default() += 1;
    }
    tried += queries.len() as u64;
    per_route_tried.push(format!("list {}", queries.len()));

    // Path segments: get session, get placement, delete session (with or without `terminate`).
    let segment = prop_oneof![
        "\\PC{0,60}",
        "[a-zA-Z0-9%:/_.-]{0,80}",
        Just(short.clone()),
        Just(session_arn.clone())
    ];
    for (route, seed) in [
        ("get_session", 6u8),
        ("get_placement", 7),
        ("delete_session", 8),
    ] {
        let (d, _) = seeded();
        let segs = generate((segment.clone(), any::<bool>(), 0u8..4), n, seed);
        for (s, enc, q) in &segs {
            let seg = if *enc {
                percent(s)
            } else {
                uri_safe(&s.replace(['/', '?'], ""))
            };
            let query = ["", "terminate=true", "terminate=yes", "x=1"][usize::from(*q)];
            let ev = match route {
                "get_session" => Ev::get(&format!("/v1/sessions/{seg}")),
                "get_placement" => Ev::get(&format!("/v1/placements/{seg}")),
                _ => Ev::delete(&format!("/v1/sessions/{seg}")),
            };
            *statuses
                .entry(
                    run(
                        route,
                        H::Api,
                        &d,
                        ev.query(query).by(service.clone()),
                        s,
                        &mut violations,
                    )
                    .await,
                )
                .or_default() += 1;
        }
        tried += segs.len() as u64;
        per_route_tried.push(format!("{route} {}", segs.len()));
    }

    let detail = format!(
        "proptest bodies/queries/paths per route: {}; answers {}",
        per_route_tried.join(", "),
        scorecard::tally(&statuses)
    );
    scorecard::finish("R08 bad input (routes)", tried, &violations, &detail);
}

#[tokio::test]
async fn generated_sqs_bodies_never_panic_nor_return_to_the_queue() {
    let n = per_route();
    let store = Arc::new(MemoryStore::new());
    let ns = "r08";
    store
        .create_placement(&placement(ns, "a", 8, &["ann"]), None)
        .await
        .expect("placement");
    let good = fulfilled_body(ns, "a", 1, &["ann"], T0.plus_secs(3));
    let envelope_value: Value = serde_json::from_str(&good).expect("envelope");
    let event: Value =
        serde_json::from_str(envelope_value["Message"].as_str().expect("message")).expect("event");
    // Half mutate the event inside a well-formed SNS envelope, half the envelope itself, a few the
    // detail alone (GameLift's raw shape).
    let inner = bodies(&event, n / 2, 9);
    let outer = bodies(&envelope_value, n / 2, 10);
    let mut generated: Vec<String> = inner
        .into_iter()
        .enumerate()
        .map(|(i, text)| match serde_json::from_str::<Value>(&text) {
            Ok(v) if i % 4 != 0 => envelope(&v, T0.plus_secs(3)).replace(&v.to_string(), &text),
            Ok(v) => v["detail"].to_string(),
            Err(_) => {
                let mut e = envelope_value.clone();
                e["Message"] = Value::String(text);
                e.to_string()
            }
        })
        .collect();
    generated.extend(outer);
    let mut violations = Vec::new();
    for (i, body) in generated.iter().enumerate() {
        let id = format!("m-{i}");
        let res = AssertUnwindSafe(process(&store, sqs_event(vec![sqs_record(&id, body, 1)])))
            .catch_unwind()
            .await;
        let shown: String = body.chars().take(300).collect();
        match res {
            Err(_) => violations.push(format!("panic on {shown:?}")),
            Ok((response, _)) if !response.batch_item_failures.is_empty() => {
                violations.push(format!("returned to the queue: {shown:?}"));
            }
            Ok(_) => {}
        }
    }
    scorecard::finish(
        "R08 bad input (SQS)",
        generated.len() as u64,
        &violations,
        "proptest mutations of a PlacementFulfilled event and its SNS envelope through placement-events; 0 panics, 0 in batchItemFailures",
    );
}

#[test]
fn every_fuzz_corpus_file_replays_without_a_panic() {
    let root = format!("{}/../../fuzz/corpus", env!("CARGO_MANIFEST_DIR"));
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut counts = Vec::new();
    for (name, f) in fuzzing::TARGETS {
        let dir = format!("{root}/{name}");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{dir} has {} seeds", files.len());
        for p in &files {
            let data = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            if std::panic::catch_unwind(|| f(&data)).is_err() {
                violations.push(format!("{name}: panic on {}", p.display()));
            }
        }
        tried += files.len() as u64;
        counts.push(format!("{name} {}", files.len()));
    }
    let detail = format!("replayed on stable: {}", counts.join(", "));
    scorecard::finish("R08 bad input (fuzz corpora)", tried, &violations, &detail);
}
