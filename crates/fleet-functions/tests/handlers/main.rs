//! Handler tests: each function's handler called directly with real-shaped events from `events/`.

mod support_async;
mod placement_events;
mod support_http;
mod api;
mod rpc;
mod authz;
mod bad_input;
mod ws;
mod notifier;
mod early_push;
mod sweeper;
mod integration;
mod contract;
