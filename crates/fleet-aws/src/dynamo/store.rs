//! `SessionStore` on DynamoDB.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, PutRequest, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update, WriteRequest,
};
use fleet_core::ids::{PlacementId, PlayerId, SessionId};
use fleet_core::index::{self, PK, SK, TTL};
use fleet_core::model::{Placement, PlacementStatus, Seat, SeatStatus, Session};
use fleet_core::ports::{
    Applied, CreateOutcome, Finish, Finished, IdempotencyRecord, JoinRefused, ListRequest, Page,
    PendingCap, PlacementOutcome, Reserved, SessionKey, SessionStore, StatusReport, StoreError,
};
use fleet_core::rules::{self, EndEffect, PendingReport, ReportEffect, SessionState};
use fleet_core::time::Timestamp;
use rand::Rng as _;

use super::codec::{self, Item, VERSION, get_s, n, s};
use super::error::{StoreResult, map_sdk};

/// Keys in one BatchGetItem (DynamoDB's limit).
pub(super) const BATCH_GET_MAX: usize = 100;
/// Rounds of a BatchGetItem's `UnprocessedKeys` before the read fails as throttled.
const BATCH_GET_ROUNDS: u32 = 8;
/// Items in one TransactWriteItems call (DynamoDB's limit).
const TX_MAX: usize = 100;
/// Attempts of a read-decide-write before giving up with `Contention`.
const ATTEMPTS: u32 = 12;
/// Placements of one batch settled one by one at once (after their shared transaction was cancelled).
const FINISH_CONCURRENCY: usize = 10;
/// What a shared transaction of a batch's fulfilments may carry: DynamoDB's 4 MB per
/// TransactWriteItems, less room for keys and expressions.
const TX_BYTES_BUDGET: usize = 3_500_000;

/// The DynamoDB-backed store. Cheap to clone; build it once per Lambda container.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: Arc<str>,
    cursor_secret: Arc<[u8]>,
}

/// A fulfilment's writes: the transaction, the seats that go ahead of it when they do not fit, and
/// the session it stores (`None` when the session had ended: nothing is written for it).
struct Fulfil {
    tx: Vec<TransactWriteItem>,
    later_seats: Vec<Seat>,
    session: Option<Session>,
}

/// A placement of a shared fulfilment transaction: its index in the batch and the session it writes.
type Member = (usize, Option<Session>);

/// Everything in a session's partition, read at once.
#[derive(Debug)]
struct Partition {
    state: SessionState,
    /// Version of the main item; `None` when there is none.
    version: Option<u64>,
    report: Option<(PendingReport, u64)>,
    seats: Vec<Seat>,
}

impl Partition {
    /// A partition with nothing in it: no session, no report, no seats.
    fn empty() -> Self {
        Self {
            state: SessionState::Missing,
            version: None,
            report: None,
            seats: Vec::new(),
        }
    }
}

/// What a read-decide-write decided from the partition it read.
enum Decided<T> {
    /// The answer, with nothing to write.
    Answer(T),
    /// A transaction guarded by what was read, and the answer once it commits.
    Write(Vec<TransactWriteItem>, T),
}

/// How a transaction ended.
enum Tx {
    Committed,
    /// Per item: the cancellation code (`ConditionalCheckFailed`, `None`, …) and the old item when asked.
    Cancelled(Vec<(String, Option<Item>)>),
}

impl DynamoStore {
    /// A store on `table`. `cursor_secret` signs list cursors (keep it stable across deploys, or open
    /// cursors become invalid).
    pub fn new(
        client: Client,
        table: impl Into<String>,
        cursor_secret: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            client,
            table: Arc::from(table.into()),
            cursor_secret: Arc::from(cursor_secret.into()),
        }
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The key list cursors are signed with.
    pub(super) fn cursor_secret(&self) -> &[u8] {
        &self.cursor_secret
    }

