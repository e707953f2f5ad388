//! Nothing lost at the limits, on DynamoDB Local and gamelift-sim: inputs at the edge of what the
//! API allows either work end to end or are refused with a 4xx naming the field, never a 503.

use fleet_core::index;
use fleet_core::ports::{ListRequest, SessionStore, StoreError};
use fleet_core::query::{self, Sort};
use serde_json::json;

use crate::integration::spawn_stack;
use crate::support_http::{Ev, PLAYER_A, SERVICE, Who};

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
                Ev::get("/v1/sessions")
                    .query(&format!("{}&sort={sort}", q(text)))
                    .by(Who::iam(SERVICE)),
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
                    Ev::get("/v1/sessions")
                        .query(&format!("{}&sort={sort}", q(&text)))
                        .by(Who::iam(SERVICE)),
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
        .deps
        .store
        .client()
        .query()
        .table_name(stack.deps.store.table())
        .index_name(index::BY_REGION.name)
        .key_condition_expression("#p = :p")
        .expression_attribute_names("#p", index::BY_REGION.pk)
        .expression_attribute_values(
            ":p",
            aws_sdk_dynamodb::types::AttributeValue::S(String::new()),
        )
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
            .by(Who::player(PLAYER_A)),
        )
        .await;
    assert_eq!(
        (created.status, created.body["status"].clone()),
        (202, json!("FAILED")),
        "{}",
        created.body
    );
    let placement = created.body["placementId"].as_str().expect("id").to_owned();
    // Already terminal in the table, before any event.
    let got = stack
        .api(Ev::get(&format!("/v1/placements/{placement}")).by(Who::player(PLAYER_A)))
        .await;
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
    let again = stack
        .api(Ev::get(&format!("/v1/placements/{placement}")).by(Who::player(PLAYER_A)))
        .await;
    assert_eq!(again.body, got.body);
    assert_eq!(stack.sim.stats().placements_started, 1);
}

/// PENDING placements in the table whose requester is `player` (a consistent Scan: test inspection).
async fn pending_of(stack: &crate::integration::Stack, player: &str) -> usize {
    let mut n = 0;
    let mut start = None;
    loop {
        let out = stack
            .deps
            .store
            .client()
            .scan()
            .table_name(stack.deps.store.table())
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in out.items() {
            let s = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str);
            if s("kind") == Some("placement")
                && s("status") == Some("PENDING")
                && s("requester") == Some(player)
            {
                n += 1;
            }
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return n,
        }
    }
}

#[tokio::test]
async fn fifty_concurrent_creates_by_one_player_never_leave_more_than_the_cap_pending() {
    let mut stack = spawn_stack().await;
    let cap = stack.deps.config.max_pending_per_player as usize;
    assert_eq!(cap, 3, "the default cap");
    let body = json!({"maxPlayers": 4, "players": [{"playerId": PLAYER_A}]}).to_string();
    let creates = (0..50).map(|i| {
        stack.api(
            Ev::post("/v1/sessions", body.clone())
                .by(Who::player(PLAYER_A))
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
    let service = stack
        .api(Ev::post("/v1/sessions", body.clone()).by(Who::iam(SERVICE)))
        .await;
    assert_eq!(service.status, 202, "{}", service.body);

    // The placements are fulfilled: their events release them, and the player may create again,
    // up to the cap once more.
    let events = stack.next_events().await;
    assert!(stack.deliver(&events).await.is_empty());
    assert_eq!(pending_of(&stack, PLAYER_A).await, 0);
    for i in 0..cap {
        let again = stack
            .api(
                Ev::post("/v1/sessions", body.clone())
                    .by(Who::player(PLAYER_A))
                    .header("Idempotency-Key", &format!("after-{i}")),
            )
            .await;
        assert_eq!(again.status, 202, "{}", again.body);
    }
    let over = stack
        .api(Ev::post("/v1/sessions", body.clone()).by(Who::player(PLAYER_A)))
        .await;
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
        let a = stack
            .api(Ev::post("/v1/sessions", body.clone()).by(Who::player(PLAYER_A)))
            .await;
        assert_eq!(a.status, 202, "{}", a.body);
        ids.push(a.body["placementId"].as_str().expect("id").to_owned());
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
        let a = stack
            .api(Ev::post("/v1/sessions", body.clone()).by(Who::player(PLAYER_A)))
            .await;
        assert_eq!(a.status, 202, "{}", a.body);
    }
    let over = stack
        .api(Ev::post("/v1/sessions", body.clone()).by(Who::player(PLAYER_A)))
        .await;
    over.assert_error(429, "throttled");
    assert_eq!(pending_of(&stack, PLAYER_A).await, 3);
}
