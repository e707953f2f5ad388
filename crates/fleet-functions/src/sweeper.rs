//! sweeper: the scheduled reconciliation that makes lost events harmless (docs/architecture.md#placement-events-and-results, docs/architecture.md#data-rules).
//!
//! Each run, in this order (the most valuable work first, in case the budget runs out):
//!
//! 1. **Placements past their deadline.** Candidates come from `pendingByDeadline`; each is re-read
//!    (strongly consistent) and, if still PENDING, resolved with one DescribeGameSessionPlacement:
//!    FULFILLED builds the session from GameLift's answer exactly as the event would have; TIMED_OUT,
//!    CANCELLED and FAILED finish it unfulfilled; a placement GameLift does not know was never started
//!    and is FAILED; one GameLift still reports PENDING is left for the next run. The write is the
//!    store's guarded transition, so an event that lands at the same moment wins or loses cleanly.
//!    Every placement resolved here is an event that was lost or late: `SweeperResolvedPlacements`.
//! 2. **Lapsed seats.** Sessions from `seatKeysByExpiry` whose reservations passed their window; the
//!    store's `expire_seats` re-reads the partition and closes them in a guarded transaction. A
//!    session's own next report or join closes its lapsed seats too, so what is left here is the
//!    sessions whose server stopped reporting: the phase is a backstop, not the seats' only exit.
//! 3. **Sessions against GameLift's fleets.** Every ACTIVE session is read and grouped by fleet
//!    location; each location is listed with DescribeGameSessions (FleetId + Location, 100 a page, in the
//!    fleet's home Region). A session GameLift lists as TERMINATED, TERMINATING or ERROR is ended (a
//!    tombstone); one whose game server has not reported for [`QUIET_SERVER_SECS`] takes GameLift's
//!    `CurrentPlayerSessionCount`; once a location's listing is complete, a session it does not list is
//!    ended if it was placed over [`UNKNOWN_SESSION_GRACE_SECS`] ago. Locations are taken in a fixed
//!    order, a run starting after the last one a previous run finished (kept in the table).
//!
//! Index reads only pick candidates; every decision is re-checked by a guarded write.
//!
//! **Rate limits.** GameLift allows 75 DescribeGameSessionPlacement and 20 DescribeGameSessions calls
//! per second per account; a pacer per API spaces the calls at most at those rates, a per-run budget
//! ([`Config::sweep_budget`]) bounds the total, and the run stops early when the Lambda deadline is
//! near. A throttled answer stops that phase for this run. At 100 sessions a call, 100,000 sessions are
//! 1,000 calls: 50 s at 20 calls/s, two runs of the default budget.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use fleet_core::model::{Placement, PlacementStatus, Session};
use fleet_core::ports::{
    Applied, Clock, FleetLocation, FleetSession, GameLift, GameLiftError, PlacementOutcome,
    SessionKey, SessionStore, StoreError, SweepStore,
};
use fleet_core::time::Timestamp;
use futures::StreamExt;
use serde::Serialize;

use crate::config::Config;
use crate::deps::{Deps, Ports};
use crate::observability::{Metrics, dimensioned_emf};
use crate::placement_events::Described;

/// The function's name, the `Function` dimension of its metrics.
pub const FUNCTION: &str = "sweeper";

/// GameLift's DescribeGameSessionPlacement limit, calls per second per account.
pub const DESCRIBE_PLACEMENT_PER_SEC: f64 = 75.0;
/// GameLift's DescribeGameSessions limit, calls per second per account.
pub const DESCRIBE_SESSIONS_PER_SEC: f64 = 20.0;

/// GameLift statuses of a game session that will never accept players again.
const ENDED_STATUSES: [&str; 3] = ["TERMINATED", "TERMINATING", "ERROR"];

/// A session GameLift does not know is ended only once it is this old: a moment after placement a
/// describe might not see it yet, and an hour later a session GameLift has forgotten is surely gone.
pub const UNKNOWN_SESSION_GRACE_SECS: i64 = 3600;

