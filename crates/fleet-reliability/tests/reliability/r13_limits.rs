//! R13 limits (I6 I10, with the audit): every input the limits allow works end to end, or is refused
//! with a 4xx naming the field; nothing is lost or retried forever.
//!
//! * **A create whose answer was lost** (DynamoDB Local with `fleet_reliability::faults` on the
//!   store's client, gamelift-sim through `SdkGameLift`): the create's TransactWriteItems takes
//!   effect but its answer is lost (a 500 or a timeout after the write), on the first attempt only
//!   (the SDK's retry finds the write done) or on every attempt (the client gets 503 and retries with
//!   the same `Idempotency-Key`). Either way the placement must end FULFILLED, with its session, after
//!   exactly one StartGameSessionPlacement that GameLift accepted, and the table must pass the audit.
//! * **The largest inputs** (same stack, no faults): three creates that fill the 300 KB body from
//!   different fields (200 players of 1,024-character ids; 262,144 characters of data; 200 players
//!   with two-byte player data), each fulfilled with all its player sessions, then the largest status
//!   report (a full name, 16 properties, two-byte data filling its body) on the session, and the
//!   result pushed to a listed player's connection. Every item of the table must stay under
//!   `ITEM_BUDGET_BYTES` (360 KB, measured by DynamoDB's rules), every push under 128 KB, every
//!   placement FULFILLED, the session must serve the report's data in full, and the audit must pass.
//! * **Index keys**: list queries whose region or fleet would be an index key DynamoDB refuses
//!   (empty, over 2048 bytes) must be a 400 on `query`, under every sort, never a 503; the same values
//!   where they only filter, and keys at the limit, must be a 200.

use std::time::Duration;

use fleet_core::ids::PlacementId;
use fleet_core::model::PlacementStatus;
use fleet_core::ports::SessionStore as _;
use fleet_functions::placement_events;
use fleet_reliability::faults::{self, FaultInterceptor, FaultKind, FaultPlan};
use fleet_reliability::fixtures::sqs_batch;
use fleet_reliability::{audit, scorecard};
use gamelift_sim::{SimServer, Simulator};

use crate::support::{self, SimDeps};
use crate::support_http::{Ev, GS_OWN, SERVICE, Who, api, config, create_body, rpc};

/// The handlers on a faulted DynamoDB Local client and on gamelift-sim, with the simulator's events.
struct World {
    deps: SimDeps,
    faults: FaultInterceptor,
    sim: Simulator,
    events: tokio::sync::mpsc::Receiver<String>,
    _server: SimServer,
}

async fn world(tag: &str) -> World {
    let faults = FaultInterceptor::new();
    let store =
        support::spawn_store_with(faults::dynamodb_client(&support::endpoint(), &faults), tag)
            .await;
    let sim = support::quiet_simulator();
    let events = sim.events();
    let (deps, server) = support::on_simulator(&sim, store, config()).await;
    World {
        deps,
        faults,
        sim,
        events,
        _server: server,
    }
}

impl World {
    /// Lets the simulator place what is pending and delivers its events to placement-events.
    async fn settle(&mut self) -> bool {
        self.sim
            .advance(Duration::from_secs(5))
            .await
            .expect("advance the simulator");
        self.deps.clock.advance_secs(5);
        let bodies = support::published(&mut self.events);
        placement_events::handle(&self.deps, sqs_batch("e", &bodies))
            .await
            .batch_item_failures
            .is_empty()
    }
}

