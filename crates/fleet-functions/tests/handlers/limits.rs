//! Nothing lost at the limits, on DynamoDB Local and gamelift-sim: inputs at the edge of what the
//! API allows either work end to end or are refused with a 4xx naming the field, never a 503.

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_core::index;
use fleet_core::ports::{ListRequest, SessionStore, StoreError};
use fleet_core::query::{self, Sort};
use fleet_functions::notifier::{PlacedSession, push_result};
use serde_json::json;

use crate::integration::spawn_stack;
use crate::support_cases::{placement_id, player_a, route, service, stored};
use crate::support_http::{Ev, PLAYER_A, Who};

/// Percent-encodes a query value for the list's query string.
fn q(text: &str) -> String {
    let mut out = String::from("query=");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test]
async fn index_key_values_dynamodb_would_refuse_are_a_400_at_the_query_column_not_a_503() {
    let stack = spawn_stack().await;
    // 4-byte characters: 512 of them are DynamoDB's 2048-byte partition key exactly.
    let at_limit = "\u{1F600}".repeat(512);
    let refused = [
        ("+region:\"\"".to_owned(), "createdAt", 1),
        ("+fleetId:\"\"".to_owned(), "createdAt", 1),
        ("+openSlots:>=1 +fleetId:\"\"".to_owned(), "openSlots", 16),
        (format!("+region:{at_limit}a"), "createdAt", 1),
        (format!("+fleetId:{at_limit}a"), "-playerCount", 1),
    ];
    for (text, sort, column) in &refused {
        let got = stack
            .api(
                route::list()
                    .query(&format!("{}&sort={sort}", q(text)))
                    .by(service()),
            )
            .await;
        got.assert_error(400, "invalid_argument");
        assert_eq!(got.field(), Some("query"), "{text}");
        let message = got.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("column {column}:")),
            "{text}: {message}"
        );
    }
    // The same values where they only filter (should / must-not clauses), and a key at the limit,
    // are valid Queries for DynamoDB.
    for text in [
        "region:\"\" fleetId:x".to_owned(),
        "-fleetId:\"\"".to_owned(),
        format!("+region:{at_limit}"),
        format!("+fleetId:{at_limit}"),
    ] {
        for sort in ["createdAt", "playerCount"] {
            let got = stack
                .api(
                    route::list()
                        .query(&format!("{}&sort={sort}", q(&text)))
                        .by(service()),
                )
                .await;
            assert_eq!(got.status, 200, "{text} {sort}: {}", got.body);
        }
    }

    // The store checks too (a caller that skipped the request parser): no Query is sent.
    let request = ListRequest {
        query: query::parse("+region:\"\"").expect("parses"),
        sort: Sort::CreatedDesc,
        limit: 10,
        cursor: None,
    };
    match stack.deps.store.list_sessions(&request).await {
        Err(StoreError::Invalid(e)) => assert_eq!(e.field, "query"),
        other => panic!("expected an invalid query, got {other:?}"),
    }
    // What the check prevents: DynamoDB refuses an empty partition value in a Query.
    let raw = stack
        .dynamo()
        .query()
        .table_name(stack.table())
        .index_name(index::BY_REGION.name)
        .key_condition_expression("#p = :p")
        .expression_attribute_names("#p", index::BY_REGION.pk)
        .expression_attribute_values(":p", AttributeValue::S(String::new()))
        .send()
        .await;
    assert!(raw.is_err(), "DynamoDB accepted an empty key: {raw:?}");
}

