//! The store's `get_session` against a raw SDK `GetItem` of the same item, on the same DynamoDB Local,
//! in the same run: the ratio is the cost of our layer (item decoding, the session state machine).
//!
//! Run with `scripts/with-dynamodb.sh cargo bench -p fleet-aws --bench store_get` (it starts DynamoDB
//! Local and exports `FLEETLIFT_TEST_DYNAMODB`). Target: ratio ≤ 1.1.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use fleet_aws::dynamo::{DynamoStore, codec, create_table, local_client};
use fleet_core::ids::{FleetId, GameSessionArn, Region};
use fleet_core::index;
use fleet_core::input::GameProperties;
use fleet_core::model::{Session, SessionStatus};
use fleet_core::ports::SessionStore;
use fleet_core::time::Timestamp;

fn session() -> Session {
    let arn = GameSessionArn::parse("arn:aws:gamelift:us-east-1::gamesession/fleet-bench/gsess-1")
        .expect("arn");
    Session {
        id: arn.session_id(),
        arn,
        status: SessionStatus::Active,
        region: Region::parse("us-east-1").expect("region"),
        fleet_id: FleetId::parse("fleet-bench").expect("fleet"),
        name: Some("bench lobby".into()),
        data: Some("x".repeat(512)),
        properties: GameProperties::parse(BTreeMap::from([
            ("mode".into(), "ranked".into()),
            ("map".into(), "dust".into()),
        ]))
        .expect("props"),
        player_count: 3,
        max_players: 10,
        reserved_seats: 0,
        open_slots: 7,
        joinable: true,
        protected: false,
        ip_address: "10.0.0.1".into(),
        dns_name: "ec2-10-0-0-1.compute-1.amazonaws.com".into(),
        port: 7777,
        created_at: Timestamp::from_millis(1_795_564_800_000),
        updated_at: Timestamp::from_millis(1_795_564_800_000),
    }
}

struct Setup {
    rt: tokio::runtime::Runtime,
    store: DynamoStore,
    session: Session,
}

fn setup() -> Setup {
    let url = std::env::var("FLEETLIFT_TEST_DYNAMODB")
        .expect("FLEETLIFT_TEST_DYNAMODB: run through scripts/with-dynamodb.sh, which starts DynamoDB Local");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = local_client(&url);
    let table = format!("bench-{}", std::process::id());
    rt.block_on(create_table(&client, &table)).expect("table");
    let store = DynamoStore::new(client, table, b"bench".to_vec());
    let s = session();
    rt.block_on(store.seed_sessions(std::slice::from_ref(&s)))
        .expect("seed");
    Setup {
        rt,
        store,
        session: s,
    }
}

fn get_vs_raw(c: &mut Criterion) {
    let Setup { rt, store, session } = setup();
    let key = codec::session_key(&session.id, index::SESSION_SK);
    // The same GetItem the store sends for a session, by hand.
    let raw_get = || {
        store
            .client()
            .get_item()
            .table_name(store.table())
            .set_key(Some(key.clone()))
            .consistent_read(true)
            .send()
    };
    let mut group = c.benchmark_group("get");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("raw GetItem", |b| {
        b.to_async(&rt)
            .iter(|| async { raw_get().await.expect("get") });
    });
    group.bench_function("store get_session", |b| {
        b.to_async(&rt).iter(|| async {
            store
                .get_session(&session.id)
                .await
                .expect("get")
                .expect("exists")
        });
    });
    group.finish();

    // Criterion reports each on its own; the figure that matters is their ratio, measured here the same
    // way, interleaved, so machine noise hits both alike.
    let (mut raw, mut ours) = (Vec::new(), Vec::new());
    for _ in 0..400 {
        let t = Instant::now();
        rt.block_on(raw_get()).expect("get");
        raw.push(t.elapsed());
        let t = Instant::now();
        rt.block_on(store.get_session(&session.id)).expect("get");
        ours.push(t.elapsed());
    }
    raw.sort();
    ours.sort();
    let p50 = |v: &[Duration]| v[v.len() / 2];
    let ratio = p50(&ours).as_secs_f64() / p50(&raw).as_secs_f64();
    println!(
        "store get p50 {:?} vs raw GetItem p50 {:?}: ratio {ratio:.3} (target <= 1.1)",
        p50(&ours),
        p50(&raw)
    );
}

criterion_group!(benches, get_vs_raw);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
