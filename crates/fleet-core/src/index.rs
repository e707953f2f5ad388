//! The one table's keys and secondary indexes, as data: the single source the DynamoDB adapter builds
//! the table from, the planner chooses among, and the deployment template is checked against.
//!
//! All list indexes are sparse: a session carries their key attributes only while ACTIVE, so an ENDED
//! session drops out of every listing by itself and a list never reads tombstones.

use crate::ids::{PlacementId, PlayerId, SessionId};
use crate::model::{PlacementStatus, Session};
use crate::time::Timestamp;

/// Partition key attribute of the table.
pub const PK: &str = "pk";
/// Sort key attribute of the table.
pub const SK: &str = "sk";
/// DynamoDB TTL attribute (epoch seconds). Expiry is always checked in code as well: TTL may lag days.
pub const TTL: &str = "ttl";

/// Value of the list partition attributes of every ACTIVE session.
pub const ACTIVE: &str = "ACTIVE";

/// What an index stores of each item besides the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute: a Query answers from the index alone, but every change to the item rewrites it.
    All,
    /// The table's and the index's keys only: a change to any other attribute (a player count, a
    /// report's data) writes nothing to the index. A list reads the sessions themselves afterwards.
    KeysOnly,
}

/// A global secondary index: name, partition key attribute, sort key attribute, projection, and
/// how many partition key values a logical partition is spread over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    /// Index name.
    pub name: &'static str,
    /// Partition key attribute (string).
    pub pk: &'static str,
    /// Sort key attribute (string).
    pub sk: &'static str,
    /// What the index stores.
    pub projection: Projection,
    /// 1, or the number of write shards: a session's partition value is then
    /// `<logical value>#<nn>` with `nn` from its id ([`shard_of`]), and a list reads every shard.
    pub shards: u32,
}

/// A sweeper or connection index: projection ALL, one partition per value.
const fn gsi(name: &'static str, pk: &'static str, sk: &'static str) -> IndexDef {
    IndexDef {
        name,
        pk,
        sk,
        projection: Projection::All,
        shards: 1,
    }
}

/// A sweeper index that needs no attribute besides the keys (the table's `pk` names the session):
/// projection KEYS_ONLY, one partition per value.
const fn keys_only(name: &'static str, pk: &'static str, sk: &'static str) -> IndexDef {
    IndexDef {
        projection: Projection::KeysOnly,
        ..gsi(name, pk, sk)
    }
}

impl IndexDef {
    /// The same index with its partitions spread over `shards` keys.
    pub const fn sharded(self, shards: u32) -> Self {
        Self { shards, ..self }
    }
}

/// A list index: keys only, so status reports and joins (which change only counts) never rewrite
/// it unless they move its sort key; `shards` spreads the writes of one whose sort key they move.
const fn list(name: &'static str, pk: &'static str, sk: &'static str, shards: u32) -> IndexDef {
    IndexDef {
        name,
        pk,
        sk,
        projection: Projection::KeysOnly,
        shards,
    }
}

/// Write shards of the count-ordered indexes. Every report that changes a player count moves the
/// session in both (a delete and a put, 2 WCU each), so at the target workload each takes about
/// 44,000 WCU/s; 100 shards keep one partition key under half of DynamoDB's 1,000 WCU/s.
pub const COUNT_SHARDS: u32 = 100;

