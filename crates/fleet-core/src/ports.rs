//! Ports: the capabilities the handlers need from the outside world, each as small as its callers
//! allow. The DynamoDB, GameLift and API Gateway adapters live in `fleet-aws`; in-memory fakes that keep
//! the same invariants live in [`crate::fakes`].

use std::future::Future;

mod shared;

use serde::Serialize;

use crate::ids::{GameSessionArn, IdempotencyKey, PlacementId, PlayerId, SessionId};
use crate::model::{Placement, PlacementStatus, PlayerSession, Session};
use crate::query::{Query, Sort};
use crate::time::Timestamp;

/// A failure of the store itself (not a refused state change: those are outcomes).
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or answered with a server-side error; safe to retry.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store throttled the request; safe to retry after a backoff.
    #[error("store throttled: {0}")]
    Throttled(String),
    /// Too many concurrent writers on one item; the caller may retry later.
    #[error("contention on {0}: gave up after retries")]
    Contention(String),
    /// A client-supplied value was rejected (a tampered cursor, say).
    #[error(transparent)]
    Invalid(#[from] crate::FieldError),
    /// The store refused the request itself as invalid (an item over its size limit, say): the same
    /// request can never succeed, so it must not be retried (a message is quarantined, a placement
    /// whose result cannot be stored is FAILED with a reason).
    #[error("store refused the request: {0}")]
    Refused(String),
    /// A stored item could not be read back (a bug or a hand-edited table).
    #[error("corrupt item {key}: {reason}")]
    Corrupt {
        /// The item's key.
        key: String,
        /// What was wrong.
        reason: String,
    },
}

impl StoreError {
    /// Whether retrying the same call may succeed (a transient failure, not a bad input).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Unavailable(_) | Self::Throttled(_) | Self::Contention(_)
        )
    }
}

/// An idempotency record for a create: the same (caller, key) must return the same placement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Who called (a player's `sub` or a service principal).
    pub caller: String,
    /// The client's key.
    pub key: IdempotencyKey,
    /// Digest of the request body, to tell a retry from a different request under the same key.
    pub body_digest: String,
}

/// What a create did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new placement row (and idempotency record) was written.
    Created,
    /// The key was used before with the same body: here is that placement.
    Existing(Box<Placement>),
    /// The key was used before with a different body.
    Mismatch,
    /// Nothing was written: the requester already has as many PENDING placements as its
    /// [`PendingCap`] allows (only from [`SessionStore::create_placement_capped`]).
    AtCap,
}

/// A cap on the PENDING placements of one requester (a player), checked by the create's own write so
/// concurrent creates cannot pass it together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCap {
    /// Whose placements count: [`crate::auth::pending_owner`] of the requester.
    pub owner: String,
    /// How many may be PENDING at once (at least 1).
    pub max: u32,
}

/// How a placement ended, as applied to the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlacementOutcome {
    /// GameLift placed the session; `session` is built from the event and the placement.
    Fulfilled {
        /// The new session.
        session: Box<Session>,
        /// Player sessions GameLift reserved for the create's players.
        player_sessions: Vec<PlayerSession>,
    },
    /// The placement ended without a session.
    Unfulfilled {
        /// TIMED_OUT, CANCELLED or FAILED.
        status: PlacementStatus,
        /// Why, when known.
        reason: Option<String>,
    },
}

impl PlacementOutcome {
    /// The terminal status this outcome writes.
    pub fn status(&self) -> PlacementStatus {
        match self {
            Self::Fulfilled { .. } => PlacementStatus::Fulfilled,
            Self::Unfulfilled { status, .. } => *status,
        }
    }
}

/// One placement's terminal outcome to write: an element of [`SessionStore::finish_placements`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// The placement.
    pub id: PlacementId,
    /// What became of it.
    pub outcome: PlacementOutcome,
    /// When (the event's time).
    pub at: Timestamp,
}

/// What [`SessionStore::reserve_seats`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Reserved {
    /// The session after the join (unchanged for a repeated join).
    pub session: Session,
    /// A repeated join: the player sessions its players already hold; `None` for new seats.
    pub rejoined: Option<Vec<PlayerSession>>,
}

