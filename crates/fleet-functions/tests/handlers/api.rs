//! fleet-api: every route of docs/architecture.md#http-api through `api::handle`, with the sample events of `events/api/`,
//! exact status codes and bodies, and the downstream call budget of docs/architecture.md#functions-and-call-budget counted on the fakes.

use fleet_core::fakes::GameLiftCall;
use fleet_core::ids::{GameSessionArn, PlacementId, PlayerId, SessionId};
use fleet_core::model::{PlacementPlayer, PlacementStatus, SeatStatus};
use fleet_core::ports::{CreateOutcome, GameLiftError, PlacementOutcome, SessionStore, StoreError};
use serde_json::{Value, json};

use crate::support_cases::*;
use crate::support_http::*;

fn pid(s: &str) -> PlacementId {
    PlacementId::parse(s).expect("placement id")
}

/// A create of `body` by `who` with the Idempotency-Key `key`.
fn keyed(body: impl Into<String>, who: Who, key: &str) -> Ev {
    route::create(body).by(who).header("Idempotency-Key", key)
}

/// Whether every seat of `session` is released.
fn all_released(d: &TestDeps, session: &SessionId) -> bool {
    d.store
        .seats_of(session)
        .iter()
        .all(|x| x.status == SeatStatus::Released)
}

/// GameLift's calls of a start whose answer was lost: the start, then the describe of its id.
fn started_then_described(id: &str) -> Vec<GameLiftCall> {
    vec![
        GameLiftCall::StartPlacement(pid(id)),
        GameLiftCall::DescribePlacement(pid(id)),
    ]
}

/// fleet-api's answer to the sample `name`, which must get `status`, and its store (reads, writes).
async fn sample_with_cost(d: &TestDeps, name: &str, status: u16) -> (Answer, (u64, u64)) {
    let before = d.store.calls();
    let a = api(d, sample(name)).await;
    assert_eq!(a.status, status, "{name}: {}", a.body);
    (a, delta(before, d.store.calls()))
}

fn starts(d: &TestDeps) -> usize {
    gamelift_calls(&d.gamelift, |c| {
        matches!(c, GameLiftCall::StartPlacement(_))
    })
}

#[tokio::test]
async fn health_answers_ok_without_any_identity() {
    let d = deps();
    let a = call(&d, Ev::get("/v1/health")).await;
    assert_eq!((a.status, a.body.clone()), (200, json!({"status": "ok"})));
}

#[tokio::test]
async fn a_player_create_from_the_sample_stores_the_placement_with_its_requester_and_players() {
    let d = deps();
    let a = api(&d, sample("create-player.json")).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.body, json!({"placementId": "p-1", "status": "PENDING"}));
    assert_eq!(a.content_type.as_deref(), Some("application/json"));

    let stored = stored(&d.store, &pid("p-1")).await;
    assert_eq!(stored.requester, PLAYER_A);
    assert_eq!(
        stored.players,
        vec![PlacementPlayer {
            player_id: PlayerId::parse(PLAYER_A).unwrap(),
            player_data: Some("{\"skill\":1200}".into())
        }]
    );
    assert_eq!(stored.status, PlacementStatus::Pending);
    assert_eq!(stored.name.as_deref(), Some("friday lobby"));
    assert_eq!(stored.latencies.len(), 2);
    assert!(
        stored.regions.is_empty(),
        "the sample asks GameLift by latency only"
    );
    // Deadline: the queue timeout plus the sweep margin (600 + 60 s by default).
    assert_eq!(stored.deadline, T0.plus_secs(660));
    assert_eq!(
        d.gamelift.calls(),
        vec![GameLiftCall::StartPlacement(pid("p-1"))]
    );
}

#[tokio::test]
async fn create_costs_one_start_placement_and_at_most_two_store_writes() {
    let d = deps();
    let (_, (_, writes)) = sample_with_cost(&d, "create-service.json", 202).await;
    assert!(writes <= 2, "writes: {writes}");
    assert_eq!(writes, 1, "a create that GameLift accepts writes once");
    assert_eq!(starts(&d), 1);
    assert_eq!(d.gamelift.calls().len(), 1);
    let stored = stored(&d.store, &pid("p-1")).await;
    assert_eq!(
        stored.requester,
        "arn:aws:iam::123456789012:role/fleetlift-backend"
    );
    assert_eq!(stored.players.len(), 2);
}

