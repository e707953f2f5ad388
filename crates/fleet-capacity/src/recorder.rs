//! The recording DynamoDB client: an SDK interceptor that makes every request report the capacity it
//! consumed (the table's and each GSI's) and logs what the request touched, and the attribution of that
//! capacity to partition key values.
//!
//! The request side is read in `modify_before_serialization`, where the typed input is still there:
//! the table, the index, the item keys, the items of a Put and, for a Query, the value bound to the
//! partition key in the key condition; `ReturnConsumedCapacity` is set to `INDEXES` on the way. The
//! answer's `ConsumedCapacity` is read once the operation finished (`read_after_execution`).
//!
//! A table's capacity lands on the partition keys of the items the request touched. A GSI's capacity
//! lands on the index partition key values of the items it rewrote, which an UpdateItem does not
//! carry: the [`Shadow`] keeps, for every item written so far, its size and its value of each index's
//! partition key, refreshed after each handler call by a plain (non-recording) consistent GetItem of
//! the items that call updated. An item leaving an index charges its old value, one entering it its new
//! value, one whose index key moved charges both (DynamoDB deletes and puts it), and one rewritten in
//! place charges its value once; when one request moves several items, the capacity is split in
//! proportion to their sizes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemInput, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemInput, BatchWriteItemOutput};
use aws_sdk_dynamodb::operation::delete_item::{DeleteItemInput, DeleteItemOutput};
use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::put_item::{PutItemInput, PutItemOutput};
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::operation::scan::{ScanInput, ScanOutput};
use aws_sdk_dynamodb::operation::transact_get_items::{
    TransactGetItemsInput, TransactGetItemsOutput,
};
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsInput, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{UpdateItemInput, UpdateItemOutput};
use aws_sdk_dynamodb::types::{AttributeValue, Capacity, ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextMut, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use fleet_aws::dynamo::TableSpec;

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// What one request touched, as its input says.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    /// A whole item written (PutItem, a transaction's Put, a batch's PutRequest).
    Put {
        /// The table.
        table: String,
        /// The item.
        item: Item,
    },
    /// An item changed in place (UpdateItem, a transaction's Update).
    Update {
        /// The table.
        table: String,
        /// Its key.
        key: Item,
    },
    /// An item deleted.
    Delete {
        /// The table.
        table: String,
        /// Its key.
        key: Item,
    },
    /// A transaction's ConditionCheck: read, never written.
    Check {
        /// The table.
        table: String,
        /// Its key.
        key: Item,
    },
    /// A read of one item by key (GetItem, TransactGetItems, BatchGetItem).
    Get {
        /// The table.
        table: String,
        /// Its key.
        key: Item,
    },
    /// A Query of one partition of the table or of an index.
    Query {
        /// The table.
        table: String,
        /// The index, if any.
        index: Option<String>,
        /// The value bound to the partition key in the key condition (`None` if it could not be read).
        partition: Option<String>,
    },
    /// A Scan (never on a request path; recorded so it would show).
    Scan {
        /// The table.
        table: String,
        /// The index, if any.
        index: Option<String>,
    },
}

impl Access {
    fn is_write(&self) -> bool {
        matches!(
            self,
            Self::Put { .. } | Self::Update { .. } | Self::Delete { .. } | Self::Check { .. }
        )
    }
}

/// One request: what it touched and what it consumed.
#[derive(Debug, Clone)]
pub struct Call {
    id: u64,
    /// The operation (`PutItem`, `Query`, …).
    pub operation: &'static str,
    /// What it touched, in request order.
    pub accesses: Vec<Access>,
    /// What DynamoDB said it consumed (`None` until it answered, or when it answered with an error).
    pub consumed: Vec<ConsumedCapacity>,
    /// Whether it failed (a refused condition, a cancelled transaction, …).
    pub failed: bool,
}

impl Call {
    /// Whether the operation writes.
    pub fn writes(&self) -> bool {
        matches!(
            self.operation,
            "PutItem" | "UpdateItem" | "DeleteItem" | "TransactWriteItems" | "BatchWriteItem"
        )
    }
}