/// What [`SessionStore::finish_placements`] did for one placement.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// Whether the transition was written.
    pub applied: Applied,
    /// For a fulfilment this call wrote: the session as it stored it (merged with a game server's
    /// earlier report, its placed seats counted), so that the result's push needs no read of it.
    /// `None` otherwise, and when the session had ended before the event (nothing was written for it).
    pub session: Option<Session>,
}

impl Finished {
    /// A transition that wrote no session.
    pub fn without_session(applied: Applied) -> Self {
        Self {
            applied,
            session: None,
        }
    }
}

/// What applying a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applied {
    /// The change was written.
    Applied,
    /// The record was already in that state.
    Duplicate,
    /// The record is in a final state that refuses the change (a terminal placement, an ended session).
    Refused,
    /// No such record: e.g. an event for a placement this system never started.
    Unknown,
}

/// Why a join was refused locally.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefused {
    /// The session does not exist.
    #[error("session not found")]
    NotFound,
    /// The session has ended.
    #[error("session is not active")]
    NotActive,
    /// Not enough open slots.
    #[error("session is full: {open} open slots, {wanted} requested")]
    Full {
        /// Open slots at the time.
        open: u32,
        /// Seats requested.
        wanted: u32,
    },
    /// The player already holds a live seat in this session.
    #[error("player already has a seat in this session")]
    AlreadySeated(PlayerId),
    /// The session is locked: it takes no new players (a `PATCH` set `joinable` false).
    #[error("session is not accepting new players")]
    Locked,
}

/// A game server's status report (update_instance_info).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StatusReport {
    /// Players connected now.
    pub player_count: Option<u32>,
    /// New name.
    pub name: Option<String>,
    /// New data.
    pub data: Option<String>,
    /// Properties to lay over the current ones.
    pub properties: Option<crate::input::GameProperties>,
}

/// A page request for a session list.
#[derive(Debug, Clone)]
pub struct ListRequest {
    /// Parsed query.
    pub query: Query,
    /// Order.
    pub sort: Sort,
    /// Page size, 1–100.
    pub limit: u32,
    /// Opaque cursor from the previous page.
    pub cursor: Option<String>,
}

/// One page of sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Sessions in order.
    pub sessions: Vec<Session>,
    /// Cursor for the next page; `None` at the end.
    pub next_cursor: Option<String>,
    /// Items the store read to answer this page.
    pub items_read: u64,
}

impl Page {
    /// Items read per item returned (1.0 is ideal; an empty page that read nothing is 1.0).
    pub fn read_amplification(&self) -> f64 {
        if self.sessions.is_empty() {
            if self.items_read == 0 {
                1.0
            } else {
                self.items_read as f64
            }
        } else {
            self.items_read as f64 / self.sessions.len() as f64
        }
    }
}

/// The table of sessions, placements, seats and idempotency records.
///
/// Every state change is a guarded write: applying the same change twice, or in any order with the
/// others, leaves the same table; the outcome says whether it applied.
pub trait SessionStore: Send + Sync {
    /// Writes a new PENDING placement, and its idempotency record when `idempotency` is given, in one
    /// atomic step.
    fn create_placement(
        &self,
        placement: &Placement,
        idempotency: Option<&IdempotencyRecord>,
    ) -> impl Future<Output = Result<CreateOutcome, StoreError>> + Send;

    /// [`Self::create_placement`], refusing with [`CreateOutcome::AtCap`] (and writing nothing) when
    /// `cap` is given and its owner already has `cap.max` PENDING placements. The count and the write
    /// are one atomic step, so concurrent creates never pass the cap together; an idempotent replay is
    /// answered as by `create_placement`, whatever the count. This default ignores the cap: a store
    /// that can keep it overrides it (the DynamoDB store and the in-memory fake do).
    fn create_placement_capped(
        &self,
        placement: &Placement,
        idempotency: Option<&IdempotencyRecord>,
        cap: Option<&PendingCap>,
    ) -> impl Future<Output = Result<CreateOutcome, StoreError>> + Send {
        let _ = cap;
        self.create_placement(placement, idempotency)
    }