#[tokio::test]
async fn the_same_idempotency_key_and_body_return_the_same_placement_without_a_second_start() {
    let d = deps();
    let first = api(&d, sample("create-player.json")).await;
    let second = api(&d, sample("create-player.json")).await;
    assert_eq!((first.status, second.status), (202, 202));
    assert_eq!(first.body["placementId"], second.body["placementId"]);
    assert_eq!(starts(&d), 1);

    // Same logical body, other key order and whitespace: still the same request.
    let mut reordered = sample_json("create-player.json");
    let body: Value = serde_json::from_str(reordered["body"].as_str().unwrap()).unwrap();
    let mut keys: Vec<(String, Value)> = body.as_object().unwrap().clone().into_iter().collect();
    keys.reverse();
    let text = format!(
        "{{ {} }}",
        keys.iter()
            .map(|(k, v)| format!("{:?} : {}", k, v))
            .collect::<Vec<_>>()
            .join(" ,\n ")
    );
    reordered["body"] = json!(text);
    let third = api(&d, to_request(&reordered.to_string())).await;
    assert_eq!(
        (third.status, &third.body["placementId"]),
        (202, &first.body["placementId"])
    );
    assert_eq!(starts(&d), 1);
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_422() {
    let d = deps();
    let key = "k-1";
    let a = call(&d, keyed(create_body(4, &[]), service(), key)).await;
    assert_eq!(a.status, 202);
    let b = call(&d, keyed(create_body(5, &[]), service(), key)).await;
    b.assert_error(422, "idempotency_mismatch");
    assert_eq!(starts(&d), 1);
    // Keys are per caller: another caller's same key is another request.
    let c = call(&d, keyed(create_body(5, &[]), player_a(), key)).await;
    assert_eq!(
        (c.status, c.body["placementId"].as_str()),
        (202, Some("p-3"))
    );
}

#[tokio::test]
async fn creates_without_a_key_are_separate_placements_with_fresh_ids() {
    let d = deps();
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    let b = call(&d, route::create(create_body(4, &[])).by(service())).await;
    assert_eq!(
        (
            a.body["placementId"].as_str(),
            b.body["placementId"].as_str()
        ),
        (Some("p-1"), Some("p-2"))
    );
}

#[tokio::test]
async fn an_ambiguous_start_that_gamelift_did_take_is_accepted_after_one_describe() {
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    // GameLift did take it: describing the same id finds it.
    describe_as(&d.gamelift, &pid("p-1"), PlacementStatus::Pending);
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    assert_eq!(
        (a.status, a.body.clone()),
        (202, json!({"placementId": "p-1", "status": "PENDING"}))
    );
    assert_eq!(d.gamelift.calls(), started_then_described("p-1"));
    let stored = stored(&d.store, &pid("p-1")).await;
    assert_eq!(stored.status, PlacementStatus::Pending);
}

#[tokio::test]
async fn an_ambiguous_start_that_gamelift_never_took_fails_the_placement_and_answers_503() {
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("connection reset".into()));
    let a = call(&d, keyed(create_body(4, &[]), service(), "k")).await;
    a.assert_error(503, "unavailable");
    assert_eq!(d.gamelift.calls(), started_then_described("p-1"));
    let stored = stored(&d.store, &pid("p-1")).await;
    assert_eq!(
        stored.status,
        PlacementStatus::Failed,
        "no PENDING row for a placement that does not exist"
    );
    // A retry with the same key never starts a second placement: it gets the failed one.
    let retry = call(&d, keyed(create_body(4, &[]), service(), "k")).await;
    assert_eq!(
        (
            retry.status,
            retry.body["placementId"].as_str(),
            retry.body["status"].as_str()
        ),
        (202, Some("p-1"), Some("FAILED"))
    );
    assert_eq!(starts(&d), 1);
}

#[tokio::test]
async fn an_ambiguous_start_whose_describe_also_fails_stays_pending_for_the_sweeper() {
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    assert_eq!(a.status, 202);
    assert_eq!(starts(&d), 1);
    let stored = stored(&d.store, &pid("p-1")).await;
    assert_eq!(
        (stored.status, stored.deadline),
        (PlacementStatus::Pending, T0.plus_secs(660))
    );
}

#[tokio::test]
async fn gamelift_refusals_fail_the_placement_with_their_own_status() {
    let bad_queue = GameLiftError::Invalid("bad queue".into());
    for (error, status, code) in [
        (bad_queue, 400, "invalid_argument"),
        (GameLiftError::Throttled("rate".into()), 429, "throttled"),
        (GameLiftError::NotFound("queue".into()), 503, "unavailable"),
    ] {
        let d = deps();
        d.gamelift.fail_next(error);
        let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
        a.assert_error(status, code);
        let stored = stored(&d.store, &pid("p-1")).await;
        assert_eq!(stored.status, PlacementStatus::Failed);
        assert!(stored.reason.is_some());
        assert_eq!(starts(&d), 1, "never a second start");
    }
}

#[tokio::test]
async fn a_terminal_status_in_the_starts_answer_finishes_the_placement_at_once_and_answers_it() {
    for status in [
        PlacementStatus::Failed,
        PlacementStatus::Cancelled,
        PlacementStatus::TimedOut,
    ] {
        let d = deps();
        d.gamelift.end_starts_as(Some(status));
        let create = || keyed(create_body(4, &[PLAYER_A]), player_a(), "k-1");
        let a = call(&d, create()).await;
        assert_eq!(a.status, 202, "{}", a.body);
        assert_eq!(a.body["status"], status.as_str());
        let reason = a.body["reason"].as_str().unwrap_or_default().to_owned();
        assert!(reason.contains(status.as_str()), "{}", a.body);
        let stored = stored(&d.store, &pid("p-1")).await;
        assert_eq!(
            (stored.status, stored.reason.as_deref()),
            (status, Some(reason.as_str()))
        );
        // The replay answers the same, and nothing is started twice.
        let again = call(&d, create()).await;
        assert_eq!((again.status, again.body.clone()), (202, a.body.clone()));
        assert_eq!(starts(&d), 1, "{status:?}");
    }
}

