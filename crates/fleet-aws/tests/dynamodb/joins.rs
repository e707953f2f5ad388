//! Seat reservations under concurrency on the real table.

use std::collections::HashSet;
use std::sync::Arc;

use fleet_aws::dynamo::DynamoStore;
use fleet_core::ids::SessionId;
use fleet_core::model::SeatStatus;
use fleet_core::ports::{JoinRefused, Reserved, SessionStore, StatusReport, SweepStore};
use fleet_core::time::Timestamp;

use crate::steps::{fulfilled_session, join, seats};
use crate::support::*;

/// A session with `max` seats of which `reported` are taken by the game server's report.
async fn session_with(store: &DynamoStore, max: i64, reported: u32) -> SessionId {
    fulfilled_session(store, "pj", max, &[], 7, T0).await;
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

/// One join per player of `racers`, each in its own task, all at `now`: their answers, in order.
async fn race(
    store: &Arc<DynamoStore>,
    id: &SessionId,
    racers: Vec<String>,
    now: Timestamp,
) -> Vec<Result<Reserved, JoinRefused>> {
    let joins = racers.into_iter().map(|racer| {
        let (store, id) = (Arc::clone(store), id.clone());
        tokio::spawn(async move { join(&store, &id, &[&racer], now).await })
    });
    let answers = futures::future::join_all(joins).await;
    answers.into_iter().map(|j| j.expect("task")).collect()
}

#[tokio::test]
async fn fifty_concurrent_joins_for_ten_free_seats_give_exactly_ten_seats() {
    let store = Arc::new(spawn_store().await);
    let id = session_with(&store, 12, 2).await;
    let now = T0.plus_secs(2);
    let racers = (0..50).map(|i| format!("racer-{i}")).collect();
    let mut won = 0;
    let mut full = 0;
    for j in race(&store, &id, racers, now).await {
        match j {
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
    let results = race(&store, &id, vec!["twin".to_owned(); 8], now).await;
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
    join(&store, &id, &["a", "b"], now).await.unwrap();
    let refused = join(&store, &id, &["c"], now.plus_secs(1)).await;
    assert!(matches!(
        refused,
        Err(JoinRefused::Full { open: 0, wanted: 1 })
    ));
    // A join after the window closes may take the lapsed seat even before the sweeper runs…
    let later = now.plus_secs(61);
    let s = join(&store, &id, &["c"], later).await.unwrap();
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
async fn a_report_after_the_window_closes_the_lapsed_seats_and_takes_them_out_of_the_expiry_index()
{
    let store = spawn_store().await;
    let id = session_with(&store, 4, 0).await;
    let now = T0.plus_secs(2);
    join(&store, &id, &["a", "b"], now).await.unwrap();
    let due_at = now.plus_secs(61);
    eventually(
        || async { store.due_seat_sessions(due_at, 10).await.unwrap() },
        |v| v == &vec![id.clone()],
    )
    .await;
    // Within the window a report leaves the seats as they are.
    let report = |count| StatusReport {
        player_count: Some(count),
        ..StatusReport::default()
    };
    store
        .apply_report(&arn(7), &report(1), now.plus_secs(30))
        .await
        .unwrap();
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!((s.reserved_seats, s.open_slots), (2, 1));
    // After it, the report's own write closes them: no sweeper needed.
    store
        .apply_report(&arn(7), &report(2), due_at)
        .await
        .unwrap();
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!((s.reserved_seats, s.open_slots), (0, 2));
    let stored = seats(&store).await;
    assert_eq!(stored.len(), 2);
    assert!(
        stored
            .iter()
            .all(|(_, st)| st == SeatStatus::Expired.as_str()),
        "{stored:?}"
    );
    let left = eventually(
        || async { store.due_seat_sessions(due_at, 10).await.unwrap() },
        |v| v.is_empty(),
    )
    .await;
    assert!(left.is_empty(), "the expiry index no longer holds them");
    assert_eq!(store.expire_seats(&id, due_at).await.unwrap(), 0);
}

#[tokio::test]
async fn released_seats_free_their_slot_at_once() {
    let store = spawn_store().await;
    let id = session_with(&store, 3, 0).await;
    let now = T0.plus_secs(2);
    join(&store, &id, &["a"], now).await.unwrap();
    store.release_seats(&id, &[player("a")], now).await.unwrap();
    let s = store.get_session(&id).await.unwrap().unwrap();
    assert_eq!((s.reserved_seats, s.open_slots), (0, 3));
    // A released seat does not block the player from joining again.
    assert!(join(&store, &id, &["a"], now).await.is_ok());
}

#[tokio::test]
async fn a_join_counts_the_servers_report_and_live_reservations_together() {
    let store = spawn_store().await;
    let id = session_with(&store, 5, 3).await;
    let now = T0.plus_secs(2);
    let refused = join(&store, &id, &["a", "b", "c"], now).await;
    assert_eq!(refused, Err(JoinRefused::Full { open: 2, wanted: 3 }));
    assert!(join(&store, &id, &["a", "b"], now).await.is_ok());
}

#[tokio::test]
async fn a_repeated_join_answers_the_recorded_player_sessions_and_a_lapsed_seat_is_joined_anew() {
    use fleet_core::model::PlayerSession;
    let store = spawn_store().await;
    let id = session_with(&store, 4, 0).await;
    let now = T0.plus_secs(2);
    let first = join(&store, &id, &["a", "b"], now).await.unwrap();
    assert_eq!(first.rejoined, None);
    // Before GameLift's answer is recorded, a repeat is a join in flight: refused.
    let early = join(&store, &id, &["a"], now).await;
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

    let again = join(&store, &id, &["b", "a"], now.plus_secs(30))
        .await
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
    let mixed = join(&store, &id, &["a", "c"], now).await;
    assert!(matches!(mixed, Err(JoinRefused::AlreadySeated(_))));
    // Once the window has passed, the same player gets a new seat, with no player session yet.
    let later = now.plus_secs(61);
    let anew = join(&store, &id, &["a"], later).await.unwrap();
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
    let refused = join(&store, &id, &["p-x"], T0.plus_secs(6)).await;
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
