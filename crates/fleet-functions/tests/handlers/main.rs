//! Handler tests: each function's handler called directly with real-shaped events from `events/`.

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a panic is the failure report, and a test reads as one scenario (the limits are for product code)"
)]

mod api;
mod bad_input;
mod budgets;
mod cancel;
mod contract;
mod early_push;
mod gateway;
mod integration;
mod limits;
mod locations;
mod lock;
mod notifier;
mod placement_events;
mod rejoin;
mod routes;
mod rpc;
mod samples;
mod support_async;
mod support_cases;
mod support_http;
mod sweeper;
mod sweeper_sim;
mod ws;
mod ws_authorizer;