#[derive(Debug, Default)]
struct Log {
    next: u64,
    calls: Vec<Call>,
}

/// The interceptor. Clones share the log, so the driver keeps one to drain it.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    log: Arc<Mutex<Log>>,
}

#[derive(Debug, Clone, Copy)]
struct CallId(u64);

impl Storable for CallId {
    type Storer = StoreReplace<Self>;
}

impl Recorder {
    /// A recorder with an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes every request recorded so far, in the order they were sent.
    pub fn drain(&self) -> Vec<Call> {
        let mut calls = std::mem::take(&mut self.lock().calls);
        calls.sort_by_key(|c| c.id);
        calls
    }
}

fn table_of(name: Option<&String>) -> String {
    name.cloned().unwrap_or_default()
}

/// The value bound to `attribute` by an `<name> = <value>` clause of a key condition.
pub fn partition_value(
    expression: &str,
    names: Option<&HashMap<String, String>>,
    values: Option<&Item>,
    attribute: &str,
) -> Option<String> {
    expression
        .split(" AND ")
        .flat_map(|c| c.split(" and "))
        .find_map(|clause| {
            let (left, right) = clause.split_once('=')?;
            let left = left.trim().trim_start_matches('(');
            let right = right.trim().trim_end_matches(')');
            let name = match left.strip_prefix('#') {
                Some(_) => names?.get(left)?.as_str(),
                None => left,
            };
            if name != attribute {
                return None;
            }
            match values?.get(right)? {
                AttributeValue::S(s) => Some(s.clone()),
                AttributeValue::N(n) => Some(n.clone()),
                _ => None,
            }
        })
}

/// Reads a request's input, asks it for its consumed capacity, and says what it touches.
fn describe(
    input: &mut aws_smithy_runtime_api::client::interceptors::context::Input,
    spec: &TableSpec,
) -> Option<(&'static str, Vec<Access>)> {
    // Every operation is asked for its capacity alike; only what it touches is read differently.
    macro_rules! operation {
        // A single-item operation: its table and its key (or item), both optional in the SDK's input.
        ($name:literal: $t:ty => $variant:ident { $field:ident }) => {
            operation!($name: $t => |i| vec![Access::$variant {
                table: table_of(i.table_name.as_ref()),
                $field: i.$field.clone().unwrap_or_default(),
            }])
        };
        ($name:literal: $t:ty => |$i:ident| $accesses:expr) => {
            if let Some($i) = input.downcast_mut::<$t>() {
                $i.return_consumed_capacity = Some(ReturnConsumedCapacity::Indexes);
                return Some(($name, $accesses));
            }
        };
    }
    operation!("PutItem": PutItemInput => Put { item });
    operation!("UpdateItem": UpdateItemInput => Update { key });
    operation!("DeleteItem": DeleteItemInput => Delete { key });
    operation!("GetItem": GetItemInput => Get { key });
    operation!("Query": QueryInput => |i| vec![query_access(i, spec)]);
    operation!("Scan": ScanInput => |i| vec![scan_access(i)]);
    operation!("TransactWriteItems": TransactWriteItemsInput => |i| transact_writes(i));
    operation!("TransactGetItems": TransactGetItemsInput => |i| transact_gets(i));
    operation!("BatchWriteItem": BatchWriteItemInput => |i| batch_writes(i));
    operation!("BatchGetItem": BatchGetItemInput => |i| batch_gets(i));
    None
}

/// What a Scan touches: its table or index.
fn scan_access(i: &ScanInput) -> Access {
    Access::Scan {
        table: table_of(i.table_name.as_ref()),
        index: i.index_name.clone(),
    }
}

/// What a Query touches: its table or index, and the partition key value its key condition binds.
fn query_access(i: &QueryInput, spec: &TableSpec) -> Access {
    let attribute = match &i.index_name {
        Some(ix) => spec.indexes.iter().find(|d| d.name == ix).map(|d| d.pk),
        None => Some(spec.pk),
    };
    let partition = attribute.and_then(|a| {
        partition_value(
            i.key_condition_expression.as_deref().unwrap_or_default(),
            i.expression_attribute_names.as_ref(),
            i.expression_attribute_values.as_ref(),
            a,
        )
    });
    Access::Query {
        table: table_of(i.table_name.as_ref()),
        index: i.index_name.clone(),
        partition,
    }
}

