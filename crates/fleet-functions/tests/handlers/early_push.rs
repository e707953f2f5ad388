//! placement-events pushes a result right after it commits it (`process_and_push`), with the notifier's
//! own code: the same message, each connection once, and the stream's notifier as the safety net.

use std::collections::BTreeMap;
use std::sync::Mutex;

use aws_lambda_events::event::sqs::SqsBatchResponse;
use fleet_core::event::parse_message;
use fleet_core::fakes::{
    FaultyStore, MemoryNotifier, MemoryStore, StoreCall, StoreFaults, StoreOp,
};
use fleet_core::model::PlacementStatus;
use fleet_core::ports::{ConnectionStore, SessionStore, StoreError};
use fleet_core::rules;
use fleet_functions::observability::Metrics;
use fleet_functions::{notifier, placement_events};
use serde_json::{Value, json};

use crate::support_async::*;
use crate::support_cases::people::*;
use crate::support_cases::{connect_people, delta, notify_stream, stored};

/// The sample placements, PENDING, and [`people`] connected.
async fn world<S: SessionStore + ConnectionStore>(store: &S) {
    seed_samples(store).await;
    connect_people(store).await;
}

/// The [`world`] in memory, and a notifier that records what it sends.
async fn world_in_memory() -> (MemoryStore, MemoryNotifier) {
    let store = MemoryStore::new();
    world(&store).await;
    (store, MemoryNotifier::default())
}

/// A fresh table on DynamoDB Local (`<prefix>-<uuid>`), as the functions' store.
async fn dynamo_store(prefix: &str) -> fleet_aws::dynamo::DynamoStore {
    let url = std::env::var("FLEETLIFT_TEST_DYNAMODB")
        .expect("FLEETLIFT_TEST_DYNAMODB is not set: run the tests with scripts/test.sh, which starts DynamoDB Local");
    let client = fleet_aws::dynamo::local_client(&url);
    let table = format!("{prefix}-{}", uuid::Uuid::new_v4());
    fleet_aws::dynamo::create_table(&client, &table)
        .await
        .expect("create table");
    fleet_aws::dynamo::DynamoStore::new(client, table, b"push-test-secret".to_vec())
}

fn batch(files: &[&str]) -> aws_lambda_events::event::sqs::SqsEvent {
    sqs_event(
        files
            .iter()
            .enumerate()
            .map(|(i, f)| sqs_record(Some(&format!("m-{i}")), &event_text(f)))
            .collect(),
    )
}

/// placement-events on the sample fulfilment, pushing through `push`.
async fn push_fulfilled<S, N>(store: &S, push: &N) -> (SqsBatchResponse, Metrics)
where
    S: SessionStore + ConnectionStore,
    N: fleet_core::ports::Notifier,
{
    placement_events::process_and_push(store, push, batch(&[FULFILLED]), T0).await
}

/// The sample fulfilment event.
const FULFILLED: &str = "placement/sns-fulfilled.json";

/// Every message sent, raw, by connection.
fn by_connection(push: &MemoryNotifier) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for (c, payload) in push.sent() {
        out.entry(c).or_default().push(payload);
    }
    out
}

#[tokio::test]
async fn a_fulfilled_event_is_pushed_at_once_to_each_connection_with_the_message_the_notifier_would_send()
 {
    // The event through placement-events, pushing.
    let early_store = MemoryStore::new();
    world(&early_store).await;
    let early = MemoryNotifier::default();
    let (response, metrics) = push_fulfilled(&early_store, &early).await;

    // The same event applied without a push, then its stream record through the notifier.
    let late_store = MemoryStore::new();
    world(&late_store).await;
    let late = MemoryNotifier::default();
    placement_events::process(&late_store, batch(&[FULFILLED])).await;
    notify_stream(&late_store, &late, "placement-fulfilled.json").await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsApplied"), Some(1.0));
    assert_eq!(metrics.get("NotificationsSent"), Some(4.0));
    assert_eq!(metrics.get("EarlyPushFailed"), None);
    let sent = by_connection(&early);
    assert_eq!(sent.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut all = ALL.to_vec();
        all.sort_unstable();
        all
    });
    assert!(sent.values().all(|m| m.len() == 1), "once per connection");
    assert_eq!(
        sent,
        by_connection(&late),
        "byte for byte what the notifier sends"
    );
    let mine: Value = serde_json::from_slice(&sent[REQUESTER_CONN][0]).unwrap();
    assert_eq!(mine["status"], "FULFILLED");
    assert_eq!(mine["session"]["id"], "gs-KXBaNv1hwyDoBaBcvuaw8V");
    assert_eq!(
        mine["session"]["openSlots"], 6,
        "the stored session: the two placed players hold seats"
    );
    assert_eq!(
        mine["playerSession"]["playerSessionId"],
        "psess-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c40"
    );
}