    /// Tells the store that `id`, a placement of `owner` ([`crate::auth::pending_owner`]), is no longer
    /// PENDING, so it stops counting against the owner's cap at once. Best effort and idempotent:
    /// callers log a failure, because a store that counts must also find finished placements by
    /// itself when the cap is reached. This default does nothing.
    fn release_pending(
        &self,
        owner: &str,
        id: &PlacementId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = (owner, id);
        async { Ok(()) }
    }

    /// [`Self::release_pending`] for several `(owner, placement)` pairs (the placements one batch of
    /// events finished). An adapter may release them all in one request; this default releases them one
    /// at a time. Best effort like `release_pending`: the first failure is answered after trying all.
    fn release_pendings(
        &self,
        released: &[(String, PlacementId)],
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            let mut first = Ok(());
            for (owner, id) in released {
                if let Err(e) = self.release_pending(owner, id).await
                    && first.is_ok()
                {
                    first = Err(e);
                }
            }
            first
        }
    }

    /// Reads a placement (strongly consistent).
    fn get_placement(
        &self,
        id: &PlacementId,
    ) -> impl Future<Output = Result<Option<Placement>, StoreError>> + Send;

    /// [`Self::get_placement`] for several placements (the events of one SQS batch): one answer per
    /// id, in order. An adapter may read them all in one request; this default reads them one at a
    /// time.
    fn get_placements(
        &self,
        ids: &[PlacementId],
    ) -> impl Future<Output = Vec<Result<Option<Placement>, StoreError>>> + Send {
        async move {
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                found.push(self.get_placement(id).await);
            }
            found
        }
    }

    /// Moves a PENDING placement to its terminal state; when fulfilled, also writes the session and a
    /// RESERVED seat per placed player session, in one transaction. A session that already ended
    /// (deleted before the event arrived) stays ended.
    fn finish_placement(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// [`Self::finish_placement`] for several placements (one SQS batch of events): one result per
    /// element, in order, each with what `finish_placement` would have answered and, for a fulfilment
    /// it wrote, the stored session ([`Finished::session`]). An adapter may write several transitions
    /// in one request and should know the session it wrote; this default applies them one at a time
    /// and reads each written session back.
    fn finish_placements(
        &self,
        batch: &[Finish],
    ) -> impl Future<Output = Vec<Result<Finished, StoreError>>> + Send {
        async move {
            let mut results = Vec::with_capacity(batch.len());
            for f in batch {
                let finished = match self.finish_placement(&f.id, &f.outcome, f.at).await {
                    Ok(Applied::Applied) => match &f.outcome {
                        PlacementOutcome::Fulfilled { session, .. } => {
                            self.get_session(&session.id).await.map(|session| Finished {
                                applied: Applied::Applied,
                                session,
                            })
                        }
                        PlacementOutcome::Unfulfilled { .. } => {
                            Ok(Finished::without_session(Applied::Applied))
                        }
                    },
                    other => other.map(Finished::without_session),
                };
                results.push(finished);
            }
            results
        }
    }

    /// Reads a session (strongly consistent), ACTIVE or ENDED.
    fn get_session(
        &self,
        id: &SessionId,
    ) -> impl Future<Output = Result<Option<Session>, StoreError>> + Send;

    /// One page of ACTIVE sessions matching the query, in the requested order.
    fn list_sessions(
        &self,
        request: &ListRequest,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// Ends a session (a tombstone kept until `at + TOMBSTONE_SECS`; never ACTIVE again). A session not
    /// seen yet is recorded as ended, so its late placement event cannot bring it to life.
    fn end_session(
        &self,
        arn_or_id: SessionKey<'_>,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Applies a game server's report. A report for a session not seen yet is kept and merged when the
    /// placement event arrives; neither side overwrites the other's newer fields.
    fn apply_report(
        &self,
        arn: &GameSessionArn,
        report: &StatusReport,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Takes GameLift's player count (`CurrentPlayerSessionCount`, which includes reserved player
    /// sessions: the session's own RESERVED seats are taken off it) for a session whose game server has
    /// gone quiet: only an ACTIVE session whose last report (or, never reported, its placement) is
    /// before `quiet_since`, and only when the count differs. A report keeps the last word: it is not
    /// moved, so the server's next report applies over the correction.
    fn correct_player_count(
        &self,
        arn: &GameSessionArn,
        count: u32,
        quiet_since: Timestamp,
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Reserves one seat per player in one transaction, never past `maxPlayers`, never twice for a
    /// player. Seats expire at `expires_at` unless confirmed. A repeated join, where every player
    /// still holds a live seat with a recorded player session, writes nothing and answers those
    /// ([`Reserved::rejoined`]).
    fn reserve_seats(
        &self,
        session: &SessionId,
        players: &[PlayerId],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<Result<Reserved, JoinRefused>, StoreError>> + Send;

    /// Records on their seats the player sessions GameLift created for a join, so that the same join
    /// repeated while the seats are live answers with them. Seats that are no longer RESERVED are
    /// left alone.
    fn record_player_sessions(
        &self,
        session: &SessionId,
        player_sessions: &[PlayerSession],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Undoes reservations GameLift refused (RESERVED → RELEASED) and frees their slots.
    fn release_seats(
        &self,
        session: &SessionId,
        players: &[PlayerId],
        at: Timestamp,
    ) -> impl Future<Output = Result<Applied, StoreError>> + Send;

    /// Expires every RESERVED seat of the session whose window has passed at `now`.
    fn expire_seats(
        &self,
        session: &SessionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<u32, StoreError>> + Send;

    /// Records a session's policies (after GameLift took them): a locked session has no open slots.
    /// Answers the session as written, or why not (unknown, ended).
    fn set_policy(
        &self,
        session: &SessionId,
        policy: &SessionPolicy,
        at: Timestamp,
    ) -> impl Future<Output = Result<Result<Session, PolicyRefused>, StoreError>> + Send;
}

/// Why a session's policies were not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyRefused {
    /// No such session.
    #[error("session not found")]
    NotFound,
    /// The session has ended.
    #[error("session is not active")]
    NotActive,
}

/// A session named by its ARN (which also gives region and fleet, needed to record a tombstone for a
/// session not seen yet) or by its short id.
#[derive(Debug, Clone, Copy)]
pub enum SessionKey<'a> {
    /// By ARN.
    Arn(&'a GameSessionArn),
    /// By short id.
    Id(&'a SessionId),
}

impl SessionKey<'_> {
    /// The short id.
    pub fn id(&self) -> SessionId {
        match self {
            Self::Arn(a) => a.session_id(),
            Self::Id(i) => (*i).clone(),
        }
    }
}

/// The clock. Handlers never read the system time directly, so tests control it.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Generates ids (placement ids), so tests can make them predictable.
pub trait Ids: Send + Sync {
    /// A fresh placement id, unique forever (GameLift never accepts a PlacementId twice).
    fn placement_id(&self) -> PlacementId;
}

/// Pushes a message to one WebSocket connection.
pub trait Notifier: Send + Sync {
    /// Sends `payload` (JSON) to `connection`.
    fn send(
        &self,
        connection: &str,
        payload: &[u8],
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;
}

/// Why a push failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The connection is gone (API Gateway's 410): delete its row.
    #[error("connection gone")]
    Gone,
    /// The message is too large (413): logged and reported, never retried.
    #[error("payload too large")]
    TooLarge,
    /// Throttled after retries (429).
    #[error("throttled")]
    Throttled,
    /// Anything else.
    #[error("notify failed: {0}")]
    Other(String),
}

/// The GameLift calls fleetlift makes.
pub trait GameLift: Send + Sync {
    /// StartGameSessionPlacement.
    fn start_placement(
        &self,
        request: &StartPlacement,
    ) -> impl Future<Output = Result<(), GameLiftError>> + Send;
    /// StartGameSessionPlacement, answering the status GameLift's answer carries: PENDING nearly
    /// always; a terminal one (FAILED, CANCELLED, TIMED_OUT) means the placement already ended and
    /// no event is worth waiting for. This default, for adapters that cannot read the answer, calls
    /// [`Self::start_placement`] and says PENDING.
    fn start_placement_status(
        &self,
        request: &StartPlacement,
    ) -> impl Future<Output = Result<PlacementStatus, GameLiftError>> + Send {
        async move {
            self.start_placement(request)
                .await
                .map(|()| PlacementStatus::Pending)
        }
    }
    /// DescribeGameSessionPlacement: its status and, when fulfilled, the session.
    fn describe_placement(
        &self,
        id: &PlacementId,
    ) -> impl Future<Output = Result<PlacementDescription, GameLiftError>> + Send;
    /// StopGameSessionPlacement.
    fn stop_placement(
        &self,
        id: &PlacementId,
    ) -> impl Future<Output = Result<(), GameLiftError>> + Send;
    /// CreatePlayerSessions.
    fn create_player_sessions(
        &self,
        arn: &GameSessionArn,
        players: &[(PlayerId, Option<String>)],
    ) -> impl Future<Output = Result<Vec<PlayerSession>, GameLiftError>> + Send;
    /// UpdateGameSession (properties merge).
    fn update_game_session(
        &self,
        arn: &GameSessionArn,
        name: Option<&str>,
        properties: &crate::input::GameProperties,
    ) -> impl Future<Output = Result<(), GameLiftError>> + Send;
    /// TerminateGameSession.
    fn terminate_game_session(
        &self,
        arn: &GameSessionArn,
    ) -> impl Future<Output = Result<(), GameLiftError>> + Send;
    /// DescribeGameSessions for one session: its GameLift status (`ACTIVE`, `TERMINATED`, …).
    fn game_session_status(
        &self,
        arn: &GameSessionArn,
    ) -> impl Future<Output = Result<Option<String>, GameLiftError>> + Send;
    /// DescribeGameSessions for a fleet location: one page (at most [`FLEET_PAGE`] sessions, any
    /// status), sent to the fleet's home Region. `next` is the previous page's token.
    fn fleet_sessions(
        &self,
        fleet: &FleetLocation,
        next: Option<&str>,
    ) -> impl Future<Output = Result<FleetSessionsPage, GameLiftError>> + Send;
    /// UpdateGameSession with `PlayerSessionCreationPolicy` (`joinable`: ACCEPT_ALL or DENY_ALL) and
    /// `ProtectionPolicy` (`protected`: FullProtection or NoProtection); `None` leaves one as it is.
    fn set_session_policy(
        &self,
        arn: &GameSessionArn,
        policy: &SessionPolicy,
    ) -> impl Future<Output = Result<(), GameLiftError>> + Send;
    /// ListLocations, every page: the AWS locations GameLift hosts in, with their UDP ping beacons.
    fn list_locations(
        &self,
    ) -> impl Future<Output = Result<Vec<LocationBeacon>, GameLiftError>> + Send;
    /// GetPlayerConnectionDetails for at most [`MAX_CONNECTION_PLAYERS`] players of a game session:
    /// relay endpoints and a token with its expiry on a player-gateway fleet, the game server's own
    /// endpoint otherwise.
    fn player_connections(
        &self,
        arn: &GameSessionArn,
        players: &[PlayerId],
    ) -> impl Future<Output = Result<Vec<PlayerConnection>, GameLiftError>> + Send;
}

/// The most players GetPlayerConnectionDetails takes in one call.
pub const MAX_CONNECTION_PLAYERS: usize = 25;

/// What a `PATCH` of a session changes: GameLift's player-session creation and protection policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionPolicy {
    /// Whether new players may join (ACCEPT_ALL) or not (DENY_ALL).
    pub joinable: Option<bool>,
    /// Whether the session's instance is protected from scale-in (FullProtection).
    pub protected: Option<bool>,
}

/// A location GameLift can host game sessions in, with the UDP endpoint clients ping to measure
/// their latency to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationBeacon {
    /// The location's name (`us-east-1`).
    pub location: String,
    /// Its ping beacon; custom locations have none.
    pub ping_beacon: Option<UdpEndpoint>,
}

/// A UDP endpoint: a ping beacon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpEndpoint {
    /// Its DNS name.
    pub domain: String,
    /// Its UDP port.
    pub port: u16,
}

/// One address a game client connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// IP address.
    pub ip_address: String,
    /// Port.
    pub port: u16,
}

/// How one player reaches a game session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayerConnection {
    /// The player.
    pub player_id: PlayerId,
    /// Relay endpoints on a player-gateway fleet, else the game server's own endpoint.
    pub endpoints: Vec<Endpoint>,
    /// The token the client prepends to its traffic through the gateway; none without one.
    pub token: Option<String>,
    /// When the token expires; fetch fresh details before then.
    pub expires_at: Option<Timestamp>,
}

impl PlayerConnection {
    /// The connection to a session's game server itself (a fleet without player gateway): no call
    /// is needed, the session's address is the endpoint.
    pub fn direct(player: &PlayerId, session: &Session) -> Self {
        Self {
            player_id: player.clone(),
            endpoints: vec![Endpoint {
                ip_address: session.ip_address.clone(),
                port: session.port,
            }],
            token: None,
            expires_at: None,
        }
    }
}

/// The most game sessions DescribeGameSessions returns in one page (its `Limit` maximum).
pub const FLEET_PAGE: u32 = 100;

/// A fleet location whose game sessions are listed together: DescribeGameSessions's `FleetId` and
/// `Location`, sent to the fleet's home Region (every call about a fleet goes there).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FleetLocation {
    /// The fleet's home Region (a game session ARN's Region).
    pub home_region: String,
    /// The fleet.
    pub fleet_id: String,
    /// The location: the home Region or one of the fleet's remote locations.
    pub location: String,
}