/// A game server that has not reported for this long has gone quiet: GameLift's player count
/// (`CurrentPlayerSessionCount`) then replaces its last report. Two minutes is several report intervals
/// of a live server, and far below GameLift's own player-session timeouts.
pub const QUIET_SERVER_SECS: i64 = 120;

/// Most ACTIVE sessions one run reads to compare with GameLift's listings: about 80 MB of the
/// sweeper's 256 MB at 120,000 (above it, the newest sessions wait, with a warning in the log).
pub const MAX_SESSIONS_PER_RUN: u32 = 120_000;

/// How much one run may do.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepLimits {
    /// GameLift calls in one run, all APIs together.
    pub budget: u32,
    /// Most DescribeGameSessionPlacement calls per second.
    pub describe_placement_per_sec: f64,
    /// Most DescribeGameSessions calls per second.
    pub describe_sessions_per_sec: f64,
    /// Overdue placements read per run.
    pub placements_per_run: u32,
    /// Sessions with lapsed seats handled per run (DynamoDB work only).
    pub seat_sessions_per_run: u32,
    /// ACTIVE sessions read per run to compare with GameLift's fleet listings.
    pub sessions_per_run: u32,
    /// The run stops starting new work this long before the Lambda deadline.
    pub stop_margin: Duration,
}

