//! What the handler tests share beyond the fakes: fleet-api's routes as events (`route::…`, from
//! nobody until `.by(…)`), the callers they name most, an answer from one call, counts of GameLift's
//! calls, and the stored rows the asynchronous functions' tests read back.

#![allow(dead_code)]

use fleet_core::fakes::{FakeGameLift, GameLiftCall, StoreCalls};
use std::fmt::Display;

use aws_lambda_events::event::streams::DynamoDbEventResponse;
use fleet_core::ids::{FleetId, PlacementId, PlayerId, SessionId};
use fleet_core::input::GameProperties;
use fleet_core::model::{Placement, PlacementStatus, PlayerSession, Session};
use fleet_core::ports::{
    ConnectionStore, CreateOutcome, Notifier, PlacementDescription, PlacementOutcome, SessionStore,
    StoreError, Subscriber,
};
use fleet_core::time::Timestamp;
use fleet_functions::observability::Metrics;

use crate::support_async::{FULFILLED_ID, T0, TestDeps, conn, connect_user, pid};
use crate::support_http::{
    Answer, Ev, F1, GS_F1, GS_F2, PLAYER_A, PLAYER_B, SERVICE, STRANGER, Who, api, rpc,
};

/// Deps on the store `S`, every other port faked (what `support_http`'s `deps` and `failing_deps` give).
pub type AnyDeps<S> = TestDeps<S>;

/// The deps of the HTTP handlers' tests: every port faked (`support_http::deps`).
pub type HttpDeps = crate::support_http::TestDeps;

/// The configured backend service.
pub fn service() -> Who {
    Who::iam(SERVICE)
}

/// Player A, the samples' player.
pub fn player_a() -> Who {
    Who::player(PLAYER_A)
}

/// Player B, another player.
pub fn player_b() -> Who {
    Who::player(PLAYER_B)
}

/// A game server of fleet F1.
pub fn gs_f1() -> Who {
    Who::iam(GS_F1)
}

/// A game server of fleet F2.
pub fn gs_f2() -> Who {
    Who::iam(GS_F2)
}

/// An IAM principal configured as nothing.
pub fn stranger() -> Who {
    Who::iam(STRANGER)
}

/// Fresh fakes whose fleet F1 is a player-gateway fleet (configured, and enabled in GameLift).
pub fn gateway_deps() -> HttpDeps {
    let mut d = crate::support_http::deps();
    d.config.player_gateway_fleets = vec![FleetId::parse(F1).expect("fleet")];
    d.gamelift.enable_gateway(F1);
    d
}

/// `d` with the session `arn` seeded (ACTIVE, `max_players`), and that session.
pub fn with_session(d: HttpDeps, arn: &str, max_players: u32) -> (HttpDeps, Session) {
    let s = crate::support_http::seed(&d, arn, max_players);
    (d, s)
}

/// `player` joins `session` itself: fleet-api's answer.
pub async fn join_self(d: &HttpDeps, session: impl Display, player: &str) -> Answer {
    call(d, route::join(session, &[player]).by(Who::player(player))).await
}

/// Which handler serves a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H {
    /// fleet-api.
    Api,
    /// status-rpc.
    Rpc,
}

/// `h`'s answer to `ev`.
pub async fn answer<S: SessionStore>(d: &AnyDeps<S>, h: H, ev: Ev) -> Answer {
    match h {
        H::Api => call(d, ev).await,
        H::Rpc => call_rpc(d, ev).await,
    }
}

/// fleet-api's answer to `ev`.
pub async fn call<S: SessionStore>(d: &AnyDeps<S>, ev: Ev) -> Answer {
    api(d, ev.request()).await
}

/// status-rpc's answer to `ev`.
pub async fn call_rpc<S: SessionStore>(d: &AnyDeps<S>, ev: Ev) -> Answer {
    rpc(d, ev.request()).await
}

/// fleet-api's routes on one object, from nobody: add `.by(who)`, `.query(…)`, `.header(…)`.
pub mod route {
    use std::fmt::Display;

    use serde_json::json;

    use crate::support_http::{Ev, join_body};

    /// `POST /v1/sessions` with `body`.
    pub fn create(body: impl Into<String>) -> Ev {
        Ev::post("/v1/sessions", body)
    }

    /// `GET /v1/sessions`.
    pub fn list() -> Ev {
        Ev::get("/v1/sessions")
    }

    /// `GET /v1/sessions/{session}`.
    pub fn get_session(session: impl Display) -> Ev {
        Ev::get(&format!("/v1/sessions/{session}"))
    }

    /// `DELETE /v1/sessions/{session}`.
    pub fn delete_session(session: impl Display) -> Ev {
        Ev::delete(&format!("/v1/sessions/{session}"))
    }

    /// `PATCH /v1/sessions/{session}` with `body`.
    pub fn patch(session: impl Display, body: impl Into<String>) -> Ev {
        Ev::new("PATCH", &format!("/v1/sessions/{session}")).body(body)
    }

