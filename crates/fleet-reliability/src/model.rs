//! The reference model: what a script of placement events, game-server reports and deletes must leave
//! in the table, computed from the script alone — first terminal outcome wins, an ended session stays
//! ended, the latest report wins, a fulfilled session holds one RESERVED seat per placed player — and
//! **not** by calling `fleet_core::rules`, so it is an independent oracle for them.
//!
//! [`run`] plays a script in a given delivery order against any store through the real
//! placement-events handler and the store's report/delete operations; [`observe`] reads back the
//! same shape [`expected`] computes.

use std::collections::BTreeMap;

use fleet_core::ids::SessionId;
use fleet_core::model::{Placement, PlacementStatus, Seat, SeatStatus, SessionStatus};
use fleet_core::ports::{SessionKey, SessionStore, StatusReport};
use fleet_core::time::Timestamp;
use fleet_functions::placement_events::{RecordOutcome, apply_record};

use crate::fixtures::{T0, arn, fulfilled_body, placement, sqs_record, unfulfilled_body};

/// The cap of every script placement.
pub const MAX_PLAYERS: u32 = 8;

/// One thing that happens to the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// GameLift's `PlacementFulfilled` for `placement`, into session `session`, at `end_s`.
    Fulfilled {
        /// Placement name (namespaced by the run).
        placement: String,
        /// Session number.
        session: u32,
        /// Placed players.
        players: Vec<String>,
        /// Seconds after [`T0`].
        end_s: i64,
    },
    /// A terminal event without a session.
    Unfulfilled {
        /// Placement name.
        placement: String,
        /// `PlacementTimedOut`, `PlacementCancelled` or `PlacementFailed`.
        kind: &'static str,
        /// Seconds after [`T0`].
        end_s: i64,
    },
    /// The game server's `update_instance_info` with a player count.
    Report {
        /// Session number.
        session: u32,
        /// Reported players.
        count: u32,
        /// Seconds after [`T0`].
        at_s: i64,
    },
    /// The game server's `delete_instance_info`, by ARN.
    Delete {
        /// Session number.
        session: u32,
        /// Seconds after [`T0`].
        at_s: i64,
    },
}

/// A script: the placements it starts (names) and what happens to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// A name for reports.
    pub name: String,
    /// Placements created (PENDING) before anything happens.
    pub placements: Vec<String>,
    /// The actions, in script order (runs deliver them in other orders).
    pub actions: Vec<Action>,
}

/// What a session must look like at rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionView {
    /// Never created, or ended (deleted before or after its event): not joinable, not listed.
    Gone,
    /// ACTIVE with these fields.
    Active {
        /// Last reported count (0 without a report), capped at the cap.
        player_count: u32,
        /// The cap.
        max_players: u32,
        /// RESERVED seats counted on the session.
        reserved_seats: u32,
        /// `max − count − live reservations`, floored at 0.
        open_slots: u32,
        /// Last change: the latest of the event's time and the reports' times.
        updated_at: Timestamp,
        /// Seats: (player, status, expiry).
        seats: Vec<(String, SeatStatus, Timestamp)>,
    },
}

/// The state a script leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    /// Placement name → status.
    pub placements: BTreeMap<String, PlacementStatus>,
    /// Session number → view.
    pub sessions: BTreeMap<u32, SessionView>,
}

fn secs(s: i64) -> Timestamp {
    T0.plus_secs(s)
}

