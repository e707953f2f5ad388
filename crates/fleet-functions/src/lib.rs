//! fleetlift's Lambda handlers as library functions: `async fn(&Deps, Event) -> Result<…>`, tested by
//! calling them directly with the in-memory fakes; each binary in `src/bin` only builds its clients once
//! and hands the handler to the Lambda runtime.

pub mod api;
pub mod bootstrap;
pub mod config;
pub mod deps;
pub mod error;
pub mod identity;
pub mod notifier;
pub mod observability;
pub mod placement_events;
pub mod rpc;
pub mod sweeper;
pub mod ws;
pub mod ws_authorizer;
