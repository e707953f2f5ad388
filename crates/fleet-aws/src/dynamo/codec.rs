//! How domain records become table items and back. Attribute names are the records' camelCase serde
//! names (the query planner's filters rely on that), plus the key and index attributes of
//! `fleet_core::index`.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_core::ids::{GameSessionArn, SessionId, stable_digest};
use fleet_core::index::{self, PK, SK, TTL};
use fleet_core::limits::TOMBSTONE_SECS;
use fleet_core::model::{Placement, PlacementStatus, Seat, SeatStatus, Session, SessionStatus};
use fleet_core::ports::StoreError;
use fleet_core::rules::{PendingReport, SessionState};
use fleet_core::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// Version attribute of session items: every write to a session or its seats bumps it, guarded by the
/// value read, so a read-decide-write is atomic.
pub const VERSION: &str = "version";
/// Kind attribute: `session`, `tombstone`, `report`, `seat`, `placement`, `idempotency`.
pub const KIND: &str = "kind";
/// Sort key of a report kept for a session whose placement event has not arrived yet.
pub const REPORT_SK: &str = "R";
/// How long a finished placement stays readable through `GET /v1/placements/{id}`.
pub const PLACEMENT_RETENTION_SECS: i64 = 30 * 24 * 3600;
/// How long a released or expired seat stays (for audits) before TTL removes it.
pub const SEAT_RETENTION_SECS: i64 = 24 * 3600;
/// How long an idempotency record is honoured.
pub const IDEMPOTENCY_RETENTION_SECS: i64 = 24 * 3600;

/// A string attribute.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number attribute.
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn encode<T: Serialize>(what: &str, v: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(v).map_err(|e| StoreError::Corrupt {
        key: what.to_owned(),
        reason: e.to_string(),
    })
}

fn decode<T: for<'de> Deserialize<'de>>(item: &Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item.clone()).map_err(|e| corrupt(item, e.to_string()))
}

/// `pk/sk` of an item, for error messages.
pub fn item_key(item: &Item) -> String {
    let get = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .map_or("?", String::as_str)
            .to_owned()
    };
    format!("{}/{}", get(PK), get(SK))
}

/// The error for an item that is not as this module writes it.
pub(crate) fn corrupt(item: &Item, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        key: item_key(item),
        reason: reason.into(),
    }
}

