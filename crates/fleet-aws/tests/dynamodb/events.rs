//! Placement events on the real table: duplicates, reordering, and no resurrection.

use fleet_aws::dynamo::DynamoStore;
use fleet_core::ids::{PlacementId, SessionId};
use fleet_core::model::{Placement, PlacementStatus, SessionStatus};
use fleet_core::ports::{Applied, SessionKey, SessionStore};
use fleet_core::time::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::steps::{join, seats, session_of};
use crate::support::*;

/// The placement as stored; it must be there.
async fn stored(store: &DynamoStore, id: &PlacementId) -> Placement {
    store.get_placement(id).await.unwrap().expect("placement")
}

/// Ends the session `arn(n)` by its ARN, as the game server's delete does.
async fn end_by_arn(store: &DynamoStore, n: u32, at: Timestamp) -> Applied {
    store
        .end_session(SessionKey::Arn(&arn(n)), at)
        .await
        .unwrap()
}

/// Three placements and their outcomes: one fulfilled with two players, one fulfilled alone, one timed out.
async fn seeded() -> (DynamoStore, Vec<fleet_core::event::PlacementEvent>) {
    let store = spawn_store().await;
    for p in [
        placement("pa", 8, &["ann", "bob"]),
        placement("pb", 4, &[]),
        placement("pc", 4, &[]),
    ] {
        store.create_placement(&p, None).await.expect("create");
    }
    let events = vec![
        fulfilled("pa", 1, &["ann", "bob"], T0.plus_secs(3)),
        fulfilled("pb", 2, &[], T0.plus_secs(4)),
        unfulfilled("pc", "PlacementTimedOut", T0.plus_secs(600)),
    ];
    (store, events)
}

#[test]
fn the_same_events_applied_one_to_five_times_in_any_order_leave_the_same_items() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    // The reference: each event once, in order.
    let reference = rt.block_on(async {
        let (store, events) = seeded().await;
        for e in &events {
            assert_eq!(apply(&store, e).await, Applied::Applied);
        }
        snapshot(&store).await
    });
    assert!(
        reference.len() >= 6,
        "3 placements, 2 sessions, 2 seats: {}",
        reference.len()
    );

    let schedule = (prop::collection::vec(1usize..=5, 3), any::<u64>());
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&schedule, |(copies, seed)| {
            rt.block_on(async {
                let (store, events) = seeded().await;
                // Every event 1–5 times, shuffled by the seed; half the cases deliver copies concurrently.
                let mut deliveries: Vec<usize> = copies
                    .iter()
                    .enumerate()
                    .flat_map(|(i, n)| std::iter::repeat_n(i, *n))
                    .collect();
                let mut state = seed | 1;
                for i in (1..deliveries.len()).rev() {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    deliveries.swap(i, (state % (i as u64 + 1)) as usize);
                }
                if seed % 2 == 0 {
                    for i in deliveries {
                        apply(&store, &events[i]).await;
                    }
                } else {
                    let all = deliveries.iter().map(|i| apply(&store, &events[*i]));
                    futures::future::join_all(all).await;
                }
                let got = snapshot(&store).await;
                prop_assert_eq!(got.len(), reference.len());
                for (g, r) in got.iter().zip(&reference) {
                    // Table names differ per test, item contents must not.
                    prop_assert_eq!(g, r);
                }
                Ok(())
            })
        })
        .expect("every schedule converges to the reference items");
}

#[tokio::test]
async fn a_duplicate_event_is_acknowledged_as_a_duplicate_and_changes_nothing() {
    let (store, events) = seeded().await;
    assert_eq!(apply(&store, &events[0]).await, Applied::Applied);
    let before = snapshot(&store).await;
    for _ in 0..4 {
        assert_eq!(apply(&store, &events[0]).await, Applied::Duplicate);
    }
    assert_eq!(snapshot(&store).await, before);
}

#[tokio::test]
async fn a_fulfilled_placement_creates_the_session_and_a_reserved_seat_per_placed_player() {
    let (store, events) = seeded().await;
    apply(&store, &events[0]).await;
    let p = stored(&store, &events[0].placement_id).await;
    assert_eq!(p.status, PlacementStatus::Fulfilled);
    assert_eq!(p.player_sessions.len(), 2);
    let id: SessionId = arn(1).session_id();
    assert_eq!(p.session_id.as_ref(), Some(&id));
    let s = session_of(&store, 1).await.expect("session exists");
    assert_eq!(
        (
            s.status,
            s.max_players,
            s.reserved_seats,
            s.open_slots,
            s.port
        ),
        (SessionStatus::Active, 8, 2, 6, 7777)
    );
    assert_eq!(s.properties.get("mode"), Some("ranked"));
}

