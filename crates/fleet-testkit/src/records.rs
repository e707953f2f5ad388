//! Real-shaped records, as the system writes them: an ACTIVE session as a fulfilled placement
//! leaves it, and a PENDING placement as a create stores it. Suites vary them with struct update
//! syntax (`Placement { name: None, ..placement(…) }`).

use std::collections::BTreeMap;

use fleet_core::ids::{FleetId, GameSessionArn, PlacementId, PlayerId, Region};
use fleet_core::input::{GameProperties, MaxPlayers};
use fleet_core::model::{Placement, PlacementPlayer, PlacementStatus, Session, SessionStatus};

use crate::T0;

/// A player id (test data is valid).
///
/// # Panics
/// When `name` is not a valid player id.
pub fn player(name: &str) -> PlayerId {
    PlayerId::parse(name).unwrap_or_else(|e| panic!("test player {name}: {e}"))
}

/// An ARN (test data is valid).
///
/// # Panics
/// When `arn` is not a game session ARN.
pub fn session_arn(arn: &str) -> GameSessionArn {
    GameSessionArn::parse(arn).unwrap_or_else(|e| panic!("test ARN {arn}: {e}"))
}

/// An ACTIVE session of `arn` as a fulfilled placement writes it: named `lobby`, `mode=casual`, no
/// player yet, created at [`T0`].
pub fn session(arn: &str, max_players: u32) -> Session {
    let arn = session_arn(arn);
    Session {
        id: arn.session_id(),
        region: Region::parse(arn.region()).unwrap_or_else(|e| panic!("test region: {e}")),
        fleet_id: FleetId::parse(arn.fleet_id()).unwrap_or_else(|e| panic!("test fleet: {e}")),
        arn,
        status: SessionStatus::Active,
        name: Some("lobby".into()),
        data: None,
        properties: properties("mode", "casual"),
        player_count: 0,
        max_players,
        reserved_seats: 0,
        open_slots: max_players,
        joinable: true,
        protected: false,
        ip_address: "198.51.100.7".into(),
        dns_name: "ec2-198-51-100-7.compute-1.amazonaws.com".into(),
        port: 7777,
        created_at: T0,
        updated_at: T0,
    }
}

/// A PENDING placement `id` as a create stores it: requested by `requester`, naming `players`, a cap
/// of `max_players`, started at [`T0`] with the default 600 s queue timeout + 60 s sweep margin as
/// its deadline.
pub fn placement(id: &str, requester: &str, max_players: u32, players: &[&str]) -> Placement {
    Placement {
        placement_id: PlacementId::parse(id).unwrap_or_else(|e| panic!("test placement {id}: {e}")),
        status: PlacementStatus::Pending,
        requester: requester.into(),
        players: players
            .iter()
            .map(|p| PlacementPlayer {
                player_id: player(p),
                player_data: None,
            })
            .collect(),
        max_players: MaxPlayers::parse(i64::from(max_players))
            .unwrap_or_else(|e| panic!("test cap: {e}")),
        name: None,
        data: None,
        properties: GameProperties::default(),
        latencies: Vec::new(),
        regions: Vec::new(),
        session_id: None,
        player_sessions: Vec::new(),
        reason: None,
        created_at: T0,
        updated_at: T0,
        deadline: T0.plus_secs(660),
    }
}

/// One game property (test data is valid).
///
/// # Panics
/// When the pair breaks GameLift's limits.
pub fn properties(key: &str, value: &str) -> GameProperties {
    GameProperties::parse(BTreeMap::from([(key.to_owned(), value.to_owned())]))
        .unwrap_or_else(|e| panic!("test properties: {e}"))
}