/// The string attribute `name` of an item read by `parse`; `Corrupt` when it is absent or unreadable.
pub(crate) fn parsed<T, E>(
    item: &Item,
    name: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, StoreError> {
    get_s(item, name)
        .and_then(|v| parse(v).ok())
        .ok_or_else(|| corrupt(item, format!("no valid {name}")))
}

/// Gives an item the TTL attribute: DynamoDB may remove it after `at`.
pub(crate) fn expire_at(item: &mut Item, at: Timestamp) {
    item.insert(TTL.into(), n(at.epoch_seconds()));
}

/// Puts an item in the sparse index `ix` under `partition`, ordered by `sort`.
fn index_under(item: &mut Item, ix: index::IndexDef, partition: &str, sort: String) {
    item.insert(ix.pk.into(), s(partition));
    item.insert(ix.sk.into(), s(sort));
}

/// A string attribute of an item.
pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// A number attribute of an item.
pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// The session partition's key.
pub fn session_key(id: &SessionId, sk: &str) -> Item {
    HashMap::from([
        (PK.to_owned(), s(index::session_pk(id))),
        (SK.to_owned(), s(sk)),
    ])
}

/// A session item at `version`: ACTIVE sessions carry the list-index attributes, ENDED ones a TTL.
pub fn session_item(
    session: &Session,
    version: u64,
    reported_at: Option<Timestamp>,
) -> Result<Item, StoreError> {
    let mut item = encode("session", session)?;
    item.extend(session_key(&session.id, index::SESSION_SK));
    item.insert(KIND.into(), s("session"));
    item.insert(VERSION.into(), n(version));
    if let Some(t) = reported_at {
        item.insert("reportedAt".into(), s(t.to_rfc3339()));
    }
    match session.status {
        SessionStatus::Active => {
            for (attr, value) in index::list_attributes(session) {
                item.insert(attr.into(), s(value));
            }
        }
        SessionStatus::Ended => expire_at(&mut item, session.updated_at.plus_secs(TOMBSTONE_SECS)),
    }
    Ok(item)
}

/// A tombstone for a session ended before its placement event arrived.
pub fn tombstone_item(arn: &GameSessionArn, at: Timestamp) -> Item {
    let mut item = session_key(&arn.session_id(), index::SESSION_SK);
    item.insert(KIND.into(), s("tombstone"));
    item.insert("arn".into(), s(arn.as_str()));
    item.insert("status".into(), s(SessionStatus::Ended.as_str()));
    item.insert("updatedAt".into(), s(at.to_rfc3339()));
    item.insert(VERSION.into(), n(1));
    expire_at(&mut item, at.plus_secs(TOMBSTONE_SECS));
    item
}

/// Reads a session partition's main item: its state and version.
pub fn session_state_from_item(item: &Item) -> Result<(SessionState, u64), StoreError> {
    let version = get_n(item, VERSION).unwrap_or(0) as u64;
    if get_s(item, KIND) == Some("tombstone") {
        return Ok((SessionState::Tombstone, version));
    }
    let reported_at =
        get_s(item, "reportedAt").and_then(|t| Timestamp::parse_rfc3339("reportedAt", t).ok());
    Ok((
        SessionState::Live {
            session: decode(item)?,
            reported_at,
        },
        version,
    ))
}

/// The item of a pending report.
pub fn report_item(
    id: &SessionId,
    report: &PendingReport,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = encode("report", report)?;
    item.extend(session_key(id, REPORT_SK));
    item.insert(KIND.into(), s("report"));
    item.insert(VERSION.into(), n(version));
    // A report whose session never shows up (a game server of another system?) should not stay forever.
    expire_at(&mut item, report.reported_at.plus_secs(TOMBSTONE_SECS));
    Ok(item)
}

/// Reads a pending report.
pub fn report_from_item(item: &Item) -> Result<(PendingReport, u64), StoreError> {
    Ok((decode(item)?, get_n(item, VERSION).unwrap_or(0) as u64))
}

/// A seat item: RESERVED seats are in the expiry index, others carry a TTL.
pub fn seat_item(seat: &Seat, at: Timestamp) -> Result<Item, StoreError> {
    let mut item = encode("seat", seat)?;
    item.extend(session_key(
        &seat.session_id,
        &index::seat_sk(&seat.player_id),
    ));
    item.insert(KIND.into(), s("seat"));
    if seat.status == SeatStatus::Reserved {
        let expiry = format!(
            "{}#{}#{}",
            seat.expires_at.to_rfc3339(),
            seat.session_id,
            seat.player_id.key_digest()
        );
        let ix = index::SEATS_BY_EXPIRY;
        let partition = index::partition_of(ix, SeatStatus::Reserved.as_str(), &seat.session_id);
        index_under(&mut item, ix, &partition, expiry);
    } else {
        expire_at(&mut item, at.plus_secs(SEAT_RETENTION_SECS));
    }
    Ok(item)
}

/// Reads a seat item.
pub fn seat_from_item(item: &Item) -> Result<Seat, StoreError> {
    decode(item)
}

/// The placement's key.
pub fn placement_key(id: &fleet_core::ids::PlacementId) -> Item {
    HashMap::from([
        (PK.to_owned(), s(index::placement_pk(id))),
        (SK.to_owned(), s(index::PLACEMENT_SK)),
    ])
}

/// Attribute of a placement's player sessions.
pub const PLAYER_SESSIONS: &str = "playerSessions";

/// A placement's player sessions as stored: `{<digest of the player id>: <player session id>}`. The
/// player ids are already in `players` (up to 200 of 1,024 characters); a second copy could push a
/// fulfilled placement past DynamoDB's 400 KB item limit.
pub fn player_sessions_value(sessions: &[fleet_core::model::PlayerSession]) -> AttributeValue {
    AttributeValue::M(
        sessions
            .iter()
            .map(|ps| (ps.player_id.key_digest(), s(&ps.player_session_id)))
            .collect(),
    )
}

/// A placement item: PENDING placements are in the sweeper's deadline index; finished ones carry a TTL.
pub fn placement_item(p: &Placement) -> Result<Item, StoreError> {
    let mut item = encode("placement", p)?;
    item.remove(PLAYER_SESSIONS);
    if !p.player_sessions.is_empty() {
        item.insert(
            PLAYER_SESSIONS.into(),
            player_sessions_value(&p.player_sessions),
        );
    }
    item.extend(placement_key(&p.placement_id));
    item.insert(KIND.into(), s("placement"));
    if p.status == PlacementStatus::Pending {
        let deadline = format!("{}#{}", p.deadline.to_rfc3339(), p.placement_id);
        let ix = index::PENDING_BY_DEADLINE;
        index_under(
            &mut item,
            ix,
            &index::pending_partition(&p.placement_id),
            deadline,
        );
    } else {
        expire_at(&mut item, p.updated_at.plus_secs(PLACEMENT_RETENTION_SECS));
    }
    Ok(item)
}

/// Reads a placement item, in either layout of its player sessions: the map of
/// [`player_sessions_value`] (matched to `players` by digest, in their order), or the list of
/// `{playerId, playerSessionId}` items written before it.
pub fn placement_from_item(item: &Item) -> Result<Placement, StoreError> {
    let Some(AttributeValue::M(by_digest)) = item.get(PLAYER_SESSIONS) else {
        return decode(item);
    };
    let mut rest = item.clone();
    rest.remove(PLAYER_SESSIONS);
    let mut p: Placement = decode(&rest)?;
    p.player_sessions = p
        .players
        .iter()
        .filter_map(|pl| {
            let id = by_digest.get(&pl.player_id.key_digest())?.as_s().ok()?;
            Some(fleet_core::model::PlayerSession {
                player_id: pl.player_id.clone(),
                player_session_id: id.clone(),
            })
        })
        .collect();
    Ok(p)
}

/// The size DynamoDB counts for an item, by its documented rules (attribute names and strings in
/// UTF-8 bytes; a number about one byte per two significant digits plus one; a list or map 3 bytes
/// plus one per element, map keys counted like names), rounded up where the rules are approximate,
/// so the estimate is never below what DynamoDB counts.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// [`item_size`] of one value.
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(x) => x.len(),
        AttributeValue::N(x) => x.len() / 2 + 2,
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::L(l) => 3 + l.iter().map(|x| 1 + value_size(x)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, x)| 1 + k.len() + value_size(x))
                .sum::<usize>()
        }
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|x| x.len() / 2 + 2).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        _ => 0,
    }
}

