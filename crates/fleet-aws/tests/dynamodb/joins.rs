//! Seat reservations under concurrency on the real table.

use std::collections::HashSet;
use std::sync::Arc;

use fleet_core::ids::SessionId;
use fleet_core::model::SeatStatus;
use fleet_core::ports::{JoinRefused, SessionStore, StatusReport};

use crate::support::*;

/// A session with `max` seats of which `reported` are taken by the game server's report.
async fn session_with(
    store: &fleet_aws::dynamo::DynamoStore,
    max: i64,
    reported: u32,
) -> SessionId {
    store
        .create_placement(&placement("pj", max, &[]), None)
        .await
        .unwrap();
    apply(store, &fulfilled("pj", 7, &[], T0)).await;
    let report = StatusReport {
        player_count: Some(reported),
        ..StatusReport::default()
    };
    store
        .apply_report(&arn(7), &report, T0.plus_secs(1))
        .await
        .unwrap();
    arn(7).session_id()
}

/// Seats of a session as stored (a consistent Query of its partition through the Scan helper).
async fn seats(store: &fleet_aws::dynamo::DynamoStore) -> Vec<(String, String)> {
    snapshot(store)
        .await
        .into_iter()
        .filter(|i| {
            i.get("kind")
                .and_then(|k| k.as_s().ok())
                .is_some_and(|k| k == "seat")
        })
        .map(|i| {
            let get = |k: &str| {
                i.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            (get("playerId"), get("status"))
        })
        .collect()
}

#[tokio::test]
async fn fifty_concurrent_joins_for_ten_free_seats_give_exactly_ten_seats() {
    let store = Arc::new(spawn_store().await);
    let id = session_with(&store, 12, 2).await;
    let now = T0.plus_secs(2);
    let joins = (0..50).map(|i| {
        let (store, id) = (Arc::clone(&store), id.clone());
        tokio::spawn(async move {
            store
                .reserve_seats(
                    &id,
                    &[player(&format!("racer-{i}"))],
                    now,
                    now.plus_secs(60),
                )
                .await
        })
    });
    let mut won = 0;
    let mut full = 0;
    for j in futures::future::join_all(joins).await {
        match j.expect("task").expect("store call") {
            Ok(_) => won += 1,
            Err(JoinRefused::Full { .. }) => full += 1,
            Err(other) => panic!("unexpected refusal {other:?}"),
        }
    }
    assert_eq!((won, full), (10, 40));
    let stored = seats(&store).await;
    let players: HashSet<_> = stored.iter().map(|(p, _)| p.clone()).collect();
    assert_eq!(stored.len(), 10, "one item per seat");
    assert_eq!(players.len(), 10, "no player twice");
    assert!(
        stored
            .iter()
            .all(|(_, st)| st == SeatStatus::Reserved.as_str())
    );
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!(
        (s.reserved_seats, s.open_slots),
        (10, 0),
        "the counter equals the seat items"
    );
}

#[tokio::test]
async fn the_same_player_racing_itself_gets_one_seat() {
    let store = Arc::new(spawn_store().await);
    let id = session_with(&store, 10, 0).await;
    let now = T0.plus_secs(2);
    let joins = (0..8).map(|_| {
        let (store, id) = (Arc::clone(&store), id.clone());
        tokio::spawn(async move {
            store
                .reserve_seats(&id, &[player("twin")], now, now.plus_secs(60))
                .await
        })
    });
    let results: Vec<_> = futures::future::join_all(joins)
        .await
        .into_iter()
        .map(|r| r.unwrap().unwrap())
        .collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, JoinRefused::AlreadySeated(_)))
    );
    assert_eq!(
        store
            .get_session(&id)
            .await
            .unwrap()
            .unwrap()
            .reserved_seats,
        1
    );
}

#[tokio::test]
async fn unconfirmed_seats_expire_and_free_their_slots() {
    let store = spawn_store().await;
    let id = session_with(&store, 2, 0).await;
    let now = T0.plus_secs(2);
    store
        .reserve_seats(&id, &[player("a"), player("b")], now, now.plus_secs(60))
        .await
        .unwrap()
        .unwrap();
    let refused = store
        .reserve_seats(&id, &[player("c")], now.plus_secs(1), now.plus_secs(61))
        .await
        .unwrap();
    assert!(matches!(
        refused,
        Err(JoinRefused::Full { open: 0, wanted: 1 })
    ));
    // A join after the window closes may take the lapsed seat even before the sweeper runs…
    let later = now.plus_secs(61);
    let s = store
        .reserve_seats(&id, &[player("c")], later, later.plus_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.session.reserved_seats, 1,
        "lapsed reservations were closed in the same write"
    );
    // …and the sweeper closes what is left.
    assert_eq!(
        store.expire_seats(&id, later.plus_secs(61)).await.unwrap(),
        1
    );
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!((s.reserved_seats, s.open_slots), (0, 2));
}

