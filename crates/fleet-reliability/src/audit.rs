//! Invariant audits over a table snapshot, shared by the rows: each returns the violations it found,
//! as sentences (an empty list is a pass).
//!
//! | Check | Invariants |
//! |---|---|
//! | [`sessions`] | I1 (cap ≤ 200, reserved seats ≤ cap, player count ≤ cap, counter = RESERVED seat items), I2 (one seat item per player), I11 (no negative counter), ENDED sessions hold no open slot |
//! | [`dynamo`] | all of the above from a full Scan of the DynamoDB table, plus index hygiene: only ACTIVE sessions carry list keys (I3: an ended session is never listed), only PENDING placements are in the sweeper's index, only RESERVED seats in the expiry index, and no counter is stored negative |
//! | [`monotonic`] | I3 between two snapshots: a terminal placement keeps its status, an ended session stays ended |
//!
//! The DynamoDB audit uses a Scan: test inspection only, never a request path (I8).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::{DynamoStore, codec};
use fleet_core::ids::SessionId;
use fleet_core::index;
use fleet_core::limits::MAX_PLAYERS;
use fleet_core::model::{Placement, PlacementStatus, Seat, SeatStatus, Session, SessionStatus};
use fleet_core::rules::SessionState;

/// One DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// A snapshot of the table in model terms.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every placement.
    pub placements: BTreeMap<String, Placement>,
    /// Every session main item: `None` for a tombstone.
    pub sessions: BTreeMap<String, Option<Session>>,
    /// Every seat, by session id.
    pub seats: BTreeMap<String, Vec<Seat>>,
}

/// Checks the sessions and their seats of a snapshot (I1, I2, I11).
pub fn sessions(snap: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (id, session) in &snap.sessions {
        let seats = snap.seats.get(id).map(Vec::as_slice).unwrap_or_default();
        let Some(s) = session else {
            if !seats.is_empty() {
                out.push(format!(
                    "I3: tombstoned session {id} holds {} seat items",
                    seats.len()
                ));
            }
            continue;
        };
        check_session(s, seats, &mut out);
    }
    for (id, seats) in &snap.seats {
        if !snap.sessions.contains_key(id) {
            out.push(format!(
                "I1: {} seat items of session {id} without a session item",
                seats.len()
            ));
        }
    }
    out
}

/// Checks one session against its seats.
pub fn check_session(s: &Session, seats: &[Seat], out: &mut Vec<String>) {
    let id = s.id.as_str();
    if s.max_players == 0 || s.max_players > MAX_PLAYERS {
        out.push(format!(
            "I1: session {id} maxPlayers {} outside 1–{MAX_PLAYERS}",
            s.max_players
        ));
    }
    if s.player_count > s.max_players {
        out.push(format!(
            "I1: session {id} playerCount {} > maxPlayers {}",
            s.player_count, s.max_players
        ));
    }
    let reserved = seats
        .iter()
        .filter(|x| x.status == SeatStatus::Reserved)
        .count() as u32;
    if s.reserved_seats != reserved {
        out.push(format!(
            "I1: session {id} counter reservedSeats {} ≠ {reserved} RESERVED seat items",
            s.reserved_seats
        ));
    }
    if reserved > s.max_players {
        out.push(format!(
            "I1: session {id} has {reserved} RESERVED seats for {} places",
            s.max_players
        ));
    }
    if s.open_slots > s.max_players.saturating_sub(s.player_count) {
        out.push(format!(
            "I1: session {id} openSlots {} > maxPlayers − playerCount",
            s.open_slots
        ));
    }
    if s.status == SessionStatus::Ended && s.open_slots != 0 {
        out.push(format!(
            "I3: ended session {id} still shows {} open slots",
            s.open_slots
        ));
    }
    let mut players = BTreeSet::new();
    for seat in seats {
        if seat.session_id != s.id {
            out.push(format!(
                "I2: seat of {} filed under session {id}",
                seat.session_id
            ));
        }
        if !players.insert(seat.player_id.as_str()) {
            out.push(format!(
                "I2: player {} holds two seat items in session {id}",
                seat.player_id.as_str()
            ));
        }
    }
}

/// I3 between an earlier and a later snapshot.
pub fn monotonic(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let mut out = Vec::new();
    for (id, p) in &before.placements {
        if p.status.is_terminal() {
            match after.placements.get(id) {
                Some(q) if q.status == p.status => {}
                Some(q) => out.push(format!(
                    "I3: terminal placement {id} moved {} → {}",
                    p.status.as_str(),
                    q.status.as_str()
                )),
                None => out.push(format!("I3: terminal placement {id} vanished")),
            }
        }
    }
    for (id, s) in &before.sessions {
        let ended = s.as_ref().is_none_or(|s| s.status == SessionStatus::Ended);
        if ended {
            let still = after
                .sessions
                .get(id)
                .is_some_and(|a| a.as_ref().is_none_or(|s| s.status == SessionStatus::Ended));
            if !still {
                out.push(format!("I3: ended session {id} came back"));
            }
        }
    }
    out
}

pub use fleet_testkit::table::scan;

