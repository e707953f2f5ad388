//! Query parse and plan time for typical list queries (`cargo bench -p fleet-core --bench query_parse`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use fleet_core::query::{Sort, parse, plan};

/// Typical queries: nakama-gamelift's README example, a joinable-in-region search, a name prefix, a
/// property exclusion, and a longer mixed query.
const QUERIES: [(&str, &str); 5] = [
    ("player_count", "+value.player_count:2"),
    ("region_open", "+region:us-east-1 +openSlots:>=1"),
    ("name_prefix", "+value.metadata.GameSessionName:lobby*"),
    ("not_ranked", "-properties.mode:ranked"),
    (
        "mixed",
        "+fleetId:fleet-1a2b +openSlots:>=2 +createdAt:>=\"2025-11-25T00:00:00Z\" region:us-east-1 region:us-west-2 -name:\"test lobby\"",
    ),
];

fn bench(c: &mut Criterion) {
    let mut parse_group = c.benchmark_group("query_parse");
    for (label, text) in QUERIES {
        parse_group.bench_function(label, |b| b.iter(|| parse(black_box(text))));
    }
    parse_group.finish();

    let mut plan_group = c.benchmark_group("query_plan");
    for (label, text) in QUERIES {
        let Ok(q) = parse(text) else { continue };
        if plan(&q, Sort::CreatedDesc).is_err() {
            continue;
        }
        plan_group.bench_function(label, |b| {
            b.iter(|| plan(black_box(&q), black_box(Sort::CreatedDesc)))
        });
    }
    plan_group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