#[tokio::test]
async fn a_start_that_gamelift_answers_failed_is_failed_at_once_and_its_late_event_changes_nothing()
{
    let mut stack = spawn_stack().await;
    stack.sim.set_event_faults(gamelift_sim::EventFaults {
        start_ends_as: Some("FAILED".into()),
        ..gamelift_sim::EventFaults::default()
    });
    let created = stack
        .api(
            Ev::post(
                "/v1/sessions",
                json!({"maxPlayers": 4, "players": [{"playerId": PLAYER_A}]}).to_string(),
            )
            .by(player_a()),
        )
        .await;
    assert_eq!(
        (created.status, created.body["status"].clone()),
        (202, json!("FAILED")),
        "{}",
        created.body
    );
    let placement = placement_id(&created);
    // Already terminal in the table, before any event.
    let got = stack.placement(&placement, player_a()).await;
    assert_eq!(got.body["status"], "FAILED", "{}", got.body);
    assert!(
        got.body["reason"]
            .as_str()
            .is_some_and(|r| r.contains("FAILED"))
    );
    // GameLift's PlacementFailed event arrives: a duplicate, acknowledged.
    let events = stack.next_events().await;
    assert_eq!(events.len(), 1);
    assert!(stack.deliver(&events).await.is_empty());
    let again = stack.placement(&placement, player_a()).await;
    assert_eq!(again.body, got.body);
    assert_eq!(stack.sim.stats().placements_started, 1);
}

/// PENDING placements in the table whose requester is `player` (a consistent Scan: test inspection).
async fn pending_of(stack: &crate::integration::Stack, player: &str) -> usize {
    let scan = stack.dynamo().scan().table_name(stack.table());
    let items = scan.consistent_read(true).into_paginator().items().send();
    let items = items.try_collect().await.expect("scan");
    let pending = |item: &std::collections::HashMap<String, AttributeValue>| {
        let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str);
        s("kind") == Some("placement")
            && s("status") == Some("PENDING")
            && s("requester") == Some(player)
    };
    items.iter().filter(|item| pending(item)).count()
}

#[tokio::test]
async fn fifty_concurrent_creates_by_one_player_never_leave_more_than_the_cap_pending() {
    let _heavy = crate::integration::HEAVY_DYNAMODB.lock().await;
    let mut stack = spawn_stack().await;
    let cap = stack.deps.config.max_pending_per_player as usize;
    assert_eq!(cap, 3, "the default cap");
    let body = json!({"maxPlayers": 4, "players": [{"playerId": PLAYER_A}]}).to_string();
    let creates = (0..50).map(|i| {
        stack.api(
            route::create(body.clone())
                .by(player_a())
                .header("Idempotency-Key", &format!("burst-{i}")),
        )
    });
    let answers = futures::future::join_all(creates).await;
    let mut accepted = 0;
    for a in &answers {
        match a.status {
            202 => accepted += 1,
            429 => {
                a.assert_error(429, "throttled");
                assert!(a.retry_after.is_some(), "429 carries Retry-After");
            }
            // Contention on the player's count past the store's retries: transient, nothing written.
            503 => a.assert_error(503, "unavailable"),
            other => panic!("unexpected {other}: {}", a.body),
        }
    }
    let pending = pending_of(&stack, PLAYER_A).await;
    let count = |status: u16| answers.iter().filter(|a| a.status == status).count();
    println!(
        "50 concurrent creates: {accepted} accepted, {} at the cap (429), {} contention (503)",
        count(429),
        count(503)
    );
    assert!(
        accepted <= cap && pending <= cap,
        "{accepted} accepted, {pending} PENDING, cap {cap}"
    );
    assert_eq!(
        pending, accepted,
        "every accepted create is PENDING, no other"
    );
    assert!(accepted >= 1, "the burst got through up to the cap");
    assert_eq!(stack.sim.stats().placements_started as usize, accepted);
    // A service is not capped meanwhile.
    let service = stack.api(route::create(body.clone()).by(service())).await;
    assert_eq!(service.status, 202, "{}", service.body);

    // The placements are fulfilled: their events release them, and the player may create again,
    // up to the cap once more.
    let events = stack.next_events().await;
    assert!(stack.deliver(&events).await.is_empty());
    assert_eq!(pending_of(&stack, PLAYER_A).await, 0);
    for i in 0..cap {
        let again = stack
            .api(
                route::create(body.clone())
                    .by(player_a())
                    .header("Idempotency-Key", &format!("after-{i}")),
            )
            .await;
        assert_eq!(again.status, 202, "{}", again.body);
    }
    let over = stack.api(route::create(body.clone()).by(player_a())).await;
    over.assert_error(429, "throttled");
}

