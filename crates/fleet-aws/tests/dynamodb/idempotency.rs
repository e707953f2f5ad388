//! Create idempotency on the real table.

use std::sync::Arc;

use fleet_aws::dynamo::DynamoStore;
use fleet_core::ids::{IdempotencyKey, PlacementId};
use fleet_core::ports::{CreateOutcome, IdempotencyRecord, SessionStore, StoreError};

use crate::support::*;

fn record(key: &str, digest: &str) -> IdempotencyRecord {
    IdempotencyRecord {
        caller: "player-1".into(),
        key: IdempotencyKey::parse(key).unwrap(),
        body_digest: digest.into(),
    }
}

/// Creates the placement `id` under the idempotency record `record`.
async fn create(store: &DynamoStore, id: &str, record: &IdempotencyRecord) -> CreateOutcome {
    let p = placement(id, 4, &[]);
    store.create_placement(&p, Some(record)).await.unwrap()
}

/// Creates `n` placements at once on a new store, the i-th with the placement id and the key
/// `id_and_key(i)` gives (and the same body); answers each create's outcome.
async fn create_at_once(
    n: usize,
    id_and_key: impl Fn(usize) -> (String, String),
) -> Vec<Result<CreateOutcome, StoreError>> {
    let store = Arc::new(spawn_store().await);
    let tasks = (0..n).map(|i| {
        let (store, (id, key)) = (Arc::clone(&store), id_and_key(i));
        tokio::spawn(async move {
            let p = placement(&id, 4, &[]);
            store.create_placement(&p, Some(&record(&key, "d1"))).await
        })
    });
    let outcomes = futures::future::join_all(tasks).await;
    outcomes.into_iter().map(|t| t.expect("task")).collect()
}

#[tokio::test]
async fn the_same_key_and_body_return_the_first_placement() {
    let store = spawn_store().await;
    let first = create(&store, "p-first", &record("k1", "d1")).await;
    assert_eq!(first, CreateOutcome::Created);
    match create(&store, "p-retry", &record("k1", "d1")).await {
        CreateOutcome::Existing(p) => assert_eq!(p.placement_id.as_str(), "p-first"),
        other => panic!("expected the first placement, got {other:?}"),
    }
    let retry = PlacementId::parse("p-retry").unwrap();
    assert_eq!(
        store.get_placement(&retry).await.unwrap(),
        None,
        "no second placement written"
    );
}

#[tokio::test]
async fn the_same_key_with_a_different_body_is_a_mismatch() {
    let store = spawn_store().await;
    create(&store, "p-a", &record("k2", "d1")).await;
    let out = create(&store, "p-b", &record("k2", "d2")).await;
    assert_eq!(out, CreateOutcome::Mismatch);
}

#[tokio::test]
async fn keys_are_scoped_to_their_caller() {
    let store = spawn_store().await;
    create(&store, "p-c", &record("k3", "d1")).await;
    let mut other = record("k3", "d1");
    other.caller = "player-2".into();
    assert_eq!(create(&store, "p-d", &other).await, CreateOutcome::Created);
}

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_placement_and_replay_it_to_the_others() {
    let outcomes = create_at_once(12, |i| (format!("p-race-{i}"), "same-key".into())).await;

    let mut created = Vec::new();
    let mut replayed = Vec::new();
    for outcome in outcomes {
        match outcome {
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
    let outcomes = create_at_once(40, |i| (format!("p-many-{i}"), format!("key-{i}"))).await;
    for outcome in outcomes {
        assert_eq!(outcome.expect("no store error"), CreateOutcome::Created);
    }
}
