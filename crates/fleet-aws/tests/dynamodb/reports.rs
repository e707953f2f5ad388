//! Game-server reports on the real table: before and after the placement event, in either order.

use std::collections::BTreeMap;

use fleet_aws::dynamo::DynamoStore;
use fleet_core::input::GameProperties;
use fleet_core::ports::{Applied, SessionKey, SessionStore, StatusReport};
use fleet_core::time::Timestamp;

use crate::steps::{fulfilled_session, session_of};
use crate::support::*;

fn report(players: u32, mode: &str) -> StatusReport {
    StatusReport {
        player_count: Some(players),
        name: Some("renamed".into()),
        data: None,
        properties: Some(
            GameProperties::parse(BTreeMap::from([("mode".into(), mode.into())])).unwrap(),
        ),
    }
}

/// The game server's report on the session `arn(5)`, sent at `at`.
async fn report_at(store: &DynamoStore, players: u32, mode: &str, at: Timestamp) -> Applied {
    let report = report(players, mode);
    store.apply_report(&arn(5), &report, at).await.unwrap()
}

/// Creates the placement `pr` for 8 players, whose session will be `arn(5)`.
async fn create_pr(store: &DynamoStore) {
    store
        .create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
}

/// Applies `pr`'s fulfilment event, ending at `end`.
async fn fulfil_pr(store: &DynamoStore, end: Timestamp) {
    apply(store, &fulfilled("pr", 5, &[], end)).await;
}

/// `pr` created and fulfilled at `T0`: the session `arn(5)` is live.
async fn live_session(store: &DynamoStore) {
    fulfilled_session(store, "pr", 8, &[], 5, T0).await;
}

#[tokio::test]
async fn a_report_before_the_event_is_kept_and_merged_when_the_event_arrives() {
    let store = spawn_store().await;
    create_pr(&store).await;
    let early = report_at(&store, 3, "casual", T0.plus_secs(2)).await;
    assert_eq!(early, Applied::Applied);
    assert_eq!(
        session_of(&store, 5).await,
        None,
        "not a session until the event"
    );
    fulfil_pr(&store, T0.plus_secs(1)).await;
    let s = session_of(&store, 5).await.unwrap();
    assert_eq!(
        (s.player_count, s.name.as_deref(), s.properties.get("mode")),
        (3, Some("renamed"), Some("casual"))
    );
    assert_eq!(s.open_slots, 5);
}

#[tokio::test]
async fn report_and_event_converge_to_the_same_session_in_either_order() {
    let a = spawn_store().await;
    create_pr(&a).await;
    report_at(&a, 3, "casual", T0.plus_secs(2)).await;
    fulfil_pr(&a, T0.plus_secs(1)).await;

    let b = spawn_store().await;
    create_pr(&b).await;
    fulfil_pr(&b, T0.plus_secs(1)).await;
    report_at(&b, 3, "casual", T0.plus_secs(2)).await;

    assert_eq!(session_of(&a, 5).await, session_of(&b, 5).await);
}

#[tokio::test]
async fn an_older_report_never_overwrites_a_newer_one() {
    let store = spawn_store().await;
    live_session(&store).await;
    report_at(&store, 4, "a", T0.plus_secs(10)).await;
    let older = report_at(&store, 1, "b", T0.plus_secs(5)).await;
    assert_eq!(older, Applied::Refused);
    assert_eq!(session_of(&store, 5).await.unwrap().player_count, 4);
}

#[tokio::test]
async fn reports_on_an_ended_session_are_refused() {
    let store = spawn_store().await;
    live_session(&store).await;
    store
        .end_session(SessionKey::Arn(&arn(5)), T0.plus_secs(3))
        .await
        .unwrap();
    let late = report_at(&store, 2, "x", T0.plus_secs(4)).await;
    assert_eq!(late, Applied::Refused);
}

#[tokio::test]
async fn ending_twice_is_a_duplicate_and_an_unknown_id_is_unknown() {
    let store = spawn_store().await;
    live_session(&store).await;
    let (id, unknown) = (arn(5).session_id(), arn(6).session_id());
    for (id, at, want) in [
        (&id, T0.plus_secs(3), Applied::Applied),
        (&id, T0.plus_secs(4), Applied::Duplicate),
        (&unknown, T0, Applied::Unknown),
    ] {
        let got = store.end_session(SessionKey::Id(id), at).await.unwrap();
        assert_eq!(got, want, "ending {id} at {at:?}");
    }
}
