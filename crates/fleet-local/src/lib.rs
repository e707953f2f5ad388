//! The whole fleetlift system on one machine: DynamoDB Local, gamelift-sim, an API Gateway emulation
//! (HTTP with JWT and SigV4, WebSocket with the `@connections` API), an SQS-semantics queue, a DynamoDB
//! Streams poller and the sweeper — all calling the very handlers the Lambda binaries run, with the
//! event shapes AWS produces.

pub mod cache;
pub mod clock;
pub mod console;
pub mod demo;
pub mod dynamodb_local;
pub mod gateway;
mod layering;
pub mod local;
pub mod logs;
pub mod queue;
pub mod shutdown;
pub mod signing;
pub mod stack;
pub mod streams;
pub mod term;
