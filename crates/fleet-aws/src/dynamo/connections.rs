//! `ConnectionStore` and `SweepStore` on the same table.
//!
//! | Item | `pk` / `sk` | Notes |
//! |---|---|---|
//! | Connection | `C#<connectionId>` / `C` | `cUser` puts it in `connectionsByUser`; TTL at API Gateway's 2-hour connection limit |
//! | Subscription | `P#<placementId>` / `SUB#<connectionId>` | next to its placement, so one strongly consistent Query lists them; TTL with its connection |
//! | Sent record | `P#<placementId>` / `SENT#<connectionId>` | written with `attribute_not_exists` before a push, so a result reaches a connection once |
//! | Sweep position | `SWEEP` / `SESSIONS` | where the sweeper's walk over sessions stopped |
//!
//! Index reads (`connectionsByUser`, `pendingByDeadline`, `seatKeysByExpiry`, `listByCreated`) only pick
//! candidates or fan-out targets; every state decision is taken by a guarded write elsewhere. Expiry is
//! checked in code: DynamoDB's TTL may lag for days.

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_core::ids::{ConnectionId, PlacementId, SessionId};
use fleet_core::index::{self, PK, SK};
use fleet_core::model::{PlacementStatus, SeatStatus};
use fleet_core::ports::{Connection, ConnectionStore, SessionSweepPage, Subscriber, SweepStore};
use fleet_core::time::Timestamp;

use super::DynamoStore;
use super::codec::{Item, KIND, corrupt, expire_at, get_s, parsed, s};
use super::error::{StoreResult, map_sdk};

/// Session items given their count shard at once during the migration (see `oldest_sessions`).
const ADD_SHARD_CONCURRENCY: usize = 25;

/// Sort key of a connection's row.
pub const CONNECTION_SK: &str = "C";
/// Sort key prefix of a placement's subscriptions.
pub const SUBSCRIPTION_SK_PREFIX: &str = "SUB#";
/// Sort key prefix of a placement's sent records.
pub const SENT_SK_PREFIX: &str = "SENT#";
/// How long a sent record is kept: longer than a DynamoDB stream keeps a record (24 h), so a
/// redelivered stream record still finds it.
pub const SENT_RETENTION_SECS: i64 = 2 * 24 * 3600;
/// Pages one index walk may read before it returns what it has: bounds a run's work.
const MAX_PAGES: usize = 10;
/// Above every character of a placement id, session id or key digest (`[A-Za-z0-9_-]`): `<time>#~`
/// bounds the keys of everything due at `<time>` or earlier.
const KEY_HIGH: &str = "~";

/// Partition key of a connection's row.
pub fn connection_pk(id: &ConnectionId) -> String {
    format!("C#{id}")
}

fn key(pk: String, sk: impl Into<String>) -> Item {
    Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

/// The key of an item beside a placement's, about one connection: `P#<placementId>` /
/// `<prefix><connectionId>`.
fn beside(placement: &PlacementId, prefix: &str, connection: &ConnectionId) -> Item {
    key(
        index::placement_pk(placement),
        format!("{prefix}{connection}"),
    )
}

fn time_attr(item: &Item, name: &str) -> StoreResult<Timestamp> {
    let text = get_s(item, name).ok_or_else(|| corrupt(item, format!("no {name}")))?;
    Timestamp::parse_rfc3339(name, text).map_err(|e| corrupt(item, e.to_string()))
}

/// The user attribute `name` of a connection or subscription.
fn user_attr(item: &Item, name: &str) -> StoreResult<String> {
    let user = get_s(item, name).ok_or_else(|| corrupt(item, "no user"))?;
    Ok(user.to_owned())
}

fn connection_from_item(item: &Item) -> StoreResult<Connection> {
    Ok(Connection {
        id: parsed(item, "connectionId", ConnectionId::parse)?,
        user: user_attr(item, index::CONNECTIONS_BY_USER.pk)?,
        connected_at: time_attr(item, "connectedAt")?,
        expires_at: time_attr(item, "expiresAt")?,
    })
}

impl DynamoStore {
    async fn delete(&self, key: Item) -> StoreResult<()> {
        self.client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }

    /// Every item of a partition whose sort key starts with `prefix` (strongly consistent).
    async fn query_prefix(&self, pk: String, prefix: &str) -> StoreResult<Vec<Item>> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        let mut items = Vec::new();
        self.query_items(query, usize::MAX, |item| {
            items.push(item.clone());
            Ok(true)
        })
        .await?;
        Ok(items)
    }

    /// Items of a sparse index whose partition is `partition` and whose sort key is at most `upto`,
    /// ascending, `page` per Query, for as long as `take` says and at most [`MAX_PAGES`] pages.
    async fn query_due(
        &self,
        ix: index::IndexDef,
        partition: &str,
        upto: String,
        page: i32,
        take: impl FnMut(&Item) -> StoreResult<bool>,
    ) -> StoreResult<()> {
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(ix.name)
            .key_condition_expression("#ipk = :ipk AND #isk <= :upto")
            .expression_attribute_names("#ipk", ix.pk)
            .expression_attribute_names("#isk", ix.sk)
            .expression_attribute_values(":ipk", s(partition))
            .expression_attribute_values(":upto", s(upto))
            .scan_index_forward(true)
            .limit(page);
        self.query_items(query, MAX_PAGES, take).await
    }

    /// Puts `item`, unconditionally.
    async fn put_item(&self, item: Item) -> StoreResult<()> {
        self.client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }
}

