//! R14 quotas (I10, with the audit): a player holds at most `FLEETLIFT_MAX_PENDING_PER_PLAYER`
//! (default 3) PENDING placements, however many creates it sends at once; services are not capped.
//!
//! On DynamoDB Local, through `api::handle` (GameLift faked: every start is accepted), in rounds:
//! 50 concurrent creates by one player; 5 players × 20 concurrent creates, all at once, with 20
//! concurrent creates by the service; then every placement ends (TIMED_OUT events through
//! placement-events, which release them) and each player bursts again. After each round, from a
//! consistent Scan: no player has more PENDING placements than the cap, the creates answered 202 are
//! exactly the PENDING ones, every refusal is 429 `throttled` with `Retry-After` (a 503 from
//! contention wrote nothing and is retried with its key, as a client does), every PENDING placement is in its player's pending-count set
//! (so the count can never be under the truth), and the table audit passes.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::{DynamoStore, codec};
use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, SequentialIds};
use fleet_functions::deps::{Deps, PortSet};
use fleet_functions::placement_events;
use fleet_reliability::fixtures::{T0, envelope, sqs_event, sqs_record};
use fleet_reliability::{audit, scorecard};
use serde_json::json;

use crate::support;
use crate::support_http::{Answer, Ev, SERVICE, Who, api, create_body, deps};

type QuotaDeps =
    Deps<PortSet<DynamoStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

/// Placements by requester and status, and each owner's pending-count set, from a consistent Scan.
async fn snapshot(
    store: &DynamoStore,
) -> (
    BTreeMap<String, Vec<(String, String)>>,
    BTreeMap<String, BTreeSet<String>>,
) {
    let mut placements: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut sets = BTreeMap::new();
    for item in audit::scan(store).await {
        let s = |k: &str| codec::get_s(&item, k).unwrap_or_default().to_owned();
        match codec::get_s(&item, codec::KIND) {
            Some("placement") => placements
                .entry(s("requester"))
                .or_default()
                .push((s("placementId"), s("status"))),
            Some("pendingCount") => {
                let ids = item
                    .get(codec::PENDING_IDS)
                    .and_then(|v| v.as_ss().ok())
                    .map(|v| v.iter().cloned().collect())
                    .unwrap_or_default();
                sets.insert(s("pk"), ids);
            }
            _ => {}
        }
    }
    (placements, sets)
}

/// The checks after a round; `accepted` is the placement ids answered 202 per player in it.
async fn check(
    d: &QuotaDeps,
    cap: usize,
    accepted: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut v = Vec::new();
    let (placements, sets) = snapshot(&d.store).await;
    for (requester, list) in &placements {
        let pending: BTreeSet<String> = list
            .iter()
            .filter(|(_, st)| st == "PENDING")
            .map(|(id, _)| id.clone())
            .collect();
        if requester == SERVICE_REQUESTER {
            continue;
        }
        if pending.len() > cap {
            v.push(format!("{requester}: {} PENDING, cap {cap}", pending.len()));
        }
        if let Some(ids) = accepted.get(requester)
            && !ids.is_subset(&pending)
        {
            v.push(format!("{requester}: an accepted create is not PENDING"));
        }
        let key = codec::pending_count_key(&format!("player:{requester}"));
        let set = key
            .get("pk")
            .and_then(|pk| match pk {
                AttributeValue::S(pk) => sets.get(pk),
                _ => None,
            })
            .cloned()
            .unwrap_or_default();
        if !pending.is_subset(&set) {
            v.push(format!(
                "{requester}: a PENDING placement is missing from its count"
            ));
        }
    }
    let (_, audit_v) = audit::dynamo(&d.store).await;
    v.extend(audit_v);
    v
}

/// How many times a create answered 503 is sent again (with its key) before its 503 counts.
const MAX_RETRIES_OF_503: u32 = 5;

/// The service's requester as placements record it (its normalised role ARN).
const SERVICE_REQUESTER: &str = "arn:aws:iam::123456789012:role/fleetlift-backend";

