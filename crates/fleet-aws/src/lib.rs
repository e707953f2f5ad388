//! fleetlift's AWS adapters: each implements a port of `fleet-core` on an AWS service.
//!
//! - [`dynamo`]: the session store on one DynamoDB table, whose definition lives once, in code.
//! - [`gamelift`]: the GameLift port (queue placements, player and game sessions) with its error mapping.
//! - [`notifier`]: WebSocket pushes through API Gateway's PostToConnection.
//! - [`clients`]: the SDK clients a Lambda binary builds once per container.

pub mod clients;
pub mod dynamo;
pub mod gamelift;
pub mod notifier;