/// What `actions`, delivered in this order, must leave (see the module docs).
///
/// Reports are assumed to carry distinct times, and every time lies within the seat window of the
/// fulfilment (the scripts are built so); both keep "the latest" and "live" unambiguous.
pub fn expected(script: &Script, order: &[usize]) -> View {
    let mut status: BTreeMap<String, PlacementStatus> = script
        .placements
        .iter()
        .map(|p| (p.clone(), PlacementStatus::Pending))
        .collect();
    let mut created: BTreeMap<u32, (Vec<String>, i64)> = BTreeMap::new();
    let mut deleted: BTreeMap<u32, bool> = BTreeMap::new();
    let mut latest: BTreeMap<u32, (i64, u32)> = BTreeMap::new();
    let mut touched: Vec<u32> = Vec::new();
    for &i in order {
        match &script.actions[i] {
            Action::Fulfilled {
                placement,
                session,
                players,
                end_s,
            } => {
                touched.push(*session);
                if status.get(placement) == Some(&PlacementStatus::Pending) {
                    status.insert(placement.clone(), PlacementStatus::Fulfilled);
                    created
                        .entry(*session)
                        .or_insert_with(|| (players.clone(), *end_s));
                }
            }
            Action::Unfulfilled {
                placement, kind, ..
            } => {
                if status.get(placement) == Some(&PlacementStatus::Pending) {
                    let st = match *kind {
                        "PlacementTimedOut" => PlacementStatus::TimedOut,
                        "PlacementCancelled" => PlacementStatus::Cancelled,
                        _ => PlacementStatus::Failed,
                    };
                    status.insert(placement.clone(), st);
                }
            }
            Action::Report {
                session,
                count,
                at_s,
            } => {
                touched.push(*session);
                let e = latest.entry(*session).or_insert((*at_s, *count));
                if *at_s > e.0 {
                    *e = (*at_s, *count);
                }
            }
            Action::Delete { session, .. } => {
                touched.push(*session);
                deleted.insert(*session, true);
            }
        }
    }
    let mut sessions = BTreeMap::new();
    for n in touched {
        let view = match created.get(&n) {
            Some((players, end_s)) if !deleted.contains_key(&n) => {
                let (at, count) = latest
                    .get(&n)
                    .copied()
                    .map_or((None, 0), |(a, c)| (Some(a), c));
                let player_count = count.min(MAX_PLAYERS);
                let reserved = players.len() as u32;
                let mut seats: Vec<(String, SeatStatus, Timestamp)> = players
                    .iter()
                    .map(|p| (p.clone(), SeatStatus::Reserved, secs(*end_s).plus_secs(60)))
                    .collect();
                seats.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
                SessionView::Active {
                    player_count,
                    max_players: MAX_PLAYERS,
                    reserved_seats: reserved,
                    open_slots: MAX_PLAYERS.saturating_sub(player_count + reserved),
                    updated_at: secs(at.map_or(*end_s, |a| a.max(*end_s))),
                    seats,
                }
            }
            _ => SessionView::Gone,
        };
        sessions.insert(n, view);
    }
    View {
        placements: status,
        sessions,
    }
}

/// Reads a session's seats (the in-memory store and DynamoDB each know how).
pub trait Seats {
    /// Every seat item of the session.
    fn seats(&self, id: &SessionId) -> impl std::future::Future<Output = Vec<Seat>> + Send;
}

impl Seats for fleet_core::fakes::MemoryStore {
    async fn seats(&self, id: &SessionId) -> Vec<Seat> {
        self.seats_of(id)
    }
}

impl Seats for fleet_aws::dynamo::DynamoStore {
    async fn seats(&self, id: &SessionId) -> Vec<Seat> {
        crate::audit::dynamo_partition_seats(self, id).await
    }
}

/// Creates the script's placements (PENDING).
pub async fn setup<S: SessionStore>(store: &S, ns: &str, script: &Script) {
    for p in &script.placements {
        let placement: Placement = placement(ns, p, MAX_PLAYERS, &[]);
        store
            .create_placement(&placement, None)
            .await
            .unwrap_or_else(|e| panic!("create {p}: {e}"));
    }
}

/// Delivers one action: an event through the placement-events handler, a report or delete through
/// the store's guarded operations (what status-rpc calls). Returns the record outcome for events.
pub async fn deliver<S: SessionStore>(
    store: &S,
    ns: &str,
    action: &Action,
    message: &str,
) -> Option<RecordOutcome> {
    match action {
        Action::Fulfilled {
            placement,
            session,
            players,
            end_s,
        } => {
            let players: Vec<&str> = players.iter().map(String::as_str).collect();
            let body = fulfilled_body(ns, placement, *session, &players, secs(*end_s));
            Some(apply_record(store, &sqs_record(message, &body, 1)).await)
        }
        Action::Unfulfilled {
            placement,
            kind,
            end_s,
        } => {
            let body = unfulfilled_body(ns, placement, kind, secs(*end_s));
            Some(apply_record(store, &sqs_record(message, &body, 1)).await)
        }
        Action::Report {
            session,
            count,
            at_s,
        } => {
            let report = StatusReport {
                player_count: Some(*count),
                ..StatusReport::default()
            };
            let applied = store
                .apply_report(&arn(ns, *session), &report, secs(*at_s))
                .await;
            applied.unwrap_or_else(|e| panic!("report: {e}"));
            None
        }
        Action::Delete { session, at_s } => {
            let a = arn(ns, *session);
            store
                .end_session(SessionKey::Arn(&a), secs(*at_s))
                .await
                .unwrap_or_else(|e| panic!("delete: {e}"));
            None
        }
    }
}

