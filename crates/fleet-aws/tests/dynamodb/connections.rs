//! Connections, subscriptions, sent records and the sweeper's candidate lists on the real table.

use fleet_core::ids::{ConnectionId, PlacementId, SessionId};
use fleet_core::ports::{Connection, ConnectionStore, SessionStore, Subscriber, SweepStore};
use fleet_core::time::Timestamp;

use crate::steps::fulfilled_session;
use crate::support::*;

fn conn(s: &str) -> ConnectionId {
    ConnectionId::parse(s).expect("valid connection id")
}

fn connection(id: &str, user: &str, expires_at: Timestamp) -> Connection {
    Connection {
        id: conn(id),
        user: user.into(),
        connected_at: T0,
        expires_at,
    }
}

#[tokio::test]
async fn a_users_live_connections_are_found_through_the_index_and_expired_ones_are_not() {
    let store = spawn_store().await;
    let later = T0.plus_secs(7200);
    for (id, user, expires_at) in [
        ("Abc123=", "player-1", later),
        ("Def456=", "player-1", later),
        ("Old789=", "player-1", T0.plus_secs(10)),
        ("Xyz000=", "player-2", later),
    ] {
        let c = connection(id, user, expires_at);
        store.put_connection(&c).await.unwrap();
    }

    let mut found = eventually(
        || async {
            store
                .connections_of("player-1", T0.plus_secs(60))
                .await
                .unwrap()
        },
        |v| v.len() >= 2,
    )
    .await;
    found.sort();

    assert_eq!(found, vec![conn("Abc123="), conn("Def456=")]);
    let row = store
        .connection(&conn("Abc123="), T0)
        .await
        .unwrap()
        .expect("row");
    assert_eq!((row.user.as_str(), row.expires_at), ("player-1", later));
    assert!(
        store
            .connection(&conn("Old789="), T0.plus_secs(60))
            .await
            .unwrap()
            .is_none(),
        "expired in code"
    );
}

#[tokio::test]
async fn a_deleted_connection_is_gone_and_deleting_twice_is_fine() {
    let store = spawn_store().await;
    store
        .put_connection(&connection("Abc123=", "player-1", T0.plus_secs(7200)))
        .await
        .unwrap();

    store.delete_connection(&conn("Abc123=")).await.unwrap();
    store.delete_connection(&conn("Abc123=")).await.unwrap();

    assert!(
        store
            .connection(&conn("Abc123="), T0)
            .await
            .unwrap()
            .is_none()
    );
    let found = eventually(
        || async { store.connections_of("player-1", T0).await.unwrap() },
        Vec::is_empty,
    )
    .await;
    assert!(found.is_empty());
}

#[tokio::test]
async fn subscriptions_live_next_to_their_placement_until_they_expire() {
    let store = spawn_store().await;
    let p = PlacementId::parse("p-sub").unwrap();
    store
        .create_placement(&placement("p-sub", 4, &[]), None)
        .await
        .unwrap();
    let a = Subscriber {
        connection: conn("Abc123="),
        user: "player-1".into(),
    };
    let b = Subscriber {
        connection: conn("Def456="),
        user: "player-2".into(),
    };
    store.subscribe(&p, &a, T0.plus_secs(7200)).await.unwrap();
    store.subscribe(&p, &b, T0.plus_secs(30)).await.unwrap();

    let mut now = store.subscribers(&p, T0).await.unwrap();
    now.sort_by(|x, y| x.connection.cmp(&y.connection));
    assert_eq!(now, vec![a.clone(), b.clone()]);
    assert_eq!(
        store.subscribers(&p, T0.plus_secs(60)).await.unwrap(),
        vec![a.clone()]
    );

    store.unsubscribe(&p, &a.connection).await.unwrap();
    assert!(
        store
            .subscribers(&p, T0.plus_secs(60))
            .await
            .unwrap()
            .is_empty()
    );
    // The placement item itself is untouched by its neighbours.
    assert!(store.get_placement(&p).await.unwrap().is_some());
}