impl FleetLocation {
    /// The fleet location a session runs in: its ARN's fleet and Region, its own location.
    pub fn of(session: &Session) -> Self {
        Self {
            home_region: session.arn.region().to_owned(),
            fleet_id: session.arn.fleet_id().to_owned(),
            location: session.region.as_str().to_owned(),
        }
    }
}

impl std::fmt::Display for FleetLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}",
            self.home_region, self.fleet_id, self.location
        )
    }
}

/// A game session as a fleet listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetSession {
    /// Its ARN (GameLift's `GameSessionId`).
    pub arn: String,
    /// GameLift's status: `ACTIVATING`, `ACTIVE`, `TERMINATING`, `TERMINATED`, `ERROR`.
    pub status: String,
    /// GameLift's `CurrentPlayerSessionCount`: player sessions RESERVED or ACTIVE.
    pub current_players: u32,
}

/// One page of a fleet location's game sessions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FleetSessionsPage {
    /// The sessions on this page.
    pub sessions: Vec<FleetSession>,
    /// The next page's token; `None` on the last page.
    pub next: Option<String>,
}

/// A StartGameSessionPlacement request built from a validated create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartPlacement {
    /// The placement (id, players, latencies, name, data, properties, cap).
    pub placement: Placement,
}

/// What DescribeGameSessionPlacement said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacementDescription {
    /// GameLift's status mapped to ours.
    pub status: PlacementStatus,
    /// When FULFILLED: what a PlacementFulfilled event would carry.
    pub fulfilled: Option<crate::event::Fulfilled>,
}