#[tokio::test]
async fn a_terminal_placement_refuses_a_different_late_outcome() {
    let (store, events) = seeded().await;
    apply(&store, &events[2]).await; // pc timed out
    let late = fulfilled("pc", 3, &[], T0.plus_secs(700));
    assert_eq!(apply(&store, &late).await, Applied::Refused);
    let pc = stored(&store, &late.placement_id).await;
    assert_eq!(pc.status, PlacementStatus::TimedOut);
    let refused = session_of(&store, 3).await;
    assert_eq!(refused, None, "no session from a refused event");
}

#[tokio::test]
async fn an_event_for_a_placement_this_system_never_started_is_ignored() {
    let store = spawn_store().await;
    assert_eq!(
        apply(&store, &fulfilled("never-started", 9, &[], T0)).await,
        Applied::Unknown
    );
    assert!(snapshot(&store).await.is_empty());
}

#[tokio::test]
async fn a_fulfilled_event_after_the_session_was_deleted_does_not_resurrect_it() {
    let (store, events) = seeded().await;
    apply(&store, &events[0]).await;
    let id = arn(1).session_id();
    let ended = end_by_arn(&store, 1, T0.plus_secs(100)).await;
    assert_eq!(ended, Applied::Applied);
    assert_eq!(apply(&store, &events[0]).await, Applied::Duplicate);
    let s = session_of(&store, 1).await.expect("tombstone readable");
    assert_eq!(s.status, SessionStatus::Ended);
    assert_eq!(s.open_slots, 0);
    let joined = join(&store, &id, &["carl"], T0.plus_secs(101)).await;
    assert_eq!(joined, Err(fleet_core::ports::JoinRefused::NotActive));
}

#[tokio::test]
async fn a_session_deleted_before_its_event_arrives_stays_ended_when_the_event_comes() {
    let (store, events) = seeded().await;
    // The game server's delete_instance_info beat the placement event.
    assert_eq!(
        end_by_arn(&store, 1, T0.plus_secs(1)).await,
        Applied::Applied
    );
    assert_eq!(
        apply(&store, &events[0]).await,
        Applied::Applied,
        "the placement still completes"
    );
    let pa = stored(&store, &events[0].placement_id).await;
    assert_eq!(pa.status, PlacementStatus::Fulfilled);
    let tombstone = session_of(&store, 1).await;
    assert_eq!(tombstone, None, "still only a tombstone");
    let seats = seats(&store).await;
    assert!(
        seats.is_empty(),
        "an ended session takes no seats: {seats:?}"
    );
}

#[tokio::test]
async fn a_batch_of_fresh_events_leaves_the_same_items_as_applying_them_one_by_one() {
    let (reference, events) = seeded().await;
    for e in &events {
        apply(&reference, e).await;
    }
    let (store, events) = seeded().await;
    let answers = apply_batch(&store, &events.iter().collect::<Vec<_>>()).await;
    assert_eq!(answers, vec![Applied::Applied; 3]);
    assert_eq!(snapshot(&store).await, snapshot(&reference).await);
}

