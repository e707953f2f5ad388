//! R12 soak: fleet-local's whole stack in-process (HTTP and WebSocket gateways, the local SQS queue,
//! DynamoDB Streams, the sweeper on a timer, gamelift-sim on the system clock) on DynamoDB Local, under
//! the demo bots (`fleet_local::demo::run`, round after round) for a bounded time with faults injected:
//! the simulator fails some GameLift calls (500s and throttles) and drops and duplicates placement
//! events. The queue times out after 10 s and the sweep margin is 2 s, so dropped results are resolved
//! within the run. After the load the faults are lifted and the stack is given until every placement's
//! deadline to settle; then a full table audit (seats vs counters, one seat per player, index hygiene,
//! no negative counter), no PENDING placement left (I6), nothing in the DLQ, and no terminal placement
//! or ended session changed between the end of the load and the end (I3). The process's RSS
//! (`VmRSS`) before and after is reported.
//!
//! 20 s of load; `FLEETLIFT_RELIABILITY_BIG=1`: 5 minutes.

use std::time::{Duration, Instant};

use fleet_core::model::PlacementStatus;
use fleet_local::demo::{self, DemoOptions};
use fleet_local::stack::{self, StackOptions, local_model};
use fleet_reliability::{audit, scorecard};
use gamelift_sim::{EventFaults, FaultSpec};

use crate::support;

/// This process's resident set, KiB (`VmRSS` in `/proc/self/status`).
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_stack_under_the_demo_bots_with_faults_keeps_every_invariant() {
    let load = if scorecard::big() {
        Duration::from_secs(300)
    } else {
        Duration::from_secs(20)
    };
    let mut model = local_model();
    for q in &mut model.queues {
        q.timeout_seconds = 10;
    }
    let options = StackOptions {
        dynamodb_endpoint: Some(support::endpoint()),
        table: support::table_name("r12"),
        sim_model: Some(model),
        sweep_interval: Duration::from_secs(1),
        sweep_margin_secs: 2,
        ..StackOptions::ephemeral()
    };
    let stack = stack::start(options)
        .await
        .unwrap_or_else(|e| panic!("start the local stack: {e}"));
    let sim = stack.sim().expect("the stack runs its own simulator");
    let faults = [
        (
            "StartGameSessionPlacement",
            0.05,
            "InternalServiceException",
        ),
        ("CreatePlayerSessions", 0.10, "InternalServiceException"),
        ("UpdateGameSession", 0.10, "ThrottlingException"),
        (
            "DescribeGameSessionPlacement",
            0.20,
            "InternalServiceException",
        ),
        ("DescribeGameSessions", 0.20, "ThrottlingException"),
        ("TerminateGameSession", 0.10, "InternalServiceException"),
    ];
    for (op, rate, code) in faults {
        sim.set_fault(
            op,
            FaultSpec {
                error_rate: rate,
                error_code: Some(code.to_owned()),
                latency_ms: 0,
            },
        );
    }
    sim.set_event_faults(EventFaults {
        drop_rate: 0.05,
        duplicate_rate: 0.05,
        ..EventFaults::default()
    });

    let rss_before = rss_kib();
    let started = Instant::now();
    let mut runs = 0u64;
    let (
        mut placements,
        mut fulfilled,
        mut unfulfilled,
        mut joins,
        mut updates,
        mut ended,
        mut errors,
    ) = (0, 0, 0, 0, 0, 0, 0);
    let mut first_errors: Vec<String> = Vec::new();
    while started.elapsed() < load {
        let s = demo::run(DemoOptions {
            http_url: stack.http_url().to_owned(),
            ws_url: stack.ws_url().to_owned(),
            bots: 6,
            rounds: 2,
            max_players: 4,
            push_timeout: Duration::from_secs(3),
            auth: stack.auth(),
            service_key: stack.options().service_key.clone(),
            game_server_key: stack.options().game_server_key.clone(),
        })
        .await;
        runs += 1;
        placements += s.placements;
        fulfilled += s.fulfilled;
        unfulfilled += s.unfulfilled;
        joins += s.joins;
        updates += s.updates;
        ended += s.ended;
        errors += s.errors;
        for e in s.first_errors {
            if first_errors.len() < 5 {
                first_errors.push(e);
            }
        }
    }
    let loaded = started.elapsed();
    let rss_loaded = rss_kib();

    // Lift the faults; let every placement reach its deadline and the sweeper run.
    sim.clear_faults();
    sim.set_event_faults(EventFaults::default());
    let store = &stack.deps().store;
    let (mid, _) = audit::dynamo(store).await;
    let settle_by = Instant::now() + Duration::from_secs(40);
    let (snap, mut violations) = loop {
        let (snap, v) = audit::dynamo(store).await;
        let pending = snap
            .placements
            .values()
            .filter(|p| p.status == PlacementStatus::Pending)
            .count();
        if pending == 0 || Instant::now() > settle_by {
            break (snap, v);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let pending = snap
        .placements
        .values()
        .filter(|p| p.status == PlacementStatus::Pending)
        .count();
    if pending > 0 {
        violations.push(format!(
            "I6: {pending} placements still PENDING 40 s after the load (deadline 12 s)"
        ));
    }
    violations.extend(audit::monotonic(&mid, &snap));
    let dlq = stack.dlq();
    if !dlq.is_empty() {
        violations.push(format!(
            "{} messages in the DLQ: {:?}",
            dlq.len(),
            dlq.iter().take(3).collect::<Vec<_>>()
        ));
    }
    if placements == 0 {
        violations.push("no placement went through".to_owned());
    }
    let rss_after = rss_kib();
    let stats = sim.stats();
    let mut outcomes = std::collections::BTreeMap::new();
    for p in snap.placements.values() {
        *outcomes.entry(p.status.as_str()).or_insert(0u32) += 1;
    }
    let outcomes: Vec<String> = outcomes.iter().map(|(s, c)| format!("{c} {s}")).collect();
    let sessions = snap.sessions.len();
    let seats: usize = snap.seats.values().map(Vec::len).sum();
    stack.shutdown().await;

    let kib = |v: Option<u64>| {
        v.map_or_else(
            || "?".to_owned(),
            |k| format!("{:.1} MiB", k as f64 / 1024.0),
        )
    };
    let growth = match (rss_before, rss_after) {
        (Some(a), Some(b)) => format!("{:+.1} MiB", (b as f64 - a as f64) / 1024.0),
        _ => "?".to_owned(),
    };
    let tried = snap.placements.len() as u64;
    if !first_errors.is_empty() {
        eprintln!("R12: first bot errors (expected under faults): {first_errors:?}");
    }
    let detail = format!(
        "{:.0} s of load, {runs} demo runs of 6 bots × 2 rounds: {placements} placements, {fulfilled} pushed fulfilled, {unfulfilled} unfulfilled, {joins} joins, {updates} updates, {ended} ended, {errors} bot errors under faults ({} GameLift faults injected, 5 % of events dropped, 5 % duplicated); table at the end: {}, {sessions} sessions, {seats} seats; RSS {} before, {} after the load, {} at the end ({growth})",
        loaded.as_secs_f64(),
        stats.faults_injected,
        outcomes.join(" "),
        kib(rss_before),
        kib(rss_loaded),
        kib(rss_after),
    );
    scorecard::finish("R12 soak", tried, &violations, &detail);
}