    /// `POST /v1/sessions/{session}/join` for `players`.
    pub fn join(session: impl Display, players: &[&str]) -> Ev {
        Ev::post(&format!("/v1/sessions/{session}/join"), join_body(players))
    }

    /// `POST /v1/sessions/{session}/connection` for `players`.
    pub fn connection(session: impl Display, players: &[&str]) -> Ev {
        let players: Vec<_> = players.iter().map(|p| json!({"playerId": p})).collect();
        let body = json!({ "players": players }).to_string();
        Ev::post(&format!("/v1/sessions/{session}/connection"), body)
    }

    /// `DELETE /v1/placements/{id}`.
    pub fn cancel(id: impl Display) -> Ev {
        Ev::delete(&format!("/v1/placements/{id}"))
    }

    /// `GET /v1/placements/{id}`.
    pub fn get_placement(id: impl Display) -> Ev {
        Ev::get(&format!("/v1/placements/{id}"))
    }

    /// `GET /v1/locations`.
    pub fn locations() -> Ev {
        Ev::get("/v1/locations")
    }
}

/// The placement id a create answered.
pub fn placement_id(a: &Answer) -> String {
    let id = a.body["placementId"].as_str();
    id.unwrap_or_else(|| panic!("a placement id: {}", a.body))
        .to_owned()
}

/// The message of an error answer (empty when there is none).
pub fn message(a: &Answer) -> &str {
    a.body["error"]["message"].as_str().unwrap_or_default()
}

/// How many of GameLift's calls so far `which` picks.
pub fn gamelift_calls(gamelift: &FakeGameLift, which: fn(&GameLiftCall) -> bool) -> usize {
    gamelift.calls().iter().filter(|c| which(c)).count()
}

/// The store's (reads, writes) from `before` to `after`.
pub fn delta(before: StoreCalls, after: StoreCalls) -> (u64, u64) {
    (after.reads - before.reads, after.writes - before.writes)
}

/// CreatePlayerSessions calls so far.
pub fn player_session_creates(gamelift: &FakeGameLift) -> usize {
    gamelift_calls(gamelift, |c| {
        matches!(c, GameLiftCall::CreatePlayerSessions(..))
    })
}

/// Asserts a join answered a seat with a player session GameLift created, and the open slots left.
#[track_caller]
pub fn assert_seated_by_gamelift(a: &Answer, open_slots: u32) {
    assert_eq!(a.status, 200, "{}", a.body);
    let id = a.body["playerSessions"][0]["playerSessionId"].as_str();
    assert!(id.is_some_and(|p| p.starts_with("psess-")), "{}", a.body);
    assert_eq!(a.body["session"]["openSlots"], open_slots, "{}", a.body);
}

/// The FULFILLED placement `id` (it must be) and the session it placed.
pub async fn placed(store: &impl SessionStore, id: &str) -> (Placement, Session) {
    let p = stored(store, &pid(id)).await;
    assert_eq!(p.status, PlacementStatus::Fulfilled, "{id}");
    let session = p
        .session_id
        .as_ref()
        .expect("a fulfilled placement names its session");
    let session = stored_session(store, session).await;
    (p, session)
}

/// GameLift describes placement `id` as `status`, with no fulfilment.
pub fn describe_as(gamelift: &FakeGameLift, id: &PlacementId, status: PlacementStatus) {
    let description = PlacementDescription {
        status,
        fulfilled: None,
    };
    gamelift.set_placement(id, description);
}

/// Our record of a session GameLift placed as `arn` at `created`, as the sweeper's tests seed it:
/// room for 8, nobody in it, no name or properties.
pub fn placed_session(arn: &str, created: Timestamp) -> Session {
    Session {
        name: None,
        properties: GameProperties::default(),
        ip_address: "10.0.0.1".into(),
        dns_name: "host.example".into(),
        created_at: created,
        updated_at: created,
        ..fleet_testkit::records::session(arn, 8)
    }
}

/// Whether the store holds placement `id`.
pub async fn placement_exists(store: &impl SessionStore, id: &PlacementId) -> bool {
    store
        .get_placement(id)
        .await
        .expect("read the placement")
        .is_some()
}

/// The stored placement `id` (it must exist).
pub async fn stored(store: &impl SessionStore, id: &PlacementId) -> Placement {
    found(
        store.get_placement(id).await,
        format_args!("placement {id}"),
    )
}

/// The stored session `id` (it must exist).
pub async fn stored_session(store: &impl SessionStore, id: &SessionId) -> Session {
    found(store.get_session(id).await, format_args!("session {id}"))
}

/// What a read found, which must be there (`what` names it in a failure).
fn found<T>(read: Result<Option<T>, StoreError>, what: std::fmt::Arguments<'_>) -> T {
    match read {
        Ok(Some(item)) => item,
        Ok(None) => panic!("{what} is not stored"),
        Err(e) => panic!("reading {what}: {e}"),
    }
}

