//! The list query language (docs/architecture.md#query-language): parser, AST, evaluator, planner and page cursors.
//!
//! A compatible, documented subset of the Nakama/Bluge query strings nakama-gamelift exposes, so its
//! users' queries keep working.
//!
//! # Syntax
//!
//! A query is whitespace-separated clauses `[+|-]field:value`, at most 1024 characters. The empty
//! query and `*` alone match every session.
//!
//! | Prefix | Occur | Meaning |
//! |---|---|---|
//! | `+` | must | the clause must hold |
//! | `-` | must not | the clause must not hold |
//! | none | should | when the query has **no** must clause, at least one should clause must hold; with a must clause, should clauses do not change the result (Bluge only scores them) |
//!
//! A query with only must-not clauses matches everything they do not exclude. A clause on a value a
//! session lacks (an unnamed session's `name`, a property it does not have) does not hold, so
//! `-properties.mode:ranked` keeps sessions without a `mode`.
//!
//! # Values
//!
//! | Form | Example | Fields |
//! |---|---|---|
//! | exact term | `region:us-east-1`, `playerCount:2`, `createdAt:2025-11-25T10:00:00Z` | all |
//! | quoted phrase (`\"` and `\\` escapes) | `name:"big lobby"` | all |
//! | trailing-`*` prefix | `name:lobby*`, `name:"big lo"*` | text fields |
//! | range `>N` `>=N` `<N` `<=N` | `openSlots:>=1`, `createdAt:>="2025-11-25T00:00:00Z"` | numbers, `createdAt` |
//! | `*` | `name:*` | all: "has a value" (always true except for `name` and properties) |
//!
//! Outside quotes `\` escapes the next character (`name:big\ lobby`, `name:a\*` for a literal star,
//! `properties.a\:b:x` for a key with a colon). A `*` anywhere but at the end of a value is an error
//! (no inner wildcards); other Bluge syntax (fuzzy `~`, boosts `^`, regexes, bare words without a
//! field, parenthesised groups) is not supported: `^` and `~` are taken literally, bare words are
//! an error.
//!
//! Text matching is exact and case-sensitive. Numbers are compared as integers but read exactly:
//! `playerCount:2.5` matches nothing, `playerCount:>2.5` means `>=3`, `1e1` is 10. Dates are RFC 3339
//! with any offset and precision; an exact date matches that instant (to the millisecond),
//! sub-millisecond bounds round the right way (`>=…:00.0005Z` starts at the next millisecond).
//!
//! # Fields
//!
//! | Field | Type | nakama-gamelift aliases |
//! |---|---|---|
//! | `playerCount` | number | `value.player_count`, `value.playerCount` |
//! | `maxPlayers` | number | `value.max_players`, `value.maxPlayers` |
//! | `openSlots` | number | |
//! | `region` | text | |
//! | `fleetId` | text | |
//! | `name` | text | `value.metadata.GameSessionName` |
//! | `createdAt` | date-time | `value.create_time` |
//! | `id` | text: a value starting with `arn:` is compared with the session's ARN, any other with its short id | `value.id` |
//! | `properties.<key>` | text (ranges are an error: property values are strings) | `value.metadata.GameProperties.<key>` |
//!
//! An unknown field is an error at its column that lists these fields. Every error is a
//! [`QueryError`] with the 1-based character column and the expected token:
//! `query: column 12: expected a value after `:` (found the end of the query)`.
//!
//! # Sort
//!
//! [`Sort::parse`] reads the `sort` parameter: `createdAt` / `-createdAt` (default: newest first),
//! `+createdAt` (oldest first), `playerCount` / `-playerCount`, `openSlots` / `-openSlots`
//! (`value.create_time`, `value.player_count` accepted). Ties are broken by creation time, then id,
//! because the order is exactly the index sort key (`ppp#createdAt#id`), so pages are stable.
//!
//! # Examples
//!
//! ```text
//! +value.player_count:2                         sessions with exactly 2 players (nakama's README)
//! +region:us-east-1 +openSlots:>=1              joinable sessions in us-east-1
//! +value.metadata.GameSessionName:lobby*        names starting with "lobby"
//! -properties.mode:ranked                       everything except ranked sessions
//! region:us-east-1 region:us-west-2 -name:test  either region, but not named "test"
//! +createdAt:>=2025-11-25T00:00:00Z             created since
//! ```
//!
//! # Planning
//!
//! [`plan`] turns a query and a sort into one DynamoDB Query on a list index
//! ([`crate::index::LIST_INDEXES`], all sparse: only ACTIVE sessions are in them) plus a
//! FilterExpression. The result order is always the sort's order, so an index is eligible only if its
//! sort key, after the key condition, orders the result that way:
//!
//! * `playerCount` sorts use `byPlayers` (`ppp#createdAt#id`); must clauses on `playerCount` become a
//!   range on the 3-digit prefix (`>=3` → `kPlayers >= "003"`, `<=5` → `<= "005$"`, since `#` < `$`).
//!   `openSlots` sorts likewise use `byOpen`.
//! * `createdAt` sorts pick, in this order of preference, the first that applies: `byName` when a
//!   must clause fixes the exact name (≤ 200 bytes; key `begins_with(name + "\u{1}")`, the name
//!   check stays in the filter), `byFleet` / `byRegion` when a must clause fixes the fleet / region
//!   (it becomes the partition), `byPlayers` / `byOpen` when must clauses fix the count to one value
//!   (`begins_with("002#")`), otherwise `byCreated`.
//! * On every index whose sort key continues with `createdAt`, must clauses on `createdAt` become a
//!   range on it.
//! * Everything the partition and key condition do not enforce exactly goes into the filter: must
//!   clauses as conjuncts, must-not clauses as `NOT (…)`, should clauses (without musts) as one `OR`
//!   group, prefixes as `begins_with`, `name:*`/`properties.k:*` as `attribute_exists`.
//! * A must clause fixing `region` or `fleetId` to an empty value, or to one longer than DynamoDB's
//!   2048-byte partition key, is an error at its column under every sort ([`check_keys`]): it could
//!   become an index partition that DynamoDB refuses, and no session has such a value.
//! * A query that can match nothing (`+playerCount:2.5`, contradictory ranges) reads nothing: its key
//!   condition is `BETWEEN "~" AND "~"`, which no key equals.
//!
//! `expected_amplification` (items read per item returned) is 1.0 when the key condition captures the
//! whole query; otherwise a heuristic: each must clause left to the filter keeps ½ of the items,
//! each must-not ⅘, a should group ½; the product's inverse, capped at 100. [`Plan::explain`] shows
//! the index, partition, key condition, direction, filter and this estimate.
//!
//! The planner and the evaluator ([`Query::matches`]) are property-tested against each other: for
//! random sessions and random queries, simulating the plan over the sessions' DynamoDB items returns
//! the same sessions in the same order as filtering with `matches` and sorting with
//! [`Sort::compare`].
//!
//! # Cursors
//!
//! [`cursor`] wraps DynamoDB's `LastEvaluatedKey` in an opaque HMAC-signed token bound to
//! [`Plan::fingerprint`]: a tampered cursor, or one from another query or sort, is a clear error.

mod ast;
pub mod cursor;
mod eval;
mod parse;
mod plan;
mod sort;

#[cfg(test)]
mod proptests;

pub use ast::{Clause, Field, FieldKind, Interval, Occur, Query, QueryError, Value};
pub use parse::parse;
pub use plan::{Filter, FilterValue, KeyCondition, Plan, check_keys, plan};
pub use sort::Sort;