/// A GameLift call that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameLiftError {
    /// The session has no room (GameSessionFullException).
    #[error("game session full")]
    Full,
    /// The session is not ACTIVE (InvalidGameSessionStatusException).
    #[error("game session not active: {0}")]
    NotActive(String),
    /// No such resource (NotFoundException).
    #[error("not found: {0}")]
    NotFound(String),
    /// GameLift rejected the request (InvalidRequestException and the like).
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Throttled (ThrottlingException / LimitExceeded).
    #[error("throttled: {0}")]
    Throttled(String),
    /// A failure after which we cannot tell whether the call took effect (timeout, 5xx, dropped
    /// connection): resolve it by describing, never by repeating with a new id.
    #[error("ambiguous failure: {0}")]
    Ambiguous(String),
}

/// A WebSocket connection's row: who it is (the `$connect` authorizer's `sub`) and until when it may
/// live (API Gateway closes every connection after 2 hours).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The connection.
    pub id: crate::ids::ConnectionId,
    /// Its user (a player's `sub`).
    pub user: String,
    /// When it connected.
    pub connected_at: Timestamp,
    /// When its row (and its subscriptions) stop counting, whatever DynamoDB's TTL does.
    pub expires_at: Timestamp,
}

/// A connection subscribed to one placement's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// The connection.
    pub connection: crate::ids::ConnectionId,
    /// Its user, kept on the subscription so a push picks the user's own player session without a read.
    pub user: String,
}

