//! Create idempotency on the real table.

use fleet_core::ids::IdempotencyKey;
use fleet_core::ports::{CreateOutcome, IdempotencyRecord, SessionStore};

use crate::support::*;

fn record(key: &str, digest: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        caller: "player-1".into(),
        key: IdempotencyKey::parse(key).unwrap(),
        body_digest: digest.into(),
    }
}

#[tokio::test]
async fn the_same_key_and_body_return_the_first_placement() {
    let store = spawn_store().await;
    let first = placement("p-first", 4, &[]);
    assert_eq!(
        store
            .create_placement(&first, Some(&record("k1", "d1")))
            .await
            .unwrap(),
        CreateOutcome::Created
    );
    let retry = placement("p-retry", 4, &[]);
    match store
        .create_placement(&retry, Some(&record("k1", "d1")))
        .await
        .unwrap()
    {
        CreateOutcome::Existing(p) => assert_eq!(p.placement_id, first.placement_id),
        other => panic!("expected the first placement, got {other:?}"),
    }
    assert_eq!(
        store.get_placement(&retry.placement_id).await.unwrap(),
        None,
        "no second placement written"
    );
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_a_mismatch() {
    let store = spawn_store().await;
    store
        .create_placement(&placement("p-a", 4, &[]), Some(&record("k2", "d1")))
        .await
        .unwrap();
    let out = store
        .create_placement(&placement("p-b", 4, &[]), Some(&record("k2", "d2")))
        .await
        .unwrap();
    assert_eq!(out, CreateOutcome::Mismatch);
}

#[tokio::test]
async fn keys_are_scoped_to_their_caller() {
    let store = spawn_store().await;
    store
        .create_placement(&placement("p-c", 4, &[]), Some(&record("k3", "d1")))
        .await
        .unwrap();
    let mut other = record("k3", "d1");
    other.caller = "player-2".into();
    assert_eq!(
        store
            .create_placement(&placement("p-d", 4, &[]), Some(&other))
            .await
            .unwrap(),
        CreateOutcome::Created
    );
}
