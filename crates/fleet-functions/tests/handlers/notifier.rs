//! notifier: stream records of finished placements pushed once to each interested connection.

use aws_lambda_events::event::dynamodb::Event;
use fleet_core::fakes::{MemoryNotifier, MemoryStore};
use fleet_functions::notifier;
use serde_json::json;

use crate::support_async::*;
use crate::support_cases::people::*;
use crate::support_cases::{
    connect_people, connected, notify_stream, stored, stream_event, subscribers,
};

/// The sample placements, the fulfilled one applied, and [`people`] connected.
async fn world() -> MemoryStore {
    let store = MemoryStore::new();
    seed_samples(&store).await;
    apply_sample(&store, "sns-fulfilled.json").await;
    connect_people(&store).await;
    store
}

#[tokio::test]
async fn a_fulfilled_placement_reaches_every_connection_once_each_with_its_own_player_session() {
    let store = world().await;
    let push = MemoryNotifier::default();

    let (response, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(push.sent().len(), 4);
    assert_eq!(metrics.get("NotificationsSent"), Some(4.0));
    for c in [REQUESTER_CONN, REQUESTER_PHONE] {
        let m = messages_to(&push, c);
        assert_eq!(m.len(), 1, "{c}");
        assert_eq!(
            m[0]["playerSession"]["playerSessionId"],
            "psess-0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c40"
        );
    }
    let theirs = &messages_to(&push, PLAYER_CONN)[0];
    assert_eq!(theirs["playerSession"]["playerId"], OTHER_PLAYER);
    assert_eq!(
        theirs["playerSession"]["playerSessionId"],
        "psess-5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f80"
    );
    assert_eq!(theirs["playerSession"]["port"], 7777);
    let observer = &messages_to(&push, OBSERVER_CONN)[0];
    assert!(
        observer.get("playerSession").is_none(),
        "nobody sees another player's session"
    );
    assert_eq!(observer["type"], "placement");
    assert_eq!(observer["status"], "FULFILLED");
    assert_eq!(observer["placementId"], FULFILLED_ID);
    assert_eq!(observer["session"]["id"], "gs-KXBaNv1hwyDoBaBcvuaw8V");
    assert_eq!(
        observer["session"]["dnsName"],
        "ec2-203-0-113-17.compute-1.amazonaws.com"
    );
}

#[tokio::test]
async fn the_sample_stream_image_names_the_session_the_event_created() {
    let store = world().await;
    let p = stored(&store, &pid(FULFILLED_ID)).await;
    assert_eq!(p.session_id.unwrap().as_str(), "gs-KXBaNv1hwyDoBaBcvuaw8V");
    let image = notifier::finished_placement(&stream_event("placement-fulfilled.json").records[1])
        .expect("a finished placement");
    assert_eq!(image.player_sessions, p.player_sessions);
}

#[tokio::test]
async fn a_duplicate_stream_record_sends_nothing_more() {
    let store = world().await;
    let push = MemoryNotifier::default();
    notify_stream(&store, &push, "placement-fulfilled.json").await;

    let (response, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(push.sent().len(), 4);
    assert_eq!(metrics.get("NotificationsDuplicate"), Some(4.0));
    assert_eq!(metrics.get("NotificationsSent"), None);
}

#[tokio::test]
async fn the_placed_session_is_read_once_for_all_pushes_and_not_at_all_when_they_were_made() {
    let store = world().await;
    let push = MemoryNotifier::default();
    let placement = stored(&store, &pid(FULFILLED_ID)).await;
    let before = store.calls().reads;
    let targets = notifier::targets(&store, &placement, T0).await.unwrap();
    let lookups = store.calls().reads - before;
    assert_eq!(targets.len(), 4);

    let before = store.calls().reads;
    notify_stream(&store, &push, "placement-fulfilled.json").await;
    assert_eq!(
        store.calls().reads - before,
        lookups + 1,
        "the lookups and one session read for four pushes"
    );

    let before = store.calls().reads;
    let (_, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;
    assert_eq!(metrics.get("NotificationsDuplicate"), Some(4.0));
    assert_eq!(
        store.calls().reads - before,
        lookups,
        "every push was made: the lookups and nothing more"
    );
}

#[tokio::test]
async fn a_gone_connection_is_deleted_with_its_subscription() {
    let store = world().await;
    let push = MemoryNotifier::default();
    push.close(PLAYER_CONN);
    push.close(OBSERVER_CONN);

    let (response, metrics) = notify_stream(&store, &push, "placement-fulfilled.json").await;

    assert!(
        response.batch_item_failures.is_empty(),
        "a 410 is never retried"
    );
    assert_eq!(metrics.get("NotificationsGone"), Some(2.0));
    assert!(!connected(&store, PLAYER_CONN, T0).await);
    assert!(!connected(&store, OBSERVER_CONN, T0).await);
    assert!(subscribers(&store, FULFILLED_ID).await.is_empty());
    assert_eq!(push.sent().len(), 2);
}

#[tokio::test]
async fn a_transient_push_failure_reports_the_record_and_the_retry_sends_only_what_was_missing() {
    let store = world().await;
    let push = FlakyNotifier::new(MemoryNotifier::default());
    push.fail(PLAYER_CONN);
    let event = stream_event("placement-fulfilled.json");

    let (response, metrics) = notifier::process(&store, &push, event.clone(), T0).await;

    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        json!({"batchItemFailures": [{"itemIdentifier": "4421584500000000017450439092"}]})
    );
    assert_eq!(metrics.get("NotificationsFailed"), Some(1.0));
    assert_eq!(push.inner.sent().len(), 3);

    push.heal(PLAYER_CONN);
    let (response, _) = notifier::process(&store, &push, event, T0).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(push.inner.sent().len(), 4);
    assert_eq!(messages_to(&push.inner, PLAYER_CONN).len(), 1);
}

#[tokio::test]
async fn a_message_too_large_is_counted_and_not_retried() {
    let store = MemoryStore::new();
    let mut p = placement("p-huge", REQUESTER, &[REQUESTER]);
    p.name = None;
    seed(&store, &[p]).await;
    connect_user(&store, REQUESTER_CONN, REQUESTER).await;
    let mut event = stream_event("placement-timed-out.json");
    let image = &mut event.records[0].change.new_image;
    image.insert(
        "placementId".into(),
        serde_dynamo::AttributeValue::S("p-huge".into()),
    );
    image.insert(
        "reason".into(),
        serde_dynamo::AttributeValue::S("x".repeat(200 * 1024)),
    );
    let push = MemoryNotifier::default();

    let (response, metrics) = notifier::process(&store, &push, event, T0).await;

    assert!(response.batch_item_failures.is_empty());
    assert_eq!(metrics.get("NotificationsTooLarge"), Some(1.0));
    assert!(push.sent().is_empty());
}

#[tokio::test]
async fn a_timed_out_placement_is_pushed_with_its_reason_and_no_session() {
    let store = world().await;
    let push = MemoryNotifier::default();

    notify_stream(&store, &push, "placement-timed-out.json").await;

    let m = messages_to(&push, PLAYER_CONN);
    assert_eq!(
        m,
        vec![
            json!({"type": "placement", "placementId": TIMED_OUT_ID, "status": "TIMED_OUT", "reason": "placement timed out in the queue"})
        ]
    );
    assert!(
        messages_to(&push, OBSERVER_CONN).is_empty(),
        "not subscribed to this one"
    );
}

#[tokio::test]
async fn records_that_are_not_a_placement_finishing_are_ignored() {
    let store = world().await;
    let push = MemoryNotifier::default();
    let fulfilled = stream_event("placement-fulfilled.json");
    let session_insert = fulfilled.records[0].clone();
    let mut finished_again = fulfilled.records[1].clone();
    finished_again.change.old_image = finished_again.change.new_image.clone();
    let mut removed = fulfilled.records[1].clone();
    removed.event_name = "REMOVE".into();
    let mut still_pending = fulfilled.records[1].clone();
    still_pending.change.new_image = still_pending.change.old_image.clone();
    let mut subscription = fulfilled.records[1].clone();
    subscription.event_name = "INSERT".into();
    subscription.change.old_image = Default::default();
    subscription.change.new_image.insert(
        "kind".into(),
        serde_dynamo::AttributeValue::S("subscription".into()),
    );
    let mut event = Event::default();
    event.records = vec![
        session_insert,
        finished_again,
        removed,
        still_pending,
        subscription,
    ];

    let (response, metrics) = notifier::process(&store, &push, event, T0).await;

    assert!(response.batch_item_failures.is_empty());
    assert!(push.sent().is_empty());
    assert_eq!(metrics.to_emf(0), None);
}

#[tokio::test]
async fn an_insert_of_an_already_finished_placement_is_pushed() {
    let store = world().await;
    let push = MemoryNotifier::default();
    let mut record = stream_event("placement-timed-out.json").records[0].clone();
    record.event_name = "INSERT".into();
    record.change.old_image = Default::default();
    let mut event = Event::default();
    event.records = vec![record];

    notifier::process(&store, &push, event, T0).await;

    assert_eq!(messages_to(&push, REQUESTER_CONN).len(), 1);
}

#[tokio::test]
async fn connections_that_expired_are_not_pushed_to() {
    let store = world().await;
    let push = MemoryNotifier::default();

    notifier::process(
        &store,
        &push,
        stream_event("placement-fulfilled.json"),
        T0.plus_secs(7200),
    )
    .await;

    assert!(push.sent().is_empty());
}