    /// Writes sessions directly, unconditionally, 25 per BatchWriteItem: for seeding tests and
    /// benchmarks with the exact items the store writes itself. Never used on a request path.
    pub async fn seed_sessions(&self, sessions: &[Session]) -> StoreResult<()> {
        for chunk in sessions.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for session in chunk {
                let item = codec::session_item(session, 1, None)?;
                requests.push(
                    WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(item))
                                .build()
                                .map_err(build_err)?,
                        )
                        .build(),
                );
            }
            let mut pending = HashMap::from([(self.table.to_string(), requests)]);
            for attempt in 0..ATTEMPTS {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(map_sdk)?;
                pending = out.unprocessed_items.unwrap_or_default();
                if pending.values().all(Vec::is_empty) {
                    break;
                }
                backoff(attempt).await;
            }
        }
        Ok(())
    }

    /// The items at `keys` (each a `pk`/`sk` pair), read with BatchGetItem: at most
    /// [`BATCH_GET_MAX`] keys a call, the keys it leaves unprocessed (throttled partitions) retried
    /// with backoff. `consistent` asks for strongly consistent reads, which a decision about an item
    /// needs (twice the RCU of an eventually consistent one). Items come in no particular order;
    /// absent keys are simply missing.
    pub(super) async fn batch_get(
        &self,
        keys: Vec<Item>,
        consistent: bool,
    ) -> StoreResult<Vec<Item>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(consistent)
                    .build()
                    .map_err(build_err)?,
            );
            let mut round = 0;
            while let Some(request) = pending.take() {
                if round == BATCH_GET_ROUNDS {
                    return Err(StoreError::Throttled(
                        "BatchGetItem left keys unprocessed after every retry".into(),
                    ));
                }
                if round > 0 {
                    tokio::time::sleep(Duration::from_millis(20 << round)).await;
                }
                round += 1;
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&*self.table, request)
                    .send()
                    .await
                    .map_err(map_sdk)?;
                found.extend(
                    out.responses
                        .and_then(|mut r| r.remove(&*self.table))
                        .unwrap_or_default(),
                );
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&*self.table))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(found)
    }

    async fn load_partition(&self, id: &SessionId) -> StoreResult<Partition> {
        let mut part = Partition::empty();
        let query = self
            .client
            .query()
            .table_name(&*self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(":pk", s(index::session_pk(id)))
            .consistent_read(true);
        self.query_items(query, usize::MAX, |item| {
            match get_s(item, SK) {
                Some(index::SESSION_SK) => {
                    let (state, version) = codec::session_state_from_item(item)?;
                    part.state = state;
                    part.version = Some(version);
                }
                Some(codec::REPORT_SK) => part.report = Some(codec::report_from_item(item)?),
                Some(sk) if sk.starts_with(index::SEAT_SK_PREFIX) => {
                    part.seats.push(codec::seat_from_item(item)?)
                }
                _ => {}
            }
            Ok(true)
        })
        .await?;
        Ok(part)
    }

    /// Runs `query` page after page, at most `max_pages`, handing each item to `take` for as long as
    /// it answers `true`.
    pub(super) async fn query_items(
        &self,
        query: QueryFluentBuilder,
        max_pages: usize,
        mut take: impl FnMut(&Item) -> StoreResult<bool>,
    ) -> StoreResult<()> {
        let mut start: Option<Item> = None;
        for _ in 0..max_pages {
            let page = query.clone().set_exclusive_start_key(start);
            let out = page.send().await.map_err(map_sdk)?;
            for item in out.items() {
                if !take(item)? {
                    return Ok(());
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Puts `item` where no item is yet: `false` when one already was.
    pub(super) async fn put_new(&self, item: Item) -> StoreResult<bool> {
        let put = self
            .client
            .put_item()
            .table_name(&*self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(map_sdk(e)),
        }
    }

    /// The item at `key`, read strongly consistent.
    pub(super) async fn get_item(&self, key: Item) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&*self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(out.item)
    }

    async fn transact(&self, items: Vec<TransactWriteItem>) -> StoreResult<Tx> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Tx::Committed),
            Err(SdkError::ServiceError(se)) => match se.err() {
                // An item DynamoDB finds invalid (over 400 KB, say) cancels the transaction with a
                // ValidationError reason: a refusal no retry can change, not a lost race.
                TransactWriteItemsError::TransactionCanceledException(e)
                    if e.cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ValidationError")) =>
                {
                    Err(StoreError::Refused(format!(
                        "transaction refused: {:?}",
                        e.cancellation_reasons()
                            .iter()
                            .filter_map(|r| r.message())
                            .collect::<Vec<_>>()
                    )))
                }
                TransactWriteItemsError::TransactionCanceledException(e) => Ok(Tx::Cancelled(
                    e.cancellation_reasons()
                        .iter()
                        .map(|r| (r.code().unwrap_or("None").to_owned(), r.item().cloned()))
                        .collect(),
                )),
                _ => Err(map_sdk(SdkError::ServiceError(se))),
            },
            Err(e) => Err(map_sdk(e)),
        }
    }

    fn put(
        &self,
        item: Item,
        condition: Option<&str>,
        values: Vec<(&str, AttributeValue)>,
    ) -> StoreResult<TransactWriteItem> {
        let mut put = Put::builder().table_name(&*self.table).set_item(Some(item));
        if let Some(c) = condition {
            put = put
                .condition_expression(c)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            if c.contains("#v") {
                put = put.expression_attribute_names("#v", VERSION);
            }
            if c.contains("#pk") {
                put = put.expression_attribute_names("#pk", PK);
            }
            for (k, v) in values {
                put = put.expression_attribute_values(k, v);
            }
        }
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(build_err)?)
            .build())
    }

    /// A Put of the session's main item guarded by the version read (or by absence).
    fn put_session(&self, item: Item, read_version: Option<u64>) -> StoreResult<TransactWriteItem> {
        match read_version {
            Some(v) => self.put(item, Some("#v = :v"), vec![(":v", n(v))]),
            None => self.put(item, Some("attribute_not_exists(#pk)"), vec![]),
        }
    }

    /// Retries `attempt` while it reports a lost race on the session's version; it is told which
    /// attempt it is (0 first).
    async fn with_retries<T, F, Fut>(&self, what: &str, mut attempt: F) -> StoreResult<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: std::future::Future<Output = StoreResult<Option<T>>>,
    {
        for i in 0..ATTEMPTS {
            if let Some(out) = attempt(i).await? {
                return Ok(out);
            }
            backoff(i).await;
        }
        Err(StoreError::Contention(what.to_owned()))
    }

    /// A read-decide-write on a session, retried (as `what`) while it loses a race: each attempt reads
    /// the partition afresh, lets `decide` plan, and commits the transaction planned (as `tx_name`).
    async fn read_decide_write<T>(
        &self,
        what: &str,
        tx_name: &str,
        id: &SessionId,
        decide: impl Fn(&Partition) -> StoreResult<Decided<T>>,
    ) -> StoreResult<T> {
        self.with_retries(what, |_| async {
            match decide(&self.load_partition(id).await?)? {
                Decided::Answer(answer) => Ok(Some(answer)),
                Decided::Write(tx, answer) => self.commit_or_retry(tx_name, tx, answer).await,
            }
        })
        .await
    }

    /// A Put of `session` as the partition's main item at the version after the one read, guarded by
    /// that version.
    fn put_next(
        &self,
        part: &Partition,
        session: &Session,
        reported_at: Option<Timestamp>,
    ) -> StoreResult<TransactWriteItem> {
        let version = part.version.unwrap_or(0);
        self.put_session(
            codec::session_item(session, version + 1, reported_at)?,
            Some(version),
        )
    }
}

/// The error for a create whose placement id is already stored.
fn id_reused(placement: &Placement) -> StoreError {
    StoreError::Corrupt {
        key: placement.placement_id.to_string(),
        reason: "placement id reused".into(),
    }
}

fn build_err(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Corrupt {
        key: "request".into(),
        reason: e.to_string(),
    }
}