#[tokio::test]
async fn a_player_past_its_pending_cap_gets_429_with_retry_after_until_one_finishes() {
    let d = deps();
    let create = |key: &str| keyed(create_body(4, &[PLAYER_A]), player_a(), key);
    for i in 1..=3 {
        let a = call(&d, create(&format!("k-{i}"))).await;
        assert_eq!(a.status, 202, "{}", a.body);
    }
    let over = call(&d, create("k-4")).await;
    over.assert_error(429, "throttled");
    assert_eq!(over.retry_after.as_deref(), Some("5"));
    assert_eq!(starts(&d), 3, "nothing started past the cap");
    assert!(!placement_exists(&d.store, &pid("p-4")).await);
    // A replay of a key already used is not a new placement: answered, not refused.
    let replay = call(&d, create("k-2")).await;
    assert_eq!(
        (replay.status, replay.body["placementId"].clone()),
        (202, json!("p-2"))
    );
    // A service is not capped, and another player has its own count.
    for _ in 0..4 {
        let s = call(&d, route::create(create_body(4, &[PLAYER_A])).by(service())).await;
        assert_eq!(s.status, 202, "{}", s.body);
    }
    let b = call(
        &d,
        route::create(create_body(4, &[PLAYER_B])).by(player_b()),
    )
    .await;
    assert_eq!(b.status, 202, "{}", b.body);
    // One of A's placements ends: A may create again.
    let outcome = PlacementOutcome::Unfulfilled {
        status: PlacementStatus::TimedOut,
        reason: None,
    };
    d.store
        .finish_placement(&pid("p-1"), &outcome, T0.plus_secs(600))
        .await
        .unwrap();
    let again = call(&d, create("k-5")).await;
    assert_eq!(again.status, 202, "{}", again.body);
}

/// Fresh fakes holding what player A's create of placement `id` with `key` writes on its first
/// attempt (placement and idempotency record) without calling GameLift: the state a create leaves
/// when its write committed but its answer was lost. The create's body comes with them.
async fn written_but_never_started(id: &str, key: &str) -> (TestDeps, String) {
    let d = deps();
    let body = create_body(4, &[PLAYER_A]);
    let create = fleet_core::request::CreateSession::parse(body.as_bytes()).expect("a valid body");
    let mut p = placement(id, PLAYER_A, &[PLAYER_A]);
    p.max_players = create.max_players;
    let record = fleet_core::ports::IdempotencyRecord {
        caller: format!("player:{PLAYER_A}"),
        key: fleet_core::ids::IdempotencyKey::parse(key).expect("key"),
        body_digest: create.digest(),
    };
    let outcome = d
        .store
        .create_placement(&p, Some(&record))
        .await
        .expect("store");
    assert_eq!(outcome, CreateOutcome::Created);
    (d, body)
}

#[tokio::test]
async fn a_replay_whose_placement_gamelift_never_heard_of_starts_it_with_the_same_id_once() {
    let (d, body) = written_but_never_started("p-lost", "k-lost").await;
    let replay = || keyed(body.clone(), player_a(), "k-lost");
    let a = call(&d, replay()).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(
        a.body,
        json!({"placementId": "p-lost", "status": "PENDING"})
    );
    assert_eq!(
        d.gamelift.calls(),
        vec![
            GameLiftCall::DescribePlacement(pid("p-lost")),
            GameLiftCall::StartPlacement(pid("p-lost")),
        ]
    );
    // Replayed again: GameLift knows it now; nothing is started twice.
    let again = call(&d, replay()).await;
    assert_eq!((again.status, again.body.clone()), (202, a.body.clone()));
    assert_eq!(starts(&d), 1);
    // GameLift ends it unfulfilled and its event is late: a replay records what GameLift says.
    describe_as(&d.gamelift, &pid("p-lost"), PlacementStatus::TimedOut);
    let late = call(&d, replay()).await;
    assert_eq!(late.body["status"], "TIMED_OUT", "{}", late.body);
    let stored = stored(&d.store, &pid("p-lost")).await;
    assert_eq!(stored.status, PlacementStatus::TimedOut);
    assert_eq!(starts(&d), 1);
}

#[tokio::test]
async fn a_replay_racing_its_original_start_finds_the_placement_started_and_fails_nothing() {
    let (d, body) = written_but_never_started("p-race", "k-race").await;
    // The replay's describe comes before the original's start; the original starts it right after,
    // so the replay's own start is refused as a reused id.
    d.gamelift
        .fail_next(GameLiftError::NotFound("p-race".into()));
    describe_as(&d.gamelift, &pid("p-race"), PlacementStatus::Pending);
    let a = call(&d, keyed(body.clone(), player_a(), "k-race")).await;
    assert_eq!(a.status, 202, "{}", a.body);
    assert_eq!(a.body["status"], "PENDING");
    let stored = stored(&d.store, &pid("p-race")).await;
    assert_eq!(stored.status, PlacementStatus::Pending, "not failed");
}

