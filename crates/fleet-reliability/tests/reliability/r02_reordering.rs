//! R02 reordering (I3, I5): every permutation of every hazard script, and random scripts in random
//! orders, against the reference model. A script whose placements each get one kind of outcome must
//! leave the same state in every order; one with conflicting outcomes (a cancel after a fulfilment)
//! must leave what the first delivered outcome says.

use std::sync::Arc;

use fleet_core::fakes::MemoryStore;
use fleet_reliability::fixtures::{Rng, permutations};
use fleet_reliability::model::{self, Action, Script};
use fleet_reliability::{audit, scorecard};
use futures::StreamExt as _;

use crate::support;

/// A random script: 1–3 placements, their outcomes (sometimes a conflicting second one), reports
/// with distinct times and counts up to 10 (above the cap of 8), and sometimes a delete.
pub fn random_script(rng: &mut Rng) -> Script {
    let mut actions = Vec::new();
    let placements: Vec<String> = (0..1 + rng.below(3)).map(|i| format!("p{i}")).collect();
    let mut times: Vec<i64> = (11..=50).collect();
    rng.shuffle(&mut times);
    let mut next_time = times.into_iter();
    // A random unfulfilled outcome of `p`, ended 1–9 s in.
    let unfulfilled = |rng: &mut Rng, p: &String| {
        let kinds = ["PlacementTimedOut", "PlacementCancelled", "PlacementFailed"];
        Action::Unfulfilled {
            placement: p.clone(),
            kind: kinds[rng.below(3) as usize],
            end_s: 1 + rng.below(9) as i64,
        }
    };
    for (i, p) in placements.iter().enumerate() {
        let session = i as u32 + 1;
        if rng.below(4) == 0 {
            actions.push(unfulfilled(rng, p));
            continue;
        }
        let players: Vec<String> = ["ann", "bob", "cy"]
            .iter()
            .filter(|_| rng.below(2) == 0)
            .map(|s| (*s).to_owned())
            .collect();
        actions.push(Action::Fulfilled {
            placement: p.clone(),
            session,
            players,
            end_s: 1 + rng.below(9) as i64,
        });
        if rng.below(5) == 0 {
            actions.push(unfulfilled(rng, p));
        }
        for _ in 0..rng.below(3) {
            if let Some(at_s) = next_time.next() {
                actions.push(Action::Report {
                    session,
                    count: rng.below(11) as u32,
                    at_s,
                });
            }
        }
        if rng.below(4) == 0 {
            actions.push(Action::Delete {
                session,
                at_s: 1 + rng.below(50) as i64,
            });
        }
    }
    Script {
        name: "random".into(),
        placements,
        actions,
    }
}

/// Plays `order` of `script` on `store` and compares with the model; returns the violations.
async fn check<S>(store: &S, ns: &str, script: &Script, order: &[usize]) -> Vec<String>
where
    S: fleet_core::ports::SessionStore + model::Seats,
{
    model::setup(store, ns, script).await;
    for (k, &i) in order.iter().enumerate() {
        model::deliver(store, ns, &script.actions[i], &format!("m-{k}")).await;
    }
    let got = model::observe(store, ns, script).await;
    let mut out = Vec::new();
    let want = model::expected(script, order);
    if got != want {
        out.push(format!(
            "model: {} [{ns}] order {order:?}\n got {got:?}\nwant {want:?}",
            script.name
        ));
    }
    if model::order_free(script) {
        let identity: Vec<usize> = (0..script.actions.len()).collect();
        let canonical = model::expected(script, &identity);
        if got != canonical {
            out.push(format!(
                "I5: {} [{ns}] order {order:?} differs from script order",
                script.name
            ));
        }
    }
    out
}

/// Every (script, order) of the run: all permutations of the hazard scripts, then `random` random ones.
fn schedules(random: u64, seed: u64) -> Vec<(Script, Vec<usize>)> {
    let mut out = Vec::new();
    for script in model::hazard_scripts() {
        for order in permutations(script.actions.len()) {
            out.push((script.clone(), order));
        }
    }
    for n in 0..random {
        let mut rng = Rng::new(seed + n);
        let script = random_script(&mut rng);
        let mut order: Vec<usize> = (0..script.actions.len()).collect();
        rng.shuffle(&mut order);
        out.push((script, order));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_of_events_reports_and_deletes_converges_to_the_reference_model() {
    let mut violations = Vec::new();
    let memory = schedules(5_000 * scorecard::scale(), 7);
    for (n, (script, order)) in memory.iter().enumerate() {
        let store = MemoryStore::new();
        violations.extend(check(&store, &format!("m{n}"), script, order).await);
    }

    let dynamo = schedules(60 * scorecard::scale(), 9_000_000);
    let store = Arc::new(support::spawn_store("r02").await);
    let results: Vec<Vec<String>> = futures::stream::iter(dynamo.iter().enumerate())
        .map(|(n, (script, order))| {
            let store = Arc::clone(&store);
            async move { check(&*store, &support::ns("d", n as u64), script, order).await }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    violations.extend(results.into_iter().flatten());
    violations.extend(audit::dynamo(&store).await.1);

    let detail = format!(
        "memory {}, dynamodb {}; all permutations of 7 hazard scripts + random schedules vs the reference model",
        memory.len(),
        dynamo.len()
    );
    scorecard::finish(
        "R02 reordering",
        (memory.len() + dynamo.len()) as u64,
        &violations,
        &detail,
    );
}
