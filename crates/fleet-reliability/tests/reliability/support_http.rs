//! Handler set-up for the rows that go through the real handlers: the test kit's configuration with a
//! JWT issuer, fakes around any GameLift, and the test kit's API Gateway events and answers.

#![allow(dead_code)]

use std::sync::Arc;

use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, MemoryStore, SequentialIds};
use fleet_core::ports::GameLift;
use fleet_functions::config::Config;
use fleet_functions::deps::{Deps, PortSet};
use fleet_reliability::fixtures::T0;
use fleet_testkit::config::TestConfig;

pub use fleet_testkit::apigw::{Answer, Ev, Who, api, create_body, encode, join_body, rpc};
pub use fleet_testkit::principals::{
    AUDIENCE, F2 as OTHER_FLEET, GS_F1 as GS_OWN, GS_F2 as GS_OTHER, ISSUER, JWT_SECRET, SERVICE,
    STRANGER,
};

/// The configuration of every handler row: the test kit's, with the JWT issuer.
pub fn config() -> Config {
    TestConfig::new().jwt(ISSUER, AUDIENCE, JWT_SECRET).build()
}

/// Deps on a shared in-memory store and any GameLift.
pub type MemDeps<G> =
    Deps<PortSet<Arc<MemoryStore>, G, MemoryNotifier, ManualClock, SequentialIds>>;

/// Fresh fakes at [`T0`] around `gamelift`, sharing `store`.
pub fn deps_with<G: GameLift>(store: Arc<MemoryStore>, gamelift: G) -> MemDeps<G> {
    Deps {
        store,
        gamelift,
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(T0),
        ids: SequentialIds::default(),
        config: config(),
        cache: Default::default(),
    }
}

/// Fresh fakes at [`T0`].
pub fn deps() -> MemDeps<FakeGameLift> {
    deps_with(Arc::new(MemoryStore::new()), FakeGameLift::new())
}
