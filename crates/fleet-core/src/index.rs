//! The one table's keys and secondary indexes, as data: the single source the DynamoDB adapter builds
//! the table from, the planner chooses among, and the deployment template is checked against.
//!
//! All list indexes are sparse: a session carries their key attributes only while ACTIVE, so an ENDED
//! session drops out of every listing by itself and a list never reads tombstones.

use crate::ids::{PlacementId, PlayerId, SessionId};
use crate::model::Session;
use crate::time::Timestamp;

/// Partition key attribute of the table.
pub const PK: &str = "pk";
/// Sort key attribute of the table.
pub const SK: &str = "sk";
/// DynamoDB TTL attribute (epoch seconds). Expiry is always checked in code as well: TTL may lag days.
pub const TTL: &str = "ttl";

/// Value of the list partition attributes of every ACTIVE session.
pub const ACTIVE: &str = "ACTIVE";

/// A global secondary index: name, partition key attribute, sort key attribute. Projection is ALL for
/// every index: a list page must be answered by one Query with no follow-up reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    /// Index name.
    pub name: &'static str,
    /// Partition key attribute (string).
    pub pk: &'static str,
    /// Sort key attribute (string).
    pub sk: &'static str,
}

/// Spelled as a call so the index table below reads one index a line.
const fn gsi(name: &'static str, pk: &'static str, sk: &'static str) -> IndexDef {
    IndexDef { name, pk, sk }
}

/// Active sessions, newest first: partition `lAll` = `ACTIVE`, sort `kCreated` = `createdAt#id`.
pub const BY_CREATED: IndexDef = gsi("byCreated", "lAll", "kCreated");
/// Active sessions of one region: `lRegion` = region, `kCreated`.
pub const BY_REGION: IndexDef = gsi("byRegion", "lRegion", "kCreated");
/// Active sessions of one fleet: `lFleet` = fleet id, `kCreated`.
pub const BY_FLEET: IndexDef = gsi("byFleet", "lFleet", "kCreated");
/// Active sessions by player count: `lAll`, `kPlayers` = `ppp#createdAt#id` (3-digit zero-padded).
pub const BY_PLAYERS: IndexDef = gsi("byPlayers", "lAll", "kPlayers");
/// Active sessions by open slots: `lAll`, `kOpen` = `ooo#createdAt#id`.
pub const BY_OPEN: IndexDef = gsi("byOpen", "lAll", "kOpen");
/// Active sessions by name: `lAll`, `kName` = `<name prefix>\u{1}createdAt#id` (only named sessions).
pub const BY_NAME: IndexDef = gsi("byName", "lAll", "kName");
/// PENDING placements by deadline, for the sweeper: `lPending` = `PENDING`, `kDeadline` = `deadline#placementId`.
pub const PENDING_BY_DEADLINE: IndexDef = gsi("pendingByDeadline", "lPending", "kDeadline");
/// RESERVED seats by expiry, for the sweeper: `lSeat` = `RESERVED`, `kExpires` = `expiresAt#sessionId#player`.
pub const SEATS_BY_EXPIRY: IndexDef = gsi("seatsByExpiry", "lSeat", "kExpires");
/// WebSocket connections of a user: `cUser` = user, sort `pk`.
pub const CONNECTIONS_BY_USER: IndexDef = gsi("connectionsByUser", "cUser", "pk");

/// Every GSI of the table, in creation order.
pub const ALL_INDEXES: [IndexDef; 9] = [
    BY_CREATED,
    BY_REGION,
    BY_FLEET,
    BY_PLAYERS,
    BY_OPEN,
    BY_NAME,
    PENDING_BY_DEADLINE,
    SEATS_BY_EXPIRY,
    CONNECTIONS_BY_USER,
];

/// The indexes a session list may use.
pub const LIST_INDEXES: [IndexDef; 6] = [
    BY_CREATED, BY_REGION, BY_FLEET, BY_PLAYERS, BY_OPEN, BY_NAME,
];

/// Bytes of a name kept in `kName`: a GSI sort key is at most 1024 bytes, a name may be 1024
/// characters, so longer names are cut (on a character boundary) and the full name is checked by the
/// filter.
pub const NAME_KEY_BYTES: usize = 200;

/// Separator after the name in `kName`; names cannot contain control characters, so nothing sorts
/// between a name and its suffix.
pub const NAME_SEP: char = '\u{1}';

/// Partition key of a session and its seats.
pub fn session_pk(id: &SessionId) -> String {
    format!("S#{id}")
}
/// Sort key of the session item.
pub const SESSION_SK: &str = "S";
/// Sort key of a seat.
pub fn seat_sk(player: &PlayerId) -> String {
    format!("SEAT#{}", player.key_digest())
}
/// Sort key prefix of seats.
pub const SEAT_SK_PREFIX: &str = "SEAT#";
/// Partition key of a placement and its subscriptions.
pub fn placement_pk(id: &PlacementId) -> String {
    format!("P#{id}")
}
/// Sort key of the placement item.
pub const PLACEMENT_SK: &str = "P";

/// `createdAt#id`: text order is time order, ties broken by id.
pub fn created_key(created_at: Timestamp, id: &SessionId) -> String {
    format!("{}#{id}", created_at.to_rfc3339())
}

/// A count as three digits, so text order is numeric order (counts are ≤ 200).
pub fn count_prefix(n: u32) -> String {
    format!("{:03}", n.min(999))
}

/// `ppp#createdAt#id`.
pub fn players_key(s: &Session) -> String {
    format!(
        "{}#{}",
        count_prefix(s.player_count),
        created_key(s.created_at, &s.id)
    )
}

/// `ooo#createdAt#id`.
pub fn open_key(s: &Session) -> String {
    format!(
        "{}#{}",
        count_prefix(s.open_slots),
        created_key(s.created_at, &s.id)
    )
}

/// The part of a name kept in `kName`.
pub fn name_key_prefix(name: &str) -> &str {
    if name.len() <= NAME_KEY_BYTES {
        return name;
    }
    let mut end = NAME_KEY_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// `<name prefix>\u{1}createdAt#id`, or `None` for an unnamed session.
pub fn name_key(s: &Session) -> Option<String> {
    s.name.as_deref().map(|n| {
        format!(
            "{}{NAME_SEP}{}",
            name_key_prefix(n),
            created_key(s.created_at, &s.id)
        )
    })
}

/// The (attribute, value) pairs that put an ACTIVE session into the list indexes. An ENDED session
/// gets none of them.
pub fn list_attributes(s: &Session) -> Vec<(&'static str, String)> {
    let mut v = vec![
        (BY_CREATED.pk, ACTIVE.to_owned()),
        (BY_REGION.pk, s.region.to_string()),
        (BY_FLEET.pk, s.fleet_id.to_string()),
        (BY_CREATED.sk, created_key(s.created_at, &s.id)),
        (BY_PLAYERS.sk, players_key(s)),
        (BY_OPEN.sk, open_key(s)),
    ];
    if let Some(k) = name_key(s) {
        v.push((BY_NAME.sk, k));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_prefixes_sort_numerically() {
        assert!(count_prefix(9) < count_prefix(10) && count_prefix(10) < count_prefix(200));
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let name = "é".repeat(150); // 300 bytes
        let p = name_key_prefix(&name);
        assert!(p.len() <= NAME_KEY_BYTES && name.starts_with(p));
        assert_eq!(name_key_prefix("short"), "short");
    }

    #[test]
    fn index_names_are_unique() {
        let mut names: Vec<_> = ALL_INDEXES.iter().map(|i| i.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL_INDEXES.len());
    }
}