impl ConnectionStore for DynamoStore {
    async fn put_connection(&self, c: &Connection) -> StoreResult<()> {
        let mut item = key(connection_pk(&c.id), CONNECTION_SK);
        item.insert(KIND.into(), s("connection"));
        item.insert("connectionId".into(), s(c.id.as_str()));
        item.insert(index::CONNECTIONS_BY_USER.pk.into(), s(&c.user));
        item.insert("connectedAt".into(), s(c.connected_at.to_rfc3339()));
        item.insert("expiresAt".into(), s(c.expires_at.to_rfc3339()));
        expire_at(&mut item, c.expires_at);
        self.put_item(item).await
    }

    async fn delete_connection(&self, id: &ConnectionId) -> StoreResult<()> {
        self.delete(key(connection_pk(id), CONNECTION_SK)).await
    }

    async fn connection(
        &self,
        id: &ConnectionId,
        now: Timestamp,
    ) -> StoreResult<Option<Connection>> {
        let item = self.get_item(key(connection_pk(id), CONNECTION_SK)).await?;
        match item.as_ref().map(connection_from_item).transpose()? {
            Some(c) if c.expires_at > now => Ok(Some(c)),
            _ => Ok(None),
        }
    }

    async fn connections_of(&self, user: &str, now: Timestamp) -> StoreResult<Vec<ConnectionId>> {
        let ix = index::CONNECTIONS_BY_USER;
        let query = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(ix.name)
            .key_condition_expression("#ipk = :user")
            .expression_attribute_names("#ipk", ix.pk)
            .expression_attribute_values(":user", s(user));
        let mut out = Vec::new();
        self.query_items(query, MAX_PAGES, |item| {
            let c = connection_from_item(item)?;
            if c.expires_at > now {
                out.push(c.id);
            }
            Ok(true)
        })
        .await?;
        Ok(out)
    }

    async fn subscribe(
        &self,
        placement: &PlacementId,
        sub: &Subscriber,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let mut item = beside(placement, SUBSCRIPTION_SK_PREFIX, &sub.connection);
        item.insert(KIND.into(), s("subscription"));
        item.insert("connectionId".into(), s(sub.connection.as_str()));
        // Not `cUser`: a subscription must stay out of the connectionsByUser index.
        item.insert("user".into(), s(&sub.user));
        item.insert("expiresAt".into(), s(expires_at.to_rfc3339()));
        expire_at(&mut item, expires_at);
        self.put_item(item).await
    }

    async fn unsubscribe(
        &self,
        placement: &PlacementId,
        connection: &ConnectionId,
    ) -> StoreResult<()> {
        self.delete(beside(placement, SUBSCRIPTION_SK_PREFIX, connection))
            .await
    }

    async fn subscribers(
        &self,
        placement: &PlacementId,
        now: Timestamp,
    ) -> StoreResult<Vec<Subscriber>> {
        let items = self
            .query_prefix(index::placement_pk(placement), SUBSCRIPTION_SK_PREFIX)
            .await?;
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            if time_attr(item, "expiresAt")? <= now {
                continue;
            }
            let user = user_attr(item, "user")?;
            out.push(Subscriber {
                connection: parsed(item, "connectionId", ConnectionId::parse)?,
                user,
            });
        }
        Ok(out)
    }

    async fn mark_sent(
        &self,
        placement: &PlacementId,
        connection: &ConnectionId,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let mut item = beside(placement, SENT_SK_PREFIX, connection);
        item.insert(KIND.into(), s("sent"));
        item.insert("sentAt".into(), s(at.to_rfc3339()));
        expire_at(&mut item, at.plus_secs(SENT_RETENTION_SECS));
        self.put_new(item).await
    }

    async fn unmark_sent(
        &self,
        placement: &PlacementId,
        connection: &ConnectionId,
    ) -> StoreResult<()> {
        self.delete(beside(placement, SENT_SK_PREFIX, connection))
            .await
    }
}

/// Where the sweeper's walk over sessions is kept.
fn sweep_key() -> Item {
    key("SWEEP".to_owned(), "SESSIONS")
}