#[tokio::test]
async fn a_replay_whose_describe_fails_answers_pending_and_starts_nothing() {
    let (d, body) = written_but_never_started("p-dark", "k-dark").await;
    d.gamelift
        .fail_next(GameLiftError::Ambiguous("timeout".into()));
    let a = call(&d, keyed(body, player_a(), "k-dark")).await;
    assert_eq!(
        (a.status, a.body["status"].clone()),
        (202, json!("PENDING"))
    );
    assert_eq!(
        starts(&d),
        0,
        "left to the sweeper's describe after the deadline"
    );
}

#[tokio::test]
async fn a_player_may_create_with_no_players_and_only_for_itself() {
    let d = deps();
    let a = call(&d, route::create(create_body(4, &[])).by(player_a())).await;
    assert_eq!(a.status, 202);
    let stored = stored(&d.store, &pid("p-1")).await;
    assert!(stored.players.is_empty());
    let b = call(
        &d,
        route::create(create_body(4, &[PLAYER_A, PLAYER_B])).by(player_a()),
    )
    .await;
    b.assert_error(403, "forbidden");
    assert_eq!(b.field(), Some("players[1].playerId"));
    let latency = json!({"maxPlayers": 2, "latencies": [{"playerId": PLAYER_B, "region": "us-east-1", "latencyMs": 5}]});
    let c = call(&d, route::create(latency.to_string()).by(player_a())).await;
    c.assert_error(403, "forbidden");
    assert_eq!(c.field(), Some("latencies[0].playerId"));
    assert_eq!(starts(&d), 1);
}

