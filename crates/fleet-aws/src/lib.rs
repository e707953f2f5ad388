//! fleetlift's AWS adapters: each implements a port of `fleet-core` on an AWS service.
//!
//! - [`dynamo`]: the session store on one DynamoDB table, whose definition lives once, in code.

pub mod dynamo;