#[tokio::test]
async fn a_result_is_marked_sent_once_per_connection_and_can_be_unmarked_for_a_retry() {
    let store = spawn_store().await;
    let p = PlacementId::parse("p-sent").unwrap();

    assert!(store.mark_sent(&p, &conn("Abc123="), T0).await.unwrap());
    assert!(
        !store
            .mark_sent(&p, &conn("Abc123="), T0.plus_secs(1))
            .await
            .unwrap(),
        "second mark"
    );
    assert!(
        store.mark_sent(&p, &conn("Def456="), T0).await.unwrap(),
        "another connection"
    );

    store.unmark_sent(&p, &conn("Abc123=")).await.unwrap();
    assert!(
        store
            .mark_sent(&p, &conn("Abc123="), T0.plus_secs(2))
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn due_placements_come_earliest_deadline_first_bounded_and_leave_finished_ones_out() {
    let store = spawn_store().await;
    for (i, id) in ["p-c", "p-a", "p-b", "p-late", "p-done"].iter().enumerate() {
        let mut p = placement(id, 4, &[]);
        p.deadline = match *id {
            "p-late" => T0.plus_secs(3600),
            _ => T0.plus_secs(60 + 10 * i as i64),
        };
        store.create_placement(&p, None).await.unwrap();
    }
    apply(
        &store,
        &unfulfilled("p-done", "PlacementTimedOut", T0.plus_secs(5)),
    )
    .await;
    let now = T0.plus_secs(600);

    let all = eventually(
        || async { store.due_placements(now, 10).await.unwrap() },
        |v| v.len() == 3,
    )
    .await;
    let names: Vec<&str> = all.iter().map(PlacementId::as_str).collect();
    assert_eq!(names, vec!["p-c", "p-a", "p-b"]);
    let two = store.due_placements(now, 2).await.unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(two[0].as_str(), "p-c");
    assert!(store.due_placements(now, 0).await.unwrap().is_empty());
}

#[tokio::test]
async fn sessions_with_lapsed_seats_come_once_each_earliest_first() {
    let store = spawn_store().await;
    // Seats are held 60 s from the fulfilment: the third session's are not due yet.
    for (n, players, at) in [
        (1u32, vec!["a", "b", "c"], T0.plus_secs(1)),
        (2, vec!["d"], T0.plus_secs(2)),
        (3, vec!["e"], T0.plus_secs(3600)),
    ] {
        fulfilled_session(&store, &format!("p-seat-{n}"), 8, &players, n, at).await;
    }
    let now = T0.plus_secs(120);

    let due: Vec<SessionId> = eventually(
        || async { store.due_seat_sessions(now, 10).await.unwrap() },
        |v| v.len() == 2,
    )
    .await;

    assert_eq!(due, vec![arn(1).session_id(), arn(2).session_id()]);
    assert_eq!(
        store.due_seat_sessions(now, 1).await.unwrap(),
        vec![arn(1).session_id()]
    );
    assert_eq!(store.expire_seats(&due[0], now).await.unwrap(), 3);
    let left = eventually(
        || async { store.due_seat_sessions(now, 10).await.unwrap() },
        |v| v.len() == 1,
    )
    .await;
    assert_eq!(left, vec![arn(2).session_id()]);
}

#[tokio::test]
async fn the_session_walk_goes_oldest_first_in_bounded_pages_and_remembers_its_position() {
    let store = spawn_store().await;
    let sessions: Vec<_> = (0..5u32)
        .map(|i| {
            session(
                i,
                "us-east-1",
                "fleet-1",
                0,
                8,
                None,
                None,
                T0.plus_secs(i64::from(10 - i)),
            )
        })
        .collect();
    store.seed_sessions(&sessions).await.unwrap();

    let first = store.oldest_sessions(2, None).await.unwrap();
    let ids: Vec<_> = first.sessions.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, vec![sessions[4].id.clone(), sessions[3].id.clone()]);
    let next = first.next.expect("more to come");
    let second = store.oldest_sessions(10, Some(&next)).await.unwrap();
    let ids: Vec<_> = second.sessions.iter().map(|s| s.id.clone()).collect();
    assert_eq!(
        ids,
        vec![
            sessions[2].id.clone(),
            sessions[1].id.clone(),
            sessions[0].id.clone()
        ]
    );
    assert!(second.next.is_none());

    assert_eq!(store.sweep_position().await.unwrap(), None);
    store.save_sweep_position(Some(&next)).await.unwrap();
    assert_eq!(store.sweep_position().await.unwrap(), Some(next));
    store.save_sweep_position(None).await.unwrap();
    assert_eq!(store.sweep_position().await.unwrap(), None);
}
