//! Session lists on the keys-only list indexes: one Query per partition (a sharded index has one per
//! shard, merged in sort-key order), then one BatchGetItem for the sessions themselves, filtered here
//! with the query's evaluator.
//!
//! Why keys only: a status report changes a player count, and an index that projects the count is
//! rewritten on every report. Reading the sessions back costs one BatchGetItem per page, spread over
//! the sessions' own partitions, and gives fresh counts whatever the index's lag.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};

use fleet_core::ids::SessionId;
use fleet_core::index::{self, IndexDef, PK, SK};
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::{ListRequest, Page, StoreError};
use fleet_core::query::{self, KeyCondition, Plan, cursor};
use fleet_core::rules::SessionState;

use super::codec::{self, Item, get_s, s};
use super::error::{StoreResult, map_sdk};
use super::store::{BATCH_GET_MAX, DynamoStore};

/// Most index items one page may read, whatever the filter: bounds the work of a page.
const MAX_READ_PER_PAGE: u64 = 1000;
/// The copy of a copied index the next page reads (round robin in this container).
static NEXT_COPY: AtomicUsize = AtomicUsize::new(0);

/// One partition value of the index being read (the only one, or one shard): its key condition,
/// what was read ahead, and where its next Query starts.
struct Lane {
    partition: String,
    key: KeyCondition,
    /// The cursor's sort key when the lane resumes by its key condition: the one item it may return
    /// that is not beyond the cursor, dropped when read.
    skip: Option<String>,
    buffered: VecDeque<Item>,
    start: Option<Item>,
    done: bool,
}

/// The index items of a page's index, in the plan's order, across its lanes.
struct Merge<'a> {
    store: &'a DynamoStore,
    plan: &'a Plan,
    /// The copy of the planned index this page reads.
    index: IndexDef,
    lanes: Vec<Lane>,
    items_read: u64,
}

impl<'a> Merge<'a> {
    /// Lanes for every partition value of the plan, each starting after `position` (a cursor's key:
    /// sort keys are unique, so "after the last item returned" is the same place in every shard).
    fn new(
        store: &'a DynamoStore,
        plan: &'a Plan,
        position: Option<&BTreeMap<String, String>>,
    ) -> Self {
        // Each page of this container takes the next copy: even over the copies, whatever the mix.
        let copies = index::replicas(plan.index);
        let index = copies[NEXT_COPY.fetch_add(1, Ordering::Relaxed) % copies.len()];
        let sharded = plan.index.shards > 1;
        let after = position.and_then(|p| p.get(index.sk)).cloned();
        let lanes = index::partition_values(plan.index, &plan.partition_value)
            .into_iter()
            .map(|partition| match (&after, sharded) {
                // A shard resumes by its sort key, not by a start key: the cursor's item is in one
                // shard only, and a start key should be one DynamoDB returned for that partition.
                (Some(after), true) => Lane {
                    key: plan.key.resumed(after, plan.scan_forward),
                    skip: Some(after.clone()),
                    partition,
                    buffered: VecDeque::new(),
                    start: None,
                    done: false,
                },
                _ => Lane {
                    key: plan.key.clone(),
                    skip: None,
                    start: position
                        .map(|p| p.iter().map(|(k, v)| (k.clone(), s(v))).collect::<Item>()),
                    partition,
                    buffered: VecDeque::new(),
                    done: false,
                },
            })
            .collect();
        Self {
            store,
            plan,
            index,
            lanes,
            items_read: 0,
        }
    }

