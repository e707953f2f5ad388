//! The reliability suites' own code: the scorecard every row prints, real-shaped fixtures, a tiny
//! reference model of what a set of placement events and server reports must leave behind (written
//! without `fleet_core::rules`, so it checks them rather than repeats them), invariant audits over a
//! table snapshot (in-memory or DynamoDB), and a fault-injecting interceptor for the AWS SDK clients.
//!
//! The rows themselves are the test binary `tests/reliability`; `RELIABILITY.md` at the repository
//! root lists the invariants, how each row tests them, and the latest figures.

pub mod audit;
pub mod faults;
pub mod fixtures;
pub mod fuzzing;
pub mod model;
pub mod scorecard;
