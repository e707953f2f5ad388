//! In-memory fakes of the ports, for unit tests of the handlers. They keep the same invariants as the
//! real adapters because they make the same decisions ([`crate::rules`]) and answer with the same
//! outcomes; they also count calls, so tests can assert the downstream-call budget of docs/architecture.md#functions-and-call-budget.

mod faulty;

pub use faulty::{FaultyStore, StoreCall, StoreFaults, StoreOp};

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::ids::{ConnectionId, GameSessionArn, PlacementId, PlayerId, SessionId};
use crate::input::GameProperties;
use crate::model::{Placement, PlacementStatus, PlayerSession, Seat, SeatStatus, Session};
use crate::ports::{
    Applied, Clock, CreateOutcome, Finish, Finished, GameLift, GameLiftError, IdempotencyRecord,
    Ids, JoinRefused, ListRequest, Notifier, NotifyError, Page, PendingCap, PlacementDescription,
    PlacementOutcome, Reserved, SessionKey, SessionStore, StartPlacement, StatusReport, StoreError,
};
use crate::query::{self, cursor};
use crate::rules::{self, EndEffect, PendingReport, ReportEffect, SessionState};
use crate::time::Timestamp;

/// Reads and writes a store call made, as the DynamoDB adapter would make them (for call budgets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCalls {
    /// Read calls (GetItem, Query).
    pub reads: u64,
    /// Write calls (PutItem, UpdateItem, TransactWriteItems).
    pub writes: u64,
}

#[derive(Default)]
struct MemoryState {
    placements: BTreeMap<PlacementId, Placement>,
    sessions: BTreeMap<SessionId, SessionState>,
    reports: BTreeMap<SessionId, PendingReport>,
    seats: BTreeMap<SessionId, Vec<Seat>>,
    idempotency: HashMap<(String, String), (PlacementId, String)>,
    connections: BTreeMap<crate::ids::ConnectionId, crate::ports::Connection>,
    subscriptions:
        BTreeMap<(PlacementId, crate::ids::ConnectionId), (crate::ports::Subscriber, Timestamp)>,
    sent: std::collections::BTreeSet<(PlacementId, crate::ids::ConnectionId)>,
    sweep_position: Option<String>,
}

impl MemoryState {
    fn state(&self, id: &SessionId) -> SessionState {
        self.sessions
            .get(id)
            .cloned()
            .unwrap_or(SessionState::Missing)
    }

    fn seats(&self, id: &SessionId) -> Vec<Seat> {
        self.seats.get(id).cloned().unwrap_or_default()
    }

    fn put_seats(&mut self, id: &SessionId, changed: &[Seat]) {
        let seats = self.seats.entry(id.clone()).or_default();
        for seat in changed {
            seats.retain(|s| s.player_id != seat.player_id);
            seats.push(seat.clone());
        }
    }
}

