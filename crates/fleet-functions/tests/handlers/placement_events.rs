//! placement-events: every sample shape, duplicates, poison in a batch, transient failures, and the
//! exact partial-batch-response JSON.

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use fleet_core::event::{EventKind, parse_message};
use fleet_core::fakes::MemoryStore;
use fleet_core::model::PlacementStatus;
use fleet_core::ports::SessionStore;
use fleet_functions::observability::Metrics;
use fleet_functions::placement_events::{self, RecordOutcome};
use serde_json::json;

use crate::support_async::*;
use crate::support_cases::{placed, placement_exists, stored};

/// The placement ids of every parsable record of a batch, seeded as PENDING placements.
async fn seed_for(store: &impl SessionStore, event: &SqsEvent) {
    let mut seen = Vec::new();
    for r in &event.records {
        if let Ok(e) = parse_message(r.body.as_deref().unwrap_or(""))
            && !seen.contains(&e.placement_id)
        {
            seen.push(e.placement_id.clone());
            seed(
                store,
                &[placement(
                    e.placement_id.as_str(),
                    REQUESTER,
                    &[REQUESTER, OTHER_PLAYER],
                )],
            )
            .await;
        }
    }
}

/// The sample batch `events/sqs/<file>`, its placements seeded PENDING in `store`.
async fn seeded_batch<S: SessionStore>(store: S, file: &str) -> (S, SqsEvent) {
    let event: SqsEvent = event(&format!("sqs/{file}"));
    seed_for(&store, &event).await;
    (store, event)
}

/// Placement `id` of the sample requester, PENDING, naming `players`.
async fn seed_one(store: &impl SessionStore, id: &str, players: &[&str]) {
    seed(store, &[placement(id, REQUESTER, players)]).await;
}

/// placement-events on one record of `body` with the message id `message_id`.
async fn process_one(
    store: &impl SessionStore,
    message_id: &str,
    body: &str,
) -> (SqsBatchResponse, Metrics) {
    placement_events::process(store, sqs_event(vec![sqs_record(Some(message_id), body)])).await
}

async fn status_of(store: &impl SessionStore, id: &str) -> PlacementStatus {
    store
        .get_placement(&pid(id))
        .await
        .unwrap()
        .expect("placement exists")
        .status
}

#[tokio::test]
async fn every_placement_sample_is_applied_or_acknowledged_and_never_retried() {
    for file in event_files("placement") {
        let body = event_text(&file);
        let parsed = parse_message(&body).unwrap_or_else(|e| panic!("{file}: {e}"));
        let store = MemoryStore::new();
        seed_one(&store, parsed.placement_id.as_str(), &[REQUESTER]).await;

        let (response, metrics) = process_one(&store, "m-1", &body).await;

        assert!(response.batch_item_failures.is_empty(), "{file}");
        let expected = match parsed.kind {
            EventKind::Fulfilled(_) => PlacementStatus::Fulfilled,
            EventKind::TimedOut => PlacementStatus::TimedOut,
            EventKind::Cancelled => PlacementStatus::Cancelled,
            EventKind::Failed { .. } => PlacementStatus::Failed,
            EventKind::Unknown { .. } => {
                assert_eq!(metrics.get("EventsIgnored"), Some(1.0), "{file}");
                PlacementStatus::Pending
            }
        };
        assert_eq!(
            status_of(&store, parsed.placement_id.as_str()).await,
            expected,
            "{file}"
        );
        if expected.is_terminal() {
            assert_eq!(metrics.get("EventsApplied"), Some(1.0), "{file}");
        }
    }
}

#[tokio::test]
async fn every_poison_sample_is_quarantined_on_first_receipt() {
    for file in event_files("placement/poison") {
        let store = MemoryStore::new();
        // The one poison sample with a readable placement id must not be applied either.
        seed_one(&store, "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a51", &[]).await;
        let record = sqs_record(Some("m-poison"), &event_text(&file));

        assert_eq!(
            placement_events::apply_record(&store, &record).await,
            RecordOutcome::Quarantined,
            "{file}"
        );
        let (response, metrics) = placement_events::process(&store, sqs_event(vec![record])).await;
        assert!(response.batch_item_failures.is_empty(), "{file}");
        assert_eq!(metrics.get("EventsQuarantined"), Some(1.0), "{file}");
        assert_eq!(
            status_of(&store, "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a51").await,
            PlacementStatus::Pending
        );
    }
}

