//! Handler tests: each function's handler called directly with real-shaped events from `events/`.

mod api;
mod authz;
mod bad_input;
mod contract;
mod early_push;
mod integration;
mod notifier;
mod placement_events;
mod routes;
mod rpc;
mod support_async;
mod support_http;
mod sweeper;
mod ws;
mod ws_authorizer;