/// The key of an idempotency record: digests, so any caller name and key fit and none leaks into keys.
pub fn idempotency_key(caller: &str, key: &str) -> Item {
    let digest = stable_digest(format!("{caller}\u{0}{key}").as_bytes());
    HashMap::from([
        (PK.to_owned(), s(format!("I#{digest}"))),
        (SK.to_owned(), s("I")),
    ])
}

/// Attribute of a requester's pending-count item: the set of its PENDING placement ids.
pub const PENDING_IDS: &str = "ids";
/// How long a pending-count item outlives its last create: longer than any placement stays PENDING
/// (the queue's timeout is at most 12 hours), so TTL never removes a count that still matters.
pub const PENDING_COUNT_RETENTION_SECS: i64 = 2 * 24 * 3600;

/// The key of a requester's pending-count item (`C#<digest of the owner>` / `PENDING`): a digest, so
/// any player id fits and none leaks into keys.
pub fn pending_count_key(owner: &str) -> Item {
    HashMap::from([
        (
            PK.to_owned(),
            s(format!("C#{}", stable_digest(owner.as_bytes()))),
        ),
        (SK.to_owned(), s("PENDING")),
    ])
}

#[cfg(test)]
mod tests {
    use fleet_core::ids::{PlacementId, PlayerId};
    use fleet_core::input::MaxPlayers;
    use fleet_core::model::{PlacementPlayer, PlayerSession};