/// Reads back what [`expected`] computes.
pub async fn observe<S: SessionStore + Seats>(store: &S, ns: &str, script: &Script) -> View {
    let mut placements = BTreeMap::new();
    for p in &script.placements {
        let got = store
            .get_placement(&crate::fixtures::pid(ns, p))
            .await
            .unwrap_or_else(|e| panic!("get {p}: {e}"));
        placements.insert(
            p.clone(),
            got.map_or(PlacementStatus::Pending, |x| x.status),
        );
    }
    let mut sessions = BTreeMap::new();
    let numbers: std::collections::BTreeSet<u32> = script
        .actions
        .iter()
        .map(|a| match a {
            Action::Fulfilled { session, .. }
            | Action::Report { session, .. }
            | Action::Delete { session, .. } => *session,
            Action::Unfulfilled { .. } => u32::MAX,
        })
        .filter(|n| *n != u32::MAX)
        .collect();
    for n in numbers {
        let id = arn(ns, n).session_id();
        let view = match store
            .get_session(&id)
            .await
            .unwrap_or_else(|e| panic!("get session: {e}"))
        {
            Some(s) if s.status == SessionStatus::Active => {
                let mut seats: Vec<(String, SeatStatus, Timestamp)> = store
                    .seats(&id)
                    .await
                    .into_iter()
                    .map(|s| (s.player_id.as_str().to_owned(), s.status, s.expires_at))
                    .collect();
                seats.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
                SessionView::Active {
                    player_count: s.player_count,
                    max_players: s.max_players,
                    reserved_seats: s.reserved_seats,
                    open_slots: s.open_slots,
                    updated_at: s.updated_at,
                    seats,
                }
            }
            _ => SessionView::Gone,
        };
        sessions.insert(n, view);
    }
    View {
        placements,
        sessions,
    }
}

/// Whether every placement of the script receives only one kind of outcome (then, and only then, the
/// final state must not depend on the delivery order at all).
pub fn order_free(script: &Script) -> bool {
    let mut kinds: BTreeMap<&str, &str> = BTreeMap::new();
    for a in &script.actions {
        let (p, k) = match a {
            Action::Fulfilled { placement, .. } => (placement.as_str(), "F"),
            Action::Unfulfilled {
                placement, kind, ..
            } => (placement.as_str(), *kind),
            _ => continue,
        };
        if *kinds.entry(p).or_insert(k) != k {
            return false;
        }
    }
    true
}

/// The hazard scripts of R02/R03 (each ≤ 5 actions, every time inside one seat window).
pub fn hazard_scripts() -> Vec<Script> {
    use Action::*;
    let f = |p: &str, s: u32, players: &[&str], end_s: i64| Fulfilled {
        placement: p.into(),
        session: s,
        players: players.iter().map(|x| (*x).to_owned()).collect(),
        end_s,
    };
    let u = |p: &str, kind: &'static str, end_s: i64| Unfulfilled {
        placement: p.into(),
        kind,
        end_s,
    };
    let r = |s: u32, count: u32, at_s: i64| Report {
        session: s,
        count,
        at_s,
    };
    let d = |s: u32, at_s: i64| Delete { session: s, at_s };
    let script = |name: &str, placements: &[&str], actions: Vec<Action>| Script {
        name: name.into(),
        placements: placements.iter().map(|p| (*p).to_owned()).collect(),
        actions,
    };
    vec![
        script(
            "fulfilled, reports around it",
            &["a"],
            vec![
                f("a", 1, &["ann", "bob"], 5),
                r(1, 3, 10),
                r(1, 0, 20),
                r(1, 2, 15),
            ],
        ),
        script(
            "report before event, then delete",
            &["a"],
            vec![r(1, 4, 2), f("a", 1, &["ann"], 5), d(1, 30), r(1, 5, 40)],
        ),
        script(
            "delete then late fulfilled",
            &["a"],
            vec![d(1, 3), f("a", 1, &["ann"], 5), r(1, 1, 6)],
        ),
        script(
            "two placements, one times out",
            &["a", "b"],
            vec![
                f("a", 1, &[], 4),
                u("b", "PlacementTimedOut", 30),
                r(1, 2, 8),
                r(1, 1, 9),
            ],
        ),
        script(
            "stop after fulfilled",
            &["a"],
            vec![
                f("a", 1, &["ann"], 5),
                u("a", "PlacementCancelled", 6),
                r(1, 1, 7),
            ],
        ),
        script(
            "failed and fulfilled race",
            &["a", "b"],
            vec![
                u("a", "PlacementFailed", 5),
                f("b", 2, &["cy", "di", "ed"], 6),
                r(2, 3, 9),
                d(2, 40),
            ],
        ),
        script(
            "same-count report after event",
            &["a"],
            vec![f("a", 1, &["ann"], 10), r(1, 0, 20), r(1, 5, 15)],
        ),
    ]
}
