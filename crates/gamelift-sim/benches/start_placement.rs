//! StartGameSessionPlacement requests per second through aws-sdk-gamelift (RPC v2 CBOR over
//! loopback HTTP) against an in-process simulator with throttling off.
//!
//! `cargo bench -p gamelift-sim` prints the throughput in elements (requests) per second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_gamelift::Client;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gamelift_sim::model::DEFAULT_QUEUE;

#[path = "../tests/sim/setup.rs"]
mod setup;

static NEXT: AtomicU64 = AtomicU64::new(0);

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (client, _server) = rt.block_on(async {
        // A manual clock that never moves: placements stay PENDING, so only the request path is measured.
        let sim = setup::sim_builder(setup::quiet_model()).build();
        let server = sim.serve("127.0.0.1:0").await.expect("serve");
        (setup::client_in(&server.endpoint(), "us-east-1"), server)
    });
    let start = |client: Client| async move {
        let id = format!("bench-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        client
            .start_game_session_placement()
            .placement_id(id)
            .game_session_queue_name(DEFAULT_QUEUE)
            .maximum_player_session_count(8)
            .send()
            .await
            .expect("placement");
    };

    let mut group = c.benchmark_group("StartGameSessionPlacement");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    group.bench_function("sequential", |b| {
        b.iter(|| rt.block_on(start(client.clone())))
    });
    const CONCURRENCY: u64 = 32;
    group.throughput(Throughput::Elements(CONCURRENCY));
    group.bench_function("32 concurrent", |b| {
        b.iter(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..CONCURRENCY)
                    .map(|_| tokio::spawn(start(client.clone())))
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