#[tokio::test]
async fn a_release_that_was_lost_is_repaired_by_the_next_create_at_the_cap() {
    use fleet_core::ids::PlacementId;
    use fleet_core::model::PlacementStatus;
    use fleet_core::ports::{Clock as _, PlacementOutcome};
    let stack = spawn_stack().await;
    let body = json!({"maxPlayers": 4}).to_string();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let a = stack.api(route::create(body.clone()).by(player_a())).await;
        assert_eq!(a.status, 202, "{}", a.body);
        ids.push(placement_id(&a));
    }
    // Two end behind the handlers' backs (as if the process died before releasing them).
    for id in &ids[..2] {
        let outcome = PlacementOutcome::Unfulfilled {
            status: PlacementStatus::Cancelled,
            reason: None,
        };
        stack
            .deps
            .store
            .finish_placement(
                &PlacementId::parse(id).expect("id"),
                &outcome,
                stack.deps.clock.now(),
            )
            .await
            .expect("finish");
    }
    for _ in 0..2 {
        let a = stack.api(route::create(body.clone()).by(player_a())).await;
        assert_eq!(a.status, 202, "{}", a.body);
    }
    let over = stack.api(route::create(body.clone()).by(player_a())).await;
    over.assert_error(429, "throttled");
    assert_eq!(pending_of(&stack, PLAYER_A).await, 3);
}

/// A raw item's size by DynamoDB's rules (a consistent GetItem).
/// Sends `report` as the fleet's game server, its `GameSessionData` filled to the body limit with
/// two-byte characters (262,144 characters may be up to 1 MB, so the body is the bound); the answer and
/// how many characters the data got.
async fn report_filling_the_body(
    stack: &crate::integration::Stack,
    mut report: serde_json::Value,
) -> (crate::support_http::Answer, usize) {
    let room = (fleet_core::limits::BODY_MAX_BYTES - report.to_string().len()) / 2;
    report["metadata"]["GameSessionData"] = json!("é".repeat(room));
    let answer = stack
        .rpc(
            Ev::post("/v1/rpc/update_instance_info", report.to_string()).by(Who::iam(
                "arn:aws:sts::123456789012:assumed-role/sim-game-server/i-1",
            )),
        )
        .await;
    (answer, room)
}

async fn stored_size(stack: &crate::integration::Stack, pk: &str, sk: &str) -> usize {
    let out = stack
        .dynamo()
        .get_item()
        .table_name(stack.table())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item");
    fleet_aws::dynamo::codec::item_size(&out.item.expect("the item exists"))
}

/// The size of the raw item (`pk`, `sk`), which must be within the item budget (`what` names it).
async fn within_item_budget(
    stack: &crate::integration::Stack,
    pk: &str,
    sk: &str,
    what: &str,
) -> usize {
    let size = stored_size(stack, pk, sk).await;
    assert!(
        size <= fleet_core::limits::ITEM_BUDGET_BYTES,
        "{what}: {size} bytes"
    );
    size
}

/// The largest create a body allows: 200 players of 1,024-character ids, 16 properties and a name at
/// their limits, latencies for 40 of the players (with their 1,024-character ids; all 200 would
/// pass the 300 KB body by themselves) and data filling the rest of the body to its last byte.
fn largest_create() -> String {
    use fleet_core::limits::BODY_MAX_BYTES;
    let ids: Vec<String> = (0..200)
        .map(|i| format!("{i:04}{}", "p".repeat(1020)))
        .collect();
    let props: serde_json::Map<String, serde_json::Value> = (0..16)
        .map(|i| (format!("{i:02}{}", "k".repeat(30)), json!("v".repeat(96))))
        .collect();
    let mut body = json!({
        "maxPlayers": 200,
        "players": ids.iter().map(|id| json!({"playerId": id})).collect::<Vec<_>>(),
        "latencies": ids.iter().take(40).map(|id| json!({"playerId": id, "region": "us-east-1", "latencyMs": 60000})).collect::<Vec<_>>(),
        "name": "n".repeat(1024),
        "properties": props,
        "data": "",
    });
    let room = BODY_MAX_BYTES - body.to_string().len();
    body["data"] = json!("d".repeat(room));
    let text = body.to_string();
    assert_eq!(
        text.len(),
        BODY_MAX_BYTES,
        "the body is exactly at its limit"
    );
    text
}