/// An in-memory [`SessionStore`]: one mutex is its transaction.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
    reads: AtomicU64,
    writes: AtomicU64,
    secret: Vec<u8>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self {
            secret: b"memory-store-cursor-secret".to_vec(),
            ..Self::default()
        }
    }

    /// Calls made so far.
    pub fn calls(&self) -> StoreCalls {
        StoreCalls {
            reads: self.reads.load(Ordering::SeqCst),
            writes: self.writes.load(Ordering::SeqCst),
        }
    }

    /// Puts sessions directly (test set-up), as ACTIVE sessions with no seats.
    pub fn seed_sessions(&self, sessions: &[Session]) {
        let mut st = self.lock();
        for s in sessions {
            st.sessions.insert(
                s.id.clone(),
                SessionState::Live {
                    session: s.clone(),
                    reported_at: None,
                },
            );
        }
    }

    /// The seats of a session (test inspection).
    pub fn seats_of(&self, id: &SessionId) -> Vec<Seat> {
        self.lock().seats(id)
    }

    /// Whether a report is pending for a session (test inspection).
    pub fn pending_report(&self, id: &SessionId) -> Option<PendingReport> {
        self.lock().reports.get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryState> {
        // A panic while holding the lock is a test failure already; keep the data for its report.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `finish_placement` as the DynamoDB adapter does it, with the session it wrote.
    fn finish(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> Result<Finished, StoreError> {
        let mut st = self.lock();
        // As the DynamoDB adapter: one transaction guessing an empty session partition; a wrong guess
        // costs a read of the partition and a second transaction.
        let guessed_wrong = match outcome {
            PlacementOutcome::Fulfilled { session, .. } => {
                st.placements
                    .get(id)
                    .is_some_and(|p| p.status == PlacementStatus::Pending)
                    && (st.state(&session.id) != SessionState::Missing
                        || st.reports.contains_key(&session.id))
            }
            PlacementOutcome::Unfulfilled { .. } => false,
        };
        self.count(u64::from(guessed_wrong), 1 + u64::from(guessed_wrong));
        let target = outcome.status();
        let Some(current) = st.placements.get(id).map(|p| p.status) else {
            return Ok(Finished::without_session(Applied::Unknown));
        };
        if current != PlacementStatus::Pending {
            return Ok(Finished::without_session(if current == target {
                Applied::Duplicate
            } else {
                Applied::Refused
            }));
        }
        let mut written = None;
        if let PlacementOutcome::Fulfilled {
            session,
            player_sessions,
        } = outcome
        {
            let state = st.state(&session.id);
            let report = st.reports.get(&session.id).cloned();
            let plan = rules::fulfil(
                &state,
                report.as_ref(),
                &st.seats(&session.id),
                session,
                player_sessions,
                at,
            )?;
            if let Some(new) = plan.session {
                written = Some(new.clone());
                st.reports.remove(&session.id);
                st.sessions.insert(
                    new.id.clone(),
                    SessionState::Live {
                        session: new,
                        reported_at: plan.reported_at,
                    },
                );
                st.put_seats(&session.id, &plan.seats);
            }
        }
        if let Some(p) = st.placements.get_mut(id) {
            p.status = target;
            p.updated_at = at;
            match outcome {
                PlacementOutcome::Fulfilled {
                    session,
                    player_sessions,
                } => {
                    p.session_id = Some(session.id.clone());
                    p.player_sessions.clone_from(player_sessions);
                }
                PlacementOutcome::Unfulfilled { reason, .. } => {
                    if reason.is_some() {
                        p.reason.clone_from(reason);
                    }
                }
            }
        }
        Ok(Finished {
            applied: Applied::Applied,
            session: written,
        })
    }

    /// One read call, as the adapter's GetItem or Query.
    fn read<T>(&self, f: impl FnOnce(&MemoryState) -> T) -> T {
        self.count(1, 0);
        f(&self.lock())
    }

    /// One write call, as the adapter's PutItem, UpdateItem or DeleteItem.
    fn write<T>(&self, f: impl FnOnce(&mut MemoryState) -> T) -> T {
        self.count(0, 1);
        f(&mut self.lock())
    }

    fn count(&self, reads: u64, writes: u64) {
        self.reads.fetch_add(reads, Ordering::SeqCst);
        self.writes.fetch_add(writes, Ordering::SeqCst);
    }
}

impl SessionStore for MemoryStore {
    async fn create_placement(
        &self,
        p: &Placement,
        idem: Option<&IdempotencyRecord>,
    ) -> Result<CreateOutcome, StoreError> {
        self.create_placement_capped(p, idem, None).await
    }

    async fn create_placement_capped(
        &self,
        p: &Placement,
        idem: Option<&IdempotencyRecord>,
        cap: Option<&PendingCap>,
    ) -> Result<CreateOutcome, StoreError> {
        self.count(0, 1);
        let mut st = self.lock();
        let idem_key = idem.map(|i| (i.caller.clone(), i.key.as_str().to_owned()));
        if let (Some(idem), Some(key)) = (idem, &idem_key)
            && let Some((id, digest)) = st.idempotency.get(key)
        {
            if *digest != idem.body_digest {
                return Ok(CreateOutcome::Mismatch);
            }
            let existing = st
                .placements
                .get(id)
                .cloned()
                .ok_or_else(|| StoreError::Corrupt {
                    key: id.to_string(),
                    reason: "idempotency record without placement".into(),
                })?;
            return Ok(CreateOutcome::Existing(Box::new(existing)));
        }
        // Counted under the same lock as the write: concurrent creates see each other.
        if let Some(cap) = cap {
            let pending = st
                .placements
                .values()
                .filter(|q| {
                    q.status == PlacementStatus::Pending
                        && crate::auth::pending_owner(&q.requester).as_deref()
                            == Some(cap.owner.as_str())
                })
                .count();
            if pending >= cap.max as usize {
                return Ok(CreateOutcome::AtCap);
            }
        }
        if st.placements.contains_key(&p.placement_id) {
            return Err(StoreError::Corrupt {
                key: p.placement_id.to_string(),
                reason: "placement id reused".into(),
            });
        }
        if let (Some(idem), Some(key)) = (idem, idem_key) {
            st.idempotency
                .insert(key, (p.placement_id.clone(), idem.body_digest.clone()));
        }
        st.placements.insert(p.placement_id.clone(), p.clone());
        Ok(CreateOutcome::Created)
    }

    async fn get_placement(&self, id: &PlacementId) -> Result<Option<Placement>, StoreError> {
        self.count(1, 0);
        Ok(self.lock().placements.get(id).cloned())
    }

    /// Counted as DynamoDB makes it: one BatchGetItem per 100 placements.
    async fn get_placements(
        &self,
        ids: &[PlacementId],
    ) -> Vec<Result<Option<Placement>, StoreError>> {
        self.count(ids.len().div_ceil(100) as u64, 0);
        let st = self.lock();
        ids.iter()
            .map(|id| Ok(st.placements.get(id).cloned()))
            .collect()
    }

    async fn finish_placement(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.finish(id, outcome, at).map(|f| f.applied)
    }

    async fn finish_placements(&self, batch: &[Finish]) -> Vec<Result<Finished, StoreError>> {
        batch
            .iter()
            .map(|f| self.finish(&f.id, &f.outcome, f.at))
            .collect()
    }

    async fn get_session(&self, id: &SessionId) -> Result<Option<Session>, StoreError> {
        self.count(1, 0);
        Ok(match self.lock().state(id) {
            SessionState::Live { session, .. } => Some(session),
            _ => None,
        })
    }

    async fn list_sessions(&self, request: &ListRequest) -> Result<Page, StoreError> {
        // Two reads, as the DynamoDB store makes: the keys-only index, then the sessions back.
        self.count(2, 0);
        // The planner refuses key values DynamoDB would refuse, exactly as the DynamoDB store does.
        let fingerprint = query::plan(&request.query, request.sort)
            .map_err(crate::FieldError::from)?
            .fingerprint(&request.query, request.sort);
        let after = match &request.cursor {
            Some(c) => cursor::decode(&self.secret, &fingerprint, c)?.remove("k"),
            None => None,
        };
        let sort = request.sort;
        let mut all: Vec<Session> = self
            .lock()
            .sessions
            .values()
            .filter_map(|s| match s {
                SessionState::Live { session, .. } => Some(session.clone()),
                _ => None,
            })
            .filter(|s| s.status == crate::model::SessionStatus::Active)
            .collect();
        all.sort_by(|a, b| sort.compare(a, b));
        let read = all.len() as u64;
        let limit = request
            .limit
            .clamp(crate::limits::LIMIT_MIN, crate::limits::LIMIT_MAX) as usize;
        let mut matching = all
            .into_iter()
            .filter(|s| request.query.matches(s))
            .filter(|s| match &after {
                None => true,
                Some(k) if sort.descending() => sort.sort_key(s) < *k,
                Some(k) => sort.sort_key(s) > *k,
            });
        let sessions: Vec<Session> = matching.by_ref().take(limit).collect();
        let next_cursor = match (matching.next(), sessions.last()) {
            (Some(_), Some(last)) => {
                let key = BTreeMap::from([("k".to_owned(), sort.sort_key(last))]);
                Some(cursor::encode(&self.secret, &fingerprint, &key))
            }
            _ => None,
        };
        Ok(Page {
            sessions,
            next_cursor,
            items_read: read,
        })
    }

    async fn end_session(&self, key: SessionKey<'_>, at: Timestamp) -> Result<Applied, StoreError> {
        self.count(1, 1);
        let mut st = self.lock();
        let id = key.id();
        match rules::end(&st.state(&id), matches!(key, SessionKey::Arn(_)), at) {
            EndEffect::Duplicate => Ok(Applied::Duplicate),
            EndEffect::Unknown => Ok(Applied::Unknown),
            EndEffect::Tombstone => {
                st.sessions.insert(id, SessionState::Tombstone);
                Ok(Applied::Applied)
            }
            EndEffect::Session(ended) => {
                let reported_at = match st.state(&id) {
                    SessionState::Live { reported_at, .. } => reported_at,
                    _ => None,
                };
                st.sessions.insert(
                    id,
                    SessionState::Live {
                        session: ended,
                        reported_at,
                    },
                );
                Ok(Applied::Applied)
            }
        }
    }

    async fn apply_report(
        &self,
        arn: &GameSessionArn,
        report: &StatusReport,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.count(1, 1);
        let mut st = self.lock();
        let id = arn.session_id();
        let pending = st.reports.get(&id).cloned();
        match rules::report(
            &st.state(&id),
            pending.as_ref(),
            &st.seats(&id),
            arn.as_str(),
            report,
            at,
            usize::MAX,
        )? {
            ReportEffect::Refused => Ok(Applied::Refused),
            ReportEffect::Duplicate => Ok(Applied::Duplicate),
            ReportEffect::Session(session, lapsed) => {
                st.put_seats(&id, &lapsed);
                st.sessions.insert(
                    id,
                    SessionState::Live {
                        session,
                        reported_at: Some(at),
                    },
                );
                Ok(Applied::Applied)
            }
            ReportEffect::Pending(p) => {
                st.reports.insert(id, p);
                Ok(Applied::Applied)
            }
        }
    }

    async fn correct_player_count(
        &self,
        arn: &GameSessionArn,
        count: u32,
        quiet_since: Timestamp,
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        self.count(1, 1);
        let mut st = self.lock();
        let id = arn.session_id();
        let state = st.state(&id);
        match rules::gamelift_count(&state, &st.seats(&id), count, quiet_since, at) {
            None => Ok(Applied::Duplicate),
            Some(session) => {
                let reported_at = match state {
                    SessionState::Live { reported_at, .. } => reported_at,
                    _ => None,
                };
                st.sessions.insert(
                    id,
                    SessionState::Live {
                        session,
                        reported_at,
                    },
                );
                Ok(Applied::Applied)
            }
        }
    }

    async fn reserve_seats(
        &self,
        id: &SessionId,
        players: &[PlayerId],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<Result<Reserved, JoinRefused>, StoreError> {
        let mut st = self.lock();
        let state = st.state(id);
        let plan = match rules::join(&state, &st.seats(id), players, now, expires_at, usize::MAX) {
            Err(refused) => {
                self.count(1, 1);
                return Ok(Err(refused));
            }
            Ok(plan) => plan,
        };
        if plan.rejoined.is_some() {
            // As the DynamoDB adapter: the partition read, nothing written.
            self.count(1, 0);
            return Ok(Ok(Reserved {
                session: plan.session,
                rejoined: plan.rejoined,
            }));
        }
        self.count(1, 1);
        let reported_at = match state {
            SessionState::Live { reported_at, .. } => reported_at,
            _ => None,
        };
        st.put_seats(id, &plan.seats);
        st.sessions.insert(
            id.clone(),
            SessionState::Live {
                session: plan.session.clone(),
                reported_at,
            },
        );
        Ok(Ok(Reserved {
            session: plan.session,
            rejoined: None,
        }))
    }

    async fn record_player_sessions(
        &self,
        id: &SessionId,
        player_sessions: &[PlayerSession],
    ) -> Result<(), StoreError> {
        self.count(0, 1);
        let mut st = self.lock();
        if let Some(seats) = st.seats.get_mut(id) {
            for seat in seats.iter_mut() {
                if seat.status == SeatStatus::Reserved
                    && let Some(ps) = player_sessions
                        .iter()
                        .find(|ps| ps.player_id == seat.player_id)
                {
                    seat.player_session_id = Some(ps.player_session_id.clone());
                }
            }
        }
        Ok(())
    }

    async fn release_seats(
        &self,
        id: &SessionId,
        players: &[PlayerId],
        at: Timestamp,
    ) -> Result<Applied, StoreError> {
        let changed = self.change_seats(id, at, |s| {
            players
                .contains(&s.player_id)
                .then_some(SeatStatus::Released)
        });
        Ok(match changed {
            None => Applied::Unknown,
            Some(0) => Applied::Duplicate,
            Some(_) => Applied::Applied,
        })
    }

    async fn set_policy(
        &self,
        id: &SessionId,
        policy: &crate::ports::SessionPolicy,
        at: Timestamp,
    ) -> Result<Result<Session, crate::ports::PolicyRefused>, StoreError> {
        let mut st = self.lock();
        let state = st.state(id);
        let session = match rules::set_policy(&state, &st.seats(id), policy, at) {
            Err(refused) => {
                self.count(1, 0);
                return Ok(Err(refused));
            }
            Ok(session) => session,
        };
        self.count(1, 1);
        let reported_at = match state {
            SessionState::Live { reported_at, .. } => reported_at,
            _ => None,
        };
        st.sessions.insert(
            id.clone(),
            SessionState::Live {
                session: session.clone(),
                reported_at,
            },
        );
        Ok(Ok(session))
    }

    async fn expire_seats(&self, id: &SessionId, now: Timestamp) -> Result<u32, StoreError> {
        Ok(self.change_seats(id, now, rules::lapse(now)).unwrap_or(0))
    }
}

impl MemoryStore {
    fn change_seats(
        &self,
        id: &SessionId,
        at: Timestamp,
        pick: impl Fn(&Seat) -> Option<SeatStatus>,
    ) -> Option<u32> {
        self.count(1, 1);
        let mut st = self.lock();
        let SessionState::Live {
            session,
            reported_at,
        } = st.state(id)
        else {
            return None;
        };
        let plan = rules::change_seats(&session, &st.seats(id), at, usize::MAX, pick)?;
        st.put_seats(id, &plan.seats);
        st.sessions.insert(
            id.clone(),
            SessionState::Live {
                session: plan.session,
                reported_at,
            },
        );
        Some(plan.seats.len() as u32)
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(AtomicI64::new(start.millis()))
    }

    /// Moves the clock forward.
    pub fn advance_secs(&self, secs: i64) {
        self.0.fetch_add(secs * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }
}

/// Placement ids `p-1`, `p-2`, … (unique per instance).
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl Ids for SequentialIds {
    fn placement_id(&self) -> PlacementId {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        PlacementId::parse(&format!("p-{n}"))
            .unwrap_or_else(|_| unreachable!("p-<number> is a valid placement id"))
    }
}

/// A notifier that records what it sent; connections marked gone answer like API Gateway's 410.
#[derive(Debug, Default)]
pub struct MemoryNotifier {
    sent: Mutex<Vec<(String, Vec<u8>)>>,
    gone: Mutex<Vec<String>>,
}

impl MemoryNotifier {
    /// Marks a connection as closed.
    pub fn close(&self, connection: &str) {
        self.gone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(connection.to_owned());
    }

    /// Everything sent, in order.
    pub fn sent(&self) -> Vec<(String, Vec<u8>)> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Notifier for MemoryNotifier {
    async fn send(&self, connection: &str, payload: &[u8]) -> Result<(), NotifyError> {
        if self
            .gone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .any(|c| c == connection)
        {
            return Err(NotifyError::Gone);
        }
        if payload.len() > 128 * 1024 {
            return Err(NotifyError::TooLarge);
        }
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((connection.to_owned(), payload.to_vec()));
        Ok(())
    }
}

/// One GameLift call, as recorded by [`FakeGameLift`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GameLiftCall {
    /// StartGameSessionPlacement.
    StartPlacement(PlacementId),
    /// DescribeGameSessionPlacement.
    DescribePlacement(PlacementId),
    /// StopGameSessionPlacement.
    StopPlacement(PlacementId),
    /// CreatePlayerSessions.
    CreatePlayerSessions(String, usize),
    /// UpdateGameSession.
    UpdateGameSession(String),
    /// TerminateGameSession.
    TerminateGameSession(String),
    /// DescribeGameSessions.
    DescribeGameSessions(String),
    /// DescribeGameSessions for a fleet location (`home/fleet/location`), with the page token.
    DescribeFleetSessions(String, Option<String>),
    /// UpdateGameSession with policies: `(arn, joinable, protected)`.
    SetSessionPolicy(String, Option<bool>, Option<bool>),
    /// ListLocations (every page).
    ListLocations,
    /// GetPlayerConnectionDetails: `(arn, players)`.
    GetPlayerConnectionDetails(String, usize),
}

/// When [`FakeGameLift`]'s player-gateway tokens expire (2027-01-01T00:00:00Z): the fake has no
/// clock, and tests compare the instant as given.
pub const FAKE_TOKEN_EXPIRES_MS: i64 = 1_798_761_600_000;

#[derive(Default)]
struct FakeGameLiftState {
    calls: Vec<GameLiftCall>,
    placements: BTreeMap<PlacementId, PlacementDescription>,
    failures: VecDeque<GameLiftError>,
    sessions: BTreeMap<String, (String, u32, u32)>,
    next_psess: u64,
    /// When set, a start's answer (and the placement) ends at once with this status.
    start_ends_as: Option<PlacementStatus>,
    /// Sessions whose PlayerSessionCreationPolicy is DENY_ALL.
    locked: std::collections::BTreeSet<String>,
    /// Sessions with FullProtection.
    protected: std::collections::BTreeSet<String>,
    /// Fleets with the player gateway on.
    gateway_fleets: std::collections::BTreeSet<String>,
    /// What ListLocations answers; `None` is the default two Regions.
    locations: Option<Vec<crate::ports::LocationBeacon>>,
    next_token: u64,
}

/// A GameLift that accepts every placement (PENDING until a test says otherwise), tracks player
/// sessions against each session's cap like GameLift does, records every call, and fails the next
/// calls with errors a test queues.
#[derive(Default)]
pub struct FakeGameLift {
    state: Mutex<FakeGameLiftState>,
}

impl FakeGameLift {
    /// A fresh fake.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FakeGameLiftState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<GameLiftCall> {
        self.lock().calls.clone()
    }

    /// Makes the next call fail with `error`.
    pub fn fail_next(&self, error: GameLiftError) {
        self.lock().failures.push_back(error);
    }

    /// Sets what DescribeGameSessionPlacement answers for a placement.
    pub fn set_placement(&self, id: &PlacementId, description: PlacementDescription) {
        self.lock().placements.insert(id.clone(), description);
    }

    /// Makes every later StartGameSessionPlacement end at once with `status` (its answer says so),
    /// or, with `None`, be PENDING again.
    pub fn end_starts_as(&self, status: Option<PlacementStatus>) {
        self.lock().start_ends_as = status;
    }

    /// Registers a game session GameLift knows: status and cap (for CreatePlayerSessions).
    pub fn add_session(&self, arn: &GameSessionArn, status: &str, max_players: u32) {
        self.lock()
            .sessions
            .insert(arn.as_str().to_owned(), (status.to_owned(), max_players, 0));
    }

    /// Sets a known session's `CurrentPlayerSessionCount`.
    pub fn set_session_players(&self, arn: &GameSessionArn, players: u32) {
        if let Some(s) = self.lock().sessions.get_mut(arn.as_str()) {
            s.2 = players;
        }
    }

    /// Sets a known session's GameLift status (e.g. `TERMINATED` when its server process ended).
    pub fn set_session_status(&self, arn: &GameSessionArn, status: &str) {
        if let Some(s) = self.lock().sessions.get_mut(arn.as_str()) {
            status.clone_into(&mut s.0);
        }
    }

    /// Turns the player gateway on for a fleet (its `PlayerGatewayMode` ENABLED).
    pub fn enable_gateway(&self, fleet_id: &str) {
        self.lock().gateway_fleets.insert(fleet_id.to_owned());
    }

    /// Sets what ListLocations answers.
    pub fn set_locations(&self, locations: Vec<crate::ports::LocationBeacon>) {
        self.lock().locations = Some(locations);
    }

    /// A session's policies as GameLift holds them: `(joinable, protected)`.
    pub fn session_policy(&self, arn: &GameSessionArn) -> (bool, bool) {
        let st = self.lock();
        (
            !st.locked.contains(arn.as_str()),
            st.protected.contains(arn.as_str()),
        )
    }

    /// Forgets a session, as GameLift does some time after it ended.
    pub fn forget_session(&self, arn: &GameSessionArn) {
        self.lock().sessions.remove(arn.as_str());
    }

    fn record(
        &self,
        call: GameLiftCall,
    ) -> Result<std::sync::MutexGuard<'_, FakeGameLiftState>, GameLiftError> {
        let mut st = self.lock();
        st.calls.push(call);
        match st.failures.pop_front() {
            Some(e) => Err(e),
            None => Ok(st),
        }
    }
}

impl GameLift for FakeGameLift {
    async fn start_placement(&self, request: &StartPlacement) -> Result<(), GameLiftError> {
        self.start_placement_status(request).await.map(drop)
    }

    async fn start_placement_status(
        &self,
        request: &StartPlacement,
    ) -> Result<PlacementStatus, GameLiftError> {
        let id = request.placement.placement_id.clone();
        let mut st = self.record(GameLiftCall::StartPlacement(id.clone()))?;
        if st.placements.contains_key(&id) {
            return Err(GameLiftError::Invalid(format!(
                "placement id {id} already used"
            )));
        }
        let status = st.start_ends_as.unwrap_or(PlacementStatus::Pending);
        st.placements.insert(
            id,
            PlacementDescription {
                status,
                fulfilled: None,
            },
        );
        Ok(status)
    }

    async fn describe_placement(
        &self,
        id: &PlacementId,
    ) -> Result<PlacementDescription, GameLiftError> {
        let st = self.record(GameLiftCall::DescribePlacement(id.clone()))?;
        st.placements
            .get(id)
            .cloned()
            .ok_or_else(|| GameLiftError::NotFound(id.to_string()))
    }

    async fn stop_placement(&self, id: &PlacementId) -> Result<(), GameLiftError> {
        let mut st = self.record(GameLiftCall::StopPlacement(id.clone()))?;
        match st.placements.get_mut(id) {
            Some(p) if p.status == PlacementStatus::Pending => {
                p.status = PlacementStatus::Cancelled;
                Ok(())
            }
            // As GameLift: InvalidRequestException once the placement is not PENDING any more.
            Some(p) => Err(GameLiftError::Invalid(format!(
                "placement {id} is {}, not PENDING",
                p.status.as_str()
            ))),
            None => Err(GameLiftError::NotFound(id.to_string())),
        }
    }

    async fn create_player_sessions(
        &self,
        arn: &GameSessionArn,
        players: &[(PlayerId, Option<String>)],
    ) -> Result<Vec<PlayerSession>, GameLiftError> {
        let mut st = self.record(GameLiftCall::CreatePlayerSessions(
            arn.to_string(),
            players.len(),
        ))?;
        let Some((status, max, used)) = st.sessions.get(arn.as_str()).cloned() else {
            return Err(GameLiftError::NotFound(arn.to_string()));
        };
        if status != "ACTIVE" {
            return Err(GameLiftError::NotActive(status));
        }
        // GameLift refuses new player sessions on a DENY_ALL session as it does on a full one.
        if used + players.len() as u32 > max || st.locked.contains(arn.as_str()) {
            return Err(GameLiftError::Full);
        }
        st.sessions.insert(
            arn.as_str().to_owned(),
            (status, max, used + players.len() as u32),
        );
        let mut out = Vec::new();
        for (p, _) in players {
            st.next_psess += 1;
            out.push(PlayerSession {
                player_id: p.clone(),
                player_session_id: format!("psess-{:08}", st.next_psess),
            });
        }
        Ok(out)
    }

    async fn update_game_session(
        &self,
        arn: &GameSessionArn,
        _name: Option<&str>,
        _p: &GameProperties,
    ) -> Result<(), GameLiftError> {
        self.record(GameLiftCall::UpdateGameSession(arn.to_string()))
            .map(drop)
    }

    async fn terminate_game_session(&self, arn: &GameSessionArn) -> Result<(), GameLiftError> {
        let mut st = self.record(GameLiftCall::TerminateGameSession(arn.to_string()))?;
        if let Some(s) = st.sessions.get_mut(arn.as_str()) {
            s.0 = "TERMINATED".into();
        }
        Ok(())
    }

    async fn game_session_status(
        &self,
        arn: &GameSessionArn,
    ) -> Result<Option<String>, GameLiftError> {
        let st = self.record(GameLiftCall::DescribeGameSessions(arn.to_string()))?;
        Ok(st.sessions.get(arn.as_str()).map(|s| s.0.clone()))
    }

    async fn fleet_sessions(
        &self,
        fleet: &crate::ports::FleetLocation,
        next: Option<&str>,
    ) -> Result<crate::ports::FleetSessionsPage, GameLiftError> {
        let st = self.record(GameLiftCall::DescribeFleetSessions(
            fleet.to_string(),
            next.map(str::to_owned),
        ))?;
        let start = match next {
            None => 0,
            Some(t) => t
                .parse::<usize>()
                .map_err(|_| GameLiftError::Invalid(format!("NextToken {t:?}")))?,
        };
        // The location is the ARN's middle segment for a remote location, else the home Region.
        let in_fleet = st.sessions.iter().filter(|(arn, _)| {
            GameSessionArn::parse(arn).is_ok_and(|a| {
                let segments: Vec<&str> = a.as_str().split('/').collect();
                let location = match segments.as_slice() {
                    [_, _, location, _] => location,
                    _ => a.region(),
                };
                a.region() == fleet.home_region
                    && a.fleet_id() == fleet.fleet_id
                    && location == fleet.location
            })
        });
        let page = crate::ports::FLEET_PAGE as usize;
        let mut sessions: Vec<crate::ports::FleetSession> = in_fleet
            .skip(start)
            .take(page + 1)
            .map(|(arn, (status, _, used))| crate::ports::FleetSession {
                arn: arn.clone(),
                status: status.clone(),
                current_players: *used,
            })
            .collect();
        let next = (sessions.len() > page).then(|| (start + page).to_string());
        sessions.truncate(page);
        Ok(crate::ports::FleetSessionsPage { sessions, next })
    }

    async fn set_session_policy(
        &self,
        arn: &GameSessionArn,
        policy: &crate::ports::SessionPolicy,
    ) -> Result<(), GameLiftError> {
        let mut st = self.record(GameLiftCall::SetSessionPolicy(
            arn.to_string(),
            policy.joinable,
            policy.protected,
        ))?;
        match st.sessions.get(arn.as_str()) {
            None => return Err(GameLiftError::NotFound(arn.to_string())),
            Some((status, _, _)) if status != "ACTIVE" => {
                return Err(GameLiftError::NotActive(status.clone()));
            }
            Some(_) => {}
        }
        let key = arn.as_str().to_owned();
        match policy.joinable {
            Some(false) => {
                st.locked.insert(key.clone());
            }
            Some(true) => {
                st.locked.remove(&key);
            }
            None => {}
        }
        match policy.protected {
            Some(true) => {
                st.protected.insert(key);
            }
            Some(false) => {
                st.protected.remove(&key);
            }
            None => {}
        }
        Ok(())
    }

    async fn list_locations(&self) -> Result<Vec<crate::ports::LocationBeacon>, GameLiftError> {
        let st = self.record(GameLiftCall::ListLocations)?;
        Ok(st.locations.clone().unwrap_or_else(|| {
            ["us-east-1", "eu-west-1"]
                .iter()
                .map(|r| crate::ports::LocationBeacon {
                    location: (*r).to_owned(),
                    ping_beacon: Some(crate::ports::UdpEndpoint {
                        domain: format!("gamelift-ping.{r}.api.aws"),
                        port: 7770,
                    }),
                })
                .collect()
        }))
    }

    async fn player_connections(
        &self,
        arn: &GameSessionArn,
        players: &[PlayerId],
    ) -> Result<Vec<crate::ports::PlayerConnection>, GameLiftError> {
        let mut st = self.record(GameLiftCall::GetPlayerConnectionDetails(
            arn.to_string(),
            players.len(),
        ))?;
        if players.is_empty() || players.len() > crate::ports::MAX_CONNECTION_PLAYERS {
            return Err(GameLiftError::Invalid(format!(
                "PlayerIds: {} entries, 1 to {} allowed",
                players.len(),
                crate::ports::MAX_CONNECTION_PLAYERS
            )));
        }
        match st.sessions.get(arn.as_str()) {
            None => return Err(GameLiftError::NotFound(arn.to_string())),
            Some((status, _, _)) if status != "ACTIVE" => {
                return Err(GameLiftError::NotActive(status.clone()));
            }
            Some(_) => {}
        }
        let gateway = st.gateway_fleets.contains(arn.fleet_id());
        let mut out = Vec::with_capacity(players.len());
        for p in players {
            st.next_token += 1;
            let n = st.next_token;
            out.push(if gateway {
                crate::ports::PlayerConnection {
                    player_id: p.clone(),
                    endpoints: vec![
                        crate::ports::Endpoint {
                            ip_address: "198.51.100.10".into(),
                            port: 4000,
                        },
                        crate::ports::Endpoint {
                            ip_address: "198.51.100.11".into(),
                            port: 4000,
                        },
                    ],
                    token: Some(format!("pgt-{n:08}")),
                    expires_at: Some(Timestamp::from_millis(FAKE_TOKEN_EXPIRES_MS)),
                }
            } else {
                crate::ports::PlayerConnection {
                    player_id: p.clone(),
                    endpoints: vec![crate::ports::Endpoint {
                        ip_address: "192.0.2.1".into(),
                        port: 7777,
                    }],
                    token: None,
                    expires_at: None,
                }
            });
        }
        Ok(out)
    }
}

impl crate::ports::ConnectionStore for MemoryStore {
    async fn put_connection(&self, c: &crate::ports::Connection) -> Result<(), StoreError> {
        self.write(|st| st.connections.insert(c.id.clone(), c.clone()));
        Ok(())
    }

    async fn delete_connection(&self, c: &ConnectionId) -> Result<(), StoreError> {
        self.write(|st| st.connections.remove(c));
        Ok(())
    }

    async fn connection(
        &self,
        c: &ConnectionId,
        now: Timestamp,
    ) -> Result<Option<crate::ports::Connection>, StoreError> {
        let live = |c: &&crate::ports::Connection| c.expires_at > now;
        Ok(self.read(|st| st.connections.get(c).filter(live).cloned()))
    }

    async fn connections_of(
        &self,
        user: &str,
        now: Timestamp,
    ) -> Result<Vec<ConnectionId>, StoreError> {
        let live = |c: &&crate::ports::Connection| c.user == user && c.expires_at > now;
        Ok(self.read(|st| {
            st.connections
                .values()
                .filter(live)
                .map(|c| c.id.clone())
                .collect()
        }))
    }

    async fn subscribe(
        &self,
        placement: &PlacementId,
        subscriber: &crate::ports::Subscriber,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let key = (placement.clone(), subscriber.connection.clone());
        self.write(|st| {
            st.subscriptions
                .insert(key, (subscriber.clone(), expires_at))
        });
        Ok(())
    }

    async fn unsubscribe(&self, p: &PlacementId, c: &ConnectionId) -> Result<(), StoreError> {
        self.write(|st| st.subscriptions.remove(&(p.clone(), c.clone())));
        Ok(())
    }

    async fn subscribers(
        &self,
        placement: &PlacementId,
        now: Timestamp,
    ) -> Result<Vec<crate::ports::Subscriber>, StoreError> {
        Ok(self.read(|st| {
            st.subscriptions
                .iter()
                .filter(|((p, _), (_, expires_at))| p == placement && *expires_at > now)
                .map(|(_, (s, _))| s.clone())
                .collect()
        }))
    }

    async fn mark_sent(
        &self,
        p: &PlacementId,
        c: &ConnectionId,
        _at: Timestamp,
    ) -> Result<bool, StoreError> {
        Ok(self.write(|st| st.sent.insert((p.clone(), c.clone()))))
    }

    async fn unmark_sent(&self, p: &PlacementId, c: &ConnectionId) -> Result<(), StoreError> {
        self.write(|st| st.sent.remove(&(p.clone(), c.clone())));
        Ok(())
    }
}

/// The items of `keyed` in key order: the order a sweeper's index answers in.
fn in_key_order<K: Ord, T>(mut keyed: Vec<(K, T)>) -> impl Iterator<Item = T> {
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, t)| t)
}

