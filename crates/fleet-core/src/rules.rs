//! The data rules of docs/architecture.md#data-rules as pure decisions: given what a session's partition holds now, what a
//! change does. Every store (DynamoDB, in-memory) reads the partition, asks here, and writes the answer
//! back guarded by what it read, so the rules exist once.

use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::ids::{PlayerId, SessionId};
use crate::input::GameProperties;
use crate::limits::SEAT_RESERVATION_SECS;
use crate::model::{PlayerSession, Seat, SeatStatus, Session, SessionStatus, Transition};
use crate::ports::{JoinRefused, StatusReport};
use crate::time::Timestamp;

/// The main item of a session's partition.
// One short-lived value per request: boxing the session would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Nothing yet.
    Missing,
    /// Ended before its placement event arrived: only the fact that it ended.
    Tombstone,
    /// Built from its placement event (ACTIVE or ENDED).
    Live {
        /// The session.
        session: Session,
        /// When its game server last reported.
        reported_at: Option<Timestamp>,
    },
}

/// A game server's report kept until the placement event creates the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingReport {
    /// The session's ARN.
    pub arn: String,
    /// Last reported player count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_count: Option<u32>,
    /// Last reported name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Last reported data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Properties reported so far, merged.
    #[serde(default)]
    pub properties: GameProperties,
    /// When it was last reported.
    pub reported_at: Timestamp,
}

/// Live RESERVED seats at `now`: the ones that still hold a slot.
pub fn live_reserved(seats: &[Seat], now: Timestamp) -> u32 {
    seats
        .iter()
        .filter(|s| s.status == SeatStatus::Reserved && s.expires_at > now)
        .count() as u32
}

/// Recomputes a session's counters from its seats: `reservedSeats` is the number of RESERVED seat items
/// (the counter equals the seats at rest); `openSlots` counts only reservations still in their window.
pub fn recount(session: &mut Session, seats: &[Seat], now: Timestamp) {
    session.reserved_seats = seats
        .iter()
        .filter(|s| s.status == SeatStatus::Reserved)
        .count() as u32;
    session.open_slots = if session.status == SessionStatus::Active && session.joinable {
        Session::compute_open_slots(
            session.max_players,
            session.player_count,
            live_reserved(seats, now),
        )
    } else {
        0
    };
}

/// Lays a report's fields over a session's (the server's word is newer than the create's).
fn overlay(
    session: &mut Session,
    player_count: Option<u32>,
    name: Option<&String>,
    data: Option<&String>,
    properties: Option<&GameProperties>,
) -> Result<(), FieldError> {
    if let Some(pc) = player_count {
        // GameLift never lets more players in than the cap; a report above it is clamped, not trusted.
        session.player_count = pc.min(session.max_players);
    }
    if let Some(n) = name {
        session.name = Some(n.clone());
    }
    if let Some(d) = data {
        session.data = Some(d.clone());
    }
    if let Some(p) = properties {
        session.properties = session.properties.merged(p)?;
    }
    Ok(())
}

/// What a fulfilled placement writes into the session's partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    /// The new session, with any earlier report merged in; `None` when the session already exists or
    /// ended before the event (then only the placement changes: nothing resurrects).
    pub session: Option<Session>,
    /// Seats to write (one RESERVED per placed player session).
    pub seats: Vec<Seat>,
    /// When the merged report was made (it must be removed with the same write).
    pub reported_at: Option<Timestamp>,
}