impl SweepLimits {
    /// GameLift's own limits and the configured budget.
    pub fn from_config(config: &Config) -> Self {
        Self {
            budget: config.sweep_budget,
            describe_placement_per_sec: DESCRIBE_PLACEMENT_PER_SEC,
            describe_sessions_per_sec: DESCRIBE_SESSIONS_PER_SEC,
            placements_per_run: config.sweep_budget,
            seat_sessions_per_run: 200,
            sessions_per_run: MAX_SESSIONS_PER_RUN,
            stop_margin: Duration::from_secs(3),
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepSummary {
    /// PENDING placements past their deadline that were finished from GameLift's answer.
    pub resolved: u32,
    /// Overdue placements GameLift still reports PENDING (left for the next run).
    pub still_pending: u32,
    /// Seats expired.
    pub expired_seats: u32,
    /// Sessions ended because GameLift ended them.
    pub ended_sessions: u32,
    /// Player counts of quiet game servers taken from GameLift.
    pub corrected_counts: u32,
    /// GameLift calls made.
    pub gamelift_calls: u32,
    /// Whether the budget, the deadline or throttling cut the run short.
    pub stopped_early: bool,
}

/// A phase that could not read its candidates.
#[derive(Debug, thiserror::Error)]
#[error("sweeper phase {phase} failed: {source}")]
pub struct SweepError {
    /// `placements`, `seats` or `sessions`.
    pub phase: &'static str,
    /// The store's failure.
    #[source]
    pub source: StoreError,
}

/// Spaces calls to one API at most `per_sec` apart (GameLift's limits are per second, so an even
/// spacing never bursts past them).
struct Pacer {
    interval: Duration,
    next: Option<Instant>,
}

impl Pacer {
    fn new(per_sec: f64) -> Self {
        let interval = if per_sec > 0.0 && per_sec.is_finite() {
            Duration::from_secs_f64(1.0 / per_sec)
        } else {
            Duration::ZERO
        };
        Self {
            interval,
            next: None,
        }
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        let at = match self.next {
            Some(next) if next > now => {
                tokio::time::sleep(next - now).await;
                next
            }
            _ => now,
        };
        self.next = Some(at + self.interval);
    }
}

/// The run's GameLift budget and deadline.
struct Budget {
    left: u32,
    deadline: Instant,
    margin: Duration,
    calls: u32,
    stopped: bool,
}

impl Budget {
    /// Whether another unit of work may start (and, for a GameLift call, takes it from the budget).
    fn time_left(&mut self) -> bool {
        let ok = Instant::now() + self.margin < self.deadline;
        if !ok {
            self.stopped = true;
        }
        ok
    }

    fn take_call(&mut self) -> bool {
        if self.left == 0 {
            self.stopped = true;
            return false;
        }
        if !self.time_left() {
            return false;
        }
        self.left -= 1;
        self.calls += 1;
        true
    }
}

/// The Lambda entry point's body: runs one sweep with GameLift's limits and the configured budget,
/// logs its summary and flushes its metrics.
pub async fn handle<P: Ports<Store: SessionStore + SweepStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    event: EventBridgeEvent,
    deadline: Instant,
) -> Result<SweepSummary, SweepError> {
    tracing::debug!(
        event_id = event.id.as_deref().unwrap_or(""),
        "sweep started"
    );
    let mut metrics = Metrics::new(FUNCTION);
    let result = sweep_configured(deps, deadline, &mut metrics).await;
    let now = deps.clock.now().millis();
    metrics.flush(now);
    // The dashboard's "open slots by region" comes from here: one gauge line per region per run.
    match open_slots_by_region(&deps.store, OPEN_SLOTS_MAX_SESSIONS).await {
        Ok(Some(totals)) => {
            for (region, open) in totals {
                println!(
                    "{}",
                    dimensioned_emf(
                        FUNCTION,
                        ("Region", &region),
                        "OpenSlots",
                        "Count",
                        open as f64,
                        now
                    )
                );
            }
        }
        Ok(None) => tracing::warn!(
            max = OPEN_SLOTS_MAX_SESSIONS,
            "more active sessions than the open-slots gauge reads; not emitted"
        ),
        Err(e) => tracing::warn!(error = %e, "open slots by region not measured"),
    }
    result
}

/// One sweep of a function's ports with GameLift's limits and its configured budget.
pub async fn sweep_configured<P: Ports<Store: SessionStore + SweepStore, GameLift: GameLift>>(
    deps: &Deps<P>,
    deadline: Instant,
    metrics: &mut Metrics,
) -> Result<SweepSummary, SweepError> {
    let limits = SweepLimits::from_config(&deps.config);
    let (store, gamelift, clock) = (&deps.store, &deps.gamelift, &deps.clock);
    sweep(store, gamelift, clock, &limits, deadline, metrics).await
}

/// Most ACTIVE sessions the open-slots gauge reads per run: bounds its cost (one item read per session,
/// every sweep) on a very large fleet, where the gauge is skipped with a warning rather than partial.
pub const OPEN_SLOTS_MAX_SESSIONS: u32 = 5_000;

/// Open slots summed per region over the ACTIVE sessions, reading at most `max_sessions` of them
/// (pages of the sweep walk); `None` when there are more.
pub async fn open_slots_by_region<S: SweepStore>(
    store: &S,
    max_sessions: u32,
) -> Result<Option<std::collections::BTreeMap<String, u64>>, fleet_core::ports::StoreError> {
    let mut totals = std::collections::BTreeMap::new();
    let mut after: Option<String> = None;
    let mut read = 0u32;
    loop {
        let page = store
            .oldest_sessions((max_sessions - read).clamp(1, 1000), after.as_deref())
            .await?;
        read += page.sessions.len() as u32;
        for s in &page.sessions {
            *totals.entry(s.region.to_string()).or_insert(0) += u64::from(s.open_slots);
        }
        match page.next {
            None => return Ok(Some(totals)),
            Some(next) if read < max_sessions && !page.sessions.is_empty() => after = Some(next),
            Some(_) => return Ok(None),
        }
    }
}

/// One sweep (see the module docs). Every phase runs even if an earlier one failed to read its
/// candidates; the first such failure is returned after the others ran, so the invocation shows as an
/// error.
pub async fn sweep<S, G, C>(
    store: &S,
    gamelift: &G,
    clock: &C,
    limits: &SweepLimits,
    deadline: Instant,
    metrics: &mut Metrics,
) -> Result<SweepSummary, SweepError>
where
    S: SessionStore + SweepStore,
    G: GameLift,
    C: Clock,
{
    let mut run = Run {
        store,
        gamelift,
        limits,
        budget: Budget {
            left: limits.budget,
            deadline,
            margin: limits.stop_margin,
            calls: 0,
            stopped: false,
        },
        summary: SweepSummary::default(),
    };
    let mut first_error: Option<SweepError> = None;

    let placements = run.placements(clock.now()).await;
    let seats = run.seats(clock.now()).await;
    let sessions = run.sessions(clock.now()).await;
    for (phase, r) in [
        ("placements", placements),
        ("seats", seats),
        ("sessions", sessions),
    ] {
        if let Err(source) = r {
            tracing::error!(phase, error = %source, "sweeper phase failed");
            first_error.get_or_insert(SweepError { phase, source });
        }
    }

    let mut summary = run.summary;
    summary.gamelift_calls = run.budget.calls;
    summary.stopped_early |= run.budget.stopped;
    metrics.count("SweeperResolvedPlacements", u64::from(summary.resolved));
    metrics.count("SweeperExpiredSeats", u64::from(summary.expired_seats));
    metrics.count("SweeperEndedSessions", u64::from(summary.ended_sessions));
    metrics.count(
        "SweeperCorrectedCounts",
        u64::from(summary.corrected_counts),
    );
    metrics.count("SweeperGameLiftCalls", u64::from(summary.gamelift_calls));
    tracing::info!(
        resolved = summary.resolved,
        still_pending = summary.still_pending,
        expired_seats = summary.expired_seats,
        ended_sessions = summary.ended_sessions,
        corrected_counts = summary.corrected_counts,
        gamelift_calls = summary.gamelift_calls,
        stopped_early = summary.stopped_early,
        "sweep done"
    );
    match first_error {
        Some(e) => Err(e),
        None => Ok(summary),
    }
}

/// One run's shared state: the ports and limits every phase reads, the budget they spend and the
/// summary they count in. Each phase is given the time it starts at.
struct Run<'a, S, G> {
    store: &'a S,
    gamelift: &'a G,
    limits: &'a SweepLimits,
    budget: Budget,
    summary: SweepSummary,
}

impl<S, G> Run<'_, S, G>
where
    S: SessionStore + SweepStore,
    G: GameLift,
{
    async fn placements(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let want = self.limits.placements_per_run.min(self.budget.left);
        if want == 0 {
            return Ok(());
        }
        let due = self.store.due_placements(now, want).await?;
        if due.len() == want as usize && want == self.budget.left {
            // A full page that will use the whole budget: more may be waiting for the next run.
            self.budget.stopped = true;
        }
        let mut pacer = Pacer::new(self.limits.describe_placement_per_sec);
        for id in due {
            if !self.budget.time_left() {
                break;
            }
            // The index may lag: re-read before spending a GameLift call.
            let placement = match self.store.get_placement(&id).await {
                Ok(Some(p)) if p.status == PlacementStatus::Pending && p.deadline <= now => p,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(placement_id = id.as_str(), error = %e, "could not re-read an overdue placement");
                    continue;
                }
            };
            if !self.budget.take_call() {
                break;
            }
            pacer.wait().await;
            let description = match self.gamelift.describe_placement(&id).await {
                Ok(d) => d,
                Err(GameLiftError::NotFound(_)) => {
                    let outcome = PlacementOutcome::Unfulfilled {
                        status: PlacementStatus::Failed,
                        reason: Some("GameLift has no such placement: it was never started".into()),
                    };
                    self.finish(&placement, &outcome, now).await;
                    continue;
                }
                Err(GameLiftError::Throttled(e)) => {
                    tracing::warn!(
                        placement_id = id.as_str(),
                        error = e,
                        "GameLift throttled the sweeper; placements resume next run"
                    );
                    self.budget.stopped = true;
                    break;
                }
                Err(e) => {
                    tracing::warn!(placement_id = id.as_str(), error = %e, "DescribeGameSessionPlacement failed");
                    continue;
                }
            };
            let outcome = match crate::placement_events::described(
                &placement,
                &description,
                now,
                |status| {
                    format!(
                        "resolved by the sweeper: GameLift reports {}",
                        status.as_str()
                    )
                },
            ) {
                Described::Outcome(outcome) => outcome,
                Described::Pending => {
                    tracing::info!(placement_id = id.as_str(), deadline = %placement.deadline, "GameLift still reports PENDING past the deadline; left for the next run");
                    self.summary.still_pending += 1;
                    continue;
                }
                Described::Unrecordable(why) => {
                    // It can never be recorded: FAILED now, rather than described again each run.
                    crate::placement_events::fail_unrecordable(self.store, &placement, &why, now)
                        .await;
                    self.summary.resolved += 1;
                    continue;
                }
                Described::FulfilledWithoutSession => {
                    tracing::error!(
                        placement_id = id.as_str(),
                        "GameLift reports FULFILLED without a session; left"
                    );
                    continue;
                }
            };
            self.finish(&placement, &outcome, now).await;
        }
        Ok(())
    }