#[tokio::test]
async fn a_result_too_close_to_the_deadline_is_left_unmarked_for_the_streams_notifier() {
    let (store, push) = world_in_memory().await;
    // Less than the guard left: the result is written, nothing is pushed or marked sent.
    let deadline = std::time::Instant::now() + placement_events::EARLY_PUSH_GUARD / 2;
    let (response, metrics) = placement_events::process_and_push_until(
        &store,
        &push,
        batch(&[FULFILLED]),
        T0,
        Some(deadline),
    )
    .await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsApplied"), Some(1.0));
    assert_eq!(metrics.get("EarlyPushSkipped"), Some(1.0));
    assert!(push.sent().is_empty());

    // The stream's notifier then delivers it to every connection.
    let (_, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;
    assert_eq!(metrics.get("NotificationsSent"), Some(4.0));
    assert_eq!(push.sent().len(), 4);
}

#[tokio::test]
async fn the_stream_delivery_after_an_early_push_sends_nothing_more() {
    let (store, push) = world_in_memory().await;
    push_fulfilled(&store, &push).await;
    let writes = store.calls().writes;

    let (response, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(push.sent().len(), 4);
    assert_eq!(metrics.get("NotificationsDuplicate"), Some(4.0));
    assert_eq!(metrics.get("NotificationsSent"), None);
    // Its conditional puts of the sent records are refused; nothing else is written.
    assert_eq!(store.calls().writes - writes, 4);
}

#[tokio::test]
async fn the_lambda_entry_point_pushes_through_its_notifier() {
    let d = deps();
    world(&d.store).await;

    let response = placement_events::handle(
        &d,
        batch(&[
            "placement/sns-fulfilled.json",
            "placement/sns-timed-out.json",
        ]),
    )
    .await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        messages_to(&d.notifier, REQUESTER_CONN).len(),
        2,
        "both results"
    );
    assert_eq!(
        messages_to(&d.notifier, OBSERVER_CONN).len(),
        1,
        "subscribed to the fulfilled one only"
    );
}

#[tokio::test]
async fn every_terminal_status_is_pushed_at_once() {
    for (file, status) in [
        ("placement/sns-fulfilled.json", "FULFILLED"),
        ("placement/sns-timed-out.json", "TIMED_OUT"),
        ("placement/sns-cancelled.json", "CANCELLED"),
        ("placement/sns-failed.json", "FAILED"),
    ] {
        let store = MemoryStore::new();
        let id = parse_message(&event_text(file)).unwrap().placement_id;
        seed(&store, &[placement(id.as_str(), REQUESTER, &[REQUESTER])]).await;
        connect_user(&store, REQUESTER_CONN, REQUESTER).await;
        let push = MemoryNotifier::default();

        let (response, _) =
            placement_events::process_and_push(&store, &push, batch(&[file]), T0).await;

        assert!(response.batch_item_failures.is_empty(), "{file}");
        let m = messages_to(&push, REQUESTER_CONN);
        assert_eq!(m.len(), 1, "{file}");
        assert_eq!(
            (m[0]["placementId"].as_str(), m[0]["status"].as_str()),
            (Some(id.as_str()), Some(status)),
            "{file}"
        );
        if status != "FULFILLED" {
            assert!(
                m[0].get("session").is_none() && m[0]["reason"].is_string(),
                "{file}: {}",
                m[0]
            );
        }
    }
}

#[tokio::test]
async fn a_timed_out_event_is_pushed_with_the_reason_the_notifier_would_send() {
    let (store, push) = world_in_memory().await;

    placement_events::process_and_push(&store, &push, batch(&["placement/sns-timed-out.json"]), T0)
        .await;

    assert_eq!(
        messages_to(&push, PLAYER_CONN),
        vec![
            json!({"type": "placement", "placementId": TIMED_OUT_ID, "status": "TIMED_OUT", "reason": "placement timed out in the queue"})
        ]
    );
    assert!(
        messages_to(&push, OBSERVER_CONN).is_empty(),
        "not subscribed to this one"
    );
    let (_, metrics) = notify_stream(&store, &push, "placement-timed-out.json").await;
    assert_eq!(metrics.get("NotificationsDuplicate"), Some(3.0));
    assert_eq!(push.sent().len(), 3);
}

#[tokio::test]
async fn a_failed_push_leaves_the_event_applied_and_the_stream_delivery_pushes_it() {
    let store = MemoryStore::new();
    world(&store).await;
    let push = FlakyNotifier::new(MemoryNotifier::default());
    push.fail(REQUESTER_CONN);

    let (response, metrics) = push_fulfilled(&store, &push).await;

    assert!(
        response.batch_item_failures.is_empty(),
        "a push failure is never a Retry"
    );
    assert_eq!(metrics.get("EventsApplied"), Some(1.0));
    assert_eq!(metrics.get("EventsRetried"), None);
    assert_eq!(metrics.get("EarlyPushFailed"), Some(1.0));
    assert_eq!(metrics.get("NotificationsFailed"), Some(1.0));
    assert_eq!(metrics.get("NotificationsSent"), Some(3.0));
    let stored = stored(&store, &pid(FULFILLED_ID)).await;
    assert_eq!(stored.status, PlacementStatus::Fulfilled);
    assert!(messages_to(&push.inner, REQUESTER_CONN).is_empty());

    push.heal(REQUESTER_CONN);
    let (response, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        metrics.get("NotificationsSent"),
        Some(1.0),
        "only the one that failed"
    );
    assert_eq!(metrics.get("NotificationsDuplicate"), Some(3.0));
    assert_eq!(messages_to(&push.inner, REQUESTER_CONN).len(), 1);
    assert!(ALL.iter().all(|c| messages_to(&push.inner, c).len() == 1));
}

#[tokio::test]
async fn a_failed_connection_lookup_leaves_the_event_applied_and_the_stream_delivery_pushes_it() {
    let store = flaky(MemoryStore::new());
    world(&store).await;
    store.faults.throttle_lookups(true);
    let push = MemoryNotifier::default();

    let (response, metrics) = push_fulfilled(&store, &push).await;

    assert!(
        response.batch_item_failures.is_empty(),
        "a push failure is never a Retry"
    );
    assert_eq!(metrics.get("EventsApplied"), Some(1.0));
    assert_eq!(metrics.get("EarlyPushFailed"), Some(1.0));
    assert!(push.sent().is_empty());
    assert_eq!(
        stored(&store, &pid(FULFILLED_ID)).await.status,
        PlacementStatus::Fulfilled
    );

    store.faults.throttle_lookups(false);
    let (response, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("NotificationsSent"), Some(4.0));
}

#[tokio::test]
async fn unknown_duplicate_refused_ignored_and_poison_events_push_nothing() {
    let (store, push) = world_in_memory().await;
    placement_events::process(&store, batch(&[FULFILLED])).await;
    let refused = event_text("placement/raw-cancelled.json")
        .replace("b7a6c5d4-e3f2-4a1b-8c0d-9e8f7a6b5c41", FULFILLED_ID);
    let unknown = event_text("placement/sns-unknown-type.json");
    let never_started = event_text("placement/raw-timed-out.json");
    let poison = event_text("placement/poison/not-json.txt");
    let duplicate = event_text("placement/sns-fulfilled.json");
    let records = [duplicate, refused, unknown, never_started, poison]
        .iter()
        .enumerate()
        .map(|(i, b)| sqs_record(Some(&format!("m-{i}")), b))
        .collect();
    let writes = store.calls().writes;

    let (response, metrics) =
        placement_events::process_and_push(&store, &push, sqs_event(records), T0).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        [
            "EventsDuplicate",
            "EventsRefused",
            "EventsIgnored",
            "EventsQuarantined"
        ]
        .map(|m| metrics.get(m)),
        [Some(1.0), Some(1.0), Some(2.0), Some(1.0)]
    );
    assert!(push.sent().is_empty());
    assert_eq!(metrics.get("EarlyPushFailed"), None);
    assert_eq!(
        store.calls().writes - writes,
        2,
        "the two guarded transitions refused, no sent record"
    );
}

