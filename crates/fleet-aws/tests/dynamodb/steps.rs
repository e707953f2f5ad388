//! Steps and reads that several test files take, built on `support`: a fulfilled session, a join, the
//! seats as stored, a port with no listener.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::DynamoStore;
use fleet_core::model::Session;
use fleet_core::ports::{Applied, JoinRefused, Reserved, SessionStore};
use fleet_core::time::Timestamp;

use crate::support::*;

/// Creates the placement `id` for `max` players with `players` placed, and applies its fulfilment,
/// ending at `end`, into the session `arn(session)`.
pub async fn fulfilled_session(
    store: &DynamoStore,
    id: &str,
    max: i64,
    players: &[&str],
    session: u32,
    end: Timestamp,
) -> Applied {
    let p = placement(id, max, players);
    store.create_placement(&p, None).await.unwrap();
    apply(store, &fulfilled(id, session, players, end)).await
}

/// The session `arn(n)` as the store reads it.
pub async fn session_of(store: &DynamoStore, n: u32) -> Option<Session> {
    store.get_session(&arn(n).session_id()).await.unwrap()
}

/// Reserves seats for `players` at `at`, held for 60 s.
pub async fn join(
    store: &DynamoStore,
    session: &fleet_core::ids::SessionId,
    players: &[&str],
    at: Timestamp,
) -> Result<Reserved, JoinRefused> {
    let players: Vec<_> = players.iter().map(|p| player(p)).collect();
    let until = at.plus_secs(60);
    store
        .reserve_seats(session, &players, at, until)
        .await
        .unwrap()
}

/// Every seat item of the table as (player, status).
pub async fn seats(store: &DynamoStore) -> Vec<(String, String)> {
    let items = snapshot(store).await;
    let seats = items.iter().filter(|i| text(i, "kind") == "seat");
    seats
        .map(|i| (text(i, "playerId").to_owned(), text(i, "status").to_owned()))
        .collect()
}

/// The string attribute `name` of a scanned item ("" when it has none).
fn text<'a>(item: &'a BTreeMap<String, AttributeValue>, name: &str) -> &'a str {
    let value = item.get(name).and_then(|v| v.as_s().ok());
    value.map_or("", String::as_str)
}

/// A loopback port that was free a moment ago and has no listener now.
pub fn unused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    listener.local_addr().expect("free port").port()
}