    async fn finish(&mut self, placement: &Placement, outcome: &PlacementOutcome, now: Timestamp) {
        let id = &placement.placement_id;
        match self.store.finish_placement(id, outcome, now).await {
            Ok(Applied::Applied) => {
                crate::placement_events::release_pending(self.store, placement).await;
                // An event that never came (or has not yet): worth a warning, and a metric to alarm on.
                tracing::warn!(
                    placement_id = id.as_str(),
                    "placement resolved by the sweeper; its event was lost or late"
                );
                self.summary.resolved += 1;
            }
            Ok(other) => {
                tracing::info!(placement_id = id.as_str(), outcome = ?other, "placement already resolved by its event")
            }
            Err(e) if !e.is_transient() => {
                if crate::placement_events::fail_unrecordable(
                    self.store,
                    placement,
                    &e.to_string(),
                    now,
                )
                .await
                .is_some()
                {
                    self.summary.resolved += 1;
                }
            }
            Err(e) => {
                tracing::warn!(placement_id = id.as_str(), error = %e, "could not finish an overdue placement")
            }
        }
    }

    async fn seats(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let most = self.limits.seat_sessions_per_run;
        if most == 0 {
            return Ok(());
        }
        for id in self.store.due_seat_sessions(now, most).await? {
            if !self.budget.time_left() {
                break;
            }
            match self.store.expire_seats(&id, now).await {
                Ok(n) => self.summary.expired_seats += n,
                Err(e) => {
                    tracing::warn!(session_id = id.as_str(), error = %e, "could not expire seats")
                }
            }
        }
        Ok(())
    }

