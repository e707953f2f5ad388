//! The planner: one DynamoDB Query (index, partition, sort-key condition, direction) plus a
//! FilterExpression that together return exactly what [`Query::matches`] accepts, in [`Sort`] order.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Serialize, Serializer};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ast::{Clause, Field, FieldKind, Interval, Occur, Query, QueryError, Value};
use super::eval::{TIME_MAX_MS, TIME_MIN_MS};
use super::sort::Sort;
use crate::index::{self, IndexDef};
use crate::limits::PARTITION_KEY_MAX_BYTES;
use crate::time::Timestamp;

/// A condition on the chosen index's sort key ([`Plan::index`]`.sk`). Bounds are inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyCondition {
    /// The whole partition.
    None,
    /// `begins_with(sk, prefix)`.
    BeginsWith(String),
    /// `sk BETWEEN low AND high` (both inclusive; `low <= high` always).
    Between(String, String),
    /// `sk >= low`.
    Ge(String),
    /// `sk <= high`.
    Le(String),
}

impl KeyCondition {
    /// The condition narrowed to the sort keys at or beyond `after` in the scan's direction, with
    /// `after` itself the only key it admits that is not strictly beyond: the caller drops an item
    /// whose sort key equals `after`. `after` must satisfy `self` (it is an item this condition
    /// returned). A sharded index resumes every shard this way from the one sort key a cursor keeps,
    /// rather than with a start key naming an item that is not in that shard.
    pub fn resumed(&self, after: &str, forward: bool) -> KeyCondition {
        let at = after.to_owned();
        match (self, forward) {
            (Self::None | Self::Ge(_), true) => Self::Ge(at),
            (Self::Le(hi) | Self::Between(_, hi), true) => Self::Between(at, hi.clone()),
            // Every key from `after` up to the prefix followed by the highest code point starts with
            // the prefix, since `after` does (byte order is code point order in UTF-8).
            (Self::BeginsWith(p), true) => Self::Between(at, format!("{p}{}", char::MAX)),
            (Self::None | Self::Le(_), false) => Self::Le(at),
            (Self::Ge(lo) | Self::Between(lo, _), false) => Self::Between(lo.clone(), at),
            (Self::BeginsWith(p), false) => Self::Between(p.clone(), at),
        }
    }

    /// Whether a sort-key value satisfies the condition (byte-wise string order, as DynamoDB
    /// compares strings).
    pub fn matches(&self, sk: &str) -> bool {
        match self {
            Self::None => true,
            Self::BeginsWith(p) => sk.starts_with(p.as_str()),
            Self::Between(lo, hi) => lo.as_str() <= sk && sk <= hi.as_str(),
            Self::Ge(lo) => lo.as_str() <= sk,
            Self::Le(hi) => sk <= hi.as_str(),
        }
    }
}

/// A value in a filter or key expression, in DynamoDB's type notation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FilterValue {
    /// A string (`{"S": …}`).
    S(String),
    /// A number, as its decimal text (`{"N": …}`).
    N(String),
    /// A boolean (`{"BOOL": …}`).
    Bool(bool),
}

/// A DynamoDB expression with its placeholders: `expression` uses `#nK` for attribute names and
/// `:vK` for values; `names` and `values` map them (pass them as ExpressionAttributeNames /
/// ExpressionAttributeValues).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Filter {
    /// FilterExpression (or KeyConditionExpression) text.
    pub expression: String,
    /// `#n0` → attribute name.
    pub names: BTreeMap<String, String>,
    /// `:v0` → value.
    pub values: BTreeMap<String, FilterValue>,
}

/// How to run a list as one DynamoDB Query.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The GSI to query (one of [`index::LIST_INDEXES`]).
    pub index: IndexDef,
    /// Value of the index's partition key (`ACTIVE`, or a region / fleet id).
    pub partition_value: String,
    /// Condition on the index's sort key.
    pub key: KeyCondition,
    /// DynamoDB `ScanIndexForward`: false for descending orders.
    pub scan_forward: bool,
    /// What the key condition does not capture, or `None` when it captures everything.
    pub filter: Option<Filter>,
    /// Expected items read per item returned (≥ 1): 1.0 when the key condition captures the whole
    /// query; see the [module docs](super) for the heuristic.
    pub expected_amplification: f64,
}

/// Largest amplification reported.
const AMPLIFICATION_CAP: f64 = 100.0;

/// A sort-key value no list key equals: every list sort key contains `#`. Used as
/// `BETWEEN "~" AND "~"` for a query that can match nothing, so DynamoDB reads no item.
const NOTHING: &str = "~";

/// The filter as a tree, before it is written as DynamoDB expression text. Constructors fold
/// constants, so `True`/`False` only ever appear alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    True,
    False,
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp(Path, Cmp, FilterValue),
    Between(Path, FilterValue, FilterValue),
    BeginsWith(Path, String),
    Exists(Path),
}