#[tokio::test]
async fn the_placement_sample_is_readable_by_its_requester_and_services_only() {
    let d = deps();
    store_placement(
        &d.store,
        &placement(SAMPLE_PLACEMENT, PLAYER_A, &[PLAYER_A]),
    )
    .await;
    let (a, cost) = sample_with_cost(&d, "get-placement.json", 200).await;
    assert_eq!(cost, (1, 0), "get = 1 read");
    assert_eq!(
        a.body,
        json!({
            "placementId": SAMPLE_PLACEMENT, "status": "PENDING",
            "createdAt": "2026-11-25T10:00:00.000Z", "updatedAt": "2026-11-25T10:00:00.000Z"
        })
    );
    let path = format!("/v1/placements/{SAMPLE_PLACEMENT}");
    let other = call(&d, Ev::get(&path).by(player_b())).await;
    other.assert_error(404, "not_found");
    let missing = call(&d, route::get_placement("nope").by(player_a())).await;
    missing.assert_error(404, "not_found");
    assert_eq!(
        other.body["error"]["message"]
            .as_str()
            .map(|m| m.replace(SAMPLE_PLACEMENT, "X")),
        missing.body["error"]["message"]
            .as_str()
            .map(|m| m.replace("nope", "X")),
        "a hidden placement answers exactly like a missing one"
    );
    assert_eq!(call(&d, Ev::get(&path).by(service())).await.status, 200);
    call(&d, Ev::get(&path).by(gs_f1()))
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn a_fulfilled_placement_shows_the_session_and_only_the_callers_player_session() {
    let d = deps();
    seed_fulfilled_p9(&d.store).await;
    let before = d.store.calls();
    let a = call(&d, route::get_placement("p-9").by(player_a())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        delta(before, d.store.calls()),
        (2, 0),
        "the placement and its session"
    );
    assert_eq!(a.body["status"], "FULFILLED");
    assert_eq!(a.body["session"]["arn"], ARN_1);
    assert_eq!(
        a.body["playerSessions"],
        json!([{
            "playerId": PLAYER_A, "playerSessionId": "psess-a",
            "ipAddress": "198.51.100.7", "dnsName": "ec2-198-51-100-7.compute-1.amazonaws.com", "port": 7777
        }])
    );
    let all = call(&d, route::get_placement("p-9").by(service())).await;
    assert_eq!(all.body["playerSessions"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn a_failed_placement_shows_its_reason() {
    let d = deps();
    seed_timed_out_p5(&d.store, "placement timed out in the queue").await;
    let a = call(&d, route::get_placement("p-5").by(player_a())).await;
    assert_eq!(a.body["status"], "TIMED_OUT");
    assert_eq!(a.body["reason"], "placement timed out in the queue");
    assert!(a.body.get("session").is_none() && a.body.get("playerSessions").is_none());
}

#[tokio::test]
async fn the_session_sample_answers_the_public_session_shape_with_one_read() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let (a, cost) = sample_with_cost(&d, "get-session.json", 200).await;
    assert_eq!(cost, (1, 0), "get = 1 read");
    assert_eq!(
        a.body,
        json!({
            "id": short_id(ARN_1), "arn": ARN_1, "status": "ACTIVE", "region": "us-east-1", "fleetId": F1,
            "name": "lobby", "properties": {"mode": "casual"}, "playerCount": 0, "maxPlayers": 8, "openSlots": 8,
            "joinable": true, "protected": false,
            "ipAddress": "198.51.100.7", "dnsName": "ec2-198-51-100-7.compute-1.amazonaws.com", "port": 7777,
            "createdAt": "2026-11-25T10:00:00.000Z", "updatedAt": "2026-11-25T10:00:00.000Z"
        }),
        "exactly the docs/architecture.md#http-api fields: no reservedSeats or other internals"
    );
    // By ARN, percent-encoded, and by ARN as a gateway that decoded it would pass it.
    let by_arn = call(&d, route::get_session(encode(ARN_1)).by(player_a())).await;
    assert_eq!(by_arn.body, a.body);
    let decoded = call(&d, route::get_session(ARN_1).by(player_a())).await;
    assert_eq!(decoded.body, a.body);
    let missing = call(&d, route::get_session(short_id(ARN_2)).by(player_a())).await;
    missing.assert_error(404, "not_found");
}

#[tokio::test]
async fn the_list_sample_pages_with_one_query_and_one_batch_get_per_page() {
    let d = deps();
    for i in 0..15 {
        let arn = format!("arn:aws:gamelift:us-east-1::gamesession/{F1}/gsess-{i}");
        let mut s = session(&arn, 10);
        s.player_count = i % 10;
        s.open_slots = 10 - s.player_count;
        s.created_at = T0.plus_secs(i64::from(i));
        d.store.seed_sessions(&[s]);
    }
    // One in another region, one full: the sample's query excludes both.
    let mut west = session(ARN_2, 10);
    west.player_count = 9;
    let mut full = session(
        &format!("arn:aws:gamelift:us-east-1::gamesession/{F1}/gsess-full"),
        4,
    );
    full.player_count = 4;
    full.open_slots = 0;
    d.store.seed_sessions(&[west, full]);

    let (a, cost) = sample_with_cost(&d, "list.json", 200).await;
    assert_eq!(cost, (2, 0), "list page = 1 Query + 1 BatchGetItem");
    let sessions = a.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 10);
    let counts: Vec<u64> = sessions
        .iter()
        .map(|s| s["playerCount"].as_u64().unwrap())
        .collect();
    assert!(
        counts.windows(2).all(|w| w[0] >= w[1]),
        "sort=-playerCount: {counts:?}"
    );
    assert!(
        sessions
            .iter()
            .all(|s| s["region"] == "us-east-1" && s["openSlots"].as_u64() >= Some(1))
    );
    assert!(a.body.get("explain").is_none());
    let cursor = a.body["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();

    let raw = sample_json("list.json")["rawQueryString"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = |q: &str| route::list().by(player_a()).query(q);
    let next = call(&d, list(&format!("{raw}&cursor={}", encode(&cursor)))).await;
    assert_eq!(next.status, 200, "{}", next.body);
    assert_eq!(next.body["sessions"].as_array().map(Vec::len), Some(5));
    assert!(
        next.body.get("nextCursor").is_none(),
        "nextCursor absent at the end"
    );
    let ids: std::collections::BTreeSet<&str> = sessions
        .iter()
        .chain(next.body["sessions"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 15, "no session twice, none missed");

    // A cursor of another query is refused on `cursor`.
    let other = call(&d, list(&format!("cursor={}", encode(&cursor)))).await;
    other.assert_error(400, "invalid_argument");
    assert_eq!(other.field(), Some("cursor"));
}

#[tokio::test]
async fn explain_is_for_services_only_and_reports_the_plan_and_amplification() {
    let d = deps();
    seed(&d, ARN_1, 8);
    seed(&d, ARN_2, 8);
    let q = "query=%2Bregion%3Aus-east-1&explain=true";
    let a = call(&d, route::list().by(service()).query(q)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let e = &a.body["explain"];
    assert_eq!(e["index"], "listByRegion");
    assert_eq!(e["itemsReturned"], 1);
    assert!(e["readAmplification"].as_f64().is_some() && e["itemsRead"].as_u64().is_some());
    let p = call(&d, route::list().by(player_a()).query(q)).await;
    p.assert_error(403, "forbidden");
    assert_eq!(p.field(), Some("explain"));
    let empty = call(&d, route::list().by(player_a())).await;
    assert_eq!(
        (
            empty.status,
            empty.body["sessions"].as_array().map(Vec::len)
        ),
        (200, Some(2))
    );
}

#[tokio::test]
async fn the_join_sample_reserves_a_seat_and_returns_connection_details_within_budget() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let (a, cost) = sample_with_cost(&d, "join.json", 200).await;
    assert_eq!(
        cost,
        (1, 2),
        "join = 1 transaction (its read and its write), then the player sessions recorded on their seats"
    );
    assert_eq!(
        d.gamelift.calls(),
        vec![GameLiftCall::CreatePlayerSessions(ARN_1.into(), 1)]
    );
    assert_eq!(
        a.body["playerSessions"],
        json!([{
            "playerId": PLAYER_A, "playerSessionId": "psess-00000001",
            "ipAddress": "198.51.100.7", "dnsName": "ec2-198-51-100-7.compute-1.amazonaws.com", "port": 7777,
            "connection": {"playerId": PLAYER_A, "endpoints": [{"ipAddress": "198.51.100.7", "port": 7777}]}
        }])
    );
    assert_eq!(a.body["session"]["openSlots"], 7);
    assert!(a.body["session"].get("reservedSeats").is_none());
    let seats = d
        .store
        .seats_of(&GameSessionArn::parse(ARN_1).unwrap().session_id());
    assert_eq!(seats.len(), 1);
    assert_eq!(
        (seats[0].status, seats[0].expires_at),
        (SeatStatus::Reserved, T0.plus_secs(60))
    );

    // The same player again: it already holds that seat, answered locally without a GameLift call.
    let again = api(&d, sample("join.json")).await;
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["playerSessions"], a.body["playerSessions"]);
    assert_eq!(d.gamelift.calls().len(), 1);
}

#[tokio::test]
async fn a_join_gamelift_refuses_as_full_releases_the_local_seats_and_is_409() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    // GameLift knows better: only one seat left there.
    d.gamelift.add_session(&s.arn, "ACTIVE", 1);
    let a = call(&d, route::join(&s.id, &["p1", "p2"]).by(service())).await;
    a.assert_error(409, "conflict");
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("full"),
        "{}",
        a.body
    );
    let seats = d.store.seats_of(&s.id);
    assert_eq!(seats.len(), 2);
    assert!(
        seats.iter().all(|x| x.status == SeatStatus::Released),
        "{seats:?}"
    );
    let now = stored_session(&d.store, &s.id).await;
    assert_eq!(now.open_slots, 8, "the local reservation is released");
}

#[tokio::test]
async fn a_join_on_a_session_gamelift_says_is_not_active_is_409_and_released() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    d.gamelift.add_session(&s.arn, "TERMINATING", 8);
    let a = call(&d, route::join(&s.id, &[PLAYER_A]).by(player_a())).await;
    a.assert_error(409, "conflict");
    // GameLift's own words stay in the log; the body says it in ours, with the log line's id.
    assert!(
        a.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not active")
    );
    assert!(a.body["error"]["requestId"].is_string(), "{}", a.body);
    assert!(all_released(&d, &s.id));
}

#[tokio::test]
async fn transient_gamelift_failures_on_join_release_the_seats_with_429_or_503() {
    let timed_out = GameLiftError::Ambiguous("timeout".into());
    for (error, status, code) in [
        (GameLiftError::Throttled("rate".into()), 429, "throttled"),
        (timed_out, 503, "unavailable"),
    ] {
        let d = deps();
        let s = seed(&d, ARN_1, 8);
        d.gamelift.fail_next(error);
        let a = call(&d, route::join(&s.id, &[PLAYER_A]).by(player_a())).await;
        a.assert_error(status, code);
        assert!(all_released(&d, &s.id));
    }
}

#[tokio::test]
async fn a_join_refused_locally_never_calls_gamelift() {
    let d = deps();
    let s = seed(&d, ARN_1, 2);
    let full = call(&d, route::join(&s.id, &["a", "b", "c"]).by(service())).await;
    full.assert_error(409, "conflict");
    let unknown = call(&d, route::join(short_id(ARN_2), &["a"]).by(service())).await;
    unknown.assert_error(404, "not_found");
    let other = call(&d, route::join(&s.id, &[PLAYER_B]).by(player_a())).await;
    other.assert_error(403, "forbidden");
    assert!(d.gamelift.calls().is_empty());
}

#[tokio::test]
async fn the_delete_sample_terminates_and_tombstones_the_session() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    let a = api(&d, sample("delete-session.json")).await;
    assert_eq!((a.status, a.body.clone()), (204, Value::Null));
    assert!(
        d.gamelift
            .calls()
            .contains(&GameLiftCall::TerminateGameSession(ARN_1.into()))
    );

    let got = call(&d, route::get_session(&s.id).by(player_a())).await;
    assert_eq!(
        (got.body["status"].as_str(), got.body["openSlots"].as_u64()),
        (Some("ENDED"), Some(0))
    );
    let list = call(&d, route::list().by(player_a())).await;
    assert_eq!(
        list.body["sessions"],
        json!([]),
        "an ended session is never listed"
    );
    let join = call(&d, route::join(&s.id, &[PLAYER_A]).by(player_a())).await;
    join.assert_error(409, "conflict");
    // Deleting again is fine; without terminate no GameLift call.
    let calls = d.gamelift.calls().len();
    let again = call(&d, route::delete_session(&s.id).by(service())).await;
    assert_eq!(again.status, 204);
    assert_eq!(d.gamelift.calls().len(), calls);
}