    async fn sessions(&mut self, now: Timestamp) -> Result<(), StoreError> {
        if self.budget.left == 0 {
            self.budget.stopped = true;
            return Ok(());
        }
        let ours = active_sessions_by_fleet(self.store, self.limits.sessions_per_run).await?;
        // Fleet locations in a fixed order, each run starting after the last one a run finished, so a
        // budget smaller than the fleet still covers every location in turn.
        let keys: Vec<String> = ours.keys().cloned().collect();
        let position = self.store.sweep_position().await?;
        let start = position
            .as_deref()
            .and_then(|p| keys.iter().position(|k| k.as_str() > p))
            .unwrap_or(0);
        let mut pacer = Pacer::new(self.limits.describe_sessions_per_sec);
        let mut last_done: Option<String> = None;
        let mut all_done = true;
        for key in keys[start..].iter().chain(&keys[..start]) {
            let Some((fleet, sessions)) = ours.get(key) else {
                continue;
            };
            match self.reconcile_fleet(fleet, sessions, now, &mut pacer).await {
                FleetRun::Complete => last_done = Some(key.clone()),
                FleetRun::Failed => {}
                FleetRun::Stopped => {
                    all_done = false;
                    break;
                }
            }
        }
        let next = if all_done {
            None
        } else {
            last_done.or(position)
        };
        if let Err(e) = self.store.save_sweep_position(next.as_deref()).await {
            // The next run repeats part of this one: harmless.
            tracing::warn!(error = %e, "could not save the sweep position");
        }
        Ok(())
    }

