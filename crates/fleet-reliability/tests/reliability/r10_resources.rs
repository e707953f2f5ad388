//! R10 resources (I8): the largest valid inputs and 1 MiB poison through each handler on the fakes,
//! timed per call. The figures (p50/p99 per handler) go to the scorecard; the assertion is only a
//! generous bound on the median (p50 < 50 ms in a debug build) that catches an accidental quadratic or
//! a body read twice over. The median, not the tail: on a shared 2-core CI machine a p99 measures the
//! machine's other work as much as ours (it crossed 50 ms under a parallel build). Speed itself is
//! judged by the benchmarks (`fleet-bench`), not by timed tests.
//!
//! Largest valid: a create just under the 300 KiB body limit (maxPlayers 200, 20 players with
//! 1,024-character ids and 2,048-character data, 16 properties at their key/value limits, a
//! 1,024-character name, 200 latencies, 10 regions, 150,000 characters of data); a join of 25 players
//! at their id/data limits into a 200-seat session; a list of 100 from 300 sessions with a
//! 1,000-character query; get session; an update leaving 16 properties at their limits; delete instance
//! info; a placement-events batch of 10 fulfilments of 25 players. Poison: 1 MiB bodies for create,
//! join, update and delete instance info (413), a 10,000-character query string (400: API Gateway
//! refuses a request line and headers over 10,240 bytes, so nothing longer reaches the function; the
//! `http` crate refuses URIs over 64 KiB), a 1 MiB SQS message (quarantined).

use std::time::{Duration, Instant};

use fleet_core::fakes::MemoryStore;
use fleet_core::ids::GameSessionArn;
use fleet_core::model::Session;
use fleet_core::ports::SessionStore as _;
use fleet_functions::placement_events::process;
use fleet_reliability::fixtures::{T0, arn, fulfilled_body, placement, sqs_event, sqs_record};
use fleet_reliability::scorecard;
use fleet_testkit::records;
use serde_json::{Value, json};
use std::sync::Arc;

use crate::support_http::*;

/// The bound a median must stay under (generous: a debug build on a shared 2-core machine).
const P50_BOUND: Duration = Duration::from_millis(50);

/// Session `n` of a listing: named `lobby-<n>`, created `n` seconds after T0 (so listings have an order).
fn session(a: &GameSessionArn, max_players: u32, n: i64) -> Session {
    Session {
        name: Some(format!("lobby-{n}")),
        created_at: T0.plus_secs(n),
        updated_at: T0.plus_secs(n),
        ..records::session(a.as_str(), max_players)
    }
}

fn id_of(c: char, i: usize, len: usize) -> String {
    let head = format!("{c}{i}-");
    format!("{head}{}", "x".repeat(len - head.len()))
}