#[tokio::test]
async fn deleting_an_unknown_session_is_404_by_id_and_a_tombstone_by_arn() {
    let d = deps();
    let by_id = call(&d, route::delete_session(short_id(ARN_2)).by(service())).await;
    by_id.assert_error(404, "not_found");
    let by_arn = call(&d, route::delete_session(encode(ARN_2)).by(service())).await;
    assert_eq!(by_arn.status, 204);
    // Its late placement event cannot bring it to life.
    store_placement(&d.store, &placement("p-late", SERVICE, &[])).await;
    let outcome = PlacementOutcome::Fulfilled {
        session: Box::new(session(ARN_2, 4)),
        player_sessions: vec![],
    };
    d.store
        .finish_placement(&pid("p-late"), &outcome, T0)
        .await
        .unwrap();
    let list = call(&d, route::list().by(service())).await;
    assert_eq!(list.body["sessions"], json!([]));
}

#[tokio::test]
async fn a_gamelift_failure_on_terminate_leaves_the_session_untouched() {
    let (d, s) = with_session(deps(), ARN_1, 8);
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    let a = call(
        &d,
        route::delete_session(&s.id)
            .by(service())
            .query("terminate=true"),
    )
    .await;
    a.assert_error(429, "throttled");
    let still = stored_session(&d.store, &s.id).await;
    assert_eq!(still.status, fleet_core::model::SessionStatus::Active);
}