impl SweepStore for DynamoStore {
    async fn due_placements(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<PlacementId>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let want = limit as usize;
        let upto = format!("{}#{KEY_HIGH}", now.to_rfc3339());
        // The earliest `limit` of each shard, then the earliest `limit` over all of them. Placements
        // created before the shards sit under the unsharded value until they finish or are swept
        // (within the queue's timeout and the sweep margin): one Query more a run finds them
        // (docs/scaling.md, migration).
        let ix = index::PENDING_BY_DEADLINE;
        let logical = PlacementStatus::Pending.as_str();
        let mut partitions = index::partition_values(ix, logical);
        partitions.push(logical.to_owned());
        let mut due: Vec<(String, PlacementId)> = Vec::new();
        for partition in partitions {
            let mut taken = 0;
            self.query_due(
                ix,
                &partition,
                upto.clone(),
                limit.min(1000) as i32,
                |item| {
                    let id = parsed(item, "placementId", PlacementId::parse)?;
                    due.push((get_s(item, ix.sk).unwrap_or_default().to_owned(), id));
                    taken += 1;
                    Ok(taken < want)
                },
            )
            .await?;
        }
        due.sort();
        out.extend(due.into_iter().take(want).map(|(_, id)| id));
        Ok(out)
    }

    async fn due_seat_sessions(&self, now: Timestamp, limit: u32) -> StoreResult<Vec<SessionId>> {
        let mut out: Vec<SessionId> = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let want = limit as usize;
        let upto = format!("{}#{KEY_HIGH}", now.to_rfc3339());
        // A session may hold many lapsed seats: read pages of 100 until `limit` distinct sessions in
        // each shard, then keep the earliest `limit` over all shards. Seats reserved before the shards
        // came sit under the unsharded value until they lapse or are confirmed: one Query more a run
        // finds them (docs/scaling.md, migration).
        let ix = index::SEATS_BY_EXPIRY;
        let mut partitions = index::partition_values(ix, SeatStatus::Reserved.as_str());
        partitions.push(SeatStatus::Reserved.as_str().to_owned());
        let mut due: Vec<(String, SessionId)> = Vec::new();
        for partition in partitions {
            let mut mine: Vec<SessionId> = Vec::new();
            self.query_due(ix, &partition, upto.clone(), 100, |item| {
                // The index holds keys only: the session is the seat's partition, `S#<id>`.
                let id = parsed(item, PK, |pk| {
                    pk.strip_prefix(index::SESSION_PK_PREFIX)
                        .ok_or(())
                        .and_then(|id| SessionId::parse(id).map_err(drop))
                })?;
                if !mine.contains(&id) {
                    mine.push(id.clone());
                    due.push((get_s(item, ix.sk).unwrap_or_default().to_owned(), id));
                }
                Ok(mine.len() < want)
            })
            .await?;
        }
        due.sort();
        for (_, id) in due {
            if out.len() == want {
                break;
            }
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }

    async fn oldest_sessions(
        &self,
        limit: u32,
        after: Option<&str>,
    ) -> StoreResult<SessionSweepPage> {
        let ix = index::BY_CREATED;
        let mut q = self
            .client()
            .query()
            .table_name(self.table())
            .index_name(ix.name)
            .expression_attribute_names("#ipk", ix.pk)
            .expression_attribute_values(":ipk", s(index::ACTIVE))
            .scan_index_forward(true)
            .limit(limit.clamp(1, 1000) as i32);
        q = match after {
            Some(a) => q
                .key_condition_expression("#ipk = :ipk AND #isk > :after")
                .expression_attribute_names("#isk", ix.sk)
                .expression_attribute_values(":after", s(a)),
            None => q.key_condition_expression("#ipk = :ipk"),
        };
        let out = q.send().await.map_err(map_sdk)?;
        // The list index holds keys only: the sessions themselves are read back, in index order.
        let mut found = self.sessions_at(out.items()).await?;
        let mut sessions = Vec::with_capacity(found.len());
        let mut unsharded = Vec::new();
        for item in out.items() {
            let Some(f) = get_s(item, PK).and_then(|pk| found.remove(pk)) else {
                continue;
            };
            if !f.sharded {
                unsharded.push(f.session.id.clone());
            }
            sessions.push(f.session);
        }
        // The migration to the count shards: the walk visits every ACTIVE session each cycle, so it
        // gives the ones written before the shards theirs (docs/scaling.md), a few at once so that a
        // page of them fits the run's time as an ordinary page does.
        for chunk in unsharded.chunks(ADD_SHARD_CONCURRENCY) {
            let mut writes = Vec::with_capacity(chunk.len());
            for id in chunk {
                writes.push(self.add_shard(id));
            }
            futures::future::try_join_all(writes).await?;
        }
        let more = out
            .last_evaluated_key
            .as_ref()
            .is_some_and(|k| !k.is_empty());
        let next = if more {
            out.items()
                .last()
                .and_then(|i| get_s(i, ix.sk))
                .map(str::to_owned)
        } else {
            None
        };
        Ok(SessionSweepPage { sessions, next })
    }

    async fn sweep_position(&self) -> StoreResult<Option<String>> {
        let item = self.get_item(sweep_key()).await?;
        Ok(item
            .as_ref()
            .and_then(|i| get_s(i, "position"))
            .map(str::to_owned))
    }

    async fn save_sweep_position(&self, position: Option<&str>) -> StoreResult<()> {
        let Some(p) = position else {
            return self.delete(sweep_key()).await;
        };
        let mut item = sweep_key();
        item.insert(KIND.into(), s("sweep"));
        item.insert("position".into(), AttributeValue::S(p.to_owned()));
        self.put_item(item).await
    }
}
