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

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_placement_and_replay_it_to_the_others() {
    let store = std::sync::Arc::new(spawn_store().await);
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_placement(
                        &placement(&format!("p-race-{i}"), 4, &[]),
                        Some(&record("same-key", "d1")),
                    )
                    .await
            })
        })
        .collect();

    let mut created = Vec::new();
    let mut replayed = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            Ok(CreateOutcome::Created) => created.push(()),
            Ok(CreateOutcome::Existing(p)) => replayed.push(p.placement_id),
            other => panic!("a racing create must commit or replay, got {other:?}"),
        }
    }

    assert_eq!(created.len(), 1, "exactly one placement written");
    assert_eq!(replayed.len(), 11);
    assert!(
        replayed.windows(2).all(|w| w[0] == w[1]),
        "every replay names the one placement: {replayed:?}"
    );
}

#[tokio::test]
async fn forty_concurrent_creates_with_their_own_keys_all_commit() {
    let store = std::sync::Arc::new(spawn_store().await);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_placement(
                        &placement(&format!("p-many-{i}"), 4, &[]),
                        Some(&record(&format!("key-{i}"), "d1")),
                    )
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(
            t.await.expect("task").expect("no store error"),
            CreateOutcome::Created
        );
    }
}