/// Connections of the sample placements' people (two for the requester, one for the other player)
/// and of an observer subscribed to the fulfilled placement.
pub mod people {
    /// The requester's first connection.
    pub const REQUESTER_CONN: &str = "ReqConn0001=";
    /// The requester's second connection.
    pub const REQUESTER_PHONE: &str = "ReqConn0002=";
    /// The other listed player's connection.
    pub const PLAYER_CONN: &str = "PlyConn0001=";
    /// The observer's connection.
    pub const OBSERVER_CONN: &str = "ObsConn0001=";
    /// Every connection above.
    pub const ALL: [&str; 4] = [REQUESTER_CONN, REQUESTER_PHONE, PLAYER_CONN, OBSERVER_CONN];
    /// The observer, a user neither requesting nor listed.
    pub const OBSERVER: &str = "observer-1";
}

/// A sample DynamoDB stream event (`events/stream/<file>`).
pub fn stream_event(file: &str) -> aws_lambda_events::event::dynamodb::Event {
    crate::support_async::event(&format!("stream/{file}"))
}

/// The notifier on the sample stream record `events/stream/<file>`, at [`T0`].
pub async fn notify_stream<S, N>(
    store: &S,
    push: &N,
    file: &str,
) -> (DynamoDbEventResponse, Metrics)
where
    S: SessionStore + ConnectionStore,
    N: Notifier,
{
    fleet_functions::notifier::process(store, push, stream_event(file), T0).await
}

/// Whether `connection` is recorded and live at `at`.
pub async fn connected(store: &impl ConnectionStore, connection: &str, at: Timestamp) -> bool {
    let row = store.connection(&conn(connection), at).await;
    row.expect("read the connection").is_some()
}

/// The live subscribers of placement `id` at [`T0`].
pub async fn subscribers(store: &impl ConnectionStore, id: &str) -> Vec<Subscriber> {
    let subs = store.subscribers(&pid(id), T0).await;
    subs.expect("read the subscribers")
}

/// Connects [`people`] and subscribes the observer to the sample fulfilled placement.
pub async fn connect_people<S: ConnectionStore>(store: &S) {
    use crate::support_async::{OTHER_PLAYER, REQUESTER};
    use people::*;
    for (connection, user) in [
        (REQUESTER_CONN, REQUESTER),
        (REQUESTER_PHONE, REQUESTER),
        (PLAYER_CONN, OTHER_PLAYER),
        (OBSERVER_CONN, OBSERVER),
    ] {
        connect_user(store, connection, user).await;
    }
    let sub = Subscriber {
        connection: conn(OBSERVER_CONN),
        user: OBSERVER.into(),
    };
    store
        .subscribe(&pid(FULFILLED_ID), &sub, T0.plus_secs(7200))
        .await
        .expect("subscribe the observer");
}

/// Stores `p` as a create does (it must be new).
pub async fn store_placement(store: &impl SessionStore, p: &Placement) {
    let outcome = store.create_placement(p, None).await.expect("store");
    assert_eq!(outcome, CreateOutcome::Created, "{}", p.placement_id);
}

/// Placement `p-9`: requested by the service for players A and B, fulfilled at T0 + 5 s in
/// `ARN_1`'s session with the player sessions `psess-a` and `psess-b`.
pub async fn seed_fulfilled_p9(store: &impl SessionStore) {
    use crate::support_http::{ARN_1, placement, session};
    store_placement(store, &placement("p-9", SERVICE, &[PLAYER_A, PLAYER_B])).await;
    let seat = |player: &str, id: &str| PlayerSession {
        player_id: PlayerId::parse(player).expect("player id"),
        player_session_id: id.into(),
    };
    let outcome = PlacementOutcome::Fulfilled {
        session: Box::new(session(ARN_1, 8)),
        player_sessions: vec![seat(PLAYER_A, "psess-a"), seat(PLAYER_B, "psess-b")],
    };
    finish(store, "p-9", &outcome, T0.plus_secs(5)).await;
}

/// Placement `p-5`: requested by player A for nobody, timed out at T0 + 600 s with `reason`.
pub async fn seed_timed_out_p5(store: &impl SessionStore, reason: &str) {
    use crate::support_http::placement;
    store_placement(store, &placement("p-5", PLAYER_A, &[])).await;
    let outcome = PlacementOutcome::Unfulfilled {
        status: PlacementStatus::TimedOut,
        reason: Some(reason.into()),
    };
    finish(store, "p-5", &outcome, T0.plus_secs(600)).await;
}

/// Finishes placement `id` with `outcome` at `at`.
pub async fn finish(
    store: &impl SessionStore,
    id: &str,
    outcome: &PlacementOutcome,
    at: Timestamp,
) {
    store
        .finish_placement(&pid(id), outcome, at)
        .await
        .expect("finish the placement");
}