/// Active sessions, newest first: partition `lAll` = `ACTIVE`, sort `kCreated` = `createdAt#id`.
pub const BY_CREATED: IndexDef = list("listByCreated", "lAll", "kCreated", 1);
/// Copies of [`BY_CREATED`]: every default list page reads `ACTIVE`, more than one partition
/// serves (3,000 RCU/s), so each page reads one of the four copies, in turn. Writes are
/// cheap: a copy changes only when a session starts or ends.
pub const BY_CREATED_REPLICAS: [IndexDef; 3] = [
    list("listByCreated2", "lAll", "kCreated", 1),
    list("listByCreated3", "lAll", "kCreated", 1),
    list("listByCreated4", "lAll", "kCreated", 1),
];
/// Active sessions of one region: `lRegion` = region, `kCreated`.
pub const BY_REGION: IndexDef = list("listByRegion", "lRegion", "kCreated", 1);
/// Active sessions of one fleet: `lFleet` = fleet id, `kCreated`.
pub const BY_FLEET: IndexDef = list("listByFleet", "lFleet", "kCreated", 1);
/// Active sessions by player count: `lShard` = `ACTIVE#nn`, `kPlayers` = `ppp#createdAt#id`
/// (3-digit zero-padded).
pub const BY_PLAYERS: IndexDef = list("listByPlayers", "lShard", "kPlayers", COUNT_SHARDS);
/// Active sessions by open slots: `lShard`, `kOpen` = `ooo#createdAt#id`.
pub const BY_OPEN: IndexDef = list("listByOpen", "lShard", "kOpen", COUNT_SHARDS);
/// Active sessions by name: `lAll`, `kName` = `<name prefix>\u{1}createdAt#id` (only named sessions).
pub const BY_NAME: IndexDef = list("listByName", "lAll", "kName", 1);
/// PENDING placements by deadline, for the sweeper: `lPending` = `PENDING#nn` (the placement's
/// shard, [`pending_partition`]), `kDeadline` = `deadline#placementId`. Every placement enters it on
/// create and leaves it when it finishes (about 400 WCU/s at the target workload's 200 creates a
/// second, 800 at twice that), so it is spread over [`PENDING_SHARDS`] keys; the sweeper reads each.
pub const PENDING_BY_DEADLINE: IndexDef =
    gsi("pendingByDeadline", "lPending", "kDeadline").sharded(PENDING_SHARDS);
/// Write shards of [`PENDING_BY_DEADLINE`].
pub const PENDING_SHARDS: u32 = 8;
/// RESERVED seats by expiry, for the sweeper: `lSeat` = `RESERVED#nn` (the session's shard),
/// `kExpires` = `expiresAt#sessionId#player`. Every seat a join or a placement takes enters it and
/// leaves it when its session's next report closes it (about 4,400 WCU/s at the target workload), so
/// it is spread over [`SEAT_SHARDS`] keys; the sweeper reads each shard. Keys only: the sweeper needs
/// the session (the table's `pk`), and the join's later write of the seat's player session id then
/// writes nothing here (it did, 2,000 WCU/s, while the index projected ALL as `seatsByExpiry`).
pub const SEATS_BY_EXPIRY: IndexDef =
    keys_only("seatKeysByExpiry", "lSeat", "kExpires").sharded(SEAT_SHARDS);
/// Write shards of [`SEATS_BY_EXPIRY`].
pub const SEAT_SHARDS: u32 = 16;
/// WebSocket connections of a user: `cUser` = user, sort `pk`.
pub const CONNECTIONS_BY_USER: IndexDef = gsi("connectionsByUser", "cUser", "pk");

/// Every GSI of the table, in creation order.
pub const ALL_INDEXES: [IndexDef; 12] = [
    BY_CREATED,
    BY_CREATED_REPLICAS[0],
    BY_CREATED_REPLICAS[1],
    BY_CREATED_REPLICAS[2],
    BY_REGION,
    BY_FLEET,
    BY_PLAYERS,
    BY_OPEN,
    BY_NAME,
    PENDING_BY_DEADLINE,
    SEATS_BY_EXPIRY,
    CONNECTIONS_BY_USER,
];

/// The indexes the planner chooses among (a replica stands in for [`BY_CREATED`] at run time).
pub const LIST_INDEXES: [IndexDef; 6] = [
    BY_CREATED, BY_REGION, BY_FLEET, BY_PLAYERS, BY_OPEN, BY_NAME,
];

/// The index itself and its copies: a page may read any of them.
pub fn replicas(ix: IndexDef) -> Vec<IndexDef> {
    let mut all = vec![ix];
    if ix == BY_CREATED {
        all.extend(BY_CREATED_REPLICAS);
    }
    all
}