/// Every store call, in the order it was made (no fault).
#[derive(Default)]
struct CallOrder(Mutex<Vec<StoreOp>>);

impl CallOrder {
    fn ops(&self) -> Vec<StoreOp> {
        self.0.lock().unwrap().clone()
    }
}

impl StoreFaults for CallOrder {
    fn fault(&self, call: &StoreCall<'_>) -> Option<StoreError> {
        self.0.lock().unwrap().push(call.op);
        None
    }
}

/// Where `op` first comes in `ops`.
fn first(ops: &[StoreOp], op: StoreOp) -> usize {
    ops.iter()
        .position(|o| *o == op)
        .unwrap_or_else(|| panic!("no {op:?} in {ops:?}"))
}

#[tokio::test]
async fn the_connections_are_looked_up_without_waiting_for_the_write() {
    let store = FaultyStore::new(MemoryStore::new(), CallOrder::default());
    world(&store).await;
    let push = MemoryNotifier::default();
    let before = store.faults.ops().len();

    let (response, metrics) = push_fulfilled(&store, &push).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("EventsApplied"), Some(1.0));
    assert_eq!(push.sent().len(), 4);
    let ops = store.faults.ops().split_off(before);
    let write = first(&ops, StoreOp::FinishPlacement);
    // The fake answers at once, so "beside the write" shows as "before it": the lookups depend on
    // the placement read, not on the write's answer. The sent records need the write.
    assert!(first(&ops, StoreOp::GetPlacement) < first(&ops, StoreOp::ConnectionsOf));
    assert!(first(&ops, StoreOp::ConnectionsOf) < write, "{ops:?}");
    assert!(first(&ops, StoreOp::Subscribers) < write, "{ops:?}");
    assert!(write < first(&ops, StoreOp::MarkSent), "{ops:?}");
}

