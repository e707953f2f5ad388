//! What a handler gets: the ports it may call and the configuration, built once per Lambda container
//! (clients are reused across invocations) or from fakes in tests.

use std::marker::PhantomData;
use std::sync::{Mutex, PoisonError};

use fleet_core::ids::PlacementId;
use fleet_core::ports::{Clock, Ids, LocationBeacon};
use fleet_core::time::Timestamp;

use crate::config::Config;

/// The types of a function's five ports under one name, so that a handler takes `&Deps<P>` and bounds
/// only the ports it calls (`P::GameLift: GameLift`): a function built with [`NoGameLift`] cannot
/// compile a handler that calls GameLift.
pub trait Ports {
    /// The session store (and, for the WebSocket functions, the connection store).
    type Store;
    /// GameLift.
    type GameLift;
    /// WebSocket pushes.
    type Notifier;
    /// The clock: every handler reads it.
    type Clock: Clock;
    /// Id generation.
    type Ids: Ids;
}

/// Any five port types as a [`Ports`]; deployed functions take the system clock and random ids.
pub struct PortSet<S, G, N, C = SystemClock, I = UuidIds>(PhantomData<Marker<S, G, N, C, I>>);

/// What [`PortSet`] holds of its types: nothing (a function pointer type is `Send` and `Sync`
/// whatever they are, so naming them constrains nothing).
type Marker<S, G, N, C, I> = fn() -> (S, G, N, C, I);

impl<S, G, N, C: Clock, I: Ids> Ports for PortSet<S, G, N, C, I> {
    type Store = S;
    type GameLift = G;
    type Notifier = N;
    type Clock = C;
    type Ids = I;
}

/// The ports and configuration of a function. Handlers are generic over the ports, so tests pass the
/// in-memory fakes of `fleet_core::fakes` and the binaries pass the AWS adapters of `fleet-aws`.
pub struct Deps<P: Ports> {
    /// The session store.
    pub store: P::Store,
    /// GameLift.
    pub gamelift: P::GameLift,
    /// WebSocket pushes.
    pub notifier: P::Notifier,
    /// The clock.
    pub clock: P::Clock,
    /// Id generation.
    pub ids: P::Ids,
    /// Configuration.
    pub config: Config,
    /// Answers kept for the container's life.
    pub cache: Cache,
}

/// Answers that change rarely, kept between the invocations of a warm container (a Lambda container
/// serves one request at a time, so the lock is never contended for long).
#[derive(Debug, Default)]
pub struct Cache {
    locations: Mutex<Option<(Timestamp, Vec<LocationBeacon>)>>,
}

impl Cache {
    /// ListLocations's answer if it was fetched less than `ttl_secs` before `now`.
    pub fn fresh_locations(&self, now: Timestamp, ttl_secs: i64) -> Option<Vec<LocationBeacon>> {
        self.lock()
            .as_ref()
            .filter(|(at, _)| now < at.plus_secs(ttl_secs))
            .map(|(_, l)| l.clone())
    }

    /// ListLocations's last answer, however old (what to serve when GameLift cannot answer now).
    pub fn last_locations(&self) -> Option<Vec<LocationBeacon>> {
        self.lock().as_ref().map(|(_, l)| l.clone())
    }

    /// Keeps ListLocations's answer, fetched at `at`.
    pub fn put_locations(&self, at: Timestamp, locations: Vec<LocationBeacon>) {
        *self.lock() = Some((at, locations));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(Timestamp, Vec<LocationBeacon>)>> {
        self.locations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S, G, N> Deps<PortSet<S, G, N>> {
    /// A deployed function's dependencies: the system clock and random ids around its ports.
    pub fn deployed(store: S, gamelift: G, notifier: N, config: Config) -> Self {
        Self {
            store,
            gamelift,
            notifier,
            clock: SystemClock,
            ids: UuidIds,
            config,
            cache: Cache::default(),
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