/// Decides the session side of a PlacementFulfilled. Times come from the event (`at`), so applying it
/// again computes the same items.
pub fn fulfil(
    state: &SessionState,
    report: Option<&PendingReport>,
    existing_seats: &[Seat],
    built: &Session,
    placed: &[PlayerSession],
    at: Timestamp,
) -> Result<Fulfilment, FieldError> {
    if *state != SessionState::Missing {
        return Ok(Fulfilment {
            session: None,
            seats: Vec::new(),
            reported_at: None,
        });
    }
    let mut session = built.clone();
    let mut reported_at = None;
    if let Some(r) = report {
        overlay(
            &mut session,
            r.player_count,
            r.name.as_ref(),
            r.data.as_ref(),
            Some(&r.properties),
        )?;
        // Same result whichever came first: a report applied after the event also leaves max(times).
        session.updated_at = at.max(r.reported_at);
        reported_at = Some(r.reported_at);
    }
    let seats: Vec<Seat> = placed
        .iter()
        .map(|ps| Seat {
            session_id: session.id.clone(),
            player_id: ps.player_id.clone(),
            status: SeatStatus::Reserved,
            expires_at: at.plus_secs(SEAT_RESERVATION_SECS),
            created_at: at,
            player_session_id: Some(ps.player_session_id.clone()),
        })
        .collect();
    let mut all = existing_seats.to_vec();
    for seat in &seats {
        all.retain(|s| s.player_id != seat.player_id);
        all.push(seat.clone());
    }
    recount(&mut session, &all, at);
    Ok(Fulfilment {
        session: Some(session),
        seats,
        reported_at,
    })
}

/// What a game server's report does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportEffect {
    /// The session ended, or a newer report already stands: nothing changes.
    Refused,
    /// Nothing would change.
    Duplicate,
    /// Write this session, and these seats: reservations whose window had passed, closed (EXPIRED)
    /// on the way, so that they leave `seatKeysByExpiry` with the session's next report instead of
    /// waiting for the sweeper.
    Session(Session, Vec<Seat>),
    /// No session yet: keep (or update) this pending report until the placement event arrives.
    Pending(PendingReport),
}

/// Decides a game server's report. A report on a live session also closes at most `max_lapsed`
/// reservations whose window had passed, in the same write: every seat lapses (none is confirmed
/// one by one), and a session's own reports come far more often than the sweeper could visit it
/// (at the target workload, every 50 s against 200 sessions a minute over a million); the sweeper's
/// seat phase is left the sessions that stopped reporting.
pub fn report(
    state: &SessionState,
    pending: Option<&PendingReport>,
    seats: &[Seat],
    arn: &str,
    report: &StatusReport,
    at: Timestamp,
    max_lapsed: usize,
) -> Result<ReportEffect, FieldError> {
    match state {
        SessionState::Tombstone => Ok(ReportEffect::Refused),
        SessionState::Live { session, .. } if session.status == SessionStatus::Ended => {
            Ok(ReportEffect::Refused)
        }
        SessionState::Live {
            session,
            reported_at,
        } => {
            if reported_at.is_some_and(|r| r > at) {
                return Ok(ReportEffect::Refused);
            }
            let mut new = session.clone();
            overlay(
                &mut new,
                report.player_count,
                report.name.as_ref(),
                report.data.as_ref(),
                report.properties.as_ref(),
            )?;
            let lapsed = match change_seats(&new, seats, at, max_lapsed, lapse(at)) {
                Some(plan) => {
                    new = plan.session;
                    plan.seats
                }
                None => {
                    recount(&mut new, seats, at);
                    Vec::new()
                }
            };
            // A report that changes nothing is still the newest word from the server when it is newer
            // than the last one: it must be written (moving `reported_at`), or an older report that
            // arrives later would be applied over it — and the order of reports would decide the state.
            if new == *session && reported_at.is_some_and(|r| r >= at) {
                return Ok(ReportEffect::Duplicate);
            }
            new.updated_at = at.max(session.updated_at);
            Ok(ReportEffect::Session(new, lapsed))
        }
        SessionState::Missing => {
            let mut next = match pending {
                Some(p) if p.reported_at > at => return Ok(ReportEffect::Refused),
                Some(p) => p.clone(),
                None => PendingReport {
                    arn: arn.to_owned(),
                    player_count: None,
                    name: None,
                    data: None,
                    properties: GameProperties::default(),
                    reported_at: at,
                },
            };
            if report.player_count.is_some() {
                next.player_count = report.player_count;
            }
            if report.name.is_some() {
                next.name.clone_from(&report.name);
            }
            if report.data.is_some() {
                next.data.clone_from(&report.data);
            }
            if let Some(p) = &report.properties {
                next.properties = next.properties.merged(p)?;
            }
            next.reported_at = at;
            Ok(ReportEffect::Pending(next))
        }
    }
}