/// The seat items of one session partition (a consistent Query; test inspection).
pub async fn dynamo_partition_seats(store: &DynamoStore, id: &SessionId) -> Vec<Seat> {
    let out = store
        .client()
        .query()
        .table_name(store.table())
        .key_condition_expression("#pk = :pk AND begins_with(#sk, :seat)")
        .expression_attribute_names("#pk", index::PK)
        .expression_attribute_names("#sk", index::SK)
        .expression_attribute_values(":pk", AttributeValue::S(index::session_pk(id)))
        .expression_attribute_values(":seat", AttributeValue::S(index::SEAT_SK_PREFIX.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("query seats: {e:?}"));
    out.items()
        .iter()
        .map(|i| codec::seat_from_item(i).unwrap_or_else(|e| panic!("seat item: {e}")))
        .collect()
}

/// Records a violation when `item` carries the index key `on` and should not, or the other way round
/// (`want`): "`what` with `index`=`carried`".
fn check_indexed(
    out: &mut Vec<String>,
    item: &Item,
    on: &str,
    want: bool,
    what: &str,
    index: &str,
) {
    let carried = item.contains_key(on);
    if carried != want {
        out.push(format!("{what} with {index}={carried}"));
    }
}

/// The snapshot of a DynamoDB table, and the violations only the raw items show (index hygiene,
/// negative numbers, undecodable items).
pub async fn dynamo(store: &DynamoStore) -> (Snapshot, Vec<String>) {
    let mut snap = Snapshot::default();
    let mut out = Vec::new();
    for item in scan(store).await {
        let key = codec::item_key(&item);
        for (name, v) in &item {
            if let AttributeValue::N(n) = v
                && n.starts_with('-')
            {
                out.push(format!("I11: {key} stores {name} = {n}"));
            }
        }
        match codec::get_s(&item, codec::KIND) {
            Some("placement") => match codec::placement_from_item(&item) {
                Ok(p) => {
                    let pending = p.status == PlacementStatus::Pending;
                    let what = format!("index: placement {key} {}", p.status.as_str());
                    let on = index::PENDING_BY_DEADLINE.pk;
                    check_indexed(&mut out, &item, on, pending, &what, "pendingByDeadline");
                    snap.placements
                        .insert(p.placement_id.as_str().to_owned(), p);
                }
                Err(e) => out.push(format!("corrupt placement {key}: {e}")),
            },
            Some("session") | Some("tombstone") => match codec::session_state_from_item(&item) {
                Ok((SessionState::Live { session, .. }, _)) => {
                    let active = session.status == SessionStatus::Active;
                    let what = format!("I3/index: session {key} {}", session.status.as_str());
                    let on = index::BY_CREATED.pk;
                    check_indexed(&mut out, &item, on, active, &what, "list keys");
                    snap.sessions
                        .insert(session.id.as_str().to_owned(), Some(session));
                }
                Ok((SessionState::Tombstone, _)) => {
                    if item.contains_key(index::BY_CREATED.pk) {
                        out.push(format!("I3/index: tombstone {key} carries list keys"));
                    }
                    let id = codec::get_s(&item, index::PK)
                        .unwrap_or_default()
                        .trim_start_matches("S#")
                        .to_owned();
                    snap.sessions.insert(id, None);
                }
                Ok((SessionState::Missing, _)) => {}
                Err(e) => out.push(format!("corrupt session {key}: {e}")),
            },
            Some("seat") => match codec::seat_from_item(&item) {
                Ok(seat) => {
                    let reserved = seat.status == SeatStatus::Reserved;
                    let what = format!("index: seat {key} {}", seat.status.as_str());
                    let on = index::SEATS_BY_EXPIRY.pk;
                    check_indexed(
                        &mut out,
                        &item,
                        on,
                        reserved,
                        &what,
                        index::SEATS_BY_EXPIRY.name,
                    );
                    snap.seats
                        .entry(seat.session_id.as_str().to_owned())
                        .or_default()
                        .push(seat);
                }
                Err(e) => out.push(format!("corrupt seat {key}: {e}")),
            },
            _ => {}
        }
    }
    out.extend(sessions(&snap));
    (snap, out)
}

/// The snapshot of an in-memory store, for the placements and sessions a run knows it touched (the
/// fake has no Scan; a tombstone and a session never seen both read as absent).
pub async fn memory(
    store: &fleet_core::fakes::MemoryStore,
    placements: &[fleet_core::ids::PlacementId],
    sessions: &[SessionId],
) -> Snapshot {
    use fleet_core::ports::SessionStore as _;
    let mut snap = Snapshot::default();
    for id in placements {
        if let Some(p) = store
            .get_placement(id)
            .await
            .unwrap_or_else(|e| panic!("get placement: {e}"))
        {
            snap.placements.insert(id.as_str().to_owned(), p);
        }
    }
    for id in sessions {
        if let Some(s) = store
            .get_session(id)
            .await
            .unwrap_or_else(|e| panic!("get session: {e}"))
        {
            let seats = store.seats_of(id);
            snap.seats.insert(id.as_str().to_owned(), seats);
            snap.sessions.insert(id.as_str().to_owned(), Some(s));
        }
    }
    snap
}
