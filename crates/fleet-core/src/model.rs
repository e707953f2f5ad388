//! Sessions, placements and seats, and the state machines that say which changes are allowed.
//!
//! Events are best effort (duplicated, late, reordered), so every transition answers one of three
//! ways: it applies, it is a duplicate of what already happened (acknowledge, change nothing), or it is
//! refused because a terminal state was already reached (acknowledge, change nothing, log).

use serde::{Deserialize, Serialize};

use crate::ids::{FleetId, GameSessionArn, PlacementId, PlayerId, Region, SessionId};
use crate::input::{GameProperties, Latency, MaxPlayers};
use crate::request::CreateSession;
use crate::time::Timestamp;

/// What a requested state change does to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The change is allowed and changes the record.
    Apply,
    /// The record is already in that state: nothing to do.
    Duplicate,
    /// The record is in a final state that cannot change: nothing to do.
    Refused,
}

/// Where a GameLift queue placement stands. PENDING → FULFILLED | TIMED_OUT | CANCELLED | FAILED;
/// terminal states are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlacementStatus {
    /// Waiting for GameLift.
    Pending,
    /// A game session was placed.
    Fulfilled,
    /// The queue's timeout passed without a placement.
    TimedOut,
    /// Someone stopped it.
    Cancelled,
    /// GameLift could not place it.
    Failed,
}

impl PlacementStatus {
    /// All statuses.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Fulfilled,
        Self::TimedOut,
        Self::Cancelled,
        Self::Failed,
    ];

    /// Whether no further change is possible.
    pub const fn is_terminal(self) -> bool {
        !matches!(self, Self::Pending)
    }

    /// What moving from `self` to `next` does.
    pub fn transition(self, next: Self) -> Transition {
        if self == next {
            Transition::Duplicate
        } else if self == Self::Pending {
            Transition::Apply
        } else {
            Transition::Refused
        }
    }

    /// The wire name (`TIMED_OUT`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Fulfilled => "FULFILLED",
            Self::TimedOut => "TIMED_OUT",
            Self::Cancelled => "CANCELLED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

/// A game session's life: ACTIVE (joinable, listed) → ENDED (a tombstone; never back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionStatus {
    /// Joinable and listed.
    Active,
    /// Ended or deleted: kept as a tombstone so late events cannot bring it back.
    Ended,
}

impl SessionStatus {
    /// What moving from `self` to `next` does.
    pub fn transition(self, next: Self) -> Transition {
        match (self, next) {
            (a, b) if a == b => Transition::Duplicate,
            (Self::Active, Self::Ended) => Transition::Apply,
            _ => Transition::Refused,
        }
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Ended => "ENDED",
        }
    }

    /// Parses the wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        [Self::Active, Self::Ended]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A seat a join reserved: RESERVED → CONFIRMED | EXPIRED | RELEASED.
///
/// RESERVED counts against the session's open slots. CONFIRMED means the game server's report now
/// covers the player; EXPIRED means the reservation window passed; RELEASED means GameLift refused the
/// join and the local reservation was undone. Only RESERVED seats count in `reservedSeats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatStatus {
    /// Held for a player who has not connected yet.
    Reserved,
    /// The player connected; the server's player count covers it.
    Confirmed,
    /// The reservation window passed.
    Expired,
    /// Undone because GameLift refused the join.
    Released,
}

impl SeatStatus {
    /// What moving from `self` to `next` does.
    pub fn transition(self, next: Self) -> Transition {
        match (self, next) {
            (a, b) if a == b => Transition::Duplicate,
            (Self::Reserved, _) => Transition::Apply,
            _ => Transition::Refused,
        }
    }

    /// Whether the seat still holds a place (and blocks a second seat for the same player).
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Reserved | Self::Confirmed)
    }

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "RESERVED",
            Self::Confirmed => "CONFIRMED",
            Self::Expired => "EXPIRED",
            Self::Released => "RELEASED",
        }
    }
}

/// A game session as fleetlift lists and returns it (docs/architecture.md#http-api).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Short id derived from `arn`.
    pub id: SessionId,
    /// GameLift's ARN.
    pub arn: GameSessionArn,
    /// ACTIVE or ENDED.
    pub status: SessionStatus,
    /// Where it runs (the placement's `gameSessionRegion`).
    pub region: Region,
    /// Its fleet.
    pub fleet_id: FleetId,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Opaque game data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Game properties (filterable in queries).
    #[serde(default)]
    pub properties: GameProperties,
    /// Players the game server last reported.
    pub player_count: u32,
    /// Cap.
    pub max_players: u32,
    /// Seats reserved by joins that the server's report does not cover yet.
    pub reserved_seats: u32,
    /// `maxPlayers − playerCount − reservedSeats`, floored at 0: what a join may still take (0 while
    /// the session is not joinable).
    pub open_slots: u32,
    /// Whether new players may join: GameLift's `PlayerSessionCreationPolicy` ACCEPT_ALL (the default)
    /// or DENY_ALL. A locked session keeps its players and takes no new ones.
    #[serde(default = "joinable_default")]
    pub joinable: bool,
    /// Whether GameLift protects the session's instance from scale-in (`ProtectionPolicy`
    /// FullProtection); the queue's fleets decide the default, recorded here as false until set.
    #[serde(default)]
    pub protected: bool,
    /// Connection address.
    pub ip_address: String,
    /// Connection DNS name.
    pub dns_name: String,
    /// Connection port.
    pub port: u16,
    /// When GameLift placed it.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

fn joinable_default() -> bool {
    true
}

