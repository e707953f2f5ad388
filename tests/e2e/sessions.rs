//! Sessions: listing with nakama-gamelift's queries and cursors, joins, seats, the game server's
//! reports, and ending a session for good.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{As, TestStack, encode, id_of, start, start_with_session};

async fn list(t: &TestStack, query: &str, limit: u32, cursor: Option<&str>) -> Value {
    let mut path = format!("/v1/sessions?query={}&limit={limit}", encode(query));
    if let Some(c) = cursor {
        path.push_str(&format!("&cursor={}", encode(c)));
    }
    let a = t.get(As::Player("lister"), &path).await;
    assert_eq!(a.status, 200, "list {query}: {:?}", a.body);
    a.body
}

fn ids(page: &Value) -> Vec<String> {
    let mut v: Vec<String> = page["sessions"]
        .as_array()
        .map(|s| {
            s.iter()
                .filter_map(|x| x["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn report(t: &TestStack, body: Value) {
    let a = t
        .post(As::GameServer, "/v1/rpc/update_instance_info", body)
        .await;
    assert_eq!(a.status, 204, "update_instance_info: {:?}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_takes_nakama_gamelift_queries_and_a_cursor_walks_more_than_three_pages() {
    let t = start().await;
    let mut placements = Vec::new();
    for i in 0..8 {
        let name = if i < 6 {
            format!("lobby-{i}")
        } else {
            format!("arena-{i}")
        };
        let mode = if i % 2 == 0 { "ranked" } else { "casual" };
        placements.push(
            t.create(
                As::Service,
                json!({"maxPlayers": 10, "name": name, "properties": {"mode": mode}}),
            )
            .await,
        );
    }
    let mut sessions = Vec::new();
    for p in &placements {
        let placement = t.wait_placement(As::Service, p).await;
        assert_eq!(placement["status"], "FULFILLED");
        sessions.push(
            placement["session"]["id"]
                .as_str()
                .expect("session id")
                .to_owned(),
        );
    }
    // Three sessions report two players, with both spellings nakama-gamelift's users send.
    report(&t, json!({"id": sessions[0], "player_count": 2})).await;
    report(&t, json!({"id": sessions[1], "playerCount": 2})).await;
    report(&t, json!({"id": sessions[2], "player_count": 2})).await;
    let two = sorted(sessions[..3].to_vec());
    let (ts, want) = (&t, &two);
    t.eventually("three sessions with two players", || async move {
        ids(&list(ts, "+value.player_count:2", 100, None).await) == *want
    })
    .await;
    let t = &t;
    let ranked = sorted(sessions.iter().step_by(2).cloned().collect());
    let lobbies = sorted(sessions[..6].to_vec());
    let casual_lobbies = sorted(vec![
        sessions[1].clone(),
        sessions[3].clone(),
        sessions[5].clone(),
    ]);
    for (what, query, want) in [
        ("a range", "+playerCount:>=1 +playerCount:<3", &two),
        ("a comparison", "+value.player_count:>1", &two),
        ("a property", "+properties.mode:ranked", &ranked),
        (
            "nakama's spelling",
            "+value.metadata.GameProperties.mode:ranked",
            &ranked,
        ),
        (
            "a name prefix",
            "+value.metadata.GameSessionName:lobby*",
            &lobbies,
        ),
        (
            "a must-not clause",
            "+name:lobby* -properties.mode:ranked",
            &casual_lobbies,
        ),
    ] {
        assert_eq!(
            &ids(&list(t, query, 100, None).await),
            want,
            "{what}: {query}"
        );
    }
    assert_eq!(
        ids(&list(
            t,
            "-value.player_count:2 +properties.mode:ranked",
            100,
            None
        )
        .await)
        .len(),
        2
    );

    // A cursor walk, two at a time: every session once, in order, over four or more pages.
    let mut seen: Vec<String> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = list(t, "*", 2, cursor.as_deref()).await;
        pages += 1;
        let got = page["sessions"].as_array().cloned().unwrap_or_default();
        assert!(got.len() <= 2);
        seen.extend(
            got.iter()
                .filter_map(|s| s["id"].as_str().map(str::to_owned)),
        );
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages < 20, "the walk ends");
    }
    assert!(pages > 3, "{pages} pages");
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(sorted(seen), sorted(sessions.clone()));
    let tampered = t
        .get(
            As::Player("lister"),
            "/v1/sessions?limit=2&cursor=bm90LWEtY3Vyc29y",
        )
        .await;
    assert_eq!(tampered.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn players_join_until_the_session_is_full_and_then_get_409() {
    let (t, session) = start_with_session(json!({"maxPlayers": 2, "name": "small"})).await;
    let id = &id_of(&session);
    for p in ["p1", "p2"] {
        let a = t.join(id, p).await;
        assert_eq!(a.status, 200, "{p}: {:?}", a.body);
        assert_eq!(a.body["playerSessions"][0]["playerId"], p);
        assert!(
            a.body["playerSessions"][0]["playerSessionId"]
                .as_str()
                .is_some_and(|s| s.starts_with("psess-"))
        );
    }
    let full = t.join(id, "p3").await;
    assert_eq!(full.status, 409, "{:?}", full.body);
    assert_eq!(full.body["error"]["code"], "conflict");
    let again = t.join(id, "p1").await;
    // One seat per player: the repeat answers the one it holds and takes no other.
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["session"]["openSlots"], 0, "{:?}", again.body);
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_that_were_never_confirmed_expire_and_are_free_again() {
    let (t, session) = start_with_session(json!({"maxPlayers": 1})).await;
    let id = &id_of(&session);
    let first = t.join(id, "early").await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let refused = t.join(id, "late").await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    // "early" never connects: past GameLift's 60 s window (the handlers' and the simulator's shared
    // clock), the reservation lapses on both sides.
    t.stack.clock().advance(Duration::from_secs(61));
    let t = &t;
    t.eventually("the lapsed seat is free again", || async move {
        let a = t.join(id, "late").await;
        assert!(a.status == 200 || a.status == 409, "{:?}", a.body);
        a.status == 200
    })
    .await;
    let s = t
        .get(As::Player("late"), &format!("/v1/sessions/{id}"))
        .await;
    assert_eq!(
        s.body["openSlots"], 0,
        "the new seat holds the only slot: {:?}",
        s.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_instance_info_takes_player_count_in_both_spellings() {
    let (t, session) = start_with_session(json!({"maxPlayers": 8, "name": "before"})).await;
    let id = &id_of(&session);
    report(
        &t,
        json!({"id": id, "playerCount": 3, "metadata": {"GameSessionName": "after"}}),
    )
    .await;
    let s = t.get(As::Service, &format!("/v1/sessions/{id}")).await;
    assert_eq!(
        (s.body["playerCount"].as_u64(), s.body["openSlots"].as_u64()),
        (Some(3), Some(5)),
        "{:?}",
        s.body
    );
    assert_eq!(s.body["name"], "after");
    report(&t, json!({"id": id, "player_count": 1})).await;
    let s = t.get(As::Service, &format!("/v1/sessions/{id}")).await;
    assert_eq!(s.body["playerCount"], 1, "{:?}", s.body);
    // By ARN too, percent-encoded in the path.
    let arn = session["arn"].as_str().expect("arn");
    let by_arn = t
        .get(As::Service, &format!("/v1/sessions/{}", encode(arn)))
        .await;
    assert_eq!(by_arn.body["id"], id.as_str());
    t.stack.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_session_is_neither_listed_nor_joinable_and_a_late_duplicate_event_does_not_revive_it()
 {
    let t = start().await;
    let recorder = gamelift_sim::RecordingSink::new();
    t.stack
        .sim()
        .expect("the simulator")
        .add_sink(recorder.clone());
    let (placement_id, placement) = t
        .create_and_wait(As::Service, json!({"maxPlayers": 4, "name": "doomed"}))
        .await;
    let id = id_of(&placement["session"]);
    let envelope = recorder
        .events()
        .into_iter()
        .find(|e| {
            e["Message"]
                .as_str()
                .is_some_and(|m| m.contains(&placement_id))
        })
        .expect("the simulator published the fulfilled event");

    let gone = t
        .post(
            As::GameServer,
            "/v1/rpc/delete_instance_info",
            json!({"id": id}),
        )
        .await;
    assert_eq!(gone.status, 204, "{:?}", gone.body);
    check_gone(&t, &id).await;

    // The same fulfilled event, delivered again late, through the queue like any other.
    let before = t.stack.queue_stats().deleted;
    t.stack.enqueue(envelope.to_string());
    let t = &t;
    t.eventually("the late event is consumed", || async move {
        t.stack.queue_stats().deleted > before
    })
    .await;
    check_gone(t, &id).await;
    assert!(t.stack.quarantined().is_empty());
}

async fn check_gone(t: &TestStack, id: &str) {
    let listed = list(t, "*", 100, None).await;
    assert!(!ids(&listed).iter().any(|x| x == id), "not listed");
    let join = t.join(id, "zed").await;
    assert!(
        join.status == 409 || join.status == 404,
        "not joinable: {} {:?}",
        join.status,
        join.body
    );
    let s = t.get(As::Service, &format!("/v1/sessions/{id}")).await;
    assert!(
        s.status == 404 || s.body["status"] == "ENDED",
        "{:?}",
        s.body
    );
}