/// GameLift's player count laid over a session whose game server has gone quiet (see
/// `SessionStore::correct_player_count`): the corrected session, or `None` when nothing changes —
/// not a live ACTIVE session, a report at or after `quiet_since`, or the same count.
pub fn gamelift_count(
    state: &SessionState,
    seats: &[Seat],
    count: u32,
    quiet_since: Timestamp,
    at: Timestamp,
) -> Option<Session> {
    let SessionState::Live {
        session,
        reported_at,
    } = state
    else {
        return None;
    };
    let last_word = reported_at.unwrap_or(session.created_at);
    if session.status != SessionStatus::Active || last_word >= quiet_since {
        return None;
    }
    let mut new = session.clone();
    recount(&mut new, seats, at);
    // GameLift counts RESERVED and ACTIVE player sessions; our reservations are counted apart, so the
    // players are GameLift's count less them. GameLift never admits more than the cap: clamp as a
    // report is clamped.
    let players = count
        .saturating_sub(new.reserved_seats)
        .min(new.max_players);
    if players == session.player_count {
        return None;
    }
    new.player_count = players;
    recount(&mut new, seats, at);
    new.updated_at = at.max(session.updated_at);
    Some(new)
}

/// What ending a session does.
#[allow(clippy::large_enum_variant)] // a short-lived decision, consumed at once
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndEffect {
    /// Already ended.
    Duplicate,
    /// Not known, and no ARN to record a tombstone under.
    Unknown,
    /// Write a tombstone (ended before its event).
    Tombstone,
    /// Write this ended session.
    Session(Session),
}

/// Decides the end of a session; `can_tombstone` is whether the caller named it by ARN.
pub fn end(state: &SessionState, can_tombstone: bool, at: Timestamp) -> EndEffect {
    match state {
        SessionState::Missing if can_tombstone => EndEffect::Tombstone,
        SessionState::Missing => EndEffect::Unknown,
        SessionState::Tombstone => EndEffect::Duplicate,
        SessionState::Live { session, .. } => match session.status.transition(SessionStatus::Ended)
        {
            Transition::Apply => {
                let mut ended = session.clone();
                ended.status = SessionStatus::Ended;
                ended.updated_at = at.max(session.updated_at);
                ended.open_slots = 0;
                EndEffect::Session(ended)
            }
            _ => EndEffect::Duplicate,
        },
    }
}

/// A session with `policy` laid over it at `at`, its open slots recounted (a locked session has
/// none; unlocking gives back what its seats leave). An ended session is refused.
pub fn set_policy(
    state: &SessionState,
    seats: &[Seat],
    policy: &crate::ports::SessionPolicy,
    at: Timestamp,
) -> Result<Session, crate::ports::PolicyRefused> {
    let mut new = active(state)?.clone();
    if let Some(joinable) = policy.joinable {
        new.joinable = joinable;
    }
    if let Some(protected) = policy.protected {
        new.protected = protected;
    }
    Ok(changed_at(new, seats, at))
}

/// The ACTIVE session a partition holds, or why a change to it is refused.
fn active(state: &SessionState) -> Result<&Session, crate::ports::PolicyRefused> {
    use crate::ports::PolicyRefused;
    match state {
        SessionState::Missing => Err(PolicyRefused::NotFound),
        SessionState::Tombstone => Err(PolicyRefused::NotActive),
        SessionState::Live { session, .. } if session.status != SessionStatus::Active => {
            Err(PolicyRefused::NotActive)
        }
        SessionState::Live { session, .. } => Ok(session),
    }
}

/// `session` changed at `at`: its `updatedAt` moved forward (never back) and its counters recounted
/// over `seats`.
fn changed_at(mut session: Session, seats: &[Seat], at: Timestamp) -> Session {
    session.updated_at = at.max(session.updated_at);
    recount(&mut session, seats, at);
    session
}

/// A join's writes: the session with its new counters and every seat item that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinPlan {
    /// The session after the join.
    pub session: Session,
    /// Seats to write: the new RESERVED ones and lapsed ones closed on the way.
    pub seats: Vec<Seat>,
    /// A repeated join: every player already holds a live seat with a known player session, and
    /// these are they. Nothing is written and GameLift is not asked again.
    pub rejoined: Option<Vec<PlayerSession>>,
}

