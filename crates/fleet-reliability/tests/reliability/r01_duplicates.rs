//! R01 duplicates (I4, I5): every event and report of a script delivered 1–5 times, sequentially or
//! concurrently, must leave exactly what one delivery of each leaves (the reference model), with
//! exactly one `Applied` per event. The bulk runs on the in-memory store (it makes the same decisions
//! through `fleet_core::rules`); a subset runs on DynamoDB Local, many schedules per table.

use std::sync::Arc;

use fleet_core::fakes::MemoryStore;
use fleet_functions::placement_events::RecordOutcome;
use fleet_reliability::fixtures::Rng;
use fleet_reliability::model::{self, Action, Script};
use fleet_reliability::{audit, scorecard};
use futures::StreamExt as _;

use crate::support;

/// The script: two fulfilments (one with two players), a timeout, two reports.
fn script() -> Script {
    let f = |p: &str, s: u32, players: &[&str], end_s: i64| Action::Fulfilled {
        placement: p.into(),
        session: s,
        players: players.iter().map(|x| (*x).to_owned()).collect(),
        end_s,
    };
    Script {
        name: "duplicates".into(),
        placements: vec!["a".into(), "b".into(), "c".into()],
        actions: vec![
            f("a", 1, &["ann", "bob"], 3),
            f("b", 2, &[], 4),
            Action::Unfulfilled {
                placement: "c".into(),
                kind: "PlacementTimedOut",
                end_s: 40,
            },
            Action::Report {
                session: 1,
                count: 2,
                at_s: 10,
            },
            Action::Report {
                session: 2,
                count: 5,
                at_s: 12,
            },
        ],
    }
}

/// Deliveries of one schedule: action indexes, each 1–5 times, shuffled.
fn schedule(rng: &mut Rng, actions: usize) -> Vec<usize> {
    let mut d: Vec<usize> = (0..actions)
        .flat_map(|i| std::iter::repeat_n(i, 1 + rng.below(5) as usize))
        .collect();
    rng.shuffle(&mut d);
    d
}

/// Plays one schedule on `store`; returns the violations found.
async fn play<S>(
    store: Arc<S>,
    ns: String,
    script: &Script,
    deliveries: &[usize],
    concurrent: bool,
) -> Vec<String>
where
    S: fleet_core::ports::SessionStore + model::Seats + Send + Sync + 'static,
{
    model::setup(&*store, &ns, script).await;
    let mut outcomes: Vec<(usize, Option<RecordOutcome>)> = Vec::new();
    if concurrent {
        let tasks: Vec<_> = deliveries
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                let (store, ns, action) =
                    (Arc::clone(&store), ns.clone(), script.actions[i].clone());
                tokio::spawn(async move {
                    (
                        i,
                        model::deliver(&*store, &ns, &action, &format!("m-{k}")).await,
                    )
                })
            })
            .collect();
        for t in tasks {
            outcomes.push(t.await.expect("delivery task"));
        }
    } else {
        for (k, &i) in deliveries.iter().enumerate() {
            outcomes.push((
                i,
                model::deliver(&*store, &ns, &script.actions[i], &format!("m-{k}")).await,
            ));
        }
    }
    let mut violations = Vec::new();
    // I4: one effect per event, however often it came.
    for (i, a) in script.actions.iter().enumerate() {
        if matches!(a, Action::Fulfilled { .. } | Action::Unfulfilled { .. }) {
            let applied = outcomes
                .iter()
                .filter(|(j, o)| *j == i && matches!(o, Some(RecordOutcome::Applied { .. })))
                .count();
            let other = outcomes
                .iter()
                .filter(|(j, o)| {
                    *j == i
                        && !matches!(
                            o,
                            Some(RecordOutcome::Applied { .. } | RecordOutcome::Duplicate)
                        )
                })
                .count();
            if applied != 1 || other != 0 {
                violations.push(format!(
                    "I4: {ns} event {i} applied {applied} times ({other} other outcomes)"
                ));
            }
        }
    }
    // I5 against the model: the same state as one delivery of each, in script order.
    let once: Vec<usize> = (0..script.actions.len()).collect();
    let want = model::expected(script, &once);
    let got = model::observe(&*store, &ns, script).await;
    if got != want {
        violations.push(format!(
            "I5: {ns} deliveries {deliveries:?} gave {got:?}, expected {want:?}"
        ));
    }
    violations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_delivered_one_to_five_times_in_any_interleaving_has_exactly_one_effect() {
    let script = script();
    let memory_runs = 10_000 * scorecard::scale();
    let dynamo_runs = 160 * scorecard::scale();
    let mut violations: Vec<String> = Vec::new();

    for n in 0..memory_runs {
        let mut rng = Rng::new(n);
        let deliveries = schedule(&mut rng, script.actions.len());
        let store = Arc::new(MemoryStore::new());
        violations.extend(play(store, format!("m{n}"), &script, &deliveries, n % 2 == 1).await);
    }

    let store = Arc::new(support::spawn_store("r01").await);
    let before = audit::dynamo(&store).await.0;
    let results: Vec<Vec<String>> = futures::stream::iter(0..dynamo_runs)
        .map(|n| {
            let (store, script) = (Arc::clone(&store), script.clone());
            async move {
                let mut rng = Rng::new(1_000_000 + n);
                let deliveries = schedule(&mut rng, script.actions.len());
                play(store, support::ns("d", n), &script, &deliveries, n % 2 == 1).await
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    violations.extend(results.into_iter().flatten());
    let (after, table) = audit::dynamo(&store).await;
    violations.extend(table);
    violations.extend(audit::monotonic(&before, &after));

    let tried = memory_runs + dynamo_runs;
    let detail = format!(
        "memory {memory_runs}, dynamodb {dynamo_runs}; 1–5 copies per event, half concurrent"
    );
    scorecard::finish("R01 duplicates", tried, &violations, &detail);
}