/// An attribute path in the session item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Path {
    Attr(&'static str),
    Property(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Ge,
    Le,
}

fn and(parts: Vec<Expr>) -> Expr {
    let nested = |e| match e {
        Expr::And(inner) => Ok(inner),
        e => Err(e),
    };
    connect(parts, Expr::True, Expr::False, nested, Expr::And)
}

fn or(parts: Vec<Expr>) -> Expr {
    let nested = |e| match e {
        Expr::Or(inner) => Ok(inner),
        e => Err(e),
    };
    connect(parts, Expr::False, Expr::True, nested, Expr::Or)
}

/// `and` and `or` alike: `identity` parts drop out, an `absorbing` part is the whole answer, parts of
/// the same connective (`nested` unwraps them) are lifted into this one, and one part stands alone.
fn connect(
    parts: Vec<Expr>,
    identity: Expr,
    absorbing: Expr,
    nested: impl Fn(Expr) -> Result<Vec<Expr>, Expr>,
    build: fn(Vec<Expr>) -> Expr,
) -> Expr {
    let mut out = Vec::with_capacity(parts.len());
    for e in parts {
        if e == absorbing {
            return absorbing;
        }
        if e != identity {
            match nested(e) {
                Ok(inner) => out.extend(inner),
                Err(e) => out.push(e),
            }
        }
    }
    match out.len() {
        0 => identity,
        1 => out.pop().unwrap_or(identity),
        _ => build(out),
    }
}

fn not(e: Expr) -> Expr {
    match e {
        Expr::True => Expr::False,
        Expr::False => Expr::True,
        Expr::Not(inner) => *inner,
        e => Expr::Not(Box::new(e)),
    }
}

/// Largest count a session can have (its attributes are u32).
const COUNT_MAX: i64 = u32::MAX as i64;

/// `createdAt`'s stored text for an instant (clamped exactly as the item's text is).
fn time_text(ms: i64) -> String {
    Timestamp::from_millis(ms).to_rfc3339()
}

/// A clause's field:value as a filter tree (ignoring its occur).
pub(crate) fn clause_expr(c: &Clause) -> Expr {
    let path = match &c.field {
        Field::Property(k) => Path::Property(k.clone()),
        f => Path::Attr(f.attribute()),
    };
    match (c.field.kind(), &c.value) {
        (_, Value::Any) if c.field.is_optional() => Expr::Exists(path),
        (_, Value::Any) => Expr::True,
        (FieldKind::Count, Value::Range(iv)) => {
            let (lo, hi) = (iv.lo.max(0), iv.hi);
            let n = |v: i64| FilterValue::N(v.to_string());
            if lo > hi {
                Expr::False
            } else if lo == 0 && hi >= COUNT_MAX {
                Expr::True
            } else if lo == hi {
                Expr::Cmp(path, Cmp::Eq, n(lo))
            } else if lo == 0 {
                Expr::Cmp(path, Cmp::Le, n(hi))
            } else if hi >= COUNT_MAX {
                Expr::Cmp(path, Cmp::Ge, n(lo))
            } else {
                Expr::Between(path, n(lo), n(hi))
            }
        }
        (FieldKind::Time, Value::Range(iv)) => {
            if iv.is_empty() || iv.lo > TIME_MAX_MS || iv.hi < TIME_MIN_MS {
                return Expr::False;
            }
            let s = |v: i64| FilterValue::S(time_text(v));
            match (iv.lo > TIME_MIN_MS, iv.hi < TIME_MAX_MS) {
                (false, false) => Expr::True,
                (true, false) => Expr::Cmp(path, Cmp::Ge, s(iv.lo)),
                (false, true) => Expr::Cmp(path, Cmp::Le, s(iv.hi)),
                (true, true) if iv.lo == iv.hi => Expr::Cmp(path, Cmp::Eq, s(iv.lo)),
                (true, true) => Expr::Between(path, s(iv.lo), s(iv.hi)),
            }
        }
        (FieldKind::Text, Value::Term(t)) => Expr::Cmp(path, Cmp::Eq, FilterValue::S(t.clone())),
        (FieldKind::Text, Value::Prefix(p)) if p.is_empty() => {
            if c.field.is_optional() {
                Expr::Exists(path)
            } else {
                Expr::True
            }
        }
        (FieldKind::Text, Value::Prefix(p)) => Expr::BeginsWith(path, p.clone()),
        // An item written before sessions had `joinable` lacks it, and was joinable.
        (FieldKind::Bool, Value::Term(t)) if t == "true" => or(vec![
            not(Expr::Exists(path.clone())),
            Expr::Cmp(path, Cmp::Eq, FilterValue::Bool(true)),
        ]),
        (FieldKind::Bool, Value::Term(_)) => Expr::Cmp(path, Cmp::Eq, FilterValue::Bool(false)),
        // The parser never builds these combinations; they match nothing, like the evaluator says.
        _ => Expr::False,
    }
}

/// The whole query as a filter tree, leaving out must clauses marked in `skip`.
pub(crate) fn query_expr(q: &Query, skip: &[bool]) -> Expr {
    let mut parts = Vec::new();
    let mut shoulds = Vec::new();
    for (i, c) in q.clauses.iter().enumerate() {
        match c.occur {
            Occur::Must if skip.get(i).copied().unwrap_or(false) => {}
            Occur::Must => parts.push(clause_expr(c)),
            Occur::MustNot => parts.push(not(clause_expr(c))),
            Occur::Should => shoulds.push(clause_expr(c)),
        }
    }
    if !q.has_must() && !shoulds.is_empty() {
        parts.push(or(shoulds));
    }
    and(parts)
}

/// Writes a filter tree as DynamoDB expression text with placeholders.
#[derive(Default)]
struct Writer {
    names: BTreeMap<String, String>,
    by_attr: BTreeMap<String, String>,
    values: BTreeMap<String, FilterValue>,
}

impl Writer {
    fn name(&mut self, attr: &str) -> String {
        if let Some(p) = self.by_attr.get(attr) {
            return p.clone();
        }
        let p = format!("#n{}", self.by_attr.len());
        self.by_attr.insert(attr.to_owned(), p.clone());
        self.names.insert(p.clone(), attr.to_owned());
        p
    }

    fn value(&mut self, v: &FilterValue) -> String {
        let p = format!(":v{}", self.values.len());
        self.values.insert(p.clone(), v.clone());
        p
    }

    fn path(&mut self, p: &Path) -> String {
        match p {
            Path::Attr(a) => self.name(a),
            Path::Property(k) => {
                let m = self.name("properties");
                let k = self.name(k);
                format!("{m}.{k}")
            }
        }
    }

    fn expr(&mut self, e: &Expr, out: &mut String) {
        match e {
            Expr::True => {
                let n = self.name("id");
                let _ = write!(out, "attribute_exists({n})");
            }
            Expr::False => {
                let n = self.name("id");
                let _ = write!(out, "attribute_not_exists({n})");
            }
            Expr::And(v) | Expr::Or(v) => {
                let op = if matches!(e, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                out.push('(');
                for (i, x) in v.iter().enumerate() {
                    if i > 0 {
                        out.push_str(op);
                    }
                    self.expr(x, out);
                }
                out.push(')');
            }
            Expr::Not(x) => {
                out.push_str("(NOT ");
                if matches!(**x, Expr::And(_) | Expr::Or(_)) {
                    self.expr(x, out);
                } else {
                    out.push('(');
                    self.expr(x, out);
                    out.push(')');
                }
                out.push(')');
            }
            Expr::Cmp(p, op, v) => {
                let p = self.path(p);
                let v = self.value(v);
                let op = match op {
                    Cmp::Eq => "=",
                    Cmp::Ge => ">=",
                    Cmp::Le => "<=",
                };
                let _ = write!(out, "{p} {op} {v}");
            }
            Expr::Between(p, lo, hi) => {
                let p = self.path(p);
                let lo = self.value(lo);
                let hi = self.value(hi);
                let _ = write!(out, "{p} BETWEEN {lo} AND {hi}");
            }
            Expr::BeginsWith(p, s) => {
                let p = self.path(p);
                let v = self.value(&FilterValue::S(s.clone()));
                let _ = write!(out, "begins_with({p}, {v})");
            }
            Expr::Exists(p) => {
                let p = self.path(p);
                let _ = write!(out, "attribute_exists({p})");
            }
        }
    }
}

/// The filter for a tree, or `None` for `True`.
fn render(e: &Expr) -> Option<Filter> {
    if *e == Expr::True {
        return None;
    }
    let mut w = Writer::default();
    let mut expression = String::new();
    match e {
        // The top-level conjunction needs no parentheses.
        Expr::And(parts) => {
            for (i, x) in parts.iter().enumerate() {
                if i > 0 {
                    expression.push_str(" AND ");
                }
                w.expr(x, &mut expression);
            }
        }
        e => w.expr(e, &mut expression),
    }
    Some(Filter {
        expression,
        names: w.names,
        values: w.values,
    })
}

/// Three-digit count prefix of a bound, clamped to what [`index::count_prefix`] can produce.
fn count_text(n: i64) -> String {
    format!("{:03}", n.clamp(0, 999))
}

/// The sort-key condition for keys `prefix + created_key`, limited to a created-at interval.
fn created_condition(prefix: &str, created: Interval) -> KeyCondition {
    let lo = (created.lo > TIME_MIN_MS).then(|| time_text(created.lo));
    let hi = (created.hi < TIME_MAX_MS).then(|| time_text(created.hi));
    // `#` follows the time in every key and `#` < `$`, so `time + "$"` is above every key of that time.
    match (lo, hi, prefix.is_empty()) {
        (None, None, true) => KeyCondition::None,
        (None, None, false) => KeyCondition::BeginsWith(prefix.to_owned()),
        (Some(lo), None, true) => KeyCondition::Ge(lo),
        (None, Some(hi), true) => KeyCondition::Le(format!("{hi}$")),
        (lo, hi, _) => KeyCondition::Between(
            format!("{prefix}{}", lo.unwrap_or_else(|| time_text(TIME_MIN_MS))),
            format!("{prefix}{}$", hi.unwrap_or_else(|| time_text(TIME_MAX_MS))),
        ),
    }
}

/// What the must clauses fix, gathered once.
struct Constraints<'q> {
    region: Option<&'q str>,
    fleet: Option<&'q str>,
    name: Option<&'q str>,
    players: Interval,
    open: Interval,
    created: Interval,
}

impl<'q> Constraints<'q> {
    fn of(q: &'q Query) -> Self {
        let mut c = Self {
            region: None,
            fleet: None,
            name: None,
            players: Interval::FULL,
            open: Interval::FULL,
            created: Interval::FULL,
        };
        for cl in q.clauses.iter().filter(|c| c.occur == Occur::Must) {
            match (&cl.field, &cl.value) {
                (Field::Region, Value::Term(t)) => c.region = c.region.or(Some(t)),
                (Field::FleetId, Value::Term(t)) => c.fleet = c.fleet.or(Some(t)),
                (Field::Name, Value::Term(t)) => c.name = c.name.or(Some(t)),
                (Field::PlayerCount, Value::Range(iv)) => c.players = c.players.intersect(*iv),
                (Field::OpenSlots, Value::Range(iv)) => c.open = c.open.intersect(*iv),
                (Field::CreatedAt, Value::Range(iv)) => c.created = c.created.intersect(*iv),
                _ => {}
            }
        }
        c
    }
}

/// Whether the count prefixes `[count_text(lo), count_text(hi)]` select exactly the counts in
/// `[lo, hi]` (prefixes saturate at 999, so bounds at or beyond it are not exact).
fn count_exact(iv: Interval) -> bool {
    (iv.hi <= 998 || iv.hi >= COUNT_MAX) && iv.lo <= 999
}

/// The chosen access path before it becomes a [`Plan`].
struct Access {
    index: IndexDef,
    partition_value: String,
    key: KeyCondition,
    /// Must clauses the key/partition enforce exactly: left out of the filter.
    captured: Vec<bool>,
    /// Must clauses the key enforces but that stay in the filter as a check (a name on `byName`).
    checked: Vec<bool>,
}

/// Checks the values a Query may use as an index key. A must clause fixing `region` or `fleetId` can
/// become the partition of `listByRegion` / `listByFleet`, and DynamoDB refuses a key value that is empty or
/// longer than 2048 bytes with a ValidationException, which would reach the client as a failed
/// dependency. No session can have such a value (both are index keys of every ACTIVE session), so
/// the clause is refused at its column whatever the sort, and the answer never depends on which
/// index the planner picks. Sort-key operands need no check: they are built from bounded parts
/// (a name cut to [`index::NAME_KEY_BYTES`], counts and times).
pub fn check_keys(q: &Query) -> Result<(), QueryError> {
    for c in q.clauses.iter().filter(|c| c.occur == Occur::Must) {
        let (Field::Region | Field::FleetId, Value::Term(t)) = (&c.field, &c.value) else {
            continue;
        };
        if t.is_empty() {
            return Err(QueryError::new(
                c.column,
                format!("a non-empty {} after `+{}:`", c.field, c.field),
                "an empty value can match no session and cannot be an index key",
            ));
        }
        if t.len() > PARTITION_KEY_MAX_BYTES {
            return Err(QueryError::new(
                c.column,
                format!("a {} of at most {PARTITION_KEY_MAX_BYTES} bytes", c.field),
                format!(
                    "got {} bytes: DynamoDB refuses a longer index key and no session has one",
                    t.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Plans `q` in `sort` order. See the [module docs](super) for how the index is chosen. A query
/// whose key values DynamoDB would refuse is an error at its column ([`check_keys`]).
pub fn plan(q: &Query, sort: Sort) -> Result<Plan, QueryError> {
    check_keys(q)?;
    Ok(plan_checked(q, sort))
}

/// [`plan`] for a query whose key values passed [`check_keys`].
fn plan_checked(q: &Query, sort: Sort) -> Plan {
    let scan_forward = !sort.descending();
    let cons = Constraints::of(q);
    let empty_count = |iv: Interval| iv.lo.max(0) > iv.hi;
    let unsatisfiable = query_expr(q, &[]) == Expr::False
        || empty_count(cons.players)
        || empty_count(cons.open)
        || cons.created.is_empty();
    if unsatisfiable {
        return Plan {
            index: sort.index(),
            partition_value: index::ACTIVE.to_owned(),
            key: KeyCondition::Between(NOTHING.to_owned(), NOTHING.to_owned()),
            scan_forward,
            filter: render(&Expr::False),
            expected_amplification: 1.0,
        };
    }
    let access = match sort {
        Sort::CreatedDesc | Sort::CreatedAsc => created_access(q, &cons),
        Sort::PlayersAsc | Sort::PlayersDesc => count_access(
            q,
            index::BY_PLAYERS,
            &Field::PlayerCount,
            cons.players,
            cons.created,
        ),
        Sort::OpenAsc | Sort::OpenDesc => count_access(
            q,
            index::BY_OPEN,
            &Field::OpenSlots,
            cons.open,
            cons.created,
        ),
    };
    let filter_expr = query_expr(q, &access.captured);
    let filter = render(&filter_expr);
    let skip_estimate: Vec<bool> = access
        .captured
        .iter()
        .zip(&access.checked)
        .map(|(a, b)| *a || *b)
        .collect();
    let expected_amplification = if filter.is_none() {
        1.0
    } else {
        amplification(q, &skip_estimate)
    };
    Plan {
        index: access.index,
        partition_value: access.partition_value,
        key: access.key,
        scan_forward,
        filter,
        expected_amplification,
    }
}

/// For each clause: whether it is a must clause satisfying `pred`.
fn mark(q: &Query, pred: impl Fn(&Clause) -> bool) -> Vec<bool> {
    q.clauses
        .iter()
        .map(|c| c.occur == Occur::Must && pred(c))
        .collect()
}

/// For each clause: whether it is a must clause `field:term` with exactly this term.
fn must_term(q: &Query, field: &Field, term: &str) -> Vec<bool> {
    mark(q, |c| {
        c.field == *field && matches!(&c.value, Value::Term(t) if t == term)
    })
}

/// The access path for the created-at orders.
fn created_access(q: &Query, cons: &Constraints<'_>) -> Access {
    let none = vec![false; q.clauses.len()];
    let single = |iv: Interval| -> Option<String> {
        let (lo, hi) = (count_text(iv.lo.max(0)), count_text(iv.hi));
        (iv != Interval::FULL && lo == hi).then(|| format!("{lo}#"))
    };
    let active = || index::ACTIVE.to_owned();
    // A fleet, else a region, is a partition of its own; its clause is then answered by the key.
    let partition = match (cons.fleet, cons.region) {
        (Some(fleet), _) => Some((index::BY_FLEET, Field::FleetId, fleet)),
        (None, Some(region)) => Some((index::BY_REGION, Field::Region, region)),
        (None, None) => None,
    };
    // (index, partition value, sort-key prefix, clauses captured, clauses still checked)
    let (index, partition_value, prefix, captured, checked) =
        if let Some(name) = cons.name.filter(|n| n.len() <= index::NAME_KEY_BYTES) {
            let named = must_term(q, &Field::Name, name);
            (
                index::BY_NAME,
                active(),
                format!("{name}{}", index::NAME_SEP),
                none.clone(),
                named,
            )
        } else if let Some((partition, field, value)) = partition {
            let cap = must_term(q, &field, value);
            (
                partition,
                value.to_owned(),
                String::new(),
                cap,
                none.clone(),
            )
        } else if let Some(prefix) = single(cons.players) {
            let exact = count_exact(cons.players);
            let cap = mark(q, |c| exact && c.field == Field::PlayerCount);
            (index::BY_PLAYERS, active(), prefix, cap, none.clone())
        } else if let Some(prefix) = single(cons.open) {
            let exact = count_exact(cons.open);
            let cap = mark(q, |c| exact && c.field == Field::OpenSlots);
            (index::BY_OPEN, active(), prefix, cap, none.clone())
        } else {
            (
                index::BY_CREATED,
                active(),
                String::new(),
                none.clone(),
                none.clone(),
            )
        };
    let key = created_condition(&prefix, cons.created);
    let created = mark(q, |c| c.field == Field::CreatedAt);
    let captured = captured
        .iter()
        .zip(&created)
        .map(|(a, b)| *a || *b)
        .collect();
    Access {
        index,
        partition_value,
        key,
        captured,
        checked,
    }
}

/// The access path for a count order (`listByPlayers` / `listByOpen`).
fn count_access(
    q: &Query,
    index: IndexDef,
    field: &Field,
    iv: Interval,
    created: Interval,
) -> Access {
    let exact = count_exact(iv);
    let (lo, hi) = (iv.lo.max(0), iv.hi);
    let (lo_t, hi_t) = (count_text(lo), count_text(hi));
    let (key, created_too) = if iv == Interval::FULL || (lo <= 0 && hi >= 999) {
        (KeyCondition::None, false)
    } else if lo_t == hi_t {
        (created_condition(&format!("{lo_t}#"), created), true)
    } else if lo <= 0 {
        (KeyCondition::Le(format!("{hi_t}$")), false)
    } else if hi >= 999 {
        (KeyCondition::Ge(lo_t), false)
    } else {
        (KeyCondition::Between(lo_t, format!("{hi_t}$")), false)
    };
    let captured = mark(q, |c| {
        (exact && c.field == *field) || (created_too && c.field == Field::CreatedAt)
    });
    Access {
        index,
        partition_value: index::ACTIVE.to_owned(),
        key,
        checked: vec![false; captured.len()],
        captured,
    }
}

/// The read-amplification heuristic: each must clause left to the filter keeps half the items,
/// each must-not clause four in five, a should group half; capped at 100.
fn amplification(q: &Query, skip: &[bool]) -> f64 {
    let mut selectivity = 1.0_f64;
    let mut shoulds = Vec::new();
    for (i, c) in q.clauses.iter().enumerate() {
        let e = clause_expr(c);
        match c.occur {
            Occur::Must if !skip.get(i).copied().unwrap_or(false) && e != Expr::True => {
                selectivity *= 0.5
            }
            Occur::MustNot if e != Expr::False => selectivity *= 0.8,
            Occur::Should => shoulds.push(e),
            _ => {}
        }
    }
    if !q.has_must() && !shoulds.is_empty() && or(shoulds) != Expr::True {
        selectivity *= 0.5;
    }
    (1.0 / selectivity).clamp(1.0, AMPLIFICATION_CAP)
}

impl Plan {
    /// A stable digest (22 URL-safe characters) of the query's meaning, the order and this plan's
    /// access path. A cursor is bound to it, so it cannot be replayed against another query, sort
    /// or index.
    pub fn fingerprint(&self, q: &Query, sort: Sort) -> String {
        let mut text = String::from("fleetlift-list-v1\n");
        for c in &q.clauses {
            let _ = writeln!(text, "{:?} {:?} {:?}", c.occur, c.field, c.value);
        }
        let _ = write!(
            text,
            "{}\n{}\n{}\n{:?}\n{}",
            sort.as_str(),
            self.index.name,
            self.partition_value,
            self.key,
            self.scan_forward
        );
        let hash = Sha256::digest(text.as_bytes());
        let mut s = URL_SAFE_NO_PAD.encode(&hash[..17]);
        s.truncate(22);
        s
    }

    /// The KeyConditionExpression for this plan: `#pk = :pk` and the sort-key condition, with
    /// placeholders `#pk`, `#sk`, `:pk`, `:sk0`, `:sk1` (disjoint from the filter's `#nK`/`:vK`).
    pub fn key_condition_expression(&self) -> Filter {
        let mut names = BTreeMap::from([("#pk".to_owned(), self.index.pk.to_owned())]);
        let mut values = BTreeMap::from([(
            ":pk".to_owned(),
            FilterValue::S(self.partition_value.clone()),
        )]);
        let mut expression = "#pk = :pk".to_owned();
        let mut sk = |vals: &[&String], text: &str| {
            names.insert("#sk".to_owned(), self.index.sk.to_owned());
            for (i, v) in vals.iter().enumerate() {
                values.insert(format!(":sk{i}"), FilterValue::S((*v).clone()));
            }
            expression.push_str(" AND ");
            expression.push_str(text);
        };
        match &self.key {
            KeyCondition::None => {}
            KeyCondition::BeginsWith(p) => sk(&[p], "begins_with(#sk, :sk0)"),
            KeyCondition::Between(lo, hi) => sk(&[lo, hi], "#sk BETWEEN :sk0 AND :sk1"),
            KeyCondition::Ge(lo) => sk(&[lo], "#sk >= :sk0"),
            KeyCondition::Le(hi) => sk(&[hi], "#sk <= :sk0"),
        }
        Filter {
            expression,
            names,
            values,
        }
    }

    /// The plan as JSON for the list route's `explain` flag: index, partition, key condition,
    /// direction, filter and expected read amplification.
    pub fn explain(&self) -> serde_json::Value {
        let key = match &self.key {
            KeyCondition::None => serde_json::Value::Null,
            KeyCondition::BeginsWith(p) => json!({"beginsWith": p}),
            KeyCondition::Between(lo, hi) => json!({"between": [lo, hi]}),
            KeyCondition::Ge(lo) => json!({"ge": lo}),
            KeyCondition::Le(hi) => json!({"le": hi}),
        };
        json!({
            "index": self.index.name,
            "partitionKey": {"attribute": self.index.pk, "value": self.partition_value},
            // A sharded index is read with one Query per shard, merged in sort-key order; a
            // replicated one from one of its copies, each page the next.
            "shards": self.index.shards,
            "copies": index::replicas(self.index).iter().map(|i| i.name).collect::<Vec<_>>(),
            // The list indexes hold keys only: the filter runs on the sessions read back.
            "filterRunsOn": "the sessions read back with BatchGetItem",
            "sortKey": self.index.sk,
            "keyCondition": key,
            "keyConditionExpression": self.key_condition_expression(),
            "scanForward": self.scan_forward,
            "order": if self.scan_forward { "ascending" } else { "descending" },
            "filter": self.filter,
            "expectedAmplification": self.expected_amplification,
        })
    }
}

impl Serialize for Plan {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.explain().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_key_condition_admits_exactly_the_keys_beyond_its_start_and_the_start() {
        let keys: Vec<String> = ["001#a", "002#a", "002#b", "002#c", "003#a", "010#z"]
            .into_iter()
            .map(str::to_owned)
            .collect();
        let conditions = [
            KeyCondition::None,
            KeyCondition::BeginsWith("002#".into()),
            KeyCondition::Between("002#a".into(), "003$".into()),
            KeyCondition::Ge("002#".into()),
            KeyCondition::Le("003$".into()),
        ];
        let mut checked = 0;
        for condition in &conditions {
            for after in keys.iter().filter(|k| condition.matches(k)) {
                for forward in [true, false] {
                    let resumed = condition.resumed(after, forward);
                    for k in &keys {
                        let beyond = if forward { k > after } else { k < after };
                        let want = condition.matches(k) && beyond;
                        let got = resumed.matches(k) && k != after;
                        assert_eq!(
                            got, want,
                            "{condition:?} after {after} forward {forward}: {k}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100, "{checked}");
    }
    use crate::query::parse;

    fn p(q: &str, sort: Sort) -> Plan {
        plan(&parse(q).unwrap_or_else(|e| panic!("{q}: {e}")), sort)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    #[test]
    fn the_empty_query_scans_by_created_newest_first_with_no_filter() {
        let pl = p("", Sort::CreatedDesc);
        assert_eq!(pl.index, index::BY_CREATED);
        assert_eq!(
            (pl.partition_value.as_str(), &pl.key, pl.scan_forward),
            ("ACTIVE", &KeyCondition::None, false)
        );
        assert_eq!((pl.filter.clone(), pl.expected_amplification), (None, 1.0));
        assert!(p("*", Sort::CreatedAsc).scan_forward);
    }

    #[test]
    fn a_fixed_player_count_uses_the_players_index_prefix() {
        // nakama-gamelift's README example, in every spelling of the field.
        let pl = p("+playerCount:2", Sort::CreatedDesc);
        for alias in ["+value.player_count:2", "+value.playerCount:2"] {
            assert_eq!(p(alias, Sort::CreatedDesc), pl, "{alias}");
        }
        assert_eq!(pl.index, index::BY_PLAYERS);
        assert_eq!(pl.key, KeyCondition::BeginsWith("002#".into()));
        assert_eq!(
            (pl.filter, pl.expected_amplification, pl.scan_forward),
            (None, 1.0, false)
        );
        let pl = p("+playerCount:2", Sort::PlayersDesc);
        assert_eq!(
            (pl.index, pl.key),
            (index::BY_PLAYERS, KeyCondition::BeginsWith("002#".into()))
        );
    }

    #[test]
    fn a_region_with_open_slots_uses_the_region_partition_or_the_open_index() {
        let pl = p("+region:us-east-1 +openSlots:>=1", Sort::CreatedDesc);
        assert_eq!(
            (pl.index, pl.partition_value.as_str()),
            (index::BY_REGION, "us-east-1")
        );
        assert_eq!(pl.key, KeyCondition::None);
        let f = pl.filter.clone().unwrap_or_else(|| panic!("filter"));
        assert_eq!(f.expression, "#n0 >= :v0");
        assert_eq!(f.names["#n0"], "openSlots");
        assert_eq!(f.values[":v0"], FilterValue::N("1".into()));
        assert_eq!(pl.expected_amplification, 2.0);

        let pl = p("+region:us-east-1 +openSlots:>=1", Sort::OpenDesc);
        assert_eq!(
            (pl.index, pl.key.clone(), pl.scan_forward),
            (index::BY_OPEN, KeyCondition::Ge("001".into()), false)
        );
        let f = pl.filter.unwrap_or_else(|| panic!("filter"));
        assert_eq!(
            (f.expression.as_str(), f.names["#n0"].as_str()),
            ("#n0 = :v0", "region")
        );
    }

    #[test]
    fn a_name_prefix_is_a_filter_on_the_created_index() {
        let pl = p("+value.metadata.GameSessionName:lobby*", Sort::CreatedDesc);
        assert_eq!(
            (pl.index, pl.key.clone()),
            (index::BY_CREATED, KeyCondition::None)
        );
        let f = pl.filter.unwrap_or_else(|| panic!("filter"));
        assert_eq!(f.expression, "begins_with(#n0, :v0)");
        assert_eq!(
            (f.names["#n0"].as_str(), &f.values[":v0"]),
            ("name", &FilterValue::S("lobby".into()))
        );
    }

    #[test]
    fn an_exact_name_uses_the_name_index_and_keeps_the_full_check() {
        let pl = p("+name:\"big lobby\"", Sort::CreatedAsc);
        assert_eq!(pl.index, index::BY_NAME);
        assert_eq!(
            pl.key,
            KeyCondition::BeginsWith(format!("big lobby{}", index::NAME_SEP))
        );
        assert_eq!(
            pl.filter.map(|f| f.expression),
            Some("#n0 = :v0".to_owned())
        );
        assert_eq!(pl.expected_amplification, 1.0);
        // A name longer than the key keeps is not planned on byName.
        let long = "n".repeat(index::NAME_KEY_BYTES + 1);
        assert_eq!(
            p(&format!("+name:{long}"), Sort::CreatedAsc).index,
            index::BY_CREATED
        );
    }

    #[test]
    fn a_must_not_property_is_a_negated_filter() {
        let pl = p("-properties.mode:ranked", Sort::CreatedDesc);
        assert_eq!(pl.index, index::BY_CREATED);
        let f = pl.filter.unwrap_or_else(|| panic!("filter"));
        assert_eq!(f.expression, "(NOT (#n0.#n1 = :v0))");
        assert_eq!(
            (f.names["#n0"].as_str(), f.names["#n1"].as_str()),
            ("properties", "mode")
        );
        assert_eq!(pl.expected_amplification, 1.25);
    }

    #[test]
    fn fleet_is_preferred_over_region_and_count_prefixes() {
        let pl = p(
            "+region:eu-west-1 +fleetId:fleet-a +playerCount:3",
            Sort::CreatedDesc,
        );
        assert_eq!(
            (pl.index, pl.partition_value.as_str()),
            (index::BY_FLEET, "fleet-a")
        );
        let f = pl.filter.unwrap_or_else(|| panic!("filter"));
        assert_eq!(f.expression, "#n0 = :v0 AND #n1 = :v1");
    }

    #[test]
    fn player_count_ranges_become_prefix_bounds_on_the_players_sort() {
        let key = |q: &str| p(q, Sort::PlayersAsc).key;
        assert_eq!(key("+playerCount:>=3"), KeyCondition::Ge("003".into()));
        assert_eq!(key("+playerCount:<=5"), KeyCondition::Le("005$".into()));
        assert_eq!(
            key("+playerCount:>2 +playerCount:<6"),
            KeyCondition::Between("003".into(), "005$".into())
        );
        assert_eq!(key("+playerCount:>=0"), KeyCondition::None);
        assert_eq!(key("playerCount:3"), KeyCondition::None);
        let pl = p("+playerCount:>=3 +playerCount:<=5", Sort::PlayersDesc);
        assert_eq!(
            (pl.filter, pl.expected_amplification, pl.scan_forward),
            (None, 1.0, false)
        );
        // Beyond the 3-digit prefix the bound is kept as a filter.
        let pl = p("+playerCount:<=1500", Sort::PlayersAsc);
        assert_eq!(pl.key, KeyCondition::None);
        assert!(pl.filter.is_some());
    }

    #[test]
    fn created_at_ranges_become_sort_key_bounds() {
        let pl = p("+createdAt:>=2025-11-25T00:00:00Z", Sort::CreatedDesc);
        assert_eq!(pl.key, KeyCondition::Ge("2025-11-25T00:00:00.000Z".into()));
        assert_eq!(pl.filter, None);
        let pl = p(
            "+region:a +createdAt:<2025-11-25T00:00:00Z",
            Sort::CreatedAsc,
        );
        assert_eq!(
            (pl.index, pl.key),
            (
                index::BY_REGION,
                KeyCondition::Le("2025-11-24T23:59:59.999Z$".into())
            )
        );
        let pl = p(
            "+playerCount:2 +createdAt:>=2025-11-25T00:00:00Z",
            Sort::CreatedAsc,
        );
        assert_eq!(
            pl.key,
            KeyCondition::Between(
                "002#2025-11-25T00:00:00.000Z".into(),
                "002#9999-12-31T23:59:59.999Z$".into()
            )
        );
    }

    #[test]
    fn should_clauses_become_an_or_group_and_must_nots_a_negation() {
        let pl = p("region:a region:b -name:x", Sort::CreatedDesc);
        let f = pl.filter.unwrap_or_else(|| panic!("filter"));
        assert_eq!(
            f.expression,
            "(NOT (#n0 = :v0)) AND (#n1 = :v1 OR #n1 = :v2)"
        );
        // With a must clause the should clauses do not filter.
        let pl = p("+fleetId:f region:a", Sort::CreatedDesc);
        assert_eq!((pl.index, pl.filter), (index::BY_FLEET, None));
    }

    #[test]
    fn an_unsatisfiable_query_reads_nothing() {
        for q in [
            "+playerCount:2.5",
            "-playerCount:*",
            "+createdAt:>=2025-01-02T00:00:00Z +createdAt:<2025-01-01T00:00:00Z",
        ] {
            let pl = p(q, Sort::CreatedDesc);
            assert_eq!(pl.key, KeyCondition::Between("~".into(), "~".into()), "{q}");
            assert!(
                pl.filter
                    .is_some_and(|f| f.expression.starts_with("attribute_not_exists"))
            );
        }
    }

    #[test]
    fn explain_shows_index_key_filter_direction_and_amplification() {
        let pl = p("+region:us-east-1 +openSlots:>=1", Sort::CreatedDesc);
        let e = pl.explain();
        assert_eq!(e["index"], "listByRegion");
        assert_eq!(e["partitionKey"]["value"], "us-east-1");
        assert_eq!(e["scanForward"], false);
        assert_eq!(e["filter"]["expression"], "#n0 >= :v0");
        assert_eq!(e["filter"]["values"][":v0"]["N"], "1");
        assert_eq!(e["expectedAmplification"], 2.0);
        assert_eq!(e["keyConditionExpression"]["expression"], "#pk = :pk");
        assert_eq!(serde_json::to_value(&pl).ok(), Some(e));
        let e = p("+playerCount:2", Sort::CreatedAsc).explain();
        assert_eq!(e["keyCondition"]["beginsWith"], "002#");
        assert_eq!(
            e["keyConditionExpression"]["expression"],
            "#pk = :pk AND begins_with(#sk, :sk0)"
        );
    }

    #[test]
    fn fingerprints_depend_on_query_meaning_and_sort_only() {
        let fp = |q: &str, s: Sort| {
            let q = parse(q).unwrap_or_else(|e| panic!("{e}"));
            p(q.text(), s).fingerprint(&q, s)
        };
        let a = fp("+region:a", Sort::CreatedDesc);
        assert_eq!(a.len(), 22);
        assert_eq!(a, fp("+region:a", Sort::CreatedDesc));
        assert_eq!(a, fp("+region:\"a\"", Sort::CreatedDesc));
        assert_ne!(a, fp("+region:a", Sort::CreatedAsc));
        assert_ne!(a, fp("+region:b", Sort::CreatedDesc));
        assert_ne!(a, fp("region:a", Sort::CreatedDesc));
    }

    #[test]
    fn an_empty_region_or_fleet_that_would_be_an_index_key_is_an_error_at_its_column() {
        for (text, column, field) in [
            ("+region:\"\"", 1, "region"),
            ("+playerCount:2 +fleetId:\"\"", 16, "fleetId"),
        ] {
            let q = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            for sort in Sort::ALL {
                let e = plan(&q, sort)
                    .err()
                    .unwrap_or_else(|| panic!("{text} planned"));
                assert_eq!(e.column, column, "{text}");
                assert!(e.expected.contains(field), "{text}: {e}");
                assert_eq!(
                    e.to_string(),
                    check_keys(&q)
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default()
                );
            }
        }
    }

    #[test]
    fn a_region_or_fleet_over_the_partition_key_size_is_an_error_but_one_at_it_plans() {
        // 4-byte characters reach DynamoDB's 2048-byte key limit within the 1024-character query.
        let at_limit = "\u{1F600}".repeat(PARTITION_KEY_MAX_BYTES / 4);
        let over = format!("{at_limit}a");
        for field in ["region", "fleetId"] {
            let q = parse(&format!("+{field}:{over}")).unwrap_or_else(|e| panic!("{e}"));
            let e = plan(&q, Sort::CreatedDesc)
                .err()
                .unwrap_or_else(|| panic!("{field} over the limit planned"));
            assert_eq!(e.column, 1);
            assert!(e.message.contains("2049 bytes"), "{e}");
            let pl = p(&format!("+{field}:{at_limit}"), Sort::CreatedDesc);
            assert_eq!(pl.partition_value.len(), PARTITION_KEY_MAX_BYTES);
        }
    }

    #[test]
    fn an_empty_region_that_only_filters_is_planned() {
        // Should and must-not clauses never become a key: they are filters on the session's own value.
        for text in [
            "region:\"\" fleetId:f",
            "-region:\"\"",
            "-fleetId:\"\" +region:a",
        ] {
            let q = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(check_keys(&q).is_ok(), "{text}");
            assert!(plan(&q, Sort::CreatedDesc).is_ok(), "{text}");
        }
    }

    #[test]
    fn key_conditions_compare_sort_keys_bytewise() {
        assert!(KeyCondition::Le("005$".into()).matches("005#2025"));
        assert!(!KeyCondition::Le("005$".into()).matches("006#2025"));
        assert!(KeyCondition::Between("003".into(), "005$".into()).matches("003#x"));
        assert!(!KeyCondition::Between("~".into(), "~".into()).matches("002#x"));
        assert!(KeyCondition::BeginsWith("a\u{1}".into()).matches("a\u{1}2025"));
    }
}