    /// Lists one fleet location's game sessions, page by page, and brings ours in line: a session
    /// GameLift ended is ended here; a session whose game server has gone quiet takes GameLift's
    /// player count; after the last page, a session GameLift no longer lists is ended once past
    /// [`UNKNOWN_SESSION_GRACE_SECS`].
    async fn reconcile_fleet(
        &mut self,
        fleet: &FleetLocation,
        ours: &HashMap<String, Session>,
        now: Timestamp,
        pacer: &mut Pacer,
    ) -> FleetRun {
        let mut listed: HashSet<&str> = HashSet::new();
        let mut token: Option<String> = None;
        loop {
            if !self.budget.time_left() || !self.budget.take_call() {
                return FleetRun::Stopped;
            }
            pacer.wait().await;
            let page = match self.gamelift.fleet_sessions(fleet, token.as_deref()).await {
                Ok(page) => page,
                Err(GameLiftError::Throttled(e)) => {
                    tracing::warn!(error = e, %fleet, "GameLift throttled the sweeper; sessions resume next run");
                    self.budget.stopped = true;
                    return FleetRun::Stopped;
                }
                Err(e) => {
                    tracing::warn!(error = %e, %fleet, "DescribeGameSessions for a fleet location failed");
                    return FleetRun::Failed;
                }
            };
            let mut checks = Vec::with_capacity(page.sessions.len());
            for listed_session in &page.sessions {
                // Not ours, or not ACTIVE here: nothing to reconcile.
                if let Some((arn, session)) = ours.get_key_value(listed_session.arn.as_str()) {
                    listed.insert(arn.as_str());
                    checks.push((session, Some(listed_session)));
                }
            }
            self.reconcile_all(checks, now).await;
            match page.next {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        let unlisted = ours
            .iter()
            .filter(|(arn, _)| !listed.contains(arn.as_str()))
            .map(|(_, session)| (session, None))
            .collect();
        self.reconcile_all(unlisted, now).await;
        FleetRun::Complete
    }

    /// [`reconcile_session`] over `checks`, [`RECONCILE_CONCURRENCY`] at a time, counted in the
    /// summary.
    async fn reconcile_all(
        &mut self,
        checks: Vec<(&Session, Option<&FleetSession>)>,
        now: Timestamp,
    ) {
        // The futures are built before the stream (not in a `map` closure over borrowed items), so the
        // stream's type names no higher-ranked lifetimes and the sweep stays `Send` for `tokio::spawn`.
        let store = self.store;
        let pending: Vec<_> = checks
            .into_iter()
            .map(|(session, gamelift)| reconcile_session(store, session, gamelift, now))
            .collect();
        let done: Vec<Reconciled> = futures::stream::iter(pending)
            .buffer_unordered(RECONCILE_CONCURRENCY)
            .collect()
            .await;
        for r in done {
            match r {
                Reconciled::Ended => self.summary.ended_sessions += 1,
                Reconciled::Corrected => self.summary.corrected_counts += 1,
                Reconciled::Nothing => {}
            }
        }
    }
}

/// Page size of the sweeper's read of ACTIVE sessions.
const SESSION_READ_PAGE: u32 = 1_000;

/// Every ACTIVE session (at most `max`), by fleet location: the map's key is the location's text, which
/// orders the locations and keeps the run's position.
async fn active_sessions_by_fleet<S: SweepStore>(
    store: &S,
    max: u32,
) -> Result<BTreeMap<String, (FleetLocation, HashMap<String, Session>)>, StoreError> {
    let mut ours: BTreeMap<String, (FleetLocation, HashMap<String, Session>)> = BTreeMap::new();
    let mut after: Option<String> = None;
    let mut read = 0u32;
    loop {
        let page = store
            .oldest_sessions(SESSION_READ_PAGE.min(max - read).max(1), after.as_deref())
            .await?;
        read = read.saturating_add(page.sessions.len() as u32);
        for session in page.sessions {
            let fleet = FleetLocation::of(&session);
            ours.entry(fleet.to_string())
                .or_insert_with(|| (fleet, HashMap::new()))
                .1
                .insert(session.arn.as_str().to_owned(), session);
        }
        match page.next {
            Some(next) if read < max => after = Some(next),
            Some(_) => {
                tracing::warn!(
                    max,
                    "more ACTIVE sessions than one run reads; the newest wait"
                );
                return Ok(ours);
            }
            None => return Ok(ours),
        }
    }
}

/// How one fleet location's reconciliation ended.
enum FleetRun {
    /// Every page listed: sessions GameLift no longer lists were handled too.
    Complete,
    /// GameLift refused the listing (logged); the other locations go on.
    Failed,
    /// The budget, the deadline or throttling stopped the run.
    Stopped,
}

/// Sessions reconciled at once: each is a guarded read-and-write of its own partition, so they are
/// independent, and a page of corrections does not cost a page of round trips one after another.
const RECONCILE_CONCURRENCY: usize = 16;

/// What reconciling one session changed.
enum Reconciled {
    Nothing,
    Ended,
    Corrected,
}

/// One session against GameLift's word (`None`: GameLift's listing of its fleet location does not have
/// it). Every write is the store's guarded one, so a report or an event landing meanwhile wins cleanly.
async fn reconcile_session<S: SessionStore>(
    store: &S,
    session: &Session,
    gamelift: Option<&FleetSession>,
    now: Timestamp,
) -> Reconciled {
    let ended = match gamelift {
        Some(gs) => ENDED_STATUSES.contains(&gs.status.as_str()),
        None => session.created_at.plus_secs(UNKNOWN_SESSION_GRACE_SECS) <= now,
    };
    if ended {
        let status = gamelift.map_or("no longer listed by GameLift", |gs| gs.status.as_str());
        match store.end_session(SessionKey::Arn(&session.arn), now).await {
            Ok(Applied::Applied) => {
                tracing::info!(
                    session_id = session.id.as_str(),
                    status,
                    "session ended by GameLift; ended here"
                );
                return Reconciled::Ended;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(session_id = session.id.as_str(), error = %e, "could not end a session")
            }
        }
        return Reconciled::Nothing;
    }
    let Some(gs) = gamelift else {
        return Reconciled::Nothing;
    };
    // GameLift's count holds the reserved seats too.
    if gs.current_players == session.player_count.saturating_add(session.reserved_seats) {
        return Reconciled::Nothing;
    }
    let quiet_since = now.plus_secs(-QUIET_SERVER_SECS);
    match store
        .correct_player_count(&session.arn, gs.current_players, quiet_since, now)
        .await
    {
        Ok(Applied::Applied) => {
            tracing::info!(
                session_id = session.id.as_str(),
                reported = session.player_count,
                gamelift = gs.current_players,
                "game server quiet; player count taken from GameLift"
            );
            Reconciled::Corrected
        }
        Ok(_) => Reconciled::Nothing,
        Err(e) => {
            tracing::warn!(session_id = session.id.as_str(), error = %e, "could not correct a player count");
            Reconciled::Nothing
        }
    }
}