/// Jittered backoff between attempts of a lost race: short, because the winner is done already.
async fn backoff(attempt: u32) {
    let cap = 5 + 10 * u64::from(attempt.min(10));
    let ms = rand::rng().random_range(1..=cap);
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// About how many bytes a transaction's items carry: the items put, the keys and the values of updates.
fn tx_bytes(items: &[TransactWriteItem]) -> usize {
    items
        .iter()
        .map(|t| {
            let put = t.put().map_or(0, |p| codec::item_size(p.item()));
            let update = t.update().map_or(0, |u| {
                codec::item_size(u.key())
                    + u.expression_attribute_values()
                        .map_or(0, |v| v.values().map(codec::value_size).sum())
            });
            let delete = t.delete().map_or(0, |d| codec::item_size(d.key()));
            let check = t.condition_check().map_or(0, |c| codec::item_size(c.key()));
            put + update + delete + check
        })
        .sum()
}

/// Whether a cancelled transaction lost a race (a version check or a concurrent transaction) rather
/// than hit a real refusal.
fn lost_race(reasons: &[(String, Option<Item>)]) -> bool {
    reasons
        .iter()
        .any(|(code, _)| code == "ConditionalCheckFailed" || code == "TransactionConflict")
}

/// Whether a fulfilment may guess an empty partition: its placement transition, report check, session
/// and one seat per placed player fit in one transaction.
fn guessable(placed: &[fleet_core::model::PlayerSession]) -> bool {
    placed.len() + 3 <= TX_MAX
}

fn placement_outcome_from_old(old: Option<&Item>, target: PlacementStatus) -> Applied {
    match old
        .and_then(|i| get_s(i, "status"))
        .and_then(PlacementStatus::from_wire)
    {
        None => Applied::Unknown,
        Some(st) if st == target => Applied::Duplicate,
        Some(_) => Applied::Refused,
    }
}

impl SessionStore for DynamoStore {
    async fn create_placement(
        &self,
        placement: &Placement,
        idempotency: Option<&IdempotencyRecord>,
    ) -> StoreResult<CreateOutcome> {
        let item = codec::placement_item(placement)?;
        let Some(idem) = idempotency else {
            return match self.put_new(item).await? {
                true => Ok(CreateOutcome::Created),
                false => Err(id_reused(placement)),
            };
        };
        let tx = vec![
            self.put(
                idempotency_item(placement, idem),
                Some("attribute_not_exists(#pk)"),
                vec![],
            )?,
            self.put(item, Some("attribute_not_exists(#pk)"), vec![])?,
        ];
        // A TransactionConflict (another transaction was writing one of these items, as two requests
        // with the same key do) is retried after a backoff, as DynamoDB advises: the retry either
        // commits or finds the other request's record and replays it.
        self.with_retries("create_placement", |_| async {
            match self.transact(tx.clone()).await? {
                Tx::Committed => Ok(Some(CreateOutcome::Created)),
                Tx::Cancelled(reasons) => {
                    if let Some((_, Some(old))) = reasons
                        .first()
                        .filter(|(c, _)| c == "ConditionalCheckFailed")
                    {
                        return self.replayed(old, idem).await.map(Some);
                    }
                    if reasons.iter().any(|(c, _)| c == "TransactionConflict") {
                        return Ok(None);
                    }
                    Err(StoreError::Unavailable(format!(
                        "create transaction cancelled: {reasons:?}"
                    )))
                }
            }
        })
        .await
    }

    /// The create's transaction with one more item: the owner's pending-count item, whose set of
    /// PENDING placement ids gains this one only while it holds fewer than `cap.max` (a condition on
    /// the same write, so concurrent creates cannot pass it together). The set, not a number: adding
    /// an id twice or removing it twice changes nothing, so a replay, a duplicate release or a crash
    /// between a placement's end and its release can never leave the count wrong. When the cap is
    /// reached, the ids whose placements already finished (a release that was lost) are removed and
    /// the create is tried once more.
    async fn create_placement_capped(
        &self,
        placement: &Placement,
        idempotency: Option<&IdempotencyRecord>,
        cap: Option<&PendingCap>,
    ) -> StoreResult<CreateOutcome> {
        let Some(cap) = cap else {
            return self.create_placement(placement, idempotency).await;
        };
        let counter = codec::pending_count_key(&cap.owner);
        let mut repaired = false;
        for attempt in 0..ATTEMPTS {
            let mut tx = Vec::with_capacity(3);
            if let Some(idem) = idempotency {
                tx.push(self.put(
                    idempotency_item(placement, idem),
                    Some("attribute_not_exists(#pk)"),
                    vec![],
                )?);
            }
            let placement_at = tx.len();
            tx.push(self.put(
                codec::placement_item(placement)?,
                Some("attribute_not_exists(#pk)"),
                vec![],
            )?);
            tx.push(self.count_pending(counter.clone(), placement, cap.max)?);
            let reasons = match self.transact(tx).await? {
                Tx::Committed => return Ok(CreateOutcome::Created),
                Tx::Cancelled(reasons) => reasons,
            };
            let failed = |i: usize| {
                reasons
                    .get(i)
                    .is_some_and(|(c, _)| c == "ConditionalCheckFailed")
            };
            if let (Some(idem), true) = (idempotency, failed(0))
                && let Some((_, Some(old))) = reasons.first()
            {
                return self.replayed(old, idem).await;
            }
            if failed(placement_at) {
                return Err(id_reused(placement));
            }
            if failed(placement_at + 1) {
                if !repaired {
                    repaired = true;
                    let old = reasons.get(placement_at + 1).and_then(|(_, o)| o.as_ref());
                    if self.repair_pending(&counter, old).await? > 0 {
                        continue;
                    }
                }
                return Ok(CreateOutcome::AtCap);
            }
            if !reasons.iter().any(|(c, _)| c == "TransactionConflict") {
                return Err(StoreError::Unavailable(format!(
                    "create transaction cancelled: {reasons:?}"
                )));
            }
            // Another create of the same player (or a release) touched the count at once: retry.
            backoff(attempt).await;
        }
        Err(StoreError::Contention("create_placement".into()))
    }

    async fn release_pending(&self, owner: &str, id: &PlacementId) -> StoreResult<()> {
        // A transaction of one update rather than UpdateItem: the functions' roles already allow the
        // item kinds their transactions build, and nothing else is needed for this.
        let release = self.pending_release(owner, ":id", vec![id.to_string()])?;
        match self.transact(vec![release]).await? {
            Tx::Committed => Ok(()),
            // No count for this owner (a cap introduced after the create, or a TTL): nothing to do.
            Tx::Cancelled(r) if r.iter().any(|(c, _)| c == "ConditionalCheckFailed") => Ok(()),
            Tx::Cancelled(r) => Err(StoreError::Unavailable(format!(
                "release transaction cancelled: {r:?}"
            ))),
        }
    }

    /// One transaction for the batch: an owner's ids leave its set in one update (a transaction may
    /// not touch an item twice), at most 100 owners a request. A transaction cancelled because some
    /// owner has no count (a TTL, a cap introduced since) releases its owners one by one instead.
    async fn release_pendings(&self, released: &[(String, PlacementId)]) -> StoreResult<()> {
        let mut by_owner: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
        for (owner, id) in released {
            by_owner.entry(owner).or_default().push(id.to_string());
        }
        let owners: Vec<(&str, Vec<String>)> = by_owner.into_iter().collect();
        for chunk in owners.chunks(TX_MAX) {
            let mut tx = Vec::with_capacity(chunk.len());
            for (owner, ids) in chunk {
                tx.push(self.pending_release(owner, ":ids", ids.clone())?);
            }
            let reasons = match self.transact(tx.clone()).await? {
                Tx::Committed => continue,
                Tx::Cancelled(reasons) => reasons,
            };
            // Owners without a set (their condition failed) have nothing to release: the others go
            // again without them, once. Anything else (a conflict) is settled owner by owner.
            let missing: Vec<usize> = reasons
                .iter()
                .enumerate()
                .filter(|(_, (code, _))| code == "ConditionalCheckFailed")
                .map(|(i, _)| i)
                .collect();
            let only_missing = reasons
                .iter()
                .all(|(code, _)| code == "ConditionalCheckFailed" || code == "None");
            if only_missing && reasons.len() == tx.len() {
                let rest: Vec<TransactWriteItem> = tx
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| !missing.contains(i))
                    .map(|(_, item)| item)
                    .collect();
                if rest.is_empty() || matches!(self.transact(rest).await?, Tx::Committed) {
                    continue;
                }
            }
            for (owner, ids) in chunk {
                for id in ids {
                    let id = PlacementId::parse(id).map_err(StoreError::from)?;
                    self.release_pending(owner, &id).await?;
                }
            }
        }
        Ok(())
    }

    async fn get_placement(&self, id: &PlacementId) -> StoreResult<Option<Placement>> {
        let item = self.get_item(codec::placement_key(id)).await?;
        item.as_ref().map(codec::placement_from_item).transpose()
    }

    /// One strongly consistent BatchGetItem for a batch's placements (an SQS batch is at most 10 by
    /// default), instead of a GetItem each: one request for the function to sign and send.
    async fn get_placements(&self, ids: &[PlacementId]) -> Vec<StoreResult<Option<Placement>>> {
        // A batch may carry two copies of one event, and BatchGetItem refuses a request that names
        // a key twice (ValidationException): each placement is asked for once, answered to every copy.
        let mut unique: Vec<&PlacementId> = ids.iter().collect();
        unique.sort_unstable();
        unique.dedup();
        let keys = unique.into_iter().map(codec::placement_key).collect();
        let items = match self.batch_get(keys, true).await {
            Ok(items) => items,
            Err(e) => return ids.iter().map(|_| Err(e.clone())).collect(),
        };
        let by_pk: HashMap<String, Item> = items
            .into_iter()
            .filter_map(|item| Some((get_s(&item, PK)?.to_owned(), item)))
            .collect();
        ids.iter()
            .map(|id| {
                by_pk
                    .get(&index::placement_pk(id))
                    .map(codec::placement_from_item)
                    .transpose()
            })
            .collect()
    }

    async fn finish_placement(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> StoreResult<Applied> {
        self.finish_one(id, outcome, at).await.map(|f| f.applied)
    }

    /// Packs the batch's transitions, each with the same guarded items as `finish_placement`'s first
    /// attempt, into as few transactions as hold them (at most 100 items each). A transaction that
    /// commits settles all its placements at once; one cancelled for any reason (a duplicate, an early
    /// report, a conflict) settles nothing, and its placements then go one by one through
    /// `finish_placement`, which tells a duplicate from a refusal. So every answer is the one
    /// `finish_placement` would give, and a batch of fresh events costs one write request instead of
    /// one per event. Transitions that can't share a transaction (two for the same placement or
    /// session, or too many seats) go one by one from the start.
    async fn finish_placements(&self, batch: &[Finish]) -> Vec<StoreResult<Finished>> {
        let mut groups: Vec<(Vec<Member>, Vec<TransactWriteItem>)> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for (i, f) in batch.iter().enumerate() {
            let keys = match &f.outcome {
                PlacementOutcome::Fulfilled { session, .. } => {
                    vec![f.id.to_string(), session.id.to_string()]
                }
                PlacementOutcome::Unfulfilled { .. } => vec![f.id.to_string()],
            };
            let Fulfil {
                tx: items, session, ..
            } = match self.guessed_items(f) {
                Ok(Some(fulfil))
                    if fulfil.later_seats.is_empty() && keys.iter().all(|k| !seen.contains(k)) =>
                {
                    fulfil
                }
                _ => {
                    alone.push(i);
                    continue;
                }
            };
            seen.extend(keys);
            // DynamoDB refuses a transaction over 4 MB: ten fulfilments with sessions near their
            // size budget would pass it, so a group also closes on size.
            let bytes = tx_bytes(&items);
            match groups.last_mut() {
                Some((members, tx))
                    if tx.len() + items.len() <= TX_MAX
                        && tx_bytes(tx) + bytes <= TX_BYTES_BUDGET =>
                {
                    members.push((i, session));
                    tx.extend(items);
                }
                _ => groups.push((vec![(i, session)], items)),
            }
        }
        let mut results: Vec<Option<StoreResult<Finished>>> = batch.iter().map(|_| None).collect();
        let (shared, single): (Vec<_>, Vec<_>) = groups
            .into_iter()
            .partition(|(members, _)| members.len() > 1);
        alone.extend(
            single
                .into_iter()
                .flat_map(|(members, _)| members.into_iter().map(|(i, _)| i)),
        );
        let mut settled = Vec::with_capacity(batch.len());
        // A batch bigger than SQS's default 10 records makes several groups; a few run at a time.
        let mut shared = shared.into_iter().peekable();
        while shared.peek().is_some() {
            let mut jobs = Vec::with_capacity(FINISH_CONCURRENCY);
            for (members, tx) in shared.by_ref().take(FINISH_CONCURRENCY) {
                jobs.push(async move {
                    match self.transact(tx).await {
                        // The guess held for every member: each stored exactly the session it built.
                        Ok(Tx::Committed) => return members.into_iter().map(|(i, session)| (i, Ok(Finished { applied: Applied::Applied, session }))).collect::<Vec<_>>(),
                        // Expected now and then (a duplicate delivery, an early report): debug only.
                        Ok(Tx::Cancelled(reasons)) => {
                            let codes: Vec<&str> = reasons.iter().map(|(code, _)| code.as_str()).filter(|c| *c != "None").collect();
                            tracing::debug!(placements = members.len(), ?codes, "shared fulfilment transaction cancelled; settling one by one");
                        }
                        Err(e) => tracing::warn!(placements = members.len(), error = %e, "shared fulfilment transaction failed; settling one by one"),
                    }
                    self.finish_each(batch, members.into_iter().map(|(i, _)| i).collect()).await
                });
            }
            settled.extend(futures::future::join_all(jobs).await.into_iter().flatten());
        }
        // After the shared transactions: a placement's second event in the batch then finds the first
        // one's result, as it would have in the queue's order.
        settled.extend(self.finish_each(batch, alone).await);
        for (i, r) in settled {
            if let Some(slot) = results.get_mut(i) {
                *slot = Some(r);
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(StoreError::Unavailable(
                        "placement left out of its batch".into(),
                    ))
                })
            })
            .collect()
    }

    async fn get_session(&self, id: &SessionId) -> StoreResult<Option<Session>> {
        let item = self
            .get_item(codec::session_key(id, index::SESSION_SK))
            .await?;
        match item
            .as_ref()
            .map(codec::session_state_from_item)
            .transpose()?
        {
            Some((SessionState::Live { session, .. }, _)) => Ok(Some(session)),
            _ => Ok(None),
        }
    }

    async fn list_sessions(&self, request: &ListRequest) -> StoreResult<Page> {
        self.list(request).await
    }

    async fn end_session(&self, key: SessionKey<'_>, at: Timestamp) -> StoreResult<Applied> {
        let id = key.id();
        self.read_decide_write("end_session", "end", &id, |part| {
            let write = match (
                rules::end(&part.state, matches!(key, SessionKey::Arn(_)), at),
                key,
            ) {
                (EndEffect::Duplicate, _) => return Ok(Decided::Answer(Applied::Duplicate)),
                (EndEffect::Unknown, _) | (EndEffect::Tombstone, SessionKey::Id(_)) => {
                    return Ok(Decided::Answer(Applied::Unknown));
                }
                (EndEffect::Tombstone, SessionKey::Arn(arn)) => {
                    self.put_session(codec::tombstone_item(arn, at), None)?
                }
                (EndEffect::Session(ended), _) => {
                    self.put_next(part, &ended, reported_at(&part.state))?
                }
            };
            Ok(Decided::Write(vec![write], Applied::Applied))
        })
        .await
    }

    async fn apply_report(
        &self,
        arn: &fleet_core::ids::GameSessionArn,
        report: &StatusReport,
        at: Timestamp,
    ) -> StoreResult<Applied> {
        let id = arn.session_id();
        self.read_decide_write("apply_report", "report", &id, |part| {
            let effect = rules::report(
                &part.state,
                part.report.as_ref().map(|r| &r.0),
                &part.seats,
                arn.as_str(),
                report,
                at,
                TX_MAX - 1,
            )?;
            let tx = match effect {
                ReportEffect::Refused => return Ok(Decided::Answer(Applied::Refused)),
                ReportEffect::Duplicate => return Ok(Decided::Answer(Applied::Duplicate)),
                ReportEffect::Session(session, lapsed) => {
                    // The seats are in the partition the guarded read just returned, and the
                    // session's version guards them: a join or sweep committed since makes this retry.
                    let mut tx = vec![self.put_next(part, &session, Some(at))?];
                    for seat in &lapsed {
                        tx.push(self.put(codec::seat_item(seat, at)?, None, vec![])?);
                    }
                    tx
                }
                ReportEffect::Pending(pending) => {
                    let read_version = part.report.as_ref().map(|r| r.1);
                    let put = self.put_session(
                        codec::report_item(&id, &pending, read_version.map_or(1, |v| v + 1))?,
                        read_version,
                    )?;
                    // Kept only while there is still no session: a placement event committed since
                    // must make this report retry and apply to the session instead of waiting forever.
                    let no_session = self.absent(codec::session_key(&id, index::SESSION_SK))?;
                    vec![put, no_session]
                }
            };
            Ok(Decided::Write(tx, Applied::Applied))
        })
        .await
    }

    async fn correct_player_count(
        &self,
        arn: &fleet_core::ids::GameSessionArn,
        count: u32,
        quiet_since: Timestamp,
        at: Timestamp,
    ) -> StoreResult<Applied> {
        let id = arn.session_id();
        self.read_decide_write("correct_player_count", "correct_count", &id, |part| {
            let Some(session) =
                rules::gamelift_count(&part.state, &part.seats, count, quiet_since, at)
            else {
                return Ok(Decided::Answer(Applied::Duplicate));
            };
            // Guarded by the version read: a report or a join committed since makes this retry
            // against the new state (where a fresh report refuses the correction).
            let write = self.put_next(part, &session, reported_at(&part.state))?;
            Ok(Decided::Write(vec![write], Applied::Applied))
        })
        .await
    }

    async fn reserve_seats(
        &self,
        session_id: &SessionId,
        players: &[PlayerId],
        now: Timestamp,
        expires_at: Timestamp,
    ) -> StoreResult<Result<Reserved, JoinRefused>> {
        self.read_decide_write("reserve_seats", "join", session_id, |part| {
            let max_lapsed = TX_MAX.saturating_sub(1 + players.len());
            let plan = match rules::join(
                &part.state,
                &part.seats,
                players,
                now,
                expires_at,
                max_lapsed,
            ) {
                Ok(plan) => plan,
                Err(refused) => return Ok(Decided::Answer(Err(refused))),
            };
            if plan.rejoined.is_some() {
                // A repeated join: the seats are already there; the read was all it cost.
                return Ok(Decided::Answer(Ok(Reserved {
                    session: plan.session,
                    rejoined: plan.rejoined,
                })));
            }
            let mut tx = vec![self.put_next(part, &plan.session, reported_at(&part.state))?];
            for seat in &plan.seats {
                tx.push(self.put(codec::seat_item(seat, now)?, None, vec![])?);
            }
            let reserved = Reserved {
                session: plan.session,
                rejoined: None,
            };
            Ok(Decided::Write(tx, Ok(reserved)))
        })
        .await
    }

    async fn set_policy(
        &self,
        session_id: &SessionId,
        policy: &fleet_core::ports::SessionPolicy,
        at: Timestamp,
    ) -> StoreResult<Result<fleet_core::model::Session, fleet_core::ports::PolicyRefused>> {
        self.read_decide_write("set_policy", "set_policy", session_id, |part| {
            let session = match rules::set_policy(&part.state, &part.seats, policy, at) {
                Ok(session) => session,
                Err(refused) => return Ok(Decided::Answer(Err(refused))),
            };
            // Guarded by the version read, like every session write: a join or report committed
            // since is recounted on the next attempt, so a lock never hides a seat it raced.
            let write = self.put_next(part, &session, reported_at(&part.state))?;
            Ok(Decided::Write(vec![write], Ok(session)))
        })
        .await
    }

    async fn record_player_sessions(
        &self,
        session_id: &SessionId,
        player_sessions: &[fleet_core::model::PlayerSession],
    ) -> StoreResult<()> {
        // One guarded update per seat, all in one request (a join names at most 25 players): a seat
        // that moved on (released, expired, confirmed) since the join keeps what it has.
        let mut tx = Vec::with_capacity(player_sessions.len());
        for ps in player_sessions {
            let update = Update::builder()
                .table_name(&*self.table)
                .set_key(Some(codec::session_key(
                    session_id,
                    &index::seat_sk(&ps.player_id),
                )))
                .update_expression("SET #psid = :psid")
                .condition_expression("#status = :reserved")
                .expression_attribute_names("#psid", "playerSessionId")
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":psid", s(&ps.player_session_id))
                .expression_attribute_values(":reserved", s(SeatStatus::Reserved.as_str()))
                .build()
                .map_err(build_err)?;
            tx.push(TransactWriteItem::builder().update(update).build());
        }
        for chunk in tx.chunks(TX_MAX) {
            match self.transact(chunk.to_vec()).await? {
                Tx::Committed => {}
                // Some seat is no longer RESERVED: record the others one at a time.
                Tx::Cancelled(_) if chunk.len() > 1 => {
                    for item in chunk {
                        if let Tx::Cancelled(r) = self.transact(vec![item.clone()]).await?
                            && !r.iter().any(|(c, _)| c == "ConditionalCheckFailed")
                        {
                            return Err(StoreError::Unavailable(format!(
                                "player session record cancelled: {r:?}"
                            )));
                        }
                    }
                }
                Tx::Cancelled(r) if r.iter().any(|(c, _)| c == "ConditionalCheckFailed") => {}
                Tx::Cancelled(r) => {
                    return Err(StoreError::Unavailable(format!(
                        "player session record cancelled: {r:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    async fn release_seats(
        &self,
        session_id: &SessionId,
        players: &[PlayerId],
        at: Timestamp,
    ) -> StoreResult<Applied> {
        let changed = self
            .change_seats(session_id, at, |seat| {
                players
                    .contains(&seat.player_id)
                    .then_some(SeatStatus::Released)
            })
            .await?;
        Ok(match changed {
            None => Applied::Unknown,
            Some(0) => Applied::Duplicate,
            Some(_) => Applied::Applied,
        })
    }

    async fn expire_seats(&self, session_id: &SessionId, now: Timestamp) -> StoreResult<u32> {
        let changed = self
            .change_seats(session_id, now, rules::lapse(now))
            .await?;
        Ok(changed.unwrap_or(0))
    }
}

/// The idempotency record of a create.
fn idempotency_item(placement: &Placement, idem: &IdempotencyRecord) -> Item {
    let mut item = codec::idempotency_key(&idem.caller, idem.key.as_str());
    item.insert(codec::KIND.into(), s("idempotency"));
    item.insert("placementId".into(), s(placement.placement_id.as_str()));
    item.insert("bodyDigest".into(), s(&idem.body_digest));
    let retention = codec::IDEMPOTENCY_RETENTION_SECS;
    codec::expire_at(&mut item, placement.created_at.plus_secs(retention));
    item
}

/// When the game server last reported on a live session.
fn reported_at(state: &SessionState) -> Option<Timestamp> {
    match state {
        SessionState::Live { reported_at, .. } => *reported_at,
        _ => None,
    }
}

impl DynamoStore {
    /// A create whose idempotency record exists (`old`, returned by the cancelled transaction): the
    /// same body gets the first placement, another body a mismatch.
    async fn replayed(&self, old: &Item, idem: &IdempotencyRecord) -> StoreResult<CreateOutcome> {
        if get_s(old, "bodyDigest") != Some(idem.body_digest.as_str()) {
            return Ok(CreateOutcome::Mismatch);
        }
        let id = get_s(old, "placementId")
            .and_then(|p| PlacementId::parse(p).ok())
            .ok_or_else(|| codec::corrupt(old, "no placementId"))?;
        match self.get_placement(&id).await? {
            Some(p) => Ok(CreateOutcome::Existing(Box::new(p))),
            None => Err(StoreError::Corrupt {
                key: id.to_string(),
                reason: "idempotency record without placement".into(),
            }),
        }
    }

    /// The update that takes `ids` out of `owner`'s pending-count item, when there is one; `value` is
    /// the ids' placeholder in the expression.
    fn pending_release(
        &self,
        owner: &str,
        value: &str,
        ids: Vec<String>,
    ) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&*self.table)
            .set_key(Some(codec::pending_count_key(owner)))
            .update_expression(format!("DELETE #ids {value}"))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#ids", codec::PENDING_IDS)
            .expression_attribute_names("#pk", PK)
            .expression_attribute_values(value, AttributeValue::Ss(ids))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The create's update of its owner's pending-count item (see `create_placement_capped`).
    fn count_pending(
        &self,
        key: Item,
        placement: &Placement,
        max: u32,
    ) -> StoreResult<TransactWriteItem> {
        let update = Update::builder()
            .table_name(&*self.table)
            .set_key(Some(key))
            .update_expression("ADD #ids :id SET #kind = :kind, #ttl = :ttl")
            .condition_expression("attribute_not_exists(#ids) OR size(#ids) < :max")
            .expression_attribute_names("#ids", codec::PENDING_IDS)
            .expression_attribute_names("#kind", codec::KIND)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(
                ":id",
                AttributeValue::Ss(vec![placement.placement_id.to_string()]),
            )
            .expression_attribute_values(":kind", s("pendingCount"))
            .expression_attribute_values(
                ":ttl",
                n(placement
                    .created_at
                    .plus_secs(codec::PENDING_COUNT_RETENTION_SECS)
                    .epoch_seconds()),
            )
            .expression_attribute_values(":max", n(max))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Removes from a pending-count item the ids whose placements are no longer PENDING (or gone):
    /// releases that were lost (a crash right after a placement ended). `old` is the item as the
    /// refused create saw it; it is read when absent. Finished placements never become PENDING again,
    /// so removing them is right whatever runs concurrently. Answers how many were removed.
    async fn repair_pending(&self, key: &Item, old: Option<&Item>) -> StoreResult<usize> {
        let read;
        let item = match old {
            Some(item) => item,
            None => {
                read = self.get_item(key.clone()).await?.unwrap_or_default();
                &read
            }
        };
        let ids: Vec<PlacementId> = item
            .get(codec::PENDING_IDS)
            .and_then(|v| v.as_ss().ok())
            .map(|ids| {
                ids.iter()
                    .filter_map(|i| PlacementId::parse(i).ok())
                    .collect()
            })
            .unwrap_or_default();
        // At most `max` ids (100 at the most, 3 by default), read at once, strongly consistent. One
        // that cannot be read counts as PENDING: the repair never lets a create past the cap.
        let reads = ids.iter().map(|id| async move {
            match self.get_placement(id).await {
                Ok(Some(p)) if p.status != PlacementStatus::Pending => None,
                Ok(None) => None,
                Ok(Some(_)) | Err(_) => Some(id.to_string()),
            }
        });
        let still_pending: std::collections::HashSet<String> = futures::future::join_all(reads)
            .await
            .into_iter()
            .flatten()
            .collect();
        let stale: Vec<String> = ids
            .iter()
            .map(|i| i.to_string())
            .filter(|i| !still_pending.contains(i))
            .collect();
        if stale.is_empty() {
            return Ok(0);
        }
        let update = Update::builder()
            .table_name(&*self.table)
            .set_key(Some(key.clone()))
            .update_expression("DELETE #ids :stale")
            .expression_attribute_names("#ids", codec::PENDING_IDS)
            .expression_attribute_values(":stale", AttributeValue::Ss(stale.clone()))
            .build()
            .map_err(build_err)?;
        if let Tx::Cancelled(r) = self
            .transact(vec![TransactWriteItem::builder().update(update).build()])
            .await?
        {
            return Err(StoreError::Unavailable(format!(
                "pending-count repair cancelled: {r:?}"
            )));
        }
        tracing::info!(
            removed = stale.len(),
            "finished placements removed from a pending count"
        );
        Ok(stale.len())
    }

    /// The guarded transition of a placement: PENDING → the outcome's status, with its session id and
    /// player sessions (fulfilled) or its reason (unfulfilled), out of the deadline index.
    fn finish_update(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> StoreResult<Update> {
        let mut update = Update::builder()
            .table_name(&*self.table)
            .set_key(Some(codec::placement_key(id)))
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "status")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_names("#lp", index::PENDING_BY_DEADLINE.pk)
            .expression_attribute_names("#kd", index::PENDING_BY_DEADLINE.sk)
            .expression_attribute_values(":pending", s(PlacementStatus::Pending.as_str()))
            .expression_attribute_values(":st", s(outcome.status().as_str()))
            .expression_attribute_values(":at", s(at.to_rfc3339()))
            .expression_attribute_values(
                ":ttl",
                n(at.plus_secs(codec::PLACEMENT_RETENTION_SECS)
                    .epoch_seconds()),
            )
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let mut set = String::from("SET #st = :st, updatedAt = :at, #ttl = :ttl");
        match outcome {
            PlacementOutcome::Unfulfilled { reason, .. } => {
                if let Some(r) = reason {
                    set.push_str(", reason = :reason");
                    update = update.expression_attribute_values(":reason", s(r));
                }
            }
            PlacementOutcome::Fulfilled {
                session,
                player_sessions,
            } => {
                set.push_str(", sessionId = :sid, playerSessions = :ps");
                update = update
                    .expression_attribute_values(":sid", s(session.id.as_str()))
                    .expression_attribute_values(
                        ":ps",
                        codec::player_sessions_value(player_sessions),
                    );
            }
        }
        update
            .update_expression(format!("{set} REMOVE #lp, #kd"))
            .build()
            .map_err(build_err)
    }

    /// `finish_placement`, answering with the session it wrote.
    async fn finish_one(
        &self,
        id: &PlacementId,
        outcome: &PlacementOutcome,
        at: Timestamp,
    ) -> StoreResult<Finished> {
        let target = outcome.status();
        let update = self.finish_update(id, outcome, at)?;
        let PlacementOutcome::Fulfilled {
            session: built,
            player_sessions: placed,
        } = outcome
        else {
            return match self
                .transact(vec![TransactWriteItem::builder().update(update).build()])
                .await?
            {
                Tx::Committed => Ok(Finished::without_session(Applied::Applied)),
                Tx::Cancelled(reasons) => match reasons.into_iter().next() {
                    Some((code, old)) if code == "ConditionalCheckFailed" => Ok(
                        Finished::without_session(placement_outcome_from_old(old.as_ref(), target)),
                    ),
                    other => Err(StoreError::Unavailable(format!(
                        "placement update cancelled: {other:?}"
                    ))),
                },
            };
        };

        // The first attempt assumes what nearly every fulfilment finds, an empty partition, instead of
        // reading it: the transaction checks that the session item and the report are absent, and only
        // if a check fails does a retry read the partition. Seats need no check of their own: a seat is
        // only ever written in a transaction with its session item (or, for more seats than one
        // transaction holds, just ahead of it by a fulfilment that never guesses), so no session item
        // means no seats. This saves a consistent Query, a third of the event's round trips.
        let update = &update;
        self.with_retries("finish_placement", |attempt| async move {
            let guess = attempt == 0 && guessable(placed);
            let part = if guess {
                Partition::empty()
            } else {
                self.load_partition(&built.id).await?
            };
            let Fulfil {
                tx,
                later_seats,
                session,
            } = self.fulfil_items(update, &part, built, placed, at)?;
            if !later_seats.is_empty() {
                // More seats than one transaction holds (a create may name up to 200 players): the rest
                // go first, but only while the placement is still PENDING, so a duplicate event never
                // rewinds a seat that has moved on.
                match self.get_placement(id).await? {
                    None => return Ok(Some(Finished::without_session(Applied::Unknown))),
                    Some(p) if p.status != PlacementStatus::Pending => {
                        return Ok(Some(Finished::without_session(if p.status == target {
                            Applied::Duplicate
                        } else {
                            Applied::Refused
                        })));
                    }
                    Some(_) => {}
                }
                for chunk in later_seats.chunks(TX_MAX) {
                    let items = chunk
                        .iter()
                        .map(|seat| self.put(codec::seat_item(seat, at)?, None, vec![]))
                        .collect::<StoreResult<Vec<_>>>()?;
                    if let Tx::Cancelled(r) = self.transact(items).await? {
                        return Err(StoreError::Unavailable(format!(
                            "seat batch cancelled: {r:?}"
                        )));
                    }
                }
            }
            match self.transact(tx).await? {
                Tx::Committed => Ok(Some(Finished {
                    applied: Applied::Applied,
                    session,
                })),
                Tx::Cancelled(reasons) => {
                    let (code, old) = reasons.first().cloned().unwrap_or_default();
                    if code == "ConditionalCheckFailed" {
                        return Ok(Some(Finished::without_session(placement_outcome_from_old(
                            old.as_ref(),
                            target,
                        ))));
                    }
                    if lost_race(&reasons) {
                        Ok(None)
                    } else {
                        Err(StoreError::Unavailable(format!(
                            "fulfil transaction cancelled: {reasons:?}"
                        )))
                    }
                }
            }
        })
        .await
    }

    /// A fulfilment's transaction given the partition read (or guessed empty): the placement's
    /// transition, the session with the report merged (or a check that there is none) and the seats;
    /// second, the seats that don't fit in one transaction.
    fn fulfil_items(
        &self,
        update: &Update,
        part: &Partition,
        built: &Session,
        placed: &[fleet_core::model::PlayerSession],
        at: Timestamp,
    ) -> StoreResult<Fulfil> {
        let plan = rules::fulfil(
            &part.state,
            part.report.as_ref().map(|r| &r.0),
            &part.seats,
            built,
            placed,
            at,
        )?;
        let mut tx = vec![TransactWriteItem::builder().update(update.clone()).build()];
        if let Some(session) = &plan.session {
            match &part.report {
                Some((_, report_version)) => {
                    tx.push(self.delete_guarded(
                        codec::session_key(&built.id, codec::REPORT_SK),
                        *report_version,
                    )?);
                }
                // No report was read: one written since (a concurrent report that found no
                // session) must make this write retry and merge it, or it would be lost.
                None => tx.push(self.absent(codec::session_key(&built.id, codec::REPORT_SK))?),
            }
            tx.push(self.put_session(codec::session_item(session, 1, plan.reported_at)?, None)?);
        }
        let (now_seats, later_seats) = plan.seats.split_at(plan.seats.len().min(TX_MAX - tx.len()));
        for seat in now_seats {
            tx.push(self.put(codec::seat_item(seat, at)?, None, vec![])?);
        }
        Ok(Fulfil {
            tx,
            later_seats: later_seats.to_vec(),
            session: plan.session,
        })
    }

    /// The items `finish_placement`'s first attempt would commit for `f`, with the session they write,
    /// when they fit in a shared transaction; `None` for a fulfilment with more seats than that.
    fn guessed_items(&self, f: &Finish) -> StoreResult<Option<Fulfil>> {
        let update = self.finish_update(&f.id, &f.outcome, f.at)?;
        match &f.outcome {
            PlacementOutcome::Unfulfilled { .. } => Ok(Some(Fulfil {
                tx: vec![TransactWriteItem::builder().update(update).build()],
                later_seats: vec![],
                session: None,
            })),
            PlacementOutcome::Fulfilled {
                player_sessions, ..
            } if !guessable(player_sessions) => Ok(None),
            PlacementOutcome::Fulfilled {
                session,
                player_sessions,
            } => Ok(Some(self.fulfil_items(
                &update,
                &Partition::empty(),
                session,
                player_sessions,
                f.at,
            )?)),
        }
    }

    /// `finish_placement` for each of `members`, [`FINISH_CONCURRENCY`] at a time.
    async fn finish_each(
        &self,
        batch: &[Finish],
        members: Vec<usize>,
    ) -> Vec<(usize, StoreResult<Finished>)> {
        let mut out = Vec::with_capacity(members.len());
        for chunk in members.chunks(FINISH_CONCURRENCY) {
            let mut runs = Vec::with_capacity(chunk.len());
            for &i in chunk {
                if let Some(f) = batch.get(i) {
                    runs.push(async move { (i, self.finish_one(&f.id, &f.outcome, f.at).await) });
                }
            }
            out.extend(futures::future::join_all(runs).await);
        }
        out
    }

    /// Commits `tx`; a lost race (`None`) makes the caller read again and retry.
    async fn commit_or_retry<T>(
        &self,
        what: &str,
        tx: Vec<TransactWriteItem>,
        done: T,
    ) -> StoreResult<Option<T>> {
        match self.transact(tx).await? {
            Tx::Committed => Ok(Some(done)),
            Tx::Cancelled(r) if lost_race(&r) => Ok(None),
            Tx::Cancelled(r) => Err(StoreError::Unavailable(format!(
                "{what} transaction cancelled: {r:?}"
            ))),
        }
    }

    /// A condition that the item at `key` does not exist (yet), checked in the same transaction.
    fn absent(&self, key: Item) -> StoreResult<TransactWriteItem> {
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&*self.table)
            .set_key(Some(key))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    fn delete_guarded(&self, key: Item, version: u64) -> StoreResult<TransactWriteItem> {
        let delete = aws_sdk_dynamodb::types::Delete::builder()
            .table_name(&*self.table)
            .set_key(Some(key))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", n(version))
            .build()
            .map_err(build_err)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    /// Moves the RESERVED seats `pick` selects, with the session's counters, in guarded transactions of
    /// at most 99 seats. `None` when the session is unknown; otherwise how many seats changed.
    async fn change_seats<F>(
        &self,
        session_id: &SessionId,
        at: Timestamp,
        pick: F,
    ) -> StoreResult<Option<u32>>
    where
        F: Fn(&Seat) -> Option<SeatStatus> + Sync,
    {
        let mut total = 0u32;
        loop {
            let step = self
                .read_decide_write("change_seats", "seat change", session_id, |part| {
                    let SessionState::Live {
                        session,
                        reported_at,
                    } = &part.state
                    else {
                        return Ok(Decided::Answer(None));
                    };
                    let Some(plan) =
                        rules::change_seats(session, &part.seats, at, TX_MAX - 1, &pick)
                    else {
                        return Ok(Decided::Answer(Some(0)));
                    };
                    let mut tx = vec![self.put_next(part, &plan.session, *reported_at)?];
                    for seat in &plan.seats {
                        tx.push(self.put(codec::seat_item(seat, at)?, None, vec![])?);
                    }
                    let n = plan.seats.len() as u32;
                    Ok(Decided::Write(tx, Some(n)))
                })
                .await?;
            match step {
                None if total == 0 => return Ok(None),
                Some(n) if n > 0 => total += n,
                _ => return Ok(Some(total)),
            }
        }
    }
}