/// Which kind of [`Access`] a transaction's or a batch's item is.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Put,
    Update,
    Delete,
    Check,
    Get,
}

impl Access {
    /// The access of `kind` to `key` (the whole item for a put) of `table`.
    fn keyed(kind: Kind, table: &str, key: &Item) -> Self {
        let (table, key) = (table.to_owned(), key.clone());
        match kind {
            Kind::Put => Self::Put { table, item: key },
            Kind::Update => Self::Update { table, key },
            Kind::Delete => Self::Delete { table, key },
            Kind::Check => Self::Check { table, key },
            Kind::Get => Self::Get { table, key },
        }
    }
}

/// What each item of a TransactWriteItems touches, in order.
fn transact_writes(i: &TransactWriteItemsInput) -> Vec<Access> {
    let mut accesses = Vec::new();
    for t in i.transact_items.iter().flatten() {
        let parts = [
            t.put.as_ref().map(|p| (Kind::Put, &p.table_name, &p.item)),
            t.update
                .as_ref()
                .map(|u| (Kind::Update, &u.table_name, &u.key)),
            t.delete
                .as_ref()
                .map(|d| (Kind::Delete, &d.table_name, &d.key)),
            t.condition_check
                .as_ref()
                .map(|c| (Kind::Check, &c.table_name, &c.key)),
        ];
        accesses.extend(
            parts
                .into_iter()
                .flatten()
                .map(|(kind, table, key)| Access::keyed(kind, table, key)),
        );
    }
    accesses
}

/// What each item of a TransactGetItems reads, in order.
fn transact_gets(i: &TransactGetItemsInput) -> Vec<Access> {
    i.transact_items
        .iter()
        .flatten()
        .filter_map(|t| t.get.as_ref())
        .map(|g| Access::keyed(Kind::Get, &g.table_name, &g.key))
        .collect()
}

/// What each request of a BatchWriteItem touches, table by table.
fn batch_writes(i: &BatchWriteItemInput) -> Vec<Access> {
    let mut accesses = Vec::new();
    for (table, requests) in i.request_items.iter().flatten() {
        for r in requests {
            let parts = [
                r.put_request.as_ref().map(|p| (Kind::Put, &p.item)),
                r.delete_request.as_ref().map(|d| (Kind::Delete, &d.key)),
            ];
            accesses.extend(
                parts
                    .into_iter()
                    .flatten()
                    .map(|(kind, key)| Access::keyed(kind, table, key)),
            );
        }
    }
    accesses
}

/// What each key of a BatchGetItem reads, table by table.
fn batch_gets(i: &BatchGetItemInput) -> Vec<Access> {
    i.request_items
        .iter()
        .flatten()
        .flat_map(|(table, keys)| {
            keys.keys
                .iter()
                .map(|key| Access::keyed(Kind::Get, table, key))
        })
        .collect()
}

/// The `ConsumedCapacity` entries of an operation's output.
fn consumed_of(
    output: &aws_smithy_runtime_api::client::interceptors::context::Output,
) -> Vec<ConsumedCapacity> {
    macro_rules! one {
        ($t:ty) => {
            if let Some(o) = output.downcast_ref::<$t>() {
                return o.consumed_capacity.iter().cloned().collect();
            }
        };
    }
    macro_rules! many {
        ($t:ty) => {
            if let Some(o) = output.downcast_ref::<$t>() {
                return o.consumed_capacity.clone().unwrap_or_default();
            }
        };
    }
    one!(PutItemOutput);
    one!(UpdateItemOutput);
    one!(DeleteItemOutput);
    one!(GetItemOutput);
    one!(QueryOutput);
    one!(ScanOutput);
    many!(TransactWriteItemsOutput);
    many!(TransactGetItemsOutput);
    many!(BatchWriteItemOutput);
    many!(BatchGetItemOutput);
    Vec::new()
}