impl crate::ports::SweepStore for MemoryStore {
    async fn due_placements(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PlacementId>, StoreError> {
        let due = self.read(|st| {
            st.placements
                .values()
                .filter(|p| p.status == PlacementStatus::Pending && p.deadline <= now)
                .map(|p| ((p.deadline, p.placement_id.clone()), p.placement_id.clone()))
                .collect()
        });
        Ok(in_key_order(due).take(limit as usize).collect())
    }

    async fn due_seat_sessions(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<SessionId>, StoreError> {
        let mut out: Vec<SessionId> = Vec::new();
        let due = self.read(|st| {
            st.seats
                .values()
                .flatten()
                .filter(|s| s.status == SeatStatus::Reserved && s.expires_at <= now)
                .map(|s| {
                    let key = (s.expires_at, s.session_id.clone(), s.player_id.key_digest());
                    (key, s.session_id.clone())
                })
                .collect()
        });
        for id in in_key_order(due) {
            if out.len() == limit as usize {
                break;
            }
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    async fn oldest_sessions(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> Result<crate::ports::SessionSweepPage, StoreError> {
        let mut all: Vec<(String, Session)> = self.read(|st| {
            st.sessions
                .values()
                .filter_map(|s| match s {
                    SessionState::Live { session, .. }
                        if session.status == crate::model::SessionStatus::Active =>
                    {
                        Some((
                            crate::index::created_key(session.created_at, &session.id),
                            session.clone(),
                        ))
                    }
                    _ => None,
                })
                .filter(|(k, _)| after.is_none_or(|a| k.as_str() > a))
                .collect()
        });
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let more = all.len() > limit as usize;
        all.truncate(limit as usize);
        let next = if more {
            all.last().map(|(k, _)| k.clone())
        } else {
            None
        };
        Ok(crate::ports::SessionSweepPage {
            sessions: all.into_iter().map(|(_, s)| s).collect(),
            next,
        })
    }

    async fn sweep_position(&self) -> Result<Option<String>, StoreError> {
        Ok(self.read(|st| st.sweep_position.clone()))
    }

    async fn save_sweep_position(&self, position: Option<&str>) -> Result<(), StoreError> {
        self.write(|st| st.sweep_position = position.map(str::to_owned));
        Ok(())
    }
}