#[tokio::test]
async fn an_sns_batch_with_a_duplicate_applies_the_fulfilment_once_and_builds_the_session_from_the_event()
 {
    let (store, event) = seeded_batch(MemoryStore::new(), "batch-sns.json").await;

    let (response, metrics) = placement_events::process(&store, event).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsApplied"), Some(2.0));
    assert_eq!(metrics.get("EventsDuplicate"), Some(1.0));
    assert_eq!(metrics.get("PlacementsFulfilled"), Some(1.0));
    assert_eq!(metrics.get("PlacementsTimedOut"), Some(1.0));
    // endTime 10:00:01.472 − createdAt 10:00:00.000.
    assert_eq!(metrics.get("TimeToFulfilmentMs"), Some(1472.0));

    let (p, session) = placed(&store, FULFILLED_ID).await;
    assert_eq!(p.player_sessions.len(), 2);
    assert_eq!(
        (session.ip_address.as_str(), session.port),
        ("203.0.113.17", 7777)
    );
    assert_eq!(session.reserved_seats, 2);
    assert_eq!(session.open_slots, 6);
    assert_eq!(
        status_of(&store, TIMED_OUT_ID).await,
        PlacementStatus::TimedOut
    );
}

#[tokio::test]
async fn a_redelivered_batch_leaves_the_same_table_and_counts_only_duplicates() {
    let (store, event) = seeded_batch(MemoryStore::new(), "batch-sns.json").await;
    placement_events::process(&store, event.clone()).await;
    let first = placed(&store, FULFILLED_ID).await;

    let (response, metrics) = placement_events::process(&store, event).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsDuplicate"), Some(3.0));
    assert_eq!(metrics.get("EventsApplied"), None);
    assert_eq!(placed(&store, FULFILLED_ID).await, first);
}

#[tokio::test]
async fn poison_mixed_into_a_batch_is_quarantined_while_the_good_messages_apply_once() {
    let (store, event) = seeded_batch(MemoryStore::new(), "batch-poison.json").await;

    let (response, metrics) = placement_events::process(&store, event).await;

    assert!(
        response.batch_item_failures.is_empty(),
        "poison is never returned to the queue"
    );
    assert_eq!(metrics.get("EventsQuarantined"), Some(3.0));
    assert_eq!(metrics.get("EventsApplied"), Some(2.0));
    assert_eq!(
        status_of(&store, "b7a6c5d4-e3f2-4a1b-8c0d-9e8f7a6b5c40").await,
        PlacementStatus::Cancelled
    );
    assert_eq!(
        status_of(&store, "d9c8b7a6-f5e4-4d3c-a2b1-0f9e8d7c6b50").await,
        PlacementStatus::Failed
    );
}

#[tokio::test]
async fn an_eventbridge_batch_applies_every_known_type_and_acknowledges_the_unknown_one() {
    let (store, event) = seeded_batch(MemoryStore::new(), "batch-eventbridge.json").await;

    let (response, metrics) = placement_events::process(&store, event).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsApplied"), Some(4.0));
    assert_eq!(metrics.get("EventsIgnored"), Some(1.0));
    for (id, status) in [
        (
            "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a52",
            PlacementStatus::Fulfilled,
        ),
        (
            "8e2d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c62",
            PlacementStatus::TimedOut,
        ),
        (
            "b7a6c5d4-e3f2-4a1b-8c0d-9e8f7a6b5c42",
            PlacementStatus::Cancelled,
        ),
        (
            "d9c8b7a6-f5e4-4d3c-a2b1-0f9e8d7c6b52",
            PlacementStatus::Failed,
        ),
        (
            "e1d2c3b4-a5f6-4e7d-8c9b-a0b1c2d3e4f2",
            PlacementStatus::Pending,
        ),
    ] {
        assert_eq!(status_of(&store, id).await, status, "{id}");
    }
}

#[tokio::test]
async fn a_transient_store_failure_returns_only_that_message_to_the_queue() {
    let (store, event) = seeded_batch(flaky(MemoryStore::new()), "batch-sns.json").await;
    store.faults.throttle(TIMED_OUT_ID);

    let (response, metrics) = placement_events::process(&store, event.clone()).await;

    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, vec!["6a1f0f5e-3c1d-4e8b-9a70-1b2c3d4e5f03"]);
    assert_eq!(metrics.get("EventsRetried"), Some(1.0));
    assert_eq!(
        status_of(&store.inner, FULFILLED_ID).await,
        PlacementStatus::Fulfilled
    );

    // The redelivery succeeds once the table recovers.
    store.faults.heal(TIMED_OUT_ID);
    let retry = sqs_event(vec![event.records[2].clone()]);
    let (response, _) = placement_events::process(&store, retry).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        status_of(&store.inner, TIMED_OUT_ID).await,
        PlacementStatus::TimedOut
    );
}