/// Decides a join: refuses when the session is missing, ended or full; answers a repeated join, where
/// every player still holds a live seat (RESERVED within its window, or CONFIRMED) whose player session
/// is known, with those player sessions ([`JoinPlan::rejoined`]); refuses as already seated a join of
/// players some of whom hold a live seat otherwise (one still being joined, or a mix of seated and new
/// players); otherwise reserves one seat per player until `expires_at`, closing at most `max_lapsed`
/// lapsed reservations in the same write. A player whose seat lapsed gets a new one.
pub fn join(
    state: &SessionState,
    seats: &[Seat],
    players: &[PlayerId],
    now: Timestamp,
    expires_at: Timestamp,
    max_lapsed: usize,
) -> Result<JoinPlan, JoinRefused> {
    for (i, p) in players.iter().enumerate() {
        if players[..i].contains(p) {
            return Err(JoinRefused::AlreadySeated(p.clone()));
        }
    }
    let session = active(state).map_err(|refused| match refused {
        crate::ports::PolicyRefused::NotFound => JoinRefused::NotFound,
        crate::ports::PolicyRefused::NotActive => JoinRefused::NotActive,
    })?;
    let live = |p: &PlayerId| {
        seats.iter().find(|s| {
            &s.player_id == p
                && (s.status == SeatStatus::Confirmed
                    || (s.status == SeatStatus::Reserved && s.expires_at > now))
        })
    };
    let held: Vec<(&PlayerId, Option<&Seat>)> = players.iter().map(|p| (p, live(p))).collect();
    let rejoined: Option<Vec<PlayerSession>> = held
        .iter()
        .map(|(p, seat)| {
            let id = seat.and_then(|s| s.player_session_id.clone())?;
            Some(PlayerSession {
                player_id: (*p).clone(),
                player_session_id: id,
            })
        })
        .collect();
    if let Some(rejoined) = rejoined {
        return Ok(JoinPlan {
            session: session.clone(),
            seats: Vec::new(),
            rejoined: Some(rejoined),
        });
    }
    if let Some((p, _)) = held.iter().find(|(_, seat)| seat.is_some()) {
        return Err(JoinRefused::AlreadySeated((*p).clone()));
    }
    if !session.joinable {
        return Err(JoinRefused::Locked);
    }
    let wanted = players.len() as u32;
    let open = Session::compute_open_slots(
        session.max_players,
        session.player_count,
        live_reserved(seats, now),
    );
    if open < wanted {
        return Err(JoinRefused::Full { open, wanted });
    }
    let mut all = seats.to_vec();
    let mut touched = Vec::new();
    for seat in &mut all {
        let lapsed = seat.status == SeatStatus::Reserved && seat.expires_at <= now;
        if lapsed && !players.contains(&seat.player_id) && touched.len() < max_lapsed {
            seat.status = SeatStatus::Expired;
            touched.push(seat.clone());
        }
    }
    for p in players {
        all.retain(|s| &s.player_id != p);
        let seat = Seat {
            session_id: session.id.clone(),
            player_id: p.clone(),
            status: SeatStatus::Reserved,
            expires_at,
            created_at: now,
            player_session_id: None,
        };
        all.push(seat.clone());
        touched.push(seat);
    }
    Ok(JoinPlan {
        session: changed_at(session.clone(), &all, now),
        seats: touched,
        rejoined: None,
    })
}

/// Moves at most `max` seats that `pick` selects to the state it returns. Returns the session with its
/// new counters and the changed seats, or `None` when nothing is selected.
pub fn change_seats(
    session: &Session,
    seats: &[Seat],
    at: Timestamp,
    max: usize,
    pick: impl Fn(&Seat) -> Option<SeatStatus>,
) -> Option<JoinPlan> {
    let mut all = seats.to_vec();
    let mut touched = Vec::new();
    for seat in &mut all {
        if touched.len() == max {
            break;
        }
        if let Some(next) = pick(seat).filter(|n| seat.status.transition(*n) == Transition::Apply) {
            seat.status = next;
            touched.push(seat.clone());
        }
    }
    if touched.is_empty() {
        return None;
    }
    Some(JoinPlan {
        session: changed_at(session.clone(), &all, at),
        seats: touched,
        rejoined: None,
    })
}

