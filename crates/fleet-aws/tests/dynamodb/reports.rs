//! Game-server reports on the real table: before and after the placement event, in either order.

use std::collections::BTreeMap;

use fleet_core::input::GameProperties;
use fleet_core::ports::{Applied, SessionKey, SessionStore, StatusReport};

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

#[tokio::test]
async fn a_report_before_the_event_is_kept_and_merged_when_the_event_arrives() {
    let store = spawn_store().await;
    store
        .create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
    assert_eq!(
        store
            .apply_report(&arn(5), &report(3, "casual"), T0.plus_secs(2))
            .await
            .unwrap(),
        Applied::Applied
    );
    assert_eq!(
        store.get_session(&arn(5).session_id()).await.unwrap(),
        None,
        "not a session until the event"
    );
    apply(&store, &fulfilled("pr", 5, &[], T0.plus_secs(1))).await;
    let s = store
        .get_session(&arn(5).session_id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (s.player_count, s.name.as_deref(), s.properties.get("mode")),
        (3, Some("renamed"), Some("casual"))
    );
    assert_eq!(s.open_slots, 5);
}

#[tokio::test]
async fn report_and_event_converge_to_the_same_session_in_either_order() {
    let a = spawn_store().await;
    a.create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
    a.apply_report(&arn(5), &report(3, "casual"), T0.plus_secs(2))
        .await
        .unwrap();
    apply(&a, &fulfilled("pr", 5, &[], T0.plus_secs(1))).await;

    let b = spawn_store().await;
    b.create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
    apply(&b, &fulfilled("pr", 5, &[], T0.plus_secs(1))).await;
    b.apply_report(&arn(5), &report(3, "casual"), T0.plus_secs(2))
        .await
        .unwrap();

    let id = arn(5).session_id();
    assert_eq!(
        a.get_session(&id).await.unwrap(),
        b.get_session(&id).await.unwrap()
    );
}

#[tokio::test]
async fn an_older_report_never_overwrites_a_newer_one() {
    let store = spawn_store().await;
    store
        .create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
    apply(&store, &fulfilled("pr", 5, &[], T0)).await;
    store
        .apply_report(&arn(5), &report(4, "a"), T0.plus_secs(10))
        .await
        .unwrap();
    assert_eq!(
        store
            .apply_report(&arn(5), &report(1, "b"), T0.plus_secs(5))
            .await
            .unwrap(),
        Applied::Refused
    );
    assert_eq!(
        store
            .get_session(&arn(5).session_id())
            .await
            .unwrap()
            .unwrap()
            .player_count,
        4
    );
}

#[tokio::test]
async fn reports_on_an_ended_session_are_refused() {
    let store = spawn_store().await;
    store
        .create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
    apply(&store, &fulfilled("pr", 5, &[], T0)).await;
    store
        .end_session(SessionKey::Arn(&arn(5)), T0.plus_secs(3))
        .await
        .unwrap();
    assert_eq!(
        store
            .apply_report(&arn(5), &report(2, "x"), T0.plus_secs(4))
            .await
            .unwrap(),
        Applied::Refused
    );
}

#[tokio::test]
async fn ending_twice_is_a_duplicate_and_an_unknown_id_is_unknown() {
    let store = spawn_store().await;
    store
        .create_placement(&placement("pr", 8, &[]), None)
        .await
        .unwrap();
    apply(&store, &fulfilled("pr", 5, &[], T0)).await;
    let id = arn(5).session_id();
    assert_eq!(
        store
            .end_session(SessionKey::Id(&id), T0.plus_secs(3))
            .await
            .unwrap(),
        Applied::Applied
    );
    assert_eq!(
        store
            .end_session(SessionKey::Id(&id), T0.plus_secs(4))
            .await
            .unwrap(),
        Applied::Duplicate
    );
    assert_eq!(
        store
            .end_session(SessionKey::Id(&arn(6).session_id()), T0)
            .await
            .unwrap(),
        Applied::Unknown
    );
}