#[tokio::test]
async fn the_largest_create_and_report_are_fulfilled_stored_and_pushed_on_dynamodb() {
    use fleet_core::ids::{ConnectionId, PlacementId};
    use fleet_core::limits::PUSH_MAX_BYTES;
    use fleet_core::ports::{Clock as _, Connection, ConnectionStore as _};

    let mut stack = spawn_stack().await;
    let body = largest_create();
    let created = stack.api(route::create(body.clone()).by(service())).await;
    assert_eq!(created.status, 202, "{}", created.body);
    let placement = placement_id(&created);
    let created_size =
        within_item_budget(&stack, &format!("P#{placement}"), "P", "created placement").await;

    // Fulfilled with all 200 player sessions.
    let events = stack.next_events().await;
    assert_eq!(events.len(), 1);
    assert!(
        stack.deliver(&events).await.is_empty(),
        "the fulfilment is stored"
    );
    let got = stack.placement(&placement, service()).await;
    assert_eq!(got.body["status"], "FULFILLED", "{}", got.body);
    let sessions = got.body["playerSessions"]
        .as_array()
        .expect("player sessions");
    assert_eq!(sessions.len(), 200);
    let first = sessions[0]["playerId"].as_str().expect("player").to_owned();
    assert!(first.starts_with("0000") && first.chars().count() == 1024);
    let fulfilled_size = within_item_budget(
        &stack,
        &format!("P#{placement}"),
        "P",
        "fulfilled placement",
    )
    .await;
    let session = got.body["session"]["id"]
        .as_str()
        .expect("session")
        .to_owned();
    let arn = got.body["session"]["arn"].as_str().expect("arn").to_owned();
    let session_size = within_item_budget(&stack, &format!("S#{session}"), "S", "session").await;

    // The largest report: a full name, 16 properties and data filling its 300 KB body.
    let props: serde_json::Map<String, serde_json::Value> = (0..16)
        .map(|i| (format!("{i:02}{}", "k".repeat(30)), json!("w".repeat(96))))
        .collect();
    let report = json!({"id": arn, "playerCount": 200, "metadata": {
        "GameSessionName": "r".repeat(1024), "GameSessionData": "", "GameProperties": props}});
    let (reported, room) = report_filling_the_body(&stack, report).await;
    assert_eq!(reported.status, 204, "{}", reported.body);
    let reported_size =
        within_item_budget(&stack, &format!("S#{session}"), "S", "reported session").await;
    let s = stack.session(&session, service()).await;
    assert_eq!(
        s.body["data"].as_str().map(|d| d.chars().count()),
        Some(room)
    );

    // The largest push: its session's data would pass 128 KB, so it goes without it.
    let now = stack.deps.clock.now();
    let connection = ConnectionId::parse("big-push-1").expect("connection id");
    stack
        .deps
        .store
        .put_connection(&Connection {
            id: connection.clone(),
            user: first.clone(),
            connected_at: now,
            expires_at: now.plus_secs(3600),
        })
        .await
        .expect("connection");
    let stored = stored(
        &stack.deps.store,
        &PlacementId::parse(&placement).expect("id"),
    )
    .await;
    let (store, notifier) = (&stack.deps.store, &stack.deps.notifier);
    let pushed = push_result(store, notifier, &stored, PlacedSession::Read, now)
        .await
        .expect("push");
    assert_eq!(pushed.delivery.sent, 1, "{pushed:?}");
    let sent = stack.deps.notifier.sent();
    let (_, bytes) = sent.last().expect("a message");
    assert!(bytes.len() <= PUSH_MAX_BYTES, "{} bytes", bytes.len());
    let msg: serde_json::Value = serde_json::from_slice(bytes).expect("json");
    assert_eq!(msg["sessionDataOmitted"], true);
    assert_eq!(msg["playerSession"]["playerId"], first.as_str());
    println!(
        "largest items: placement created {created_size} B, fulfilled {fulfilled_size} B; session {session_size} B, reported {reported_size} B; push {} B",
        bytes.len()
    );
}