/// The interceptor with the table's definition, to read index partition keys from key conditions.
#[derive(Debug, Clone)]
pub struct RecordingInterceptor {
    recorder: Recorder,
    spec: TableSpec,
}

impl RecordingInterceptor {
    /// An interceptor logging into `recorder`.
    pub fn new(recorder: Recorder, spec: TableSpec) -> Self {
        Self { recorder, spec }
    }
}

impl Intercept for RecordingInterceptor {
    fn name(&self) -> &'static str {
        "FleetCapacityRecorder"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some((operation, accesses)) = describe(context.input_mut(), &self.spec) else {
            return Ok(());
        };
        let mut log = self.recorder.lock();
        let id = log.next;
        log.next += 1;
        log.calls.push(Call {
            id,
            operation,
            accesses,
            consumed: Vec::new(),
            failed: false,
        });
        cfg.interceptor_state().store_put(CallId(id));
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(CallId(id)) = cfg.load::<CallId>().copied() else {
            return Ok(());
        };
        let (consumed, failed) = match context.output_or_error() {
            Some(Ok(output)) => (consumed_of(output), false),
            _ => (Vec::new(), true),
        };
        let mut log = self.recorder.lock();
        if let Some(call) = log.calls.iter_mut().find(|c| c.id == id) {
            call.consumed = consumed;
            call.failed = failed;
        }
        Ok(())
    }
}

/// A DynamoDB client for DynamoDB Local at `url` that records through `recorder`.
pub fn recording_client(url: &str, recorder: &Recorder, spec: TableSpec) -> Client {
    let config = fleet_aws::dynamo::local_client(url)
        .config()
        .to_builder()
        .interceptor(RecordingInterceptor::new(recorder.clone(), spec))
        .build();
    Client::from_conf(config)
}

/// DynamoDB's size of an attribute value in bytes (its accounting: strings and binaries by length,
/// numbers by significant digits, containers with their 3-byte overhead and 1 byte per element).
pub fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, e)| 1 + k.len() + value_size(e))
                .sum::<usize>()
        }
        _ => 1,
    }
}

fn number_size(n: &str) -> usize {
    let digits = n
        .trim_start_matches(['-', '+'])
        .split(['e', 'E'])
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect::<String>();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len();
    1 + significant.div_ceil(2)
}

/// DynamoDB's size of an item: every attribute's name and value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

/// What the shadow knows of one item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemState {
    /// Its size in bytes.
    pub size: usize,
    /// For each index the item is in (it has both key attributes): its partition key value.
    pub indexes: BTreeMap<String, String>,
}

fn string_of(item: &Item, attribute: &str) -> Option<String> {
    match item.get(attribute)? {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::N(n) => Some(n.clone()),
        _ => None,
    }
}

impl ItemState {
    /// The state of `item` under the table's indexes.
    pub fn of(item: &Item, spec: &TableSpec) -> Self {
        let indexes = spec
            .indexes
            .iter()
            .filter(|ix| item.contains_key(ix.sk))
            .filter_map(|ix| Some((ix.name.to_owned(), string_of(item, ix.pk)?)))
            .collect();
        Self {
            size: item_size(item),
            indexes,
        }
    }
}

/// Identifies an item: table, partition key value, sort key value.
type ItemKey = (String, String, String);

/// What a handler call's updates left of each item they touched (`None`: gone), read back.
type After = HashMap<ItemKey, Option<ItemState>>;

/// One share of a request's capacity: a partition key value, its write weight and its read weight.
type Part = (String, f64, f64);

fn key_of(table: &str, item: &Item, spec: &TableSpec) -> ItemKey {
    (
        table.to_owned(),
        string_of(item, spec.pk).unwrap_or_default(),
        string_of(item, spec.sk).unwrap_or_default(),
    )
}