#[tokio::test]
async fn a_permanent_store_failure_is_quarantined_not_retried() {
    let (store, event) = seeded_batch(flaky(MemoryStore::new()), "batch-sns.json").await;
    store.faults.corrupt(TIMED_OUT_ID);

    let (response, metrics) = placement_events::process(&store, event).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsQuarantined"), Some(1.0));
}

#[tokio::test]
async fn a_result_the_store_refuses_for_good_is_quarantined_and_its_placement_failed_with_a_reason()
{
    let (store, event) = seeded_batch(flaky(MemoryStore::new()), "batch-sns.json").await;
    // The batch's fulfilment (its first record) cannot be stored, ever.
    let fulfilled = parse_message(event.records[0].body.as_deref().unwrap_or(""))
        .expect("a sample event")
        .placement_id;
    store.faults.refuse_fulfilment(fulfilled.as_str());

    let (response, metrics) = placement_events::process(&store, event.clone()).await;

    assert!(response.batch_item_failures.is_empty(), "never retried");
    // The fulfilment and its duplicate in the same batch; the batch's TIMED_OUT applies.
    assert_eq!(metrics.get("EventsQuarantined"), Some(2.0));
    assert_eq!(metrics.get("EventsApplied"), Some(1.0));
    let p = stored(&store.inner, &fulfilled).await;
    assert_eq!(
        p.status,
        PlacementStatus::Failed,
        "not left PENDING for the sweeper"
    );
    assert!(
        p.reason
            .is_some_and(|r| r.contains("could not be recorded"))
    );
    // Redelivered anyway: a refusal of a finished placement, nothing more.
    let (again, _) =
        placement_events::process(&store, sqs_event(vec![event.records[0].clone()])).await;
    assert!(again.batch_item_failures.is_empty());
}

#[tokio::test]
async fn a_record_without_a_message_id_is_never_reported_as_a_batch_item_failure() {
    let store = flaky(MemoryStore::new());
    seed_one(&store, TIMED_OUT_ID, &[]).await;
    store.faults.throttle(TIMED_OUT_ID);
    let body = event_text("placement/sns-timed-out.json");

    for id in [None, Some(""), Some("  ")] {
        let (response, _) =
            placement_events::process(&store, sqs_event(vec![sqs_record(id, &body)])).await;
        assert!(response.batch_item_failures.is_empty(), "{id:?}");
    }
}

#[tokio::test]
async fn the_partial_batch_response_has_exactly_the_shape_lambda_expects() {
    let store = flaky(MemoryStore::new());
    seed_one(&store, TIMED_OUT_ID, &[]).await;
    let body = event_text("placement/sns-timed-out.json");

    let (ok, _) = placement_events::process(&store, sqs_event(vec![])).await;
    assert_eq!(
        serde_json::to_value(&ok).unwrap(),
        json!({"batchItemFailures": []})
    );

    store.faults.throttle(TIMED_OUT_ID);
    let records = vec![
        sqs_record(Some("m-b"), &body),
        sqs_record(Some("m-a"), &body),
    ];
    let (failed, _) = placement_events::process(&store, sqs_event(records)).await;
    assert_eq!(
        serde_json::to_value(&failed).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "m-a"}, {"itemIdentifier": "m-b"}]})
    );
}

#[tokio::test]
async fn a_result_for_a_placement_this_system_never_started_is_ignored() {
    let store = MemoryStore::new();
    let (response, metrics) =
        process_one(&store, "m-1", &event_text("placement/sns-fulfilled.json")).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsIgnored"), Some(1.0));
    assert!(!placement_exists(&store, &pid(FULFILLED_ID)).await);
}

#[tokio::test]
async fn a_late_event_disagreeing_with_the_recorded_result_is_refused() {
    let store = MemoryStore::new();
    seed_one(&store, "8e2d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c61", &[]).await;
    let timed_out = sqs_record(Some("m-1"), &event_text("placement/raw-timed-out.json"));
    placement_events::process(&store, sqs_event(vec![timed_out])).await;
    let cancelled = event_text("placement/raw-cancelled.json").replace(
        "b7a6c5d4-e3f2-4a1b-8c0d-9e8f7a6b5c41",
        "8e2d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c61",
    );

    let (response, metrics) = process_one(&store, "m-2", &cancelled).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsRefused"), Some(1.0));
    assert_eq!(
        status_of(&store, "8e2d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c61").await,
        PlacementStatus::TimedOut
    );
}

#[tokio::test]
async fn a_fulfilled_event_costs_one_read_and_at_most_two_writes() {
    let store = MemoryStore::new();
    seed_one(&store, FULFILLED_ID, &[]).await;
    let before = store.calls();

    process_one(&store, "m-1", &event_text("placement/sns-fulfilled.json")).await;

    let after = store.calls();
    assert!(after.writes - before.writes <= 2, "{before:?} → {after:?}");
}