    use super::*;

    fn placement(players: &[&str]) -> Placement {
        let t = Timestamp::from_millis(1_795_600_800_000);
        Placement {
            placement_id: PlacementId::parse("p-1").unwrap_or_else(|e| panic!("{e}")),
            status: PlacementStatus::Fulfilled,
            requester: "svc".into(),
            players: players
                .iter()
                .map(|p| PlacementPlayer {
                    player_id: PlayerId::parse(p).unwrap_or_else(|e| panic!("{e}")),
                    player_data: None,
                })
                .collect(),
            max_players: MaxPlayers::parse(8).unwrap_or_else(|e| panic!("{e}")),
            name: None,
            data: None,
            properties: Default::default(),
            latencies: Vec::new(),
            regions: Vec::new(),
            session_id: None,
            player_sessions: Vec::new(),
            reason: None,
            created_at: t,
            updated_at: t,
            deadline: t,
        }
    }

    fn ps(player: &str, id: &str) -> PlayerSession {
        PlayerSession {
            player_id: PlayerId::parse(player).unwrap_or_else(|e| panic!("{e}")),
            player_session_id: id.into(),
        }
    }

    #[test]
    fn player_sessions_are_stored_by_digest_and_read_back_in_player_order() {
        let mut p = placement(&["ann", "bob", "cy"]);
        p.player_sessions = vec![ps("bob", "psess-b"), ps("ann", "psess-a")];
        let item = placement_item(&p).unwrap_or_else(|e| panic!("{e}"));
        let stored = item[PLAYER_SESSIONS]
            .as_m()
            .unwrap_or_else(|_| panic!("a map"));
        assert_eq!(stored.len(), 2);
        assert!(
            !format!("{stored:?}").contains("ann"),
            "no player id repeated"
        );
        let back = placement_from_item(&item).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back.player_sessions,
            vec![ps("ann", "psess-a"), ps("bob", "psess-b")]
        );
        // A PENDING placement has none stored.
        let pending = placement(&["ann"]);
        assert!(
            !placement_item(&pending)
                .unwrap_or_else(|e| panic!("{e}"))
                .contains_key(PLAYER_SESSIONS)
        );
    }

    #[test]
    fn an_item_written_with_the_earlier_list_layout_still_reads() {
        let mut p = placement(&["ann"]);
        p.player_sessions = vec![ps("ann", "psess-a")];
        let mut item = placement_item(&p).unwrap_or_else(|e| panic!("{e}"));
        let list =
            serde_dynamo::to_attribute_value(&p.player_sessions).unwrap_or_else(|e| panic!("{e}"));
        item.insert(PLAYER_SESSIONS.into(), list);
        let back = placement_from_item(&item).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.player_sessions, p.player_sessions);
    }

    #[test]
    fn item_sizes_follow_dynamodbs_rules_and_never_undercount() {
        // The examples of DynamoDB's documentation: a string is its UTF-8 bytes plus its name's.
        let item: Item = HashMap::from([("name".into(), s("€uro"))]);
        assert_eq!(item_size(&item), 4 + 6);
        // A map: 3 bytes, plus per element 1 byte, its key and its value.
        let m = AttributeValue::M(HashMap::from([("k".to_owned(), s("vv"))]));
        assert_eq!(value_size(&m), 3 + 1 + 1 + 2);
        let l = AttributeValue::L(vec![s("a"), s("bc")]);
        assert_eq!(value_size(&l), 3 + (1 + 1) + (1 + 2));
        // Numbers: at most one byte per two digits plus one; the estimate rounds up.
        assert!(value_size(&n(12_345_678)) > 8 / 2);
        assert_eq!(value_size(&AttributeValue::Bool(true)), 1);
    }
}
