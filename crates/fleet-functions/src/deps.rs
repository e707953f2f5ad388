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

impl<S, G, N> Deps<S, G, N, SystemClock, UuidIds> {
    /// A deployed function's dependencies: the system clock and random ids around its ports.
    pub fn deployed(store: S, gamelift: G, notifier: N, config: Config) -> Self {
        Self {
            store,
            gamelift,
            notifier,
            clock: SystemClock,
            ids: UuidIds,
            config,
        }
    }
}

/// The GameLift port of a function that makes no GameLift call (its IAM role grants none): it
/// implements nothing, so a handler that needed GameLift would not compile with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoGameLift;

/// The notifier of a function that pushes nothing over WebSockets (its role cannot manage
/// connections): it implements nothing, like [`NoGameLift`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoNotifier;

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