    /// The next `want` index items in order (fewer at the end). Lanes whose read-ahead ran out are
    /// queried again, all at once, before an item is taken: the next item may be in any of them.
    async fn next(&mut self, want: usize) -> StoreResult<Vec<Item>> {
        let per_lane = if self.lanes.len() == 1 {
            want
        } else {
            want.div_ceil(self.lanes.len()) + 1
        };
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            let (store, plan, index) = (self.store, self.plan, self.index);
            let refills = self
                .lanes
                .iter_mut()
                .filter(|l| l.buffered.is_empty() && !l.done)
                .map(|lane| fill(store, plan, index, lane, per_lane));
            for read in futures::future::try_join_all(refills).await? {
                self.items_read += read;
            }
            let sk = self.index.sk;
            let head = |l: &Lane| {
                l.buffered
                    .front()
                    .and_then(|i| get_s(i, sk))
                    .map(str::to_owned)
            };
            let heads = self
                .lanes
                .iter()
                .enumerate()
                .filter_map(|(n, l)| head(l).map(|h| (n, h)));
            let best = if self.plan.scan_forward {
                heads.min_by(|a, b| a.1.cmp(&b.1))
            } else {
                heads.max_by(|a, b| a.1.cmp(&b.1))
            };
            let Some((n, _)) = best else { break };
            if let Some(item) = self.lanes[n].buffered.pop_front() {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Whether any lane may still hold an item.
    fn more(&self) -> bool {
        self.lanes.iter().any(|l| !l.buffered.is_empty() || !l.done)
    }
}

/// One Query on `lane`: up to `limit` index items after its start. Returns the items read.
async fn fill(
    store: &DynamoStore,
    plan: &Plan,
    index: IndexDef,
    lane: &mut Lane,
    limit: usize,
) -> StoreResult<u64> {
    let mut q = store
        .client()
        .query()
        .table_name(store.table())
        .index_name(index.name)
        .scan_index_forward(plan.scan_forward)
        .limit(limit.clamp(1, BATCH_GET_MAX) as i32)
        .expression_attribute_names("#ipk", index.pk)
        .expression_attribute_values(":ipk", s(&lane.partition));
    let key_expr = match &lane.key {
        KeyCondition::None => "#ipk = :ipk",
        KeyCondition::BeginsWith(p) => {
            q = q.expression_attribute_values(":k1", s(p));
            "#ipk = :ipk AND begins_with(#isk, :k1)"
        }
        KeyCondition::Between(lo, hi) => {
            q = q
                .expression_attribute_values(":k1", s(lo))
                .expression_attribute_values(":k2", s(hi));
            "#ipk = :ipk AND #isk BETWEEN :k1 AND :k2"
        }
        KeyCondition::Ge(v) => {
            q = q.expression_attribute_values(":k1", s(v));
            "#ipk = :ipk AND #isk >= :k1"
        }
        KeyCondition::Le(v) => {
            q = q.expression_attribute_values(":k1", s(v));
            "#ipk = :ipk AND #isk <= :k1"
        }
    };
    if !matches!(lane.key, KeyCondition::None) {
        q = q.expression_attribute_names("#isk", index.sk);
    }
    let out = q
        .key_condition_expression(key_expr)
        .set_exclusive_start_key(lane.start.take())
        .send()
        .await
        .map_err(map_sdk)?;
    let skip = lane.skip.as_deref();
    lane.buffered.extend(
        out.items
            .unwrap_or_default()
            .into_iter()
            .filter(|item| skip.is_none() || get_s(item, index.sk) != skip),
    );
    lane.start = out.last_evaluated_key.filter(|k| !k.is_empty());
    lane.done = lane.start.is_none();
    Ok(out.scanned_count.max(0) as u64)
}

/// A session read back from its key.
pub(super) struct Fetched {
    pub session: Session,
    /// Whether its item carries its count shard; one written before the shards came does not, and is
    /// in neither count-ordered index until rewritten ([`DynamoStore::add_shard`]).
    pub sharded: bool,
}

impl DynamoStore {
    /// Gives an ACTIVE session item written before the count shards its shard, so it enters the
    /// count-ordered indexes. Conditional on the item still being listed and still lacking it: a
    /// session that ended, or was rewritten by this version's code, since it was read is left alone.
    pub(super) async fn add_shard(&self, id: &SessionId) -> StoreResult<()> {
        let ix = index::BY_PLAYERS;
        let out = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(codec::session_key(id, index::SESSION_SK)))
            .update_expression("SET #sh = :sh")
            .condition_expression("attribute_exists(#all) AND attribute_not_exists(#sh)")
            .expression_attribute_names("#sh", ix.pk)
            .expression_attribute_names("#all", index::BY_CREATED.pk)
            .expression_attribute_values(":sh", s(index::partition_of(ix, index::ACTIVE, id)))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(map_sdk(e)),
        }
    }