fn tally(answers: &mut BTreeMap<u16, u64>, v: &mut Vec<String>, a: &Answer, who: &str) {
    *answers.entry(a.status).or_default() += 1;
    match a.status {
        202 => {}
        429 if a.code() == "throttled" && who != "service" => {}
        503 if a.code() == "unavailable" && who != "service" => {}
        other => v.push(format!("{who}: {other} {}", a.body)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_never_leave_a_player_more_pending_placements_than_the_cap() {
    // The handler rows' fakes at T0, on DynamoDB Local.
    let fakes = deps();
    let d: QuotaDeps = Deps {
        store: support::spawn_store("r14").await,
        gamelift: fakes.gamelift,
        notifier: fakes.notifier,
        clock: fakes.clock,
        ids: fakes.ids,
        config: fakes.config,
        cache: fakes.cache,
    };
    let cap = d.config.max_pending_per_player as usize;
    let mut tried = 0u64;
    let mut violations = Vec::new();
    let mut answers: BTreeMap<u16, u64> = BTreeMap::new();
    let create = |who: String, n: usize| {
        let by = if who == "service" {
            Who::iam(SERVICE)
        } else {
            Who::player(&who)
        };
        let players: Vec<&str> = if who == "service" {
            vec![]
        } else {
            vec![who.as_str()]
        };
        let ev = Ev::post("/v1/sessions", create_body(4, &players))
            .header("Idempotency-Key", &format!("{who}-{n}"))
            .by(by);
        let d = &d;
        async move {
            // A 503 wrote nothing and asks the client to retry, as a client does: with the same
            // Idempotency-Key. (DynamoDB Local, on a loaded CI machine, gives up on a transaction now
            // and then where DynamoDB would not; the cap is what this row checks.)
            let mut retried = 0;
            loop {
                let a = api(d, ev.clone()).await;
                if a.status != 503 || retried == MAX_RETRIES_OF_503 {
                    return (who, a, retried);
                }
                retried += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * u64::from(retried))).await;
            }
        }
    };
    let players: Vec<String> = (0..5).map(|i| format!("r14-player-{i}")).collect();
    let rounds: [Vec<(String, usize)>; 3] = [
        (0..50).map(|n| ("r14-solo".to_owned(), n)).collect(),
        players
            .iter()
            .flat_map(|p| (0..20).map(move |n| (p.clone(), n)))
            .chain((0..20).map(|n| ("service".to_owned(), n)))
            .collect(),
        players
            .iter()
            .flat_map(|p| (100..110).map(move |n| (p.clone(), n)))
            .collect(),
    ];
    let mut accepted_total = 0u64;
    let mut retries = 0u64;
    for (round, batch) in rounds.iter().enumerate() {
        if round == 2 {
            // Every placement so far ends: its TIMED_OUT event releases it from its player's count.
            let (placements, _) = snapshot(&d.store).await;
            let records: Vec<_> = placements
                .values()
                .flatten()
                .filter(|(_, st)| st == "PENDING")
                .enumerate()
                .map(|(i, (id, _))| {
                    let detail = json!({"type": "PlacementTimedOut", "placementId": id});
                    sqs_record(&format!("t{i}"), &envelope(&detail, T0.plus_secs(600)), 1)
                })
                .collect();
            for chunk in records.chunks(10) {
                let r = placement_events::handle(&d, sqs_event(chunk.to_vec())).await;
                if !r.batch_item_failures.is_empty() {
                    violations.push("a TIMED_OUT event was not applied".into());
                }
            }
        }
        let results =
            futures::future::join_all(batch.iter().map(|(who, n)| create(who.clone(), *n))).await;
        let mut accepted: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (who, a, retried) in &results {
            tried += 1;
            retries += u64::from(*retried);
            tally(&mut answers, &mut violations, a, who);
            if a.status == 202 {
                accepted_total += 1;
                if let Some(id) = a.body["placementId"].as_str() {
                    accepted
                        .entry(who.clone())
                        .or_default()
                        .insert(id.to_owned());
                }
            }
            if a.status == 429 && a.body.get("error").is_none() {
                violations.push("a 429 without an error body".into());
            }
        }
        if round > 0
            && accepted.get("service").map_or(0, BTreeSet::len) != 20 * usize::from(round == 1)
        {
            violations.push(format!("round {round}: the service was capped"));
        }
        for p in &players {
            if round > 0 && accepted.get(p).is_none_or(BTreeSet::is_empty) {
                violations.push(format!("round {round}: {p} got no placement at all"));
            }
        }
        violations.extend(
            check(&d, cap, &accepted)
                .await
                .into_iter()
                .map(|x| format!("round {round}: {x}")),
        );
    }
    let detail = format!(
        "cap {cap}; 50 concurrent creates by one player, then 5 players × 20 with the service × 20, then 5 × 10 after every placement ended: {} ({accepted_total} accepted; {retries} retries of a 503 with the same key); no player over the cap, every PENDING placement in its count",
        scorecard::tally(&answers)
    );
    scorecard::finish("R14 quotas", tried, &violations, &detail);
}