impl Session {
    /// `maxPlayers − playerCount − reservedSeats`, never below zero.
    ///
    /// Seats reserved by joins count on top of the server's report until they expire (GameLift's own
    /// 60 s reservation window) or are confirmed. This over-counts for at most one window when a
    /// reserved player has connected and been reported but the seat is still RESERVED, and never
    /// under-counts, so a join never succeeds locally where GameLift would refuse it as full.
    pub fn compute_open_slots(max_players: u32, player_count: u32, reserved_seats: u32) -> u32 {
        max_players.saturating_sub(player_count.saturating_add(reserved_seats))
    }
}

/// A player session GameLift reserved for a player.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerSession {
    /// Whose.
    pub player_id: PlayerId,
    /// GameLift's `psess-…` id.
    pub player_session_id: String,
}

/// A player named in a create, with optional data for its player session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementPlayer {
    /// The player.
    pub player_id: PlayerId,
    /// Data for the player session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_data: Option<String>,
}

/// A queue placement fleetlift started, with what it needs to build the session when it is fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// GameLift's PlacementId (we choose it; never reused).
    pub placement_id: PlacementId,
    /// Where it stands.
    pub status: PlacementStatus,
    /// Who asked (a player's `sub` or a service principal), for authorization and notification.
    pub requester: String,
    /// Players named in the create; each gets a player session.
    #[serde(default)]
    pub players: Vec<PlacementPlayer>,
    /// Cap of the session to create.
    pub max_players: MaxPlayers,
    /// Name of the session to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Data of the session to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Properties of the session to create.
    #[serde(default)]
    pub properties: GameProperties,
    /// Latencies given to GameLift.
    #[serde(default)]
    pub latencies: Vec<Latency>,
    /// Regions placement was restricted to (empty: the queue's own order).
    #[serde(default)]
    pub regions: Vec<Region>,
    /// The placed session, once FULFILLED.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<SessionId>,
    /// Player sessions GameLift reserved for `players`, once FULFILLED.
    #[serde(default)]
    pub player_sessions: Vec<PlayerSession>,
    /// Why it did not fulfil.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When it was started.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// When the sweeper asks GameLift if no event has arrived (queue timeout plus a margin).
    pub deadline: Timestamp,
}

impl Placement {
    /// The PENDING placement `create` writes before it asks GameLift to start it: `placement_id`
    /// chosen by fleetlift, `requester` the caller, started `now`, swept after `deadline`.
    pub fn pending(
        create: CreateSession,
        placement_id: PlacementId,
        requester: String,
        now: Timestamp,
        deadline: Timestamp,
    ) -> Self {
        Self {
            placement_id,
            status: PlacementStatus::Pending,
            requester,
            players: create.players,
            max_players: create.max_players,
            name: create.name,
            data: create.data,
            properties: create.properties,
            latencies: create.latencies,
            regions: create.regions,
            session_id: None,
            player_sessions: Vec::new(),
            reason: None,
            created_at: now,
            updated_at: now,
            deadline,
        }
    }
}

/// A seat a join (or a create's player list) reserved in a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Seat {
    /// Which session.
    pub session_id: SessionId,
    /// Whose seat.
    pub player_id: PlayerId,
    /// Where it stands.
    pub status: SeatStatus,
    /// When the reservation lapses unless confirmed.
    pub expires_at: Timestamp,
    /// When it was reserved.
    pub created_at: Timestamp,
    /// GameLift's player session for it, once known (from the placement, or recorded after the join's
    /// CreatePlayerSessions): what a repeated join by the same player answers with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player_session_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_placement_states_are_final() {
        for from in PlacementStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            for to in PlacementStatus::ALL {
                let t = from.transition(to);
                assert_eq!(
                    t,
                    if from == to {
                        Transition::Duplicate
                    } else {
                        Transition::Refused
                    },
                    "{from:?}->{to:?}"
                );
            }
        }
    }

    #[test]
    fn a_pending_placement_may_reach_any_terminal_state() {
        for to in PlacementStatus::ALL.into_iter().filter(|s| s.is_terminal()) {
            assert_eq!(PlacementStatus::Pending.transition(to), Transition::Apply);
        }
        assert_eq!(
            PlacementStatus::Pending.transition(PlacementStatus::Pending),
            Transition::Duplicate
        );
    }

    #[test]
    fn an_ended_session_never_comes_back() {
        assert_eq!(
            SessionStatus::Active.transition(SessionStatus::Ended),
            Transition::Apply
        );
        assert_eq!(
            SessionStatus::Ended.transition(SessionStatus::Active),
            Transition::Refused
        );
        assert_eq!(
            SessionStatus::Ended.transition(SessionStatus::Ended),
            Transition::Duplicate
        );
    }

    #[test]
    fn only_reserved_seats_move() {
        use SeatStatus::*;
        for to in [Confirmed, Expired, Released] {
            assert_eq!(Reserved.transition(to), Transition::Apply);
        }
        for from in [Confirmed, Expired, Released] {
            for to in [Reserved, Confirmed, Expired, Released] {
                assert_ne!(from.transition(to), Transition::Apply, "{from:?}->{to:?}");
            }
        }
        assert!(
            Reserved.is_live() && Confirmed.is_live() && !Expired.is_live() && !Released.is_live()
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for s in PlacementStatus::ALL {
            assert_eq!(PlacementStatus::from_wire(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(
            SessionStatus::from_wire("ENDED"),
            Some(SessionStatus::Ended)
        );
    }

    #[test]
    fn open_slots_count_reservations_on_top_of_the_report() {
        assert_eq!(Session::compute_open_slots(10, 3, 2), 5);
        assert_eq!(Session::compute_open_slots(10, 9, 5), 0);
    }
}