#[tokio::test]
async fn an_event_for_a_placement_already_finished_looks_up_no_connections() {
    let store = FaultyStore::new(MemoryStore::new(), CallOrder::default());
    world(&store).await;
    placement_events::process(&store, batch(&[FULFILLED])).await;
    let push = MemoryNotifier::default();
    let before = store.faults.ops().len();

    let (_, metrics) = push_fulfilled(&store, &push).await;

    assert_eq!(metrics.get("EventsDuplicate"), Some(1.0));
    let ops = store.faults.ops().split_off(before);
    assert!(
        !ops.iter()
            .any(|o| matches!(o, StoreOp::ConnectionsOf | StoreOp::Subscribers)),
        "{ops:?}"
    );
    assert!(push.sent().is_empty());
}

/// The placements' writes are throttled; every other call answers.
struct WritesThrottled;

impl StoreFaults for WritesThrottled {
    fn fault(&self, call: &StoreCall<'_>) -> Option<StoreError> {
        (call.op == StoreOp::FinishPlacement)
            .then(|| StoreError::Throttled("ProvisionedThroughputExceededException".into()))
    }
}

#[tokio::test]
async fn connections_looked_up_for_a_write_that_then_fails_push_nothing_and_the_event_retries() {
    let store = FaultyStore::new(MemoryStore::new(), WritesThrottled);
    world(&store).await;
    let push = MemoryNotifier::default();

    let (response, metrics) = push_fulfilled(&store, &push).await;

    assert_eq!(metrics.get("EventsRetried"), Some(1.0));
    assert_eq!(response.batch_item_failures.len(), 1);
    assert!(push.sent().is_empty());
    assert_eq!(
        stored(&store, &pid(FULFILLED_ID)).await.status,
        PlacementStatus::Pending
    );
}