/// Capacity charged to one partition key value of the table or of an index.
#[derive(Debug, Clone, PartialEq)]
pub struct Charge {
    /// The table's name, or the index's.
    pub target: String,
    /// Whether `target` is an index.
    pub index: bool,
    /// The partition key attribute.
    pub attribute: String,
    /// Its value.
    pub value: String,
    /// Write capacity units.
    pub wcu: f64,
    /// Read capacity units.
    pub rcu: f64,
}

/// What one settled batch of requests cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settled {
    /// Capacity per partition key value.
    pub charges: Vec<Charge>,
    /// Requests made.
    pub requests: u64,
    /// Requests that failed (DynamoDB reports no capacity for them; see `estimated_wcu`).
    pub failed: u64,
    /// Write capacity the failed writes are estimated to have consumed (DynamoDB bills a refused
    /// conditional write by the size of the item already there, at least 1), included in `charges`.
    pub estimated_wcu: f64,
}

/// How many times DynamoDB Local over-charges a transaction's index writes.
///
/// DynamoDB Local reports a TransactWriteItems' index units doubled, like its table units (a 1 KB
/// transactional put of an indexed item: table 2, index 2). DynamoDB doubles the table's alone: the
/// same put reports table 2, index 1, as captured against DynamoDB by the dynoxide emulator's
/// conformance work (nubo-db/dynoxide, `src/actions/transact_write_items.rs`, "the transactional
/// factor reaches the base table arm only"). The model divides the index units DynamoDB Local reports
/// for a transaction by this, so its figures are DynamoDB's.
pub const LOCAL_TRANSACTION_INDEX_FACTOR: f64 = 2.0;

/// Every item's size and index keys, as the requests so far left them.
#[derive(Debug)]
pub struct Shadow {
    spec: TableSpec,
    items: HashMap<ItemKey, ItemState>,
    transaction_index_factor: f64,
}

/// Splits `total` over `weights` in proportion (evenly when they are all zero).
fn split(total: f64, weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum <= 0.0 {
        return vec![total / weights.len() as f64; weights.len()];
    }
    weights.iter().map(|w| total * w / sum).collect()
}

/// Splits `wcu` and `rcu` over `parts` (value, write weight, read weight) in proportion to their
/// weights: each value with its share, those that get nothing of either left out.
fn shares(parts: Vec<Part>, wcu: f64, rcu: f64) -> Vec<Part> {
    let ws: Vec<f64> = parts.iter().map(|p| p.1).collect();
    let rs: Vec<f64> = parts.iter().map(|p| p.2).collect();
    let (w, r) = (split(wcu, &ws), split(rcu, &rs));
    parts
        .into_iter()
        .enumerate()
        .filter_map(|(i, (value, _, _))| {
            let wcu = w.get(i).copied().unwrap_or(0.0);
            let rcu = r.get(i).copied().unwrap_or(0.0);
            (wcu != 0.0 || rcu != 0.0).then_some((value, wcu, rcu))
        })
        .collect()
}

/// Write units of an item of `size` bytes (1 KB each, at least 1).
fn write_weight(size: usize) -> f64 {
    size.div_ceil(1024).max(1) as f64
}

/// Read units of an item of `size` bytes (4 KB each, at least 1).
fn read_weight(size: usize) -> f64 {
    size.div_ceil(4096).max(1) as f64
}

impl Shadow {
    /// An empty shadow of a table defined by `spec`.
    pub fn new(spec: TableSpec) -> Self {
        Self::with_transaction_index_factor(spec, LOCAL_TRANSACTION_INDEX_FACTOR)
    }

    /// An empty shadow that divides a transaction's reported index units by `factor` (1 takes
    /// DynamoDB Local's figures as they are).
    pub fn with_transaction_index_factor(spec: TableSpec, factor: f64) -> Self {
        Self {
            spec,
            items: HashMap::new(),
            transaction_index_factor: if factor > 0.0 { factor } else { 1.0 },
        }
    }

    /// What the shadow knows of the item at `key` of `table`.
    pub fn state(&self, table: &str, key: &Item) -> Option<&ItemState> {
        self.items.get(&key_of(table, key, &self.spec))
    }

