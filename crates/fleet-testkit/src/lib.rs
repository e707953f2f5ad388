//! Test support shared by the workspace's suites, so that every suite builds the same principals,
//! configuration, API Gateway events and records, and a fix to one of them reaches them all.

pub mod apigw;
pub mod config;
pub mod connections;
pub mod events;
pub mod faults;
pub mod principals;
pub mod records;
pub mod table;

use fleet_core::time::Timestamp;

/// 2026-11-25T10:00:00Z: when the sample events of `events/` happened, and when every suite's clock
/// starts.
pub const T0: Timestamp = Timestamp::from_millis(1_795_600_800_000);