/// The sample fulfilment applied to two stores alike, one without a push and one with: the
/// (reads, writes) each made, the pushing store, and what its push sent. `connected` puts
/// [`people`] in both.
async fn without_and_with_push(
    connected: bool,
) -> ((u64, u64), (u64, u64), MemoryStore, MemoryNotifier) {
    let (plain, pushing) = (MemoryStore::new(), MemoryStore::new());
    for store in [&plain, &pushing] {
        seed_samples(store).await;
        if connected {
            connect_people(store).await;
        }
    }
    let (plain_before, pushing_before) = (plain.calls(), pushing.calls());
    let push = MemoryNotifier::default();

    placement_events::process(&plain, batch(&[FULFILLED])).await;
    push_fulfilled(&pushing, &push).await;

    let plain_calls = delta(plain_before, plain.calls());
    let pushing_calls = delta(pushing_before, pushing.calls());
    (plain_calls, pushing_calls, pushing, push)
}

#[tokio::test]
async fn a_result_nobody_waits_for_costs_the_lookups_and_no_session_read() {
    let ((plain_reads, plain_writes), (reads, writes), _, push) =
        without_and_with_push(false).await;

    // The lookups only: the requester's and the other player's connections, the placement's
    // subscribers. The session is read only when there is someone to push it to.
    assert_eq!(reads, plain_reads + 3);
    assert_eq!(writes, plain_writes);
    assert!(
        writes <= 2,
        "docs/architecture.md#functions-and-call-budget: a fulfilled event is at most two writes"
    );
    assert!(push.sent().is_empty());
}

#[tokio::test]
async fn a_result_someone_waits_for_is_pushed_with_the_session_its_write_stored_and_no_read() {
    let ((plain_reads, _), (reads, _), pushing, push) = without_and_with_push(true).await;

    // The three lookups (two players' connections, the subscribers) and nothing else: the
    // session the message carries is the one the fulfilment wrote.
    assert_eq!(reads, plain_reads + 3);
    assert_eq!(push.sent().len(), 4);
    let stored = stored(&pushing, &pid(FULFILLED_ID)).await;
    let session = notifier::placed_session(&pushing, &stored).await.unwrap();
    assert!(session.is_some());
    let expected = notifier::placement_message(&stored, session.as_ref(), REQUESTER);
    assert_eq!(by_connection(&push)[REQUESTER_CONN], vec![expected]);
}

#[tokio::test]
async fn the_push_adds_only_the_sent_records_to_an_events_writes() {
    let ((_, plain_writes), (_, writes), _, _) = without_and_with_push(true).await;

    assert!(plain_writes <= 2);
    assert_eq!(writes, plain_writes + 4, "one sent record per connection");
}

#[tokio::test]
async fn the_placement_pushed_is_the_placement_the_store_holds_after_the_event() {
    for file in event_files("placement") {
        let body = event_text(&file);
        let event = parse_message(&body).unwrap();
        let store = MemoryStore::new();
        seed(
            &store,
            &[placement(
                event.placement_id.as_str(),
                REQUESTER,
                &[REQUESTER, OTHER_PLAYER],
            )],
        )
        .await;
        let read = stored(&store, &event.placement_id).await;
        let Some((outcome, at)) = rules::outcome_of(&read, &event).unwrap() else {
            continue;
        };

        placement_events::process(&store, sqs_event(vec![sqs_record(Some("m-1"), &body)])).await;

        let stored = stored(&store, &event.placement_id).await;
        assert_eq!(
            placement_events::finished(read, &outcome, at),
            stored,
            "{file}"
        );
    }
}

