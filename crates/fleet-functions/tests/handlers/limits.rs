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