    /// Settles `calls` (one handler call's requests, in order): reads back with `plain` every item
    /// they updated, charges each request's capacity to partition key values, and moves the shadow on.
    pub async fn settle(&mut self, calls: &[Call], plain: &Client) -> Result<Settled, String> {
        let mut after = After::new();
        for call in calls.iter().filter(|c| !c.failed) {
            for access in &call.accesses {
                if let Access::Update { table, key } = access {
                    let k = key_of(table, key, &self.spec);
                    if after.contains_key(&k) {
                        continue;
                    }
                    let out = plain
                        .get_item()
                        .table_name(table)
                        .set_key(Some(key.clone()))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| format!("reading back {k:?}: {e}"))?;
                    after.insert(k, out.item.as_ref().map(|i| ItemState::of(i, &self.spec)));
                }
            }
        }
        let mut settled = Settled::default();
        for call in calls {
            settled.requests += 1;
            if call.failed {
                settled.failed += 1;
                if call.writes() {
                    self.charge_failed_write(call, &mut settled);
                }
                continue;
            }
            self.charge(call, &after, &mut settled);
            for access in &call.accesses {
                match access {
                    Access::Put { table, item } => {
                        self.items.insert(
                            key_of(table, item, &self.spec),
                            ItemState::of(item, &self.spec),
                        );
                    }
                    Access::Update { table, key } => {
                        let k = key_of(table, key, &self.spec);
                        match after.get(&k).cloned().flatten() {
                            Some(state) => {
                                self.items.insert(k, state);
                            }
                            None => {
                                self.items.remove(&k);
                            }
                        }
                    }
                    Access::Delete { table, key } => {
                        self.items.remove(&key_of(table, key, &self.spec));
                    }
                    _ => {}
                }
            }
        }
        Ok(settled)
    }

    /// A refused write: DynamoDB bills the size of the item already there (at least 1 KB), doubled in
    /// a transaction, on the table alone.
    fn charge_failed_write(&self, call: &Call, settled: &mut Settled) {
        let factor = if call.operation == "TransactWriteItems" {
            2.0
        } else {
            1.0
        };
        for access in call.accesses.iter().filter(|a| a.is_write()) {
            let (table, key) = match access {
                Access::Put { table, item } => (table, item),
                Access::Update { table, key }
                | Access::Delete { table, key }
                | Access::Check { table, key } => (table, key),
                _ => continue,
            };
            let size = self.state(table, key).map_or(0, |s| s.size);
            let wcu = factor * write_weight(size);
            settled.estimated_wcu += wcu;
            let value = string_of(key, self.spec.pk).unwrap_or_default();
            settled
                .charges
                .push(self.table_charge(table, value, wcu, 0.0));
        }
    }

    /// Capacity charged to the partition key `value` of `table`.
    fn table_charge(&self, table: &str, value: String, wcu: f64, rcu: f64) -> Charge {
        Charge {
            target: table.to_owned(),
            index: false,
            attribute: self.spec.pk.to_owned(),
            value,
            wcu,
            rcu,
        }
    }

    fn charge(&self, call: &Call, after: &After, settled: &mut Settled) {
        let writes = call.writes();
        let units = |(c, r, w): (Option<f64>, Option<f64>, Option<f64>)| -> (f64, f64) {
            match (r, w) {
                (None, None) if writes => (c.unwrap_or(0.0), 0.0),
                (None, None) => (0.0, c.unwrap_or(0.0)),
                (r, w) => (w.unwrap_or(0.0), r.unwrap_or(0.0)),
            }
        };
        let of = |c: &Capacity| {
            (
                c.capacity_units,
                c.read_capacity_units,
                c.write_capacity_units,
            )
        };
        let index_factor = if call.operation == "TransactWriteItems" {
            self.transaction_index_factor
        } else {
            1.0
        };
        for consumed in &call.consumed {
            let table = consumed.table_name.clone().unwrap_or_default();
            let gsis = consumed
                .global_secondary_indexes
                .clone()
                .unwrap_or_default();
            let (table_wcu, table_rcu) = match &consumed.table {
                Some(t) => units(of(t)),
                // No breakdown: the whole request's units, less the indexes', are the table's.
                None => {
                    let (w, r) = units((
                        consumed.capacity_units,
                        consumed.read_capacity_units,
                        consumed.write_capacity_units,
                    ));
                    let (gw, gr) = gsis.values().fold((0.0, 0.0), |(aw, ar), c| {
                        let (w, r) = units(of(c));
                        (aw + w, ar + r)
                    });
                    ((w - gw).max(0.0), (r - gr).max(0.0))
                }
            };
            let mine: Vec<&Access> = call
                .accesses
                .iter()
                .filter(|a| access_table(a) == table)
                .collect();
            let parts = self.table_parts(&table, &mine, after);
            for (value, wcu, rcu) in shares(parts, table_wcu, table_rcu) {
                settled
                    .charges
                    .push(self.table_charge(&table, value, wcu, rcu));
            }
            for (index, cap) in &gsis {
                let (w, r) = units(of(cap));
                let attribute = self
                    .spec
                    .indexes
                    .iter()
                    .find(|d| d.name == index)
                    .map_or("?", |d| d.pk);
                let parts = self.index_parts(index, &mine, after);
                for (value, wcu, rcu) in shares(parts, w / index_factor, r) {
                    settled.charges.push(Charge {
                        target: index.clone(),
                        index: true,
                        attribute: attribute.to_owned(),
                        value,
                        wcu,
                        rcu,
                    });
                }
            }
        }
    }

    /// The table's shares: the items (or the partition) the request touched, by their weights.
    fn table_parts(&self, table: &str, accesses: &[&Access], after: &After) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for a in accesses {
            match a {
                Access::Put { item, .. } => parts.push((
                    string_of(item, self.spec.pk).unwrap_or_default(),
                    write_weight(item_size(item)),
                    0.0,
                )),
                Access::Update { key, .. }
                | Access::Delete { key, .. }
                | Access::Check { key, .. } => {
                    let k = key_of(table, key, &self.spec);
                    let before = self.items.get(&k).map_or(0, |s| s.size);
                    let now = after.get(&k).cloned().flatten().map_or(0, |s| s.size);
                    parts.push((
                        string_of(key, self.spec.pk).unwrap_or_default(),
                        write_weight(before.max(now)),
                        0.0,
                    ));
                }
                Access::Get { key, .. } => {
                    let size = self.state(table, key).map_or(0, |s| s.size);
                    parts.push((
                        string_of(key, self.spec.pk).unwrap_or_default(),
                        0.0,
                        read_weight(size),
                    ));
                }
                Access::Query {
                    index: None,
                    partition,
                    ..
                } => parts.push((partition.clone().unwrap_or_default(), 0.0, 1.0)),
                Access::Query { index: Some(_), .. } | Access::Scan { .. } => {
                    parts.push((String::new(), 0.0, 1.0))
                }
            }
        }
        if parts.is_empty() {
            parts.push((String::new(), 1.0, 1.0));
        }
        parts
    }

    /// An index's shares: the index partition key values the request moved (or read), by weight.
    fn index_parts(&self, index: &str, accesses: &[&Access], after: &After) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        for a in accesses {
            match a {
                Access::Query {
                    index: Some(ix),
                    partition,
                    ..
                } if ix == index => {
                    parts.push((partition.clone().unwrap_or_default(), 0.0, 1.0));
                }
                Access::Put { table, item } => {
                    let old = self.state(table, item).and_then(|s| s.indexes.get(index));
                    let new = ItemState::of(item, &self.spec).indexes.get(index).cloned();
                    let size = item_size(item);
                    moved(&mut parts, old.cloned(), new, write_weight(size));
                }
                Access::Update { table, key } | Access::Delete { table, key } => {
                    let k = key_of(table, key, &self.spec);
                    let before = self.items.get(&k);
                    let now = match a {
                        Access::Delete { .. } => None,
                        _ => after.get(&k).cloned().flatten(),
                    };
                    let size = before
                        .map_or(0, |s| s.size)
                        .max(now.as_ref().map_or(0, |s| s.size));
                    moved(
                        &mut parts,
                        before.and_then(|s| s.indexes.get(index)).cloned(),
                        now.and_then(|s| s.indexes.get(index).cloned()),
                        write_weight(size),
                    );
                }
                _ => {}
            }
        }
        if parts.is_empty() {
            // Nothing the shadow knows explains it: keep it visible rather than drop it.
            parts.push(("<unattributed>".to_owned(), 1.0, 1.0));
        }
        parts
    }

    /// Every item key the shadow holds (for tests).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the shadow is empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The distinct index partition key values the shadow holds for `index`.
    pub fn values_of(&self, index: &str) -> BTreeSet<String> {
        self.items
            .values()
            .filter_map(|s| s.indexes.get(index).cloned())
            .collect()
    }
}