    /// A page of `request`: see the module docs.
    pub(super) async fn list(&self, request: &ListRequest) -> StoreResult<Page> {
        // A key value DynamoDB would refuse is the client's error (400 at its column), found before
        // the Query rather than as a ValidationException from it.
        let plan =
            query::plan(&request.query, request.sort).map_err(|e| StoreError::Invalid(e.into()))?;
        let fingerprint = plan.fingerprint(&request.query, request.sort);
        let position = match &request.cursor {
            Some(c) => Some(cursor::decode(self.cursor_secret(), &fingerprint, c)?),
            None => None,
        };
        let limit = request
            .limit
            .clamp(fleet_core::limits::LIMIT_MIN, fleet_core::limits::LIMIT_MAX)
            as usize;
        let mut merge = Merge::new(self, &plan, position.as_ref());
        let mut sessions = Vec::with_capacity(limit);
        let mut last: Option<Item> = None;
        let mut queue: VecDeque<Item> = VecDeque::new();
        while sessions.len() < limit {
            if queue.is_empty() {
                if merge.items_read >= MAX_READ_PER_PAGE {
                    break;
                }
                // Index items are cheap (keys only, many to a read unit): read ahead by the expected
                // amplification, so a filtered page is mostly one Query.
                let want = ((limit - sessions.len()) as f64 * plan.expected_amplification.max(1.0))
                    .ceil()
                    .clamp(1.0, BATCH_GET_MAX as f64) as usize;
                queue.extend(merge.next(want).await?);
                if queue.is_empty() {
                    break;
                }
            }
            // Sessions are not (half a read unit each): read back only as many as the page still
            // needs, so a page whose sessions all match reads each of them once.
            let batch: Vec<Item> = queue
                .drain(..(limit - sessions.len()).min(queue.len()))
                .collect();
            let mut found = self.sessions_at(&batch).await?;
            for key in batch {
                if let Some(session) = get_s(&key, PK)
                    .and_then(|pk| found.remove(pk))
                    .map(|f| f.session)
                    .filter(|s| request.query.matches(s))
                {
                    sessions.push(session);
                }
                last = Some(key);
            }
        }
        let left_over = !queue.is_empty();
        let next_cursor = last.filter(|_| left_over || merge.more()).map(|item| {
            let ix = plan.index;
            let key: BTreeMap<String, String> = [PK, SK, ix.pk, ix.sk]
                .into_iter()
                .filter_map(|a| get_s(&item, a).map(|v| (a.to_owned(), v.to_owned())))
                .collect();
            cursor::encode(self.cursor_secret(), &fingerprint, &key)
        });
        Ok(Page {
            sessions,
            next_cursor,
            items_read: merge.items_read,
        })
    }

    /// The ACTIVE sessions whose keys `keys` hold, by partition key, read with BatchGetItem (100 a
    /// call, unprocessed keys retried). An index item whose session has ended since is left out.
    pub(super) async fn sessions_at(&self, keys: &[Item]) -> StoreResult<HashMap<String, Fetched>> {
        let wanted: Vec<Item> = keys
            .iter()
            .filter_map(|k| {
                let (pk, sk) = (get_s(k, PK)?, get_s(k, SK)?);
                Some(Item::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))]))
            })
            .collect();
        let mut found = HashMap::with_capacity(wanted.len());
        // Eventually consistent, as the index the keys came from is.
        for item in self.batch_get(wanted, false).await? {
            if let (SessionState::Live { session, .. }, _) = codec::session_state_from_item(&item)?
                && session.status == SessionStatus::Active
            {
                let sharded = item.contains_key(index::BY_PLAYERS.pk);
                found.insert(index::session_pk(&session.id), Fetched { session, sharded });
            }
        }
        Ok(found)
    }
}
