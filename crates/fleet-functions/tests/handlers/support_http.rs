//! Shared set-up of the HTTP handlers' tests (fleet-api, status-rpc): fakes wired into `Deps` with the
//! test kit's configuration (one service, a game server of each of two fleets), the sample events of
//! `events/api/`, and the test kit's API Gateway events and answers.

#![allow(dead_code)]

use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, MemoryStore, SequentialIds};
use fleet_core::ids::GameSessionArn;
use fleet_core::model::{Placement, Session};
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet};
use lambda_http::Request;
use serde_json::Value;

pub use fleet_testkit::T0;
pub use fleet_testkit::apigw::{
    Answer, Ev, Who, api, create_body, encode, join_body, rpc, to_request,
};
pub use fleet_testkit::faults::FailingStore;
pub use fleet_testkit::principals::{
    ACCOUNT, F1, GS_F1, GS_F2, PLAYER_A, PLAYER_B, SERVICE, STRANGER,
};
pub use fleet_testkit::records::session;

/// The samples' session ARN (fleet F1).
pub const ARN_1: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31/gsess-0e4b7d2c-91a3-4f6e-b8d5-3c7a1e9f2b64";
/// A session of fleet F2.
pub const ARN_2: &str =
    "arn:aws:gamelift:us-west-2::gamesession/fleet-99999999-8888-4777-8666-555555555555/gsess-2";
/// The samples' placement id.
pub const SAMPLE_PLACEMENT: &str = "9b2f6c1e-4a7d-4f0e-8c3b-2e5d7a9f1b04";

/// The deps of a test: every port faked.
pub type TestDeps =
    Deps<PortSet<MemoryStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

/// The configuration the tests run with: the service role, and one game-server role per fleet.
pub fn config() -> Config {
    fleet_testkit::config::TestConfig::new().build()
}

/// Fresh fakes at [`T0`].
pub fn deps() -> TestDeps {
    Deps {
        config: config(),
        ..crate::support_async::deps_with(MemoryStore::new())
    }
}

/// Seeds a session in the store and in GameLift (ACTIVE, with its cap).
pub fn seed(d: &TestDeps, arn: &str, max_players: u32) -> Session {
    let s = session(arn, max_players);
    d.store.seed_sessions(std::slice::from_ref(&s));
    d.gamelift.add_session(&s.arn, "ACTIVE", max_players);
    s
}

/// The short id of an ARN.
pub fn short_id(arn: &str) -> String {
    GameSessionArn::parse(arn)
        .expect("ARN")
        .session_id()
        .into_string()
}

/// A sample event's text (`events/api/<name>`).
pub fn sample_text(name: &str) -> String {
    let path = format!("{}/../../events/api/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A sample event as the handler receives it.
pub fn sample(name: &str) -> Request {
    to_request(&sample_text(name))
}

/// A sample event's JSON, to vary it.
pub fn sample_json(name: &str) -> Value {
    serde_json::from_str(&sample_text(name)).expect("sample JSON")
}

/// Fresh fakes around a [`FailingStore`].
pub fn failing_deps()
-> Deps<PortSet<FailingStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>> {
    Deps {
        config: config(),
        ..crate::support_async::deps_with(FailingStore::default())
    }
}

/// A PENDING placement as a create stores it: requested by `requester`, naming `players`, cap 8.
pub fn placement(id: &str, requester: &str, players: &[&str]) -> Placement {
    fleet_testkit::records::placement(id, requester, 8, players)
}