/// The index writes of one item going from `old` to `new` index key values: a rewrite in place
/// charges the value once, a move charges both (a delete and a put), an entry or an exit one.
fn moved(parts: &mut Vec<Part>, old: Option<String>, new: Option<String>, w: f64) {
    match (old, new) {
        (Some(o), Some(n)) if o == n => parts.push((o, w, 0.0)),
        (Some(o), Some(n)) => {
            parts.push((o, w, 0.0));
            parts.push((n, w, 0.0));
        }
        (Some(o), None) => parts.push((o, w, 0.0)),
        (None, Some(n)) => parts.push((n, w, 0.0)),
        (None, None) => {}
    }
}

fn access_table(a: &Access) -> &str {
    match a {
        Access::Put { table, .. }
        | Access::Update { table, .. }
        | Access::Delete { table, .. }
        | Access::Check { table, .. }
        | Access::Get { table, .. }
        | Access::Query { table, .. }
        | Access::Scan { table, .. } => table,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    #[test]
    fn the_partition_value_is_read_from_the_key_condition_through_the_names() {
        let names = HashMap::from([
            ("#ipk".to_owned(), "lAll".to_owned()),
            ("#isk".to_owned(), "kOpen".to_owned()),
        ]);
        let values = HashMap::from([
            (":ipk".to_owned(), s("ACTIVE")),
            (":k1".to_owned(), s("001")),
        ]);
        assert_eq!(
            partition_value(
                "#ipk = :ipk AND #isk >= :k1",
                Some(&names),
                Some(&values),
                "lAll"
            ),
            Some("ACTIVE".to_owned())
        );
        assert_eq!(
            partition_value("#ipk = :ipk", Some(&names), Some(&values), "lRegion"),
            None
        );
        assert_eq!(
            partition_value(
                "pk = :v",
                None,
                Some(&HashMap::from([(":v".to_owned(), s("S#x"))])),
                "pk"
            ),
            Some("S#x".to_owned())
        );
    }

    #[test]
    fn item_sizes_follow_dynamodbs_accounting() {
        let item = HashMap::from([
            ("pk".to_owned(), s("S#abc")),                     // 2 + 5
            ("n".to_owned(), AttributeValue::N("120".into())), // 1 + (1 + 1)
            (
                "m".to_owned(),
                AttributeValue::M(HashMap::from([("k".to_owned(), s("vv"))])),
            ), // 1 + 3 + 1 + 1 + 2
        ]);
        assert_eq!(item_size(&item), 7 + 3 + 8);
    }

    #[test]
    fn an_index_key_that_moves_charges_both_values_and_a_rewrite_in_place_one() {
        let mut parts = Vec::new();
        moved(&mut parts, Some("A".into()), Some("A".into()), 1.0);
        moved(&mut parts, Some("A".into()), Some("B".into()), 2.0);
        moved(&mut parts, None, Some("C".into()), 1.0);
        let values: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(values, ["A", "A", "B", "C"]);
        assert_eq!(split(6.0, &[1.0, 2.0, 2.0, 1.0]), vec![1.0, 2.0, 2.0, 1.0]);
    }
}
