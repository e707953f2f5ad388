//! End-to-end tests of the whole local stack: each test starts `fleet_local::stack` in-process on random
//! ports (DynamoDB Local from `scripts/test.sh`, a fresh table per test) and talks to it with real
//! clients only: HTTP (reqwest), WebSocket (tokio-tungstenite) and SigV4 (aws-sigv4).

#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    reason = "a panic is the failure report, and a test reads as one scenario (the limits are for product code)"
)]

mod console;
mod delivery;
mod gateway;
mod operations;
mod placements;
mod regions;
mod sessions;
mod support;
mod terminal;