#[tokio::test]
async fn each_event_of_a_batch_gets_the_answer_it_would_get_alone_when_the_shared_transaction_cannot_commit()
 {
    // A duplicate of an already-applied event, the same event twice in the batch, and a fulfilment
    // whose server reported first (the empty-partition guess is wrong): the shared transaction is
    // cancelled, and every event is settled one by one.
    let (store, events) = seeded().await;
    store
        .create_placement(&placement("pr", 8, &[]), None)
        .await
        .expect("create");
    let report = fleet_core::ports::StatusReport {
        player_count: Some(3),
        name: None,
        data: None,
        properties: None,
    };
    assert_eq!(
        store
            .apply_report(&arn(5), &report, T0.plus_secs(2))
            .await
            .unwrap(),
        Applied::Applied
    );
    assert_eq!(apply(&store, &events[2]).await, Applied::Applied);
    let early = fulfilled("pr", 5, &[], T0.plus_secs(1));
    let late_pc = fulfilled("pc", 3, &[], T0.plus_secs(700));

    let answers = apply_batch(
        &store,
        &[
            &events[0], &events[2], &early, &events[0], &late_pc, &events[1],
        ],
    )
    .await;
    assert_eq!(
        answers,
        vec![
            Applied::Applied,
            Applied::Duplicate,
            Applied::Applied,
            Applied::Duplicate,
            Applied::Refused,
            Applied::Applied
        ]
    );
    let merged = session_of(&store, 5)
        .await
        .expect("session from the early-report placement");
    assert_eq!(
        (merged.player_count, merged.open_slots),
        (3, 5),
        "the early report is merged, not lost"
    );
    for (n, made) in [(1, true), (2, true), (3, false)] {
        let made_by = "a session from each applied fulfilment, none from the refused one";
        assert_eq!(
            session_of(&store, n).await.is_some(),
            made,
            "arn({n}): {made_by}"
        );
    }
}

/// A batch's releases in one request: each owner's finished placements leave its pending set (two of
/// one owner in one update), and an owner with no set at all does not keep the others from leaving.
#[tokio::test]
async fn a_batch_releases_its_players_pending_placements_in_one_request() {
    use fleet_core::ports::{CreateOutcome, PendingCap};
    let store = spawn_store().await;
    let cap = |owner: &str| PendingCap {
        owner: owner.into(),
        max: 2,
    };
    let mut released = Vec::new();
    for (owner, ids) in [
        ("player:a", ["ra-1", "ra-2"]),
        ("player:b", ["rb-1", "rb-2"]),
    ] {
        for id in ids {
            let outcome = store
                .create_placement_capped(&placement(id, 4, &[]), None, Some(&cap(owner)))
                .await
                .unwrap();
            assert_eq!(outcome, CreateOutcome::Created);
            released.push((owner.to_owned(), PlacementId::parse(id).unwrap()));
        }
        // At the cap: a third is refused.
        let third = store
            .create_placement_capped(
                &placement(&format!("{id}-3", id = ids[0]), 4, &[]),
                None,
                Some(&cap(owner)),
            )
            .await
            .unwrap();
        assert_eq!(third, CreateOutcome::AtCap);
    }
    released.push(("player:nobody".into(), PlacementId::parse("rn-1").unwrap()));

    store.release_pendings(&released).await.unwrap();

    for owner in ["player:a", "player:b"] {
        for n in 0..2 {
            let id = format!("{owner}-again-{n}").replace(':', "-");
            let outcome = store
                .create_placement_capped(&placement(&id, 4, &[]), None, Some(&cap(owner)))
                .await
                .unwrap();
            assert_eq!(outcome, CreateOutcome::Created, "{owner} has room again");
        }
    }
}

#[tokio::test]
async fn a_batch_read_answers_every_placement_in_order_even_copies_and_absent_ones() {
    let (store, _) = seeded().await;
    let id = |p: &str| placement(p, 4, &[]).placement_id;
    // BatchGetItem refuses a request that names a key twice; the batch read must not send one.
    let ids = [id("pa"), id("never-started"), id("pb"), id("pa")];

    let read = store.get_placements(&ids).await;

    assert_eq!(read.len(), ids.len());
    for (id, got) in ids.iter().zip(read) {
        let alone = store.get_placement(id).await.expect("get");
        assert_eq!(got.expect("batch read"), alone, "{id}");
    }
    assert!(store.get_placement(&ids[1]).await.expect("get").is_none());
}

#[tokio::test]
async fn a_batch_read_of_more_placements_than_one_request_takes_reads_them_all() {
    let store = spawn_store().await;
    let placements: Vec<Placement> = (0..130)
        .map(|i| placement(&format!("many-{i:03}"), 4, &[]))
        .collect();
    futures::future::join_all(placements.iter().map(|p| store.create_placement(p, None)))
        .await
        .into_iter()
        .for_each(|created| {
            created.expect("create");
        });
    let ids: Vec<PlacementId> = placements.iter().map(|p| p.placement_id.clone()).collect();

    let read = store.get_placements(&ids).await;

    let got: Vec<Placement> = read
        .into_iter()
        .map(|r| r.expect("read").expect("present"))
        .collect();
    assert_eq!(got, placements);
}