#[tokio::test]
async fn an_early_largest_report_is_kept_then_merged_into_the_largest_session() {
    let mut stack = spawn_stack().await;
    let created = stack
        .api(route::create(largest_create()).by(service()))
        .await;
    assert_eq!(created.status, 202, "{}", created.body);
    let placement = placement_id(&created);
    let events = stack.next_events().await;
    // The game server reports before the event is delivered: kept as a pending report.
    let arn = events
        .iter()
        .find_map(|e| {
            let v: serde_json::Value = serde_json::from_str(e).ok()?;
            let inner: serde_json::Value = serde_json::from_str(v["Message"].as_str()?).ok()?;
            inner["detail"]["gameSessionArn"]
                .as_str()
                .map(str::to_owned)
        })
        .expect("the event names the session");
    let report = json!({"id": arn, "playerCount": 7, "metadata": {"GameSessionData": ""}});
    let (early, room) = report_filling_the_body(&stack, report).await;
    assert_eq!(early.status, 204, "{}", early.body);
    let id = fleet_core::ids::GameSessionArn::parse(&arn)
        .expect("arn")
        .session_id();
    within_item_budget(&stack, &format!("S#{id}"), "R", "pending report").await;
    assert!(stack.deliver(&events).await.is_empty());
    let s = stack.session(&id, service()).await;
    assert_eq!(
        (
            s.body["playerCount"].clone(),
            s.body["data"].as_str().map(|d| d.chars().count())
        ),
        (json!(7), Some(room))
    );
    within_item_budget(&stack, &format!("S#{id}"), "S", "merged session").await;
    let got = stack.placement(&placement, service()).await;
    assert_eq!(got.body["status"], "FULFILLED");
}

#[tokio::test]
async fn a_write_dynamodb_refuses_as_too_large_is_a_permanent_refusal_not_a_transient_failure() {
    use fleet_core::ids::PlacementId;
    use fleet_core::ports::{Clock as _, PlacementOutcome};
    let stack = spawn_stack().await;
    let created = stack
        .api(route::create(json!({"maxPlayers": 2}).to_string()).by(service()))
        .await;
    let id = PlacementId::parse(created.body["placementId"].as_str().expect("id")).expect("id");
    let placement = stored(&stack.deps.store, &id).await;
    // A session no valid input can make: 450 KB of data.
    let mut session: fleet_core::model::Session = serde_json::from_value(json!({
        "id": "gs-AAAAAAAAAAAAAAAAAAAAAA", "arn": "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-big",
        "status": "ACTIVE", "region": "us-east-1", "fleetId": "fleet-1", "properties": {},
        "playerCount": 0, "maxPlayers": 2, "reservedSeats": 0, "openSlots": 2,
        "ipAddress": "10.0.0.1", "dnsName": "", "port": 7777,
        "createdAt": "2026-11-25T10:00:00Z", "updatedAt": "2026-11-25T10:00:00Z"
    }))
    .expect("session");
    session.id = fleet_core::ids::GameSessionArn::parse(session.arn.as_str())
        .expect("arn")
        .session_id();
    session.data = Some("z".repeat(450 * 1024));
    let outcome = PlacementOutcome::Fulfilled {
        session: Box::new(session),
        player_sessions: Vec::new(),
    };
    match stack
        .deps
        .store
        .finish_placement(&id, &outcome, stack.deps.clock.now())
        .await
    {
        Err(e @ fleet_core::ports::StoreError::Refused(_)) => assert!(!e.is_transient()),
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    let after = stored(&stack.deps.store, &id).await;
    assert_eq!(after, placement, "nothing written");
}
