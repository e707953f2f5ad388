//! The list query language (docs/query-language.md): parser, AST, evaluator, planner and page
//! cursors, a documented subset of the Nakama/Bluge query strings nakama-gamelift exposed, so its
//! users' queries keep working.
//!
//! [`parse`] reads a query into a [`Query`] (errors are [`QueryError`]s with a 1-based column),
//! [`Sort::parse`] the `sort` parameter, [`plan`] turns both into one DynamoDB Query on a list index
//! plus a filter, and [`cursor`] seals the page's `LastEvaluatedKey` to the plan's fingerprint. The
//! planner and the evaluator ([`Query::matches`]) are property-tested against each other.

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