#[tokio::test]
async fn released_seats_free_their_slot_at_once() {
    let store = spawn_store().await;
    let id = session_with(&store, 3, 0).await;
    let now = T0.plus_secs(2);
    store
        .reserve_seats(&id, &[player("a")], now, now.plus_secs(60))
        .await
        .unwrap()
        .unwrap();
    store.release_seats(&id, &[player("a")], now).await.unwrap();
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!((s.reserved_seats, s.open_slots), (0, 3));
    // A released seat does not block the player from joining again.
    assert!(
        store
            .reserve_seats(&id, &[player("a")], now, now.plus_secs(60))
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn a_join_counts_the_servers_report_and_live_reservations_together() {
    let store = spawn_store().await;
    let id = session_with(&store, 5, 3).await;
    let now = T0.plus_secs(2);
    let refused = store
        .reserve_seats(
            &id,
            &[player("a"), player("b"), player("c")],
            now,
            now.plus_secs(60),
        )
        .await
        .unwrap();
    assert_eq!(refused, Err(JoinRefused::Full { open: 2, wanted: 3 }));
    assert!(
        store
            .reserve_seats(&id, &[player("a"), player("b")], now, now.plus_secs(60))
            .await
            .unwrap()
            .is_ok()
    );
}

#[tokio::test]
async fn a_repeated_join_answers_the_recorded_player_sessions_and_a_lapsed_seat_is_joined_anew() {
    use fleet_core::model::PlayerSession;
    let store = spawn_store().await;
    let id = session_with(&store, 4, 0).await;
    let now = T0.plus_secs(2);
    let first = store
        .reserve_seats(&id, &[player("a"), player("b")], now, now.plus_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.rejoined, None);
    // Before GameLift's answer is recorded, a repeat is a join in flight: refused.
    let early = store
        .reserve_seats(&id, &[player("a")], now, now.plus_secs(60))
        .await
        .unwrap();
    assert!(matches!(early, Err(JoinRefused::AlreadySeated(_))));
    let created = vec![
        PlayerSession {
            player_id: player("a"),
            player_session_id: "psess-a-1".into(),
        },
        PlayerSession {
            player_id: player("b"),
            player_session_id: "psess-b-1".into(),
        },
    ];
    store.record_player_sessions(&id, &created).await.unwrap();

    let again = store
        .reserve_seats(
            &id,
            &[player("b"), player("a")],
            now.plus_secs(30),
            now.plus_secs(90),
        )
        .await
        .unwrap()
        .unwrap();

    assert_eq!(
        again.rejoined,
        Some(vec![created[1].clone(), created[0].clone()])
    );
    assert_eq!(
        again.session.reserved_seats, 2,
        "a repeated join takes no second seat"
    );
    // A mix of a seated player and a new one is still refused.
    let mixed = store
        .reserve_seats(&id, &[player("a"), player("c")], now, now.plus_secs(60))
        .await
        .unwrap();
    assert!(matches!(mixed, Err(JoinRefused::AlreadySeated(_))));
    // Once the window has passed, the same player gets a new seat, with no player session yet.
    let later = now.plus_secs(61);
    let anew = store
        .reserve_seats(&id, &[player("a")], later, later.plus_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anew.rejoined, None);
    // A seat no longer RESERVED keeps what it has: recording skips it and records the others.
    store
        .release_seats(&id, &[player("a")], later)
        .await
        .unwrap();
    store.record_player_sessions(&id, &created).await.unwrap();
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!(s.reserved_seats, 0, "b lapsed, a was released");
}

/// The arns a query lists on the real table (one page of up to 100).
async fn listed(store: &fleet_aws::dynamo::DynamoStore, q: &str) -> Vec<String> {
    store
        .list_sessions(&fleet_core::ports::ListRequest {
            query: fleet_core::query::parse(q).expect("query"),
            sort: fleet_core::query::Sort::default(),
            limit: 100,
            cursor: None,
        })
        .await
        .expect("list")
        .sessions
        .into_iter()
        .map(|s| s.arn.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn a_locked_session_leaves_the_open_index_refuses_joins_and_comes_back_when_unlocked() {
    use fleet_core::ports::{PolicyRefused, SessionPolicy};
    let store = spawn_store().await;
    let id = session_with(&store, 6, 1).await;
    let lock = |joinable| SessionPolicy {
        joinable: Some(joinable),
        protected: None,
    };

    let locked = store
        .set_policy(&id, &lock(false), T0.plus_secs(5))
        .await
        .unwrap()
        .expect("locked");
    let open_while_locked = listed(&store, "+openSlots:>=1").await;
    let by_policy = listed(&store, "+joinable:false").await;
    let refused = store
        .reserve_seats(&id, &[player("p-x")], T0.plus_secs(6), T0.plus_secs(66))
        .await
        .unwrap();
    let unlocked = store
        .set_policy(&id, &lock(true), T0.plus_secs(7))
        .await
        .unwrap()
        .expect("unlocked");

    assert_eq!((locked.joinable, locked.open_slots), (false, 0));
    assert!(open_while_locked.is_empty(), "{open_while_locked:?}");
    assert_eq!(by_policy, vec![arn(7).as_str().to_owned()]);
    assert_eq!(refused.err(), Some(JoinRefused::Locked));
    assert_eq!((unlocked.joinable, unlocked.open_slots), (true, 5));
    assert_eq!(listed(&store, "+openSlots:>=1").await.len(), 1);
    assert_eq!(
        store
            .set_policy(&arn(8).session_id(), &lock(false), T0)
            .await
            .unwrap(),
        Err(PolicyRefused::NotFound)
    );
}

#[tokio::test]
async fn a_session_item_written_before_joinable_existed_is_joinable() {
    let store = spawn_store().await;
    let id = session_with(&store, 6, 1).await;
    // An item as an earlier release wrote it: no `joinable` attribute at all.
    store
        .client()
        .update_item()
        .table_name(store.table())
        .set_key(Some(fleet_aws::dynamo::codec::session_key(
            &id,
            fleet_core::index::SESSION_SK,
        )))
        .update_expression("REMOVE joinable, protected")
        .send()
        .await
        .expect("strip the new attributes");

    let session = store.get_session(&id).await.unwrap().expect("session");

    assert_eq!((session.joinable, session.protected), (true, false));
    assert_eq!(listed(&store, "+joinable:true").await.len(), 1);
    assert!(listed(&store, "+joinable:false").await.is_empty());
}
