//! R05 lost results (I6): placements through the real handlers on DynamoDB Local and gamelift-sim (a
//! `ManualClock`, the simulator's `EventFaults` dropping 0 %, 2 % or 10 % of placement events), events
//! drained from the simulator into `placement_events::handle` as SQS batches of up to 10, both clocks
//! advanced past the queue timeout and the sweep margin, then `sweeper::sweep`. Every placement must be
//! terminal, equal to what DescribeGameSessionPlacement says, and every FULFILLED one must have its
//! session. The locations have fewer slots than there are placements, so some placements time out
//! (a lost `PlacementTimedOut` is as much a lost result as a lost fulfilment). Table audit at the end.

use std::time::{Duration, Instant};

use fleet_core::ids::PlacementId;
use fleet_core::model::PlacementStatus;
use fleet_core::ports::{GameLift as _, SessionStore as _};
use fleet_functions::observability::Metrics;
use fleet_functions::sweeper::{self, SweepLimits};
use fleet_functions::{api, placement_events};
use fleet_reliability::fixtures::sqs_batch;
use fleet_reliability::{audit, scorecard};
use gamelift_sim::model::EventFaults;
use gamelift_sim::{Model, Simulator};

use crate::support;
use crate::support_http::{Answer, Ev, Who, config, create_body};

/// What one drop rate gave.
struct RateRun {
    placements: u64,
    violations: Vec<String>,
    events: u64,
    dropped: u64,
    resolved: u32,
    outcomes: std::collections::BTreeMap<&'static str, u32>,
}

async fn run_rate(rate: f64, n: u64, seed: u64) -> RateRun {
    let mut model = Model {
        throttling: false,
        seed,
        ..Model::default()
    };
    // Fewer slots than placements: the rest wait, then time out after the queue's 600 s.
    for fleet in &mut model.fleets {
        for loc in &mut fleet.locations {
            loc.slots = (n as u32 * 2 / 5).max(1);
        }
    }
    model.faults.events = EventFaults {
        drop_rate: rate,
        ..EventFaults::default()
    };
    let queue_timeout = model
        .queues
        .iter()
        .map(|q| q.timeout_seconds)
        .max()
        .unwrap_or(600) as i64;
    let sim = Simulator::builder()
        .model(model)
        .clock(gamelift_sim::ManualClock::new())
        .build();
    let mut events = sim.events();
    let store = support::spawn_store("r05").await;
    let (deps, _server) = support::on_simulator(&sim, store, config()).await;
    let mut violations = Vec::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let who = format!("r05-player-{i}");
        let a = Answer::of(
            api::handle(
                &deps,
                Ev::post("/v1/sessions", create_body(4, &[&who]))
                    .by(Who::player(&who))
                    .request(),
            )
            .await,
        );
        if a.status != 202 {
            violations.push(format!("create {i}: {} {}", a.status, a.body));
            continue;
        }
        let id = a.body["placementId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        ids.push(PlacementId::parse(&id).unwrap_or_else(|e| panic!("placement id {id}: {e}")));
    }
    // Time passes on both clocks; whatever GameLift publishes reaches the handler in batches of 10.
    let step = 5i64;
    let horizon = queue_timeout + deps.config.sweep_margin_secs + 30;
    let mut delivered = 0u64;
    let mut batch_no = 0u64;
    for _ in 0..horizon / step {
        sim.advance(Duration::from_secs(step as u64))
            .await
            .expect("advance the simulator");
        deps.clock.advance_secs(step);
        let bodies = support::published(&mut events);
        for chunk in bodies.chunks(10) {
            batch_no += 1;
            let batch = sqs_batch(&format!("r05-{batch_no}-"), chunk);
            let response = placement_events::handle(&deps, batch).await;
            if !response.batch_item_failures.is_empty() {
                violations.push(format!(
                    "batch {batch_no}: {} records failed",
                    response.batch_item_failures.len()
                ));
            }
            delivered += chunk.len() as u64;
        }
    }
    // The sweeper, with a far Lambda deadline, until it has nothing left.
    let limits = SweepLimits::from_config(&deps.config);
    let mut resolved = 0;
    for _ in 0..5 {
        let mut metrics = Metrics::new(sweeper::FUNCTION);
        let summary = sweeper::sweep(
            &deps.store,
            &deps.gamelift,
            &deps.clock,
            &limits,
            Instant::now() + Duration::from_secs(600),
            &mut metrics,
        )
        .await
        .unwrap_or_else(|e| panic!("sweep: {e}"));
        resolved += summary.resolved;
        if summary.resolved == 0 && summary.still_pending == 0 {
            break;
        }
    }
    let mut outcomes = std::collections::BTreeMap::new();
    for id in &ids {
        let ours = deps
            .store
            .get_placement(id)
            .await
            .unwrap_or_else(|e| panic!("get placement: {e}"));
        let theirs = deps
            .gamelift
            .describe_placement(id)
            .await
            .unwrap_or_else(|e| panic!("describe {}: {e}", id.as_str()));
        let Some(p) = ours else {
            violations.push(format!("{}: placement missing", id.as_str()));
            continue;
        };
        *outcomes.entry(p.status.as_str()).or_insert(0) += 1;
        if !p.status.is_terminal() {
            violations.push(format!(
                "{}: still {} after the deadline",
                id.as_str(),
                p.status.as_str()
            ));
        } else if p.status != theirs.status {
            violations.push(format!(
                "{}: {} here, {} in GameLift",
                id.as_str(),
                p.status.as_str(),
                theirs.status.as_str()
            ));
        }
        if p.status == PlacementStatus::Fulfilled {
            match &p.session_id {
                Some(s) => {
                    if deps
                        .store
                        .get_session(s)
                        .await
                        .unwrap_or_else(|e| panic!("get session: {e}"))
                        .is_none()
                    {
                        violations.push(format!(
                            "{}: FULFILLED without its session {}",
                            id.as_str(),
                            s.as_str()
                        ));
                    }
                }
                None => violations.push(format!("{}: FULFILLED without a session id", id.as_str())),
            }
        }
    }
    let (_, audit) = audit::dynamo(&deps.store).await;
    violations.extend(audit);
    let placements = ids.len() as u64;
    RateRun {
        placements,
        violations,
        events: delivered,
        dropped: placements.saturating_sub(delivered),
        resolved,
        outcomes,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_placement_is_terminal_after_the_deadline_even_with_events_dropped() {
    let n = 60 * scorecard::scale();
    let mut tried = 0;
    let mut violations = Vec::new();
    let mut notes = Vec::new();
    let mut resolved = 0;
    for (k, rate) in [0.0, 0.02, 0.10].into_iter().enumerate() {
        let r = run_rate(rate, n, 42 + k as u64).await;
        tried += r.placements;
        resolved += r.resolved;
        let outcomes: Vec<String> = r.outcomes.iter().map(|(s, c)| format!("{c} {s}")).collect();
        notes.push(format!(
            "{}%: {} events delivered, {} dropped, {} resolved by the sweeper, {}",
            (rate * 100.0) as u32,
            r.events,
            r.dropped,
            r.resolved,
            outcomes.join(" ")
        ));
        violations.extend(
            r.violations
                .into_iter()
                .map(|v| format!("{}%: {v}", (rate * 100.0) as u32)),
        );
    }
    let detail = format!("{}; sweeper resolved {resolved}", notes.join("; "));
    scorecard::finish("R05 lost results", tried, &violations, &detail);
}
