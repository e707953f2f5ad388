//! What a handler gets: the ports it may call and the configuration, built once per Lambda container
//! (clients are reused across invocations) or from fakes in tests.

use fleet_core::ids::PlacementId;
use fleet_core::ports::{Clock, Ids};
use fleet_core::time::Timestamp;

use crate::config::Config;

/// The ports and configuration of a function. Handlers are generic over the ports, so tests pass the
/// in-memory fakes of `fleet_core::fakes` and the binaries pass the AWS adapters of `fleet-aws`.
pub struct Deps<S, G, N, C, I> {
    /// The session store.
    pub store: S,
    /// GameLift.
    pub gamelift: G,
    /// WebSocket pushes.
    pub notifier: N,
    /// The clock.
    pub clock: C,
    /// Id generation.
    pub ids: I,
    /// Configuration.
    pub config: Config,
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_millis(ms)
    }
}

/// Random placement ids (UUID v4: 36 characters of `[0-9a-f-]`, within GameLift's 48), never reused.
#[derive(Debug, Clone, Copy, Default)]
pub struct UuidIds;

impl Ids for UuidIds {
    fn placement_id(&self) -> PlacementId {
        PlacementId::parse(&uuid::Uuid::new_v4().to_string())
            .unwrap_or_else(|_| unreachable!("a UUID is 36 characters of [0-9a-f-]"))
    }
}
