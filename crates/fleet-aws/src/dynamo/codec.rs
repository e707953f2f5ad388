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
    serde_dynamo::from_item(item.clone()).map_err(|e| StoreError::Corrupt {
        key: item_key(item),
        reason: e.to_string(),
    })
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
        SessionStatus::Ended => {
            item.insert(
                TTL.into(),
                n(session.updated_at.plus_secs(TOMBSTONE_SECS).epoch_seconds()),
            );
        }
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
    item.insert(TTL.into(), n(at.plus_secs(TOMBSTONE_SECS).epoch_seconds()));
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
    item.insert(
        TTL.into(),
        n(report.reported_at.plus_secs(TOMBSTONE_SECS).epoch_seconds()),
    );
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
        item.insert(
            index::SEATS_BY_EXPIRY.pk.into(),
            s(SeatStatus::Reserved.as_str()),
        );
        item.insert(
            index::SEATS_BY_EXPIRY.sk.into(),
            s(format!(
                "{}#{}#{}",
                seat.expires_at.to_rfc3339(),
                seat.session_id,
                seat.player_id.key_digest()
            )),
        );
    } else {
        item.insert(
            TTL.into(),
            n(at.plus_secs(SEAT_RETENTION_SECS).epoch_seconds()),
        );
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

/// A placement item: PENDING placements are in the sweeper's deadline index; finished ones carry a TTL.
pub fn placement_item(p: &Placement) -> Result<Item, StoreError> {
    let mut item = encode("placement", p)?;
    item.extend(placement_key(&p.placement_id));
    item.insert(KIND.into(), s("placement"));
    if p.status == PlacementStatus::Pending {
        item.insert(
            index::PENDING_BY_DEADLINE.pk.into(),
            s(PlacementStatus::Pending.as_str()),
        );
        item.insert(
            index::PENDING_BY_DEADLINE.sk.into(),
            s(format!("{}#{}", p.deadline.to_rfc3339(), p.placement_id)),
        );
    } else {
        item.insert(
            TTL.into(),
            n(p.updated_at
                .plus_secs(PLACEMENT_RETENTION_SECS)
                .epoch_seconds()),
        );
    }
    Ok(item)
}

/// Reads a placement item.
pub fn placement_from_item(item: &Item) -> Result<Placement, StoreError> {
    decode(item)
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