/// The same on DynamoDB Local: the placement built in memory equals the item the transaction wrote, and
/// the pushed message is the one the stored items give.
#[tokio::test]
async fn on_dynamodb_the_early_push_sends_what_the_stored_items_say() {
    let store = dynamo_store("push").await;
    world(&store).await;
    let body = event_text("placement/sns-fulfilled.json");
    let event = parse_message(&body).unwrap();
    let read = stored(&store, &event.placement_id).await;
    let (outcome, at) = rules::outcome_of(&read, &event).unwrap().unwrap();
    let push = MemoryNotifier::default();

    let (response, metrics) = placement_events::process_and_push(
        &store,
        &push,
        sqs_event(vec![sqs_record(Some("m-1"), &body)]),
        T0,
    )
    .await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("NotificationsSent"), Some(4.0));
    let stored = stored(&store, &event.placement_id).await;
    assert_eq!(placement_events::finished(read, &outcome, at), stored);
    let session = notifier::placed_session(&store, &stored).await.unwrap();
    assert!(session.is_some());
    for (c, user) in [
        (REQUESTER_CONN, REQUESTER),
        (PLAYER_CONN, OTHER_PLAYER),
        (OBSERVER_CONN, OBSERVER),
    ] {
        let expected = notifier::placement_message(&stored, session.as_ref(), user);
        assert_eq!(by_connection(&push)[c], vec![expected], "{c}");
    }
    let (_, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;
    assert_eq!(metrics.get("NotificationsDuplicate"), Some(4.0));
    assert_eq!(push.sent().len(), 4);
}

/// On DynamoDB Local, through both ways a batch is written: fresh fulfilments sharing one transaction,
/// and one whose game server reported first (the guess of an empty partition fails, the partition is
/// read and the report merged). Each push carries exactly the session the table then holds.
#[tokio::test]
async fn on_dynamodb_each_push_of_a_batch_carries_the_session_the_table_holds() {
    const SHARED: [(&str, &str); 2] = [
        (FULFILLED_ID, "placement/sns-fulfilled.json"),
        (
            "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a52",
            "placement/eventbridge-fulfilled.json",
        ),
    ];
    const REPORTED: (&str, &str) = (
        "4f1c9a7e-2b3d-4e5f-8a9b-0c1d2e3f4a51",
        "placement/raw-fulfilled.json",
    );
    let store = dynamo_store("push-batch").await;
    world(&store).await;
    seed(
        &store,
        &[
            placement(SHARED[1].0, REQUESTER, &[]),
            placement(REPORTED.0, REQUESTER, &[]),
        ],
    )
    .await;
    let fleet_core::event::EventKind::Fulfilled(fulfilled) =
        parse_message(&event_text(REPORTED.1)).unwrap().kind
    else {
        panic!("{} is a fulfilment", REPORTED.1);
    };
    let reported_arn = fulfilled.game_session_arn;
    let report = fleet_core::ports::StatusReport {
        player_count: Some(3),
        ..fleet_core::ports::StatusReport::default()
    };
    store
        .apply_report(&reported_arn, &report, T0)
        .await
        .unwrap();

    for files in [vec![SHARED[0].1, SHARED[1].1], vec![REPORTED.1]] {
        let push = MemoryNotifier::default();
        let (response, _) =
            placement_events::process_and_push(&store, &push, batch(&files), T0).await;
        assert!(response.batch_item_failures.is_empty());
        let ids: Vec<&str> = if files.len() == 2 {
            SHARED.iter().map(|(id, _)| *id).collect()
        } else {
            vec![REPORTED.0]
        };
        let mut expected = Vec::new();
        for id in ids {
            let stored = stored(&store, &pid(id)).await;
            assert_eq!(stored.status, PlacementStatus::Fulfilled, "{id}");
            let session = notifier::placed_session(&store, &stored).await.unwrap();
            let session = session.expect("the placed session is stored");
            if id == REPORTED.0 {
                assert_eq!(session.player_count, 3, "the earlier report is merged");
            }
            expected.push(notifier::placement_message(
                &stored,
                Some(&session),
                REQUESTER,
            ));
        }
        let mut sent = by_connection(&push)[REQUESTER_CONN].clone();
        sent.sort();
        expected.sort();
        assert_eq!(sent, expected, "{files:?}");
    }
}