/// What a seat whose reservation window has passed at `now` becomes: EXPIRED (the pick of
/// [`change_seats`] for closing lapsed seats; only a RESERVED seat can move).
pub fn lapse(now: Timestamp) -> impl Fn(&Seat) -> Option<SeatStatus> {
    move |seat| (seat.expires_at <= now).then_some(SeatStatus::Expired)
}

/// The seat of `player` in `session`, if the partition holds one.
pub fn seat_of<'a>(seats: &'a [Seat], session: &SessionId, player: &PlayerId) -> Option<&'a Seat> {
    seats
        .iter()
        .find(|s| &s.session_id == session && &s.player_id == player)
}

/// Builds the session a fulfilled placement created: where it runs and how to connect come from the
/// event (no DescribeGameSessions call), the cap, name, data and properties from the create.
pub fn session_from_fulfilled(
    placement: &crate::model::Placement,
    fulfilled: &crate::event::Fulfilled,
    at: Timestamp,
) -> Result<Session, FieldError> {
    let arn = &fulfilled.game_session_arn;
    let fleet_id = crate::ids::FleetId::parse(arn.fleet_id())
        .map_err(|e| e.within("detail.gameSessionArn"))?;
    let max_players = placement.max_players.get();
    Ok(Session {
        id: arn.session_id(),
        arn: arn.clone(),
        status: SessionStatus::Active,
        region: fulfilled.region.clone(),
        fleet_id,
        name: placement.name.clone(),
        data: placement.data.clone(),
        properties: placement.properties.clone(),
        player_count: 0,
        max_players,
        reserved_seats: 0,
        open_slots: max_players,
        joinable: true,
        protected: false,
        ip_address: fulfilled.ip_address.clone(),
        dns_name: fulfilled.dns_name.clone(),
        port: fulfilled.port,
        created_at: at,
        updated_at: at,
    })
}

/// What a placement event does to the placement it names: the outcome to apply and the time to stamp
/// it with (the event's own time, so a redelivery writes the same item). `None` for an unknown type.
pub fn outcome_of(
    placement: &crate::model::Placement,
    event: &crate::event::PlacementEvent,
) -> Result<Option<(crate::ports::PlacementOutcome, Timestamp)>, FieldError> {
    use crate::event::EventKind;
    use crate::model::PlacementStatus;
    use crate::ports::PlacementOutcome;

    // An event without any time is stamped with the placement's own creation time: deterministic.
    let at = event.occurred_at().unwrap_or(placement.created_at);
    // GameLift's failure text is cut to a bounded length: it is stored on the placement and pushed.
    let unfulfilled = |status, reason: Option<String>| {
        let reason = reason.map(|r| match r.char_indices().nth(crate::limits::REASON_MAX) {
            Some((cut, _)) => format!("{}…", &r[..cut]),
            None => r,
        });
        Some((PlacementOutcome::Unfulfilled { status, reason }, at))
    };
    Ok(match &event.kind {
        EventKind::Fulfilled(f) => {
            let session = session_from_fulfilled(placement, f, at)?;
            Some((
                PlacementOutcome::Fulfilled {
                    session: Box::new(session),
                    player_sessions: f.placed_player_sessions.clone(),
                },
                at,
            ))
        }
        EventKind::TimedOut => unfulfilled(
            PlacementStatus::TimedOut,
            Some("placement timed out in the queue".into()),
        ),
        EventKind::Cancelled => unfulfilled(
            PlacementStatus::Cancelled,
            Some("placement was cancelled".into()),
        ),
        EventKind::Failed {
            error_code,
            error_message,
        } => {
            let reason = match (error_code, error_message) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => "placement failed".to_owned(),
            };
            unfulfilled(PlacementStatus::Failed, Some(reason))
        }
        EventKind::Unknown { .. } => None,
    })
}