/// The shard (`0..shards`) of a session: FNV-1a of its id, so it never changes and spreads evenly.
pub fn shard_of(id: &SessionId, shards: u32) -> u32 {
    shard_of_key(id.as_str(), shards)
}

fn shard_of_key(key: &str, shards: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(shards.max(1))) as u32
}

/// The partition key values a logical partition of `ix` is stored under: itself, or one per shard.
pub fn partition_values(ix: IndexDef, logical: &str) -> Vec<String> {
    if ix.shards <= 1 {
        return vec![logical.to_owned()];
    }
    (0..ix.shards).map(|n| shard_value(logical, n)).collect()
}

fn shard_value(logical: &str, n: u32) -> String {
    format!("{logical}#{n:02}")
}

/// The partition key value of session `id`'s items in `ix` for the logical partition `logical`.
pub fn partition_of(ix: IndexDef, logical: &str, id: &SessionId) -> String {
    if ix.shards <= 1 {
        return logical.to_owned();
    }
    shard_value(logical, shard_of(id, ix.shards))
}

/// The partition key value of PENDING placement `id` in [`PENDING_BY_DEADLINE`]: `PENDING#nn`, its
/// shard by the same hash as a session's.
pub fn pending_partition(id: &PlacementId) -> String {
    let logical = PlacementStatus::Pending.as_str();
    shard_value(
        logical,
        shard_of_key(id.as_str(), PENDING_BY_DEADLINE.shards),
    )
}

/// Bytes of a name kept in `kName`: a GSI sort key is at most 1024 bytes, a name may be 1024
/// characters, so longer names are cut (on a character boundary) and the full name is checked by the
/// filter.
pub const NAME_KEY_BYTES: usize = 200;

/// Separator after the name in `kName`; names cannot contain control characters, so nothing sorts
/// between a name and its suffix.
pub const NAME_SEP: char = '\u{1}';

/// Partition key of a session and its seats.
pub fn session_pk(id: &SessionId) -> String {
    format!("{SESSION_PK_PREFIX}{id}")
}
/// What [`session_pk`] puts before the session id.
pub const SESSION_PK_PREFIX: &str = "S#";
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
        (BY_PLAYERS.pk, partition_of(BY_PLAYERS, ACTIVE, &s.id)),
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
    fn sessions_spread_evenly_over_the_count_shards() {
        let mut per_shard = vec![0u32; COUNT_SHARDS as usize];
        for n in 0..10_000u32 {
            let id = SessionId::parse(&format!("gs-{n:022}")).expect("a valid id");
            per_shard[shard_of(&id, COUNT_SHARDS) as usize] += 1;
        }
        let (lo, hi) = (per_shard.iter().min(), per_shard.iter().max());
        assert!(lo >= Some(&60) && hi <= Some(&140), "{lo:?}..{hi:?}");
        assert_eq!(
            partition_values(BY_OPEN, ACTIVE).len(),
            COUNT_SHARDS as usize
        );
        assert_eq!(
            partition_values(BY_CREATED, ACTIVE),
            vec![ACTIVE.to_owned()]
        );
    }

    #[test]
    fn placements_spread_over_the_pending_shards_the_sweeper_reads() {
        let shards = partition_values(PENDING_BY_DEADLINE, PlacementStatus::Pending.as_str());
        assert_eq!(shards.len(), PENDING_SHARDS as usize);
        let mut per_shard = vec![0u32; shards.len()];
        for n in 0..8_000u32 {
            let id =
                PlacementId::parse(&format!("6f1c2e3a-0000-4000-8000-{n:012}")).expect("an id");
            let value = pending_partition(&id);
            let at = shards.iter().position(|s| *s == value);
            per_shard[at.expect("one of the shards the sweeper reads")] += 1;
        }
        let (lo, hi) = (per_shard.iter().min(), per_shard.iter().max());
        assert!(lo >= Some(&800) && hi <= Some(&1200), "{lo:?}..{hi:?}");
    }

    #[test]
    fn index_names_are_unique() {
        let mut names: Vec<_> = ALL_INDEXES.iter().map(|i| i.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL_INDEXES.len());
    }
}