fn props16() -> serde_json::Map<String, Value> {
    (0..16)
        .map(|i| (id_of('k', i, 32), json!("v".repeat(96))))
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

struct Case {
    name: &'static str,
    expect: u16,
    samples: Vec<Duration>,
    wrong: Vec<u16>,
}

impl Case {
    fn new(name: &'static str, expect: u16) -> Self {
        Self {
            name,
            expect,
            samples: Vec::new(),
            wrong: Vec::new(),
        }
    }
    fn add(&mut self, took: Duration, status: u16) {
        self.samples.push(took);
        if status != self.expect {
            self.wrong.push(status);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn largest_valid_inputs_and_1_mib_poison_stay_cheap_in_every_handler() {
    let n = 100 * scorecard::scale() as usize;
    let d = deps();
    let sessions: Vec<Session> = (0..n.max(300))
        .map(|i| session(&arn("r10", i as u32), 200, i as i64))
        .collect();
    d.store.seed_sessions(&sessions);
    for s in &sessions {
        d.gamelift.add_session(&s.arn, "ACTIVE", 200);
    }
    let service = Who::iam(SERVICE);
    let server = Who::iam(GS_OWN);

    let players: Vec<Value> = (0..20)
        .map(|i| json!({"playerId": id_of('p', i, 1024), "playerData": "d".repeat(2048)}))
        .collect();
    let latencies: Vec<Value> = (0..200)
        .map(
            |i| json!({"playerId": format!("lat-{i}"), "region": "us-east-1", "latencyMs": 60_000}),
        )
        .collect();
    // The 200 latencies, not the 10 regions: GameLift refuses the two together, and so does the API.
    let create = json!({
        "maxPlayers": 200, "players": players, "properties": props16(), "name": "n".repeat(1024),
        "data": "d".repeat(150_000), "latencies": latencies,
    })
    .to_string();
    assert!(
        create.len() < 300 * 1024,
        "the create body is {} bytes",
        create.len()
    );
    let mib = format!(
        "{{\"maxPlayers\":2,\"data\":\"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    let query = format!(
        "+properties.mode:casual +openSlots:>=1 -name:\"{}\"",
        "z".repeat(950)
    );

    let mut cases = vec![
        Case::new("create largest", 202),
        Case::new("join 25 largest", 200),
        Case::new("list 100 of 300", 200),
        Case::new("get session", 200),
        Case::new("update 16 properties", 204),
        Case::new("delete_instance_info", 204),
        Case::new("create 1 MiB", 413),
        Case::new("join 1 MiB", 413),
        Case::new("update 1 MiB", 413),
        Case::new("delete_instance_info 1 MiB", 413),
        Case::new("list 10 KB query string", 400),
    ];
    for i in 0..n {
        let target = &sessions[i % sessions.len()];
        let short = target.id.as_str().to_owned();
        let join = json!({"players": (0..25).map(|k| json!({"playerId": id_of('j', i * 25 + k, 1024), "playerData": "d".repeat(2048)})).collect::<Vec<_>>()}).to_string();
        // 15 new properties and the session's own `mode` at the value limit: 16 once merged.
        let mut props = props16();
        props.remove(&id_of('k', 15, 32));
        props.insert("mode".into(), json!("m".repeat(96)));
        let update = json!({"id": target.arn.as_str(), "playerCount": 200, "metadata": {"GameProperties": props}}).to_string();
        let reqs: Vec<(usize, bool, Ev)> = vec![
            (
                0,
                true,
                Ev::post("/v1/sessions", create.clone()).by(service.clone()),
            ),
            (
                1,
                true,
                Ev::post(&format!("/v1/sessions/{short}/join"), join).by(service.clone()),
            ),
            (
                2,
                true,
                Ev::get("/v1/sessions")
                    .query(&format!(
                        "limit=100&sort=-playerCount&query={}",
                        encode(&query)
                    ))
                    .by(service.clone()),
            ),
            (
                3,
                true,
                Ev::get(&format!("/v1/sessions/{short}")).by(service.clone()),
            ),
            (
                4,
                false,
                Ev::post("/v1/rpc/update_instance_info", update).by(server.clone()),
            ),
            (
                6,
                true,
                Ev::post("/v1/sessions", mib.clone()).by(service.clone()),
            ),
            (
                7,
                true,
                Ev::post(&format!("/v1/sessions/{short}/join"), mib.clone()).by(service.clone()),
            ),
            (
                8,
                false,
                Ev::post("/v1/rpc/update_instance_info", mib.clone()).by(server.clone()),
            ),
            (
                9,
                false,
                Ev::post("/v1/rpc/delete_instance_info", mib.clone()).by(server.clone()),
            ),
            (
                10,
                true,
                Ev::get("/v1/sessions")
                    .query(&format!("query={}", "a".repeat(10_000)))
                    .by(service.clone()),
            ),
            (
                5,
                false,
                Ev::post(
                    "/v1/rpc/delete_instance_info",
                    json!({"id": target.arn.as_str()}).to_string(),
                )
                .by(server.clone()),
            ),
        ];
        for (k, is_api, ev) in reqs {
            // The event conversion is the runtime's, not the handler's: outside the timer.
            let req = ev.request();
            let started = Instant::now();
            let resp = if is_api {
                fleet_functions::api::handle(&d, req).await
            } else {
                fleet_functions::rpc::handle(&d, req).await
            };
            let took = started.elapsed();
            cases[k].add(took, resp.status().as_u16());
        }
    }

    // placement-events: a batch of 10 fulfilments of 25 players, and a 1 MiB poison message.
    let mut batch = Case::new("events batch of 10×25", 0);
    let mut poison = Case::new("events 1 MiB poison", 0);
    let store = Arc::new(MemoryStore::new());
    let big_poison = format!(
        "{{\"detail\":{{\"type\":\"PlacementFulfilled\",\"pad\":\"{}\"}}}}",
        "x".repeat(1024 * 1024)
    );
    for i in 0..n {
        let ns = format!("r10e{i}");
        let names: Vec<String> = (0..25).map(|k| format!("pl-{k}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut records = Vec::new();
        for b in 0..10u32 {
            let name = format!("b{b}");
            store
                .create_placement(&placement(&ns, &name, 200, &refs), None)
                .await
                .expect("placement");
            records.push(sqs_record(
                &format!("m-{i}-{b}"),
                &fulfilled_body(&ns, &name, b + 1, &refs, T0.plus_secs(3)),
                1,
            ));
        }
        let event = sqs_event(records);
        let started = Instant::now();
        let (r, _) = process(&store, event).await;
        batch.add(started.elapsed(), r.batch_item_failures.len() as u16);
        let event = sqs_event(vec![sqs_record(&format!("p-{i}"), &big_poison, 1)]);
        let started = Instant::now();
        let (r, _) = process(&store, event).await;
        poison.add(started.elapsed(), r.batch_item_failures.len() as u16);
    }
    cases.push(batch);
    cases.push(poison);

    let mut violations = Vec::new();
    let mut figures = Vec::new();
    let mut tried = 0u64;
    for c in &mut cases {
        c.samples.sort();
        let (p50, p99) = (percentile(&c.samples, 0.50), percentile(&c.samples, 0.99));
        tried += c.samples.len() as u64;
        figures.push(format!(
            "{} p50 {:.1} p99 {:.1}",
            c.name,
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        ));
        if p50 >= P50_BOUND {
            violations.push(format!("{}: p50 {p50:?} ≥ {P50_BOUND:?}", c.name));
        }
        if !c.wrong.is_empty() {
            violations.push(format!(
                "{}: {} answers other than {} (first {})",
                c.name,
                c.wrong.len(),
                c.expect,
                c.wrong[0]
            ));
        }
    }
    let detail = format!("ms: {}", figures.join("; "));
    scorecard::finish("R10 resources", tried, &violations, &detail);
}
