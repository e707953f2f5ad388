//! The parsed form of a query: clauses of (occur, field, value), with values already normalised to
//! the field's type (integer intervals for counts, millisecond intervals for `createdAt`, text
//! otherwise), so the evaluator and the planner never re-interpret text.

use std::fmt;

use crate::FieldError;

/// How a clause takes part in the match (Bluge/Lucene boolean semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Occur {
    /// `+field:value`: must hold.
    Must,
    /// `-field:value`: must not hold.
    MustNot,
    /// `field:value`: when the query has no must clause, at least one should clause must hold;
    /// otherwise should clauses do not change the result.
    Should,
}

/// A queryable field, after alias resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `playerCount` (number).
    PlayerCount,
    /// `maxPlayers` (number).
    MaxPlayers,
    /// `openSlots` (number).
    OpenSlots,
    /// `joinable` (`true` or `false`).
    Joinable,
    /// `region` (text).
    Region,
    /// `fleetId` (text).
    FleetId,
    /// `name` (text; absent on unnamed sessions).
    Name,
    /// `createdAt` (date-time).
    CreatedAt,
    /// `id` with a value not starting with `arn:`: the short session id (text).
    Id,
    /// `id` with a value starting with `arn:`: the GameLift ARN (text).
    Arn,
    /// `properties.<key>` (text; absent when the session has no such property).
    Property(String),
}

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Non-negative integers compared numerically.
    Count,
    /// Instants compared in time order (milliseconds).
    Time,
    /// Strings compared exactly (case-sensitive) or by prefix.
    Text,
    /// `true` or `false`, compared exactly.
    Bool,
}

impl Field {
    /// The type of its values.
    pub fn kind(&self) -> FieldKind {
        match self {
            Self::PlayerCount | Self::MaxPlayers | Self::OpenSlots => FieldKind::Count,
            Self::CreatedAt => FieldKind::Time,
            Self::Joinable => FieldKind::Bool,
            _ => FieldKind::Text,
        }
    }

    /// The top-level DynamoDB attribute (the session's camelCase serde name) holding the value;
    /// a property lives at `properties.<key>`.
    pub fn attribute(&self) -> &'static str {
        match self {
            Self::PlayerCount => "playerCount",
            Self::MaxPlayers => "maxPlayers",
            Self::OpenSlots => "openSlots",
            Self::Joinable => "joinable",
            Self::Region => "region",
            Self::FleetId => "fleetId",
            Self::Name => "name",
            Self::CreatedAt => "createdAt",
            Self::Id => "id",
            Self::Arn => "arn",
            Self::Property(_) => "properties",
        }
    }

    /// Whether a session may lack the value (so `field:*` means "is present").
    pub fn is_optional(&self) -> bool {
        matches!(self, Self::Name | Self::Property(_))
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Property(k) => write!(f, "properties.{k}"),
            Self::Arn => f.write_str("id"),
            other => f.write_str(other.attribute()),
        }
    }
}

/// An inclusive interval of integers; `i64::MIN` / `i64::MAX` stand for an open end. Empty when
/// `lo > hi` (for example `playerCount:2.5`: no integer equals 2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interval {
    /// Smallest value included.
    pub lo: i64,
    /// Largest value included.
    pub hi: i64,
}

impl Interval {
    /// Every value.
    pub const FULL: Self = Self {
        lo: i64::MIN,
        hi: i64::MAX,
    };
    /// No value.
    pub const EMPTY: Self = Self { lo: 1, hi: 0 };

    /// Whether `v` is inside.
    pub fn contains(self, v: i64) -> bool {
        self.lo <= v && v <= self.hi
    }

    /// Whether nothing is inside.
    pub fn is_empty(self) -> bool {
        self.lo > self.hi
    }

    /// The values inside both.
    #[must_use]
    pub fn intersect(self, other: Self) -> Self {
        Self {
            lo: self.lo.max(other.lo),
            hi: self.hi.min(other.hi),
        }
    }
}

/// A clause's value, normalised to its field's kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `field:*`: any value (on an optional field: the value is present).
    Any,
    /// An exact, case-sensitive string (text fields).
    Term(String),
    /// A trailing-`*` prefix (text fields).
    Prefix(String),
    /// An inclusive interval: integers for count fields, milliseconds since the epoch for
    /// `createdAt`. Exact numbers and dates become one-point intervals.
    Range(Interval),
}

/// One `[+|-]field:value` clause.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Clause {
    /// Must, must not or should.
    pub occur: Occur,
    /// The field (aliases resolved).
    pub field: Field,
    /// The value.
    pub value: Value,
    /// 1-based character column where the clause starts in the query text.
    pub column: usize,
}

/// A parsed list query. Build one with [`parse`](super::parse); the empty query and `*` have no
/// clauses and match every (ACTIVE) session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub(crate) text: String,
    pub(crate) clauses: Vec<Clause>,
}

impl Query {
    /// The query text as the client sent it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The clauses in query order.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// Whether the query has no clause (matches everything).
    pub fn is_match_all(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Whether any clause is a must clause (then should clauses do not affect the result).
    pub fn has_must(&self) -> bool {
        self.clauses.iter().any(|c| c.occur == Occur::Must)
    }
}

/// A malformed query: where (1-based character column) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based character (not byte) column of the problem.
    pub column: usize,
    /// What the parser expected at that column, e.g. "`:` after the field name".
    pub expected: String,
    /// What it found instead, or why the text there is wrong.
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(
        column: usize,
        expected: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            column,
            expected: expected.into(),
            message: message.into(),
        }
    }

    /// The explanation without the `query: ` prefix (what [`FieldError::problem`] holds).
    pub fn problem(&self) -> String {
        if self.message.is_empty() {
            format!("column {}: expected {}", self.column, self.expected)
        } else {
            format!(
                "column {}: expected {} ({})",
                self.column, self.expected, self.message
            )
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "query: {}", self.problem())
    }
}

impl std::error::Error for QueryError {}

impl From<QueryError> for FieldError {
    fn from(e: QueryError) -> Self {
        FieldError::new("query", e.problem())
    }
}