/// WebSocket connections, placement subscriptions and the record of what was pushed to whom.
///
/// Expiry is checked in code on every read (DynamoDB's TTL may lag for days): a row past its
/// `expires_at` is as good as absent.
pub trait ConnectionStore: Send + Sync {
    /// Writes (or overwrites) a connection's row.
    fn put_connection(
        &self,
        connection: &Connection,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a connection's row; deleting one that is not there is not an error.
    fn delete_connection(
        &self,
        connection: &crate::ids::ConnectionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Reads a live connection's row (strongly consistent).
    fn connection(
        &self,
        connection: &crate::ids::ConnectionId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Option<Connection>, StoreError>> + Send;

    /// The live connections of a user: a fan-out lookup on the `connectionsByUser` index (eventually
    /// consistent, so a connection made a moment ago may be missing; it catches up with `subscribe`).
    fn connections_of(
        &self,
        user: &str,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<crate::ids::ConnectionId>, StoreError>> + Send;

    /// Subscribes a connection to a placement's result until `expires_at` (its connection's expiry).
    fn subscribe(
        &self,
        placement: &PlacementId,
        subscriber: &Subscriber,
        expires_at: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes a subscription (a connection found gone); removing a missing one is not an error.
    fn unsubscribe(
        &self,
        placement: &PlacementId,
        connection: &crate::ids::ConnectionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The live subscribers of a placement (strongly consistent).
    fn subscribers(
        &self,
        placement: &PlacementId,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<Subscriber>, StoreError>> + Send;

    /// Records that a placement's result is being pushed to a connection, atomically: `true` the first
    /// time, `false` when it was recorded before (a duplicate stream record or a concurrent catch-up),
    /// so each connection gets each result once.
    fn mark_sent(
        &self,
        placement: &PlacementId,
        connection: &crate::ids::ConnectionId,
        at: Timestamp,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Forgets a [`ConnectionStore::mark_sent`] whose push failed transiently, so the retry sends it.
    fn unmark_sent(
        &self,
        placement: &PlacementId,
        connection: &crate::ids::ConnectionId,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One page of ACTIVE sessions, oldest first, for the sweeper's walk over them.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSweepPage {
    /// Sessions, oldest first.
    pub sessions: Vec<Session>,
    /// Where the next page starts; `None` when the walk reached the newest session.
    pub next: Option<String>,
}

/// The sweeper's candidate lists, read from the sparse indexes. A candidate is only a candidate: every
/// decision is re-checked by a guarded write ([`SessionStore::finish_placement`],
/// [`SessionStore::expire_seats`], [`SessionStore::end_session`]), because index reads are eventually
/// consistent.
pub trait SweepStore: Send + Sync {
    /// PENDING placements whose deadline is at or before `now`, earliest deadline first, at most `limit`.
    fn due_placements(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<PlacementId>, StoreError>> + Send;

    /// Sessions holding a RESERVED seat whose window ended at or before `now`, earliest first, each
    /// once, at most `limit`.
    fn due_seat_sessions(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<SessionId>, StoreError>> + Send;

    /// Up to `limit` ACTIVE sessions, oldest first, starting after `after` (a previous page's `next`).
    fn oldest_sessions(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> impl Future<Output = Result<SessionSweepPage, StoreError>> + Send;

    /// Where the last run's walk over sessions stopped (so runs with a small budget still cover them all).
    fn sweep_position(&self) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// Saves the walk's position; `None` starts the next run from the oldest session.
    fn save_sweep_position(
        &self,
        position: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}
