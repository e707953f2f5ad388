//! The session store on one DynamoDB table (docs/architecture.md#data-rules).
//!
//! Every state change is a conditional write that encodes the allowed transition. Session items carry a
//! version: a change reads the session's partition (the session, a pending report and its seats, one
//! strongly consistent Query), decides in code with the `fleet-core` rules, and writes back guarded by
//! the version it read, in one transaction with the seat items it touches (a fulfilment first tries
//! without the read, guarding the empty partition it expects, and reads only when that guess fails). Placements move with a
//! condition on their status, and `ReturnValuesOnConditionCheckFailure=ALL_OLD` tells a duplicate from a
//! conflict without a second read.

pub mod codec;
mod connections;
pub mod error;
mod listing;
pub mod local;
pub mod schema;
mod store;

pub use error::StoreResult;
pub use local::local_client;
pub use schema::{TableSpec, create_table, table_spec};
pub use store::DynamoStore;