/// One cell: the create's write takes effect and its answer is lost on `attempts` attempts.
async fn lost_create(kind: FaultKind, attempts: u32) -> (String, Vec<String>) {
    let mut w = world("r13lost").await;
    let mut v = Vec::new();
    let create = || {
        Ev::post("/v1/sessions", create_body(4, &["ann"]))
            .header("Idempotency-Key", "r13-key")
            .by(Who::player("ann"))
    };
    w.faults.plan(Some(FaultPlan {
        operation: "TransactWriteItems".into(),
        occurrence: 0,
        kind,
        attempts,
    }));
    let first = api(&w.deps, create()).await;
    w.faults.plan(None);
    let mut answers = vec![first.status.to_string()];
    let placement = match first.status {
        202 => first.body["placementId"].as_str().map(str::to_owned),
        503 => {
            let retry = api(&w.deps, create()).await;
            answers.push(retry.status.to_string());
            if retry.status != 202 {
                v.push(format!(
                    "the retry answered {}: {}",
                    retry.status, retry.body
                ));
            }
            retry.body["placementId"].as_str().map(str::to_owned)
        }
        other => {
            v.push(format!(
                "the first attempt answered {other}: {}",
                first.body
            ));
            None
        }
    };
    if !w.settle().await {
        v.push("a placement event was not applied".into());
    }
    match placement.as_deref().map(PlacementId::parse) {
        Some(Ok(id)) => match w.deps.store.get_placement(&id).await {
            Ok(Some(p)) if p.status == PlacementStatus::Fulfilled && p.session_id.is_some() => {}
            other => v.push(format!("the placement did not end FULFILLED: {other:?}")),
        },
        _ => v.push("no placement id was answered".into()),
    }
    let started = w.sim.stats().placements_started;
    if started != 1 {
        v.push(format!(
            "{started} StartGameSessionPlacement accepted, not 1"
        ));
    }
    let (snap, audit_v) = audit::dynamo(&w.deps.store).await;
    v.extend(audit_v);
    if snap.placements.len() != 1 {
        v.push(format!("{} placements for one key", snap.placements.len()));
    }
    (format!("{kind:?}×{attempts} → {}", answers.join("→")), v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_was_lost_ends_fulfilled_after_one_start() {
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut cells = Vec::new();
    for kind in [FaultKind::LostAnswer, FaultKind::Timeout] {
        // 1: the SDK's own retry finds the write done; 99: every attempt fails, the client retries.
        for attempts in [1, 99] {
            tried += 1;
            let (cell, v) = lost_create(kind, attempts).await;
            violations.extend(v.into_iter().map(|x| format!("{cell}: {x}")));
            cells.push(cell);
        }
    }
    let detail = format!(
        "answers {}; each FULFILLED after 1 accepted start",
        cells.join(", ")
    );
    scorecard::finish("R13 limits lost create", tried, &violations, &detail);
}

/// A create body that fills the 300 KB limit exactly: `players` of `id_len`-character ids, each with
/// `player_data` characters of `é`, a full name, 16 properties, latencies for up to 40 players, and
/// data (ASCII, as GameLift counts it) taking the rest.
fn full_body(players: usize, id_len: usize, player_data: usize) -> String {
    use fleet_core::limits::{BODY_MAX_BYTES, DATA_MAX};
    let ids: Vec<String> = (0..players)
        .map(|i| format!("{i:04}{}", "p".repeat(id_len - 4)))
        .collect();
    let props: serde_json::Map<String, serde_json::Value> = (0..16)
        .map(|i| {
            (
                format!("{i:02}{}", "k".repeat(30)),
                serde_json::json!("v".repeat(96)),
            )
        })
        .collect();
    let mut body = serde_json::json!({
        "maxPlayers": 200,
        "players": ids.iter().map(|id| if player_data == 0 {
            serde_json::json!({"playerId": id})
        } else {
            serde_json::json!({"playerId": id, "playerData": "é".repeat(player_data)})
        }).collect::<Vec<_>>(),
        "latencies": ids.iter().take(40).map(|id| serde_json::json!({"playerId": id, "region": "us-east-1", "latencyMs": 60000})).collect::<Vec<_>>(),
        "name": "n".repeat(1024),
        "properties": props,
        "data": "",
    });
    let room = BODY_MAX_BYTES
        .saturating_sub(body.to_string().len())
        .min(DATA_MAX);
    body["data"] = serde_json::json!("d".repeat(room));
    body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_inputs_are_stored_fulfilled_and_pushed_within_their_budgets() {
    use fleet_core::ids::ConnectionId;
    use fleet_core::limits::{BODY_MAX_BYTES, ITEM_BUDGET_BYTES, PUSH_MAX_BYTES};
    use fleet_core::ports::{Clock as _, Connection, ConnectionStore as _};

    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut largest = (0usize, 0usize);
    let shapes = [
        ("200 players × 1,024-character ids", full_body(200, 1024, 0)),
        ("262,144 characters of data", full_body(0, 4, 0)),
        (
            "200 players with two-byte player data",
            full_body(200, 40, 640),
        ),
    ];
    for (label, body) in shapes {
        let mut w = world("r13size").await;
        w.deps.config = support::sim_config();
        let mut v = Vec::new();
        if body.len() + 8_000 < BODY_MAX_BYTES && !label.starts_with("262") {
            v.push(format!(
                "the body is {} bytes, not near the limit",
                body.len()
            ));
        }
        let created = api(
            &w.deps,
            Ev::post("/v1/sessions", body.clone()).by(Who::iam(SERVICE)),
        )
        .await;
        if created.status != 202 {
            violations.push(format!(
                "{label}: create answered {}: {}",
                created.status, created.body
            ));
            continue;
        }
        let id = created.body["placementId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !w.settle().await {
            v.push("the fulfilment was not stored".into());
        }
        let got = api(
            &w.deps,
            Ev::get(&format!("/v1/placements/{id}")).by(Who::iam(SERVICE)),
        )
        .await;
        let players: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|b| b["players"].as_array().cloned())
            .unwrap_or_default();
        let placed = got.body["playerSessions"].as_array().map_or(0, Vec::len);
        if got.body["status"] != "FULFILLED" || placed != players.len() {
            v.push(format!(
                "{} with {placed} of {} player sessions",
                got.body["status"],
                players.len()
            ));
        }
        let arn = got.body["session"]["arn"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let session = got.body["session"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // The largest report on the session.
        let mut report = serde_json::json!({"id": arn, "playerCount": 200, "metadata": {
            "GameSessionName": "r".repeat(1024), "GameSessionData": "",
            "GameProperties": (0..16).map(|i| (format!("{i:02}{}", "k".repeat(30)), serde_json::json!("w".repeat(96)))).collect::<serde_json::Map<_, _>>()}});
        let room = (BODY_MAX_BYTES - report.to_string().len()) / 2;
        report["metadata"]["GameSessionData"] = serde_json::json!("é".repeat(room));
        let r = rpc(
            &w.deps,
            Ev::post("/v1/rpc/update_instance_info", report.to_string()).by(Who::iam(GS_OWN)),
        )
        .await;
        if r.status != 204 {
            v.push(format!("the report answered {}: {}", r.status, r.body));
        }
        let s = api(
            &w.deps,
            Ev::get(&format!("/v1/sessions/{session}")).by(Who::iam(SERVICE)),
        )
        .await;
        if s.body["data"].as_str().map(|d| d.chars().count()) != Some(room) {
            v.push("the session does not serve the report's data in full".into());
        }
        // The push to a listed player's connection (or the only user there is).
        let user = players
            .first()
            .and_then(|p| p["playerId"].as_str())
            .unwrap_or("nobody")
            .to_owned();
        let now = w.deps.clock.now();
        let stored = match PlacementId::parse(&id) {
            Ok(pid) => w.deps.store.get_placement(&pid).await.ok().flatten(),
            Err(_) => None,
        };
        if let (Some(stored), Ok(conn)) = (stored, ConnectionId::parse("r13-conn")) {
            let put = w
                .deps
                .store
                .put_connection(&Connection {
                    id: conn,
                    user: if players.is_empty() {
                        stored.requester.clone()
                    } else {
                        user
                    },
                    connected_at: now,
                    expires_at: now.plus_secs(600),
                })
                .await;
            if put.is_err() {
                v.push("could not record the connection".into());
            }
            match fleet_functions::notifier::push_result(
                &w.deps.store,
                &w.deps.notifier,
                &stored,
                fleet_functions::notifier::PlacedSession::Read,
                now,
            )
            .await
            {
                Ok(p) if p.delivery.sent == 1 => {}
                other => v.push(format!("the push was not delivered: {other:?}")),
            }
            for (_, bytes) in w.deps.notifier.sent() {
                tried += 1;
                largest.1 = largest.1.max(bytes.len());
                if bytes.len() > PUSH_MAX_BYTES {
                    v.push(format!("a push of {} bytes", bytes.len()));
                }
            }
        }
        // Every item of the table, by DynamoDB's rules.
        for item in audit::scan(&w.deps.store).await {
            tried += 1;
            let size = fleet_aws::dynamo::codec::item_size(&item);
            largest.0 = largest.0.max(size);
            if size > ITEM_BUDGET_BYTES {
                v.push(format!(
                    "{} is {size} bytes",
                    fleet_aws::dynamo::codec::item_key(&item)
                ));
            }
        }
        let (_, audit_v) = audit::dynamo(&w.deps.store).await;
        v.extend(audit_v);
        violations.extend(v.into_iter().map(|x| format!("{label}: {x}")));
    }
    let detail = format!(
        "3 full 300 KB creates fulfilled with all their player sessions, the largest report and its push; largest item {} B (budget {ITEM_BUDGET_BYTES}), largest push {} B (limit {PUSH_MAX_BYTES})",
        largest.0, largest.1
    );
    scorecard::finish("R13 limits sizes", tried, &violations, &detail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_key_values_dynamodb_would_refuse_are_a_400_on_query_never_a_503() {
    let w = world("r13keys").await;
    let at_limit = "\u{1F600}".repeat(512);
    let enc = |t: &str| {
        t.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    let refused = [
        "+region:\"\"".to_owned(),
        "+fleetId:\"\"".to_owned(),
        "+openSlots:>=1 +region:\"\"".to_owned(),
        format!("+region:{at_limit}a"),
        format!("+fleetId:{at_limit}a"),
    ];
    let accepted = [
        "region:\"\" fleetId:x".to_owned(),
        "-fleetId:\"\"".to_owned(),
        format!("+region:{at_limit}"),
        format!("+fleetId:{at_limit}"),
    ];
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut answers = std::collections::BTreeMap::<u16, u32>::new();
    for sort in [
        "createdAt",
        "-createdAt",
        "playerCount",
        "-playerCount",
        "openSlots",
        "-openSlots",
    ] {
        for (text, want) in refused
            .iter()
            .map(|t| (t, 400))
            .chain(accepted.iter().map(|t| (t, 200)))
        {
            tried += 1;
            let a = api(
                &w.deps,
                Ev::get("/v1/sessions")
                    .query(&format!("query={}&sort={}", enc(text), enc(sort)))
                    .by(Who::iam(SERVICE)),
            )
            .await;
            *answers.entry(a.status).or_default() += 1;
            let field_ok = want == 200 || a.body["error"]["field"] == "query";
            if a.status != want || !field_ok {
                violations.push(format!("{text:.40} sort {sort}: {} {}", a.status, a.body));
            }
        }
    }
    let detail = format!(
        "9 queries × 6 sorts on DynamoDB Local: {}",
        scorecard::tally(&answers)
    );
    scorecard::finish("R13 limits keys", tried, &violations, &detail);
}