#[tokio::test]
async fn only_services_delete() {
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    for who in [player_a(), gs_f1()] {
        let a = call(&d, route::delete_session(&s.id).by(who)).await;
        a.assert_error(403, "forbidden");
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_are_404_for_everyone() {
    let d = deps();
    for (method, path) in [
        ("GET", "/"),
        ("GET", "/v2/sessions"),
        ("PUT", "/v1/sessions"),
        ("PATCH", "/v1/sessions/gs-NPBdlaBzDIIkB4DAKzlCaq/join"),
        ("GET", "/v1/sessions/gs-NPBdlaBzDIIkB4DAKzlCaq/join"),
        ("POST", "/v1/sessions/gs-NPBdlaBzDIIkB4DAKzlCaq/connect"),
        ("DELETE", "/v1/locations"),
        ("POST", "/v1/sessions/gs-NPBdlaBzDIIkB4DAKzlCaq"),
        ("PATCH", "/v1/placements/p-1"),
        ("GET", "/v1/placements/"),
        ("GET", "/v1/sessions/"),
        ("POST", "/v1/rpc/update_instance_info"),
        ("GET", "/v1/healthz"),
    ] {
        for who in [Who::Nobody, service()] {
            let a = call(&d, Ev::new(method, path).by(who)).await;
            a.assert_error(404, "not_found");
        }
    }
}

#[tokio::test]
async fn a_named_stage_prefix_is_not_part_of_the_route() {
    let d = deps();
    seed(&d, ARN_1, 8);
    let staged = route::get_session(short_id(ARN_1)).stage("prod");
    let a = call(&d, staged.by(player_a())).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test]
async fn a_base64_encoded_body_is_read_like_a_plain_one() {
    let d = deps();
    let encoded =
        Ev::new("POST", "/v1/sessions").base64_body(create_body(3, &[PLAYER_A]).as_bytes());
    let a = call(&d, encoded.by(player_a())).await;
    assert_eq!(a.status, 202, "{}", a.body);
}

#[tokio::test]
async fn requests_without_a_usable_identity_are_401_and_unknown_principals_403() {
    let d = deps();
    let cases = [
        (Who::Nobody, 401),
        (
            Who::Raw(json!({"jwt": {"claims": {"iss": "x"}, "scopes": null}})),
            401,
        ),
        (
            Who::Raw(json!({"jwt": {"claims": {"sub": ""}, "scopes": null}})),
            401,
        ),
        (Who::Raw(json!({"iam": {"accountId": ACCOUNT}})), 401),
        (Who::Raw(json!({"lambda": {"user": "x"}})), 401),
        (Who::Raw(json!({})), 401),
        (
            Who::Raw(
                json!({"jwt": {"claims": {"sub": "a"}, "scopes": null}, "iam": {"userArn": SERVICE}}),
            ),
            401,
        ),
        (stranger(), 403),
    ];
    for (who, status) in cases {
        let a = call(&d, route::list().by(who.clone())).await;
        a.assert_error(
            status,
            if status == 401 {
                "unauthenticated"
            } else {
                "forbidden"
            },
        );
    }
    // Identity never comes from headers.
    let forged = route::list()
        .header("x-player-id", PLAYER_A)
        .header("authorization", "Bearer x");
    call(&d, forged).await.assert_error(401, "unauthenticated");
}

#[tokio::test]
async fn every_sample_event_converts_to_a_v2_request_with_its_identity() {
    for name in [
        "create-player.json",
        "create-service.json",
        "get-placement.json",
        "list.json",
        "get-session.json",
        "join.json",
        "delete-session.json",
        "rpc-update-instance-info.json",
        "rpc-update-instance-info-snake.json",
        "rpc-delete-instance-info.json",
    ] {
        let v = sample_json(name);
        assert_eq!(v["version"], "2.0", "{name}");
        assert_eq!(v["rawPath"], v["requestContext"]["http"]["path"], "{name}");
        let req = sample(name);
        let caller = fleet_functions::identity::caller(&req, &config());
        assert!(caller.is_ok(), "{name}: {caller:?}");
    }
    let _: SessionId = SessionId::parse(&short_id(ARN_1)).unwrap();
}

#[tokio::test]
async fn a_store_failure_before_gamelift_is_503_and_nothing_is_started() {
    for e in [
        StoreError::Unavailable("500".into()),
        StoreError::Throttled("ProvisionedThroughputExceeded".into()),
        StoreError::Corrupt {
            key: "P#p-1".into(),
            reason: "bad status".into(),
        },
    ] {
        let d = failing_deps();
        d.store.faults.fail_next(e);
        let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
        a.assert_error(503, "unavailable");
        assert!(
            d.gamelift.calls().is_empty(),
            "no placement without its row"
        );
        assert!(!placement_exists(&d.store.inner, &pid("p-1")).await);
    }
}

#[tokio::test]
async fn store_failures_on_reads_and_joins_are_503_and_leave_no_seat_or_player_session() {
    let d = failing_deps();
    let s = session(ARN_1, 8);
    d.store.inner.seed_sessions(std::slice::from_ref(&s));
    d.gamelift.add_session(&s.arn, "ACTIVE", 8);
    d.store
        .faults
        .fail_next(StoreError::Contention("S#x".into()));
    call(&d, route::get_session(&s.id).by(player_a()))
        .await
        .assert_error(503, "unavailable");
    d.store
        .faults
        .fail_next(StoreError::Unavailable("timeout".into()));
    call(&d, route::list().by(player_a()))
        .await
        .assert_error(503, "unavailable");
    d.store
        .faults
        .fail_next(StoreError::Unavailable("timeout".into()));
    let join = call(&d, route::join(&s.id, &[PLAYER_A]).by(player_a())).await;
    join.assert_error(503, "unavailable");
    assert!(d.gamelift.calls().is_empty());
    assert!(d.store.inner.seats_of(&s.id).is_empty());
}

#[tokio::test]
async fn a_store_failure_while_failing_a_refused_placement_still_answers_gamelifts_refusal() {
    let d = failing_deps();
    d.gamelift
        .fail_next(GameLiftError::Throttled("rate".into()));
    // create_placement succeeds, finish_placement fails: the row stays PENDING with its deadline for the sweeper.
    d.store.faults.pass_next();
    d.store
        .faults
        .fail_next(StoreError::Unavailable("timeout".into()));
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    a.assert_error(429, "throttled");
    let row = stored(&d.store.inner, &pid("p-1")).await;
    assert_eq!(
        (row.status, row.deadline),
        (PlacementStatus::Pending, T0.plus_secs(660))
    );
}

/// Log lines written while `f` runs (JSON, one per line), for tests that follow a request id from a
/// body to its log line.
mod logs {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    pub struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        /// Installs a JSON subscriber writing here on this thread (the tests' runtime is
        /// single-threaded) until the guard drops.
        pub fn install(&self) -> tracing::subscriber::DefaultGuard {
            let sink = self.clone();
            let subscriber = tracing_subscriber::fmt()
                .json()
                .with_writer(move || sink.clone())
                .finish();
            tracing::subscriber::set_default(subscriber)
        }

        pub fn text(&self) -> String {
            String::from_utf8_lossy(
                &self
                    .0
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            )
            .into_owned()
        }
    }
}

/// What an access-denied answer from AWS looks like: it names the role and the account.
const AWS_TEXT: &str = "AccessDeniedException: User: arn:aws:sts::210987654321:assumed-role/fleetlift-api-role/fn is not authorized";

/// Asserts the body keeps AWS's words out and carries a request id whose log line has them.
#[track_caller]
fn assert_logged_not_answered(a: &Answer, logs: &logs::Captured) {
    let body = a.body.to_string();
    assert!(
        !body.contains("210987654321") && !body.contains("arn:aws:sts"),
        "AWS's text reached the body: {body}"
    );
    let id = a.body["error"]["requestId"]
        .as_str()
        .unwrap_or_else(|| panic!("a request id: {body}"));
    let text = logs.text();
    assert!(
        text.lines()
            .any(|l| l.contains(id) && l.contains("210987654321")),
        "no log line with {id} and AWS's text:\n{text}"
    );
}

#[tokio::test]
async fn dependency_errors_answer_in_our_words_with_a_request_id_whose_log_line_has_awss_text() {
    let logs = logs::Captured::default();
    let _guard = logs.install();

    // DynamoDB refuses the create's write.
    let d = failing_deps();
    d.store
        .faults
        .fail_next(StoreError::Unavailable(AWS_TEXT.into()));
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    a.assert_error(503, "unavailable");
    assert_logged_not_answered(&a, &logs);

    // GameLift refuses the placement (400): the stored reason is ours too, with the same id.
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Invalid(AWS_TEXT.into()));
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    a.assert_error(400, "invalid_argument");
    assert_logged_not_answered(&a, &logs);
    let id = a.body["error"]["requestId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let p = call(&d, route::get_placement("p-1").by(service())).await;
    let reason = p.body["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&id) && !reason.contains("210987654321"),
        "{}",
        p.body
    );

    // GameLift's answer is lost and its describe says it never started (503).
    let d = deps();
    d.gamelift
        .fail_next(GameLiftError::Ambiguous(AWS_TEXT.into()));
    d.gamelift
        .fail_next(GameLiftError::NotFound(AWS_TEXT.into()));
    let a = call(&d, route::create(create_body(4, &[])).by(service())).await;
    a.assert_error(503, "unavailable");
    assert_logged_not_answered(&a, &logs);

    // GameLift refuses a join (a 4xx a dependency caused).
    let d = deps();
    let s = seed(&d, ARN_1, 8);
    d.gamelift.fail_next(GameLiftError::Full);
    let a = call(&d, route::join(&s.id, &[PLAYER_A]).by(player_a())).await;
    a.assert_error(409, "conflict");
    assert!(a.body["error"]["requestId"].is_string(), "{}", a.body);

    // A store read failing on a GET.
    let d = failing_deps();
    d.store
        .faults
        .fail_next(StoreError::Throttled(AWS_TEXT.into()));
    let a = call(&d, route::get_placement("p-1").by(service())).await;
    a.assert_error(503, "unavailable");
    assert_logged_not_answered(&a, &logs);
}
