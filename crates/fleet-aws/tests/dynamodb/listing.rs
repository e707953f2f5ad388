//! Listing on the real table: the planned DynamoDB Query returns what the evaluator says, in the same
//! order; cursors page without gaps or repeats, even while writes happen; tampered cursors are refused.

use std::collections::HashSet;

use fleet_core::index;
use fleet_core::model::Session;
use fleet_core::ports::{ListRequest, SessionStore, StoreError};
use fleet_core::query::{self, Query, Sort};
use fleet_core::time::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::support::*;

const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-south-1"];
const FLEETS: [&str; 3] = ["fleet-a", "fleet-b", "fleet-c"];
const NAMES: [Option<&str>; 4] = [None, Some("lobby"), Some("lobby-2"), Some("arena")];
const MODES: [Option<&str>; 3] = [None, Some("ranked"), Some("casual")];

fn arb_session(n: u32) -> impl Strategy<Value = Session> {
    (
        0..3usize,
        0..3usize,
        0u32..6,
        1u32..6,
        0..4usize,
        0..3usize,
        0i64..20,
    )
        .prop_map(move |(r, f, players, max, name, mode, t)| {
            session(
                n,
                REGIONS[r],
                FLEETS[f],
                players,
                max,
                NAMES[name],
                MODES[mode],
                T0.plus_secs(t * 60),
            )
        })
}

/// Session `n` of a bulk seeding: in region `n % 3`, on fleet `n % fleets`, with `n % players` of 8
/// players, created `n` seconds after `T0`.
fn spread(n: u32, fleets: u32, players: u32, name: Option<&str>, mode: Option<&str>) -> Session {
    let (region, fleet) = (REGIONS[(n % 3) as usize], FLEETS[(n % fleets) as usize]);
    let created = T0.plus_secs(i64::from(n));
    session(n, region, fleet, n % players, 8, name, mode, created)
}

/// Session `n` in us-east-1 on fleet-a, unnamed and without properties.
fn plain(n: u32, players: u32, max: u32, created: Timestamp) -> Session {
    session(n, "us-east-1", "fleet-a", players, max, None, None, created)
}

/// A request for the page of `query` at `cursor` (the first without one), newest first.
fn newest_first(query: &Query, limit: u32, cursor: Option<String>) -> ListRequest {
    ListRequest {
        query: query.clone(),
        sort: Sort::CreatedDesc,
        limit,
        cursor,
    }
}

fn arb_sessions() -> impl Strategy<Value = Vec<Session>> {
    (5usize..45).prop_flat_map(|len| (0..len as u32).map(arb_session).collect::<Vec<_>>())
}

fn arb_clause() -> impl Strategy<Value = String> {
    let prefix = prop_oneof![Just(""), Just("+"), Just("-")];
    let body = prop_oneof![
        (0..3usize).prop_map(|i| format!("region:{}", REGIONS[i])),
        (0..3usize).prop_map(|i| format!("fleetId:{}", FLEETS[i])),
        (0u32..6).prop_map(|n| format!("playerCount:{n}")),
        (0u32..6).prop_map(|n| format!("value.player_count:>={n}")),
        (0u32..6).prop_map(|n| format!("playerCount:<{n}")),
        (0u32..6).prop_map(|n| format!("openSlots:>={n}")),
        (0u32..6).prop_map(|n| format!("openSlots:{n}")),
        (1u32..6).prop_map(|n| format!("maxPlayers:<={n}")),
        Just("name:lobby".to_owned()),
        Just("name:lobby*".to_owned()),
        Just("value.metadata.GameSessionName:arena".to_owned()),
        Just("properties.mode:ranked".to_owned()),
        Just("value.metadata.GameProperties.mode:casual".to_owned()),
        (0i64..20).prop_map(|t| format!("createdAt:>={}", T0.plus_secs(t * 60).to_rfc3339())),
        (0i64..20)
            .prop_map(|t| format!("value.create_time:<{}", T0.plus_secs(t * 60).to_rfc3339())),
    ];
    (prefix, body).prop_map(|(p, b)| format!("{p}{b}"))
}

fn arb_query() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("*".to_owned()),
        prop::collection::vec(arb_clause(), 1..4).prop_map(|c| c.join(" "))
    ]
}

fn arb_sort() -> impl Strategy<Value = Sort> {
    prop_oneof![
        Just(Sort::CreatedDesc),
        Just(Sort::CreatedAsc),
        Just(Sort::PlayersAsc),
        Just(Sort::PlayersDesc),
        Just(Sort::OpenAsc),
        Just(Sort::OpenDesc)
    ]
}

/// Walks every page of a query; returns the sessions in order and the largest read amplification.
async fn walk(
    store: &impl SessionStore,
    text: &str,
    sort: Sort,
    limit: u32,
) -> Result<(Vec<Session>, f64), StoreError> {
    let q = query::parse(text).expect("generated queries parse");
    let pages = pages(store, &q, sort, limit).await?;
    let worst = pages
        .iter()
        .map(|p| p.read_amplification())
        .fold(1.0, f64::max);
    Ok((pages.into_iter().flat_map(|p| p.sessions).collect(), worst))
}

#[test]
fn the_planned_dynamodb_query_and_the_evaluator_return_the_same_sessions_in_the_same_order() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let case = (
        arb_sessions(),
        prop::collection::vec((arb_query(), arb_sort(), 1u32..8), 6),
    );
    let mut runner = TestRunner::new(Config {
        cases: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let matched = std::sync::atomic::AtomicUsize::new(0);
    let compared = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&case, |(sessions, queries)| {
            rt.block_on(async {
                let store = spawn_store().await;
                store.seed_sessions(&sessions).await.expect("seed");
                for (text, sort, limit) in queries {
                    let q = query::parse(&text).expect("parses");
                    let mut want: Vec<Session> =
                        sessions.iter().filter(|s| q.matches(s)).cloned().collect();
                    want.sort_by(|a, b| sort.compare(a, b));
                    let (got, _) = walk(&store, &text, sort, limit).await.expect("list");
                    let ids =
                        |v: &[Session]| v.iter().map(|s| s.id.to_string()).collect::<Vec<_>>();
                    prop_assert_eq!(
                        ids(&got),
                        ids(&want),
                        "query {:?} sort {:?} limit {}",
                        text,
                        sort,
                        limit
                    );
                    matched.fetch_add(got.len(), std::sync::atomic::Ordering::Relaxed);
                    compared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    prop_assert_eq!(got, want);
                }
                Ok(())
            })
        })
        .expect("DynamoDB and the evaluator agree");
    // The comparison means something only if queries do match sessions.
    let (matched, compared) = (matched.into_inner(), compared.into_inner());
    assert!(
        matched > compared,
        "{matched} sessions matched over {compared} queries"
    );
}

#[tokio::test]
async fn pages_are_disjoint_complete_and_stable_while_writes_happen() {
    let store = spawn_store().await;
    let sessions: Vec<Session> = (0..230)
        .map(|n| spread(n, 2, 5, Some("lobby"), None))
        .collect();
    store.seed_sessions(&sessions).await.unwrap();
    let q = query::parse("+region:us-east-1").unwrap();
    let expected: HashSet<String> = sessions
        .iter()
        .filter(|s| q.matches(s))
        .map(|s| s.id.to_string())
        .collect();

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    let mut extra = 1000;
    loop {
        let page = store
            .list_sessions(&newest_first(&q, 9, cursor.take()))
            .await
            .unwrap();
        seen.extend(page.sessions.iter().map(|s| s.id.to_string()));
        pages += 1;
        // Writes between pages: newer sessions appear, existing ones change player counts and end.
        extra += 1;
        let newer = plain(extra, 1, 8, T0.plus_secs(10_000 + i64::from(extra)));
        store.seed_sessions(&[newer]).await.unwrap();
        let Some(c) = page.next_cursor else { break };
        cursor = Some(c);
    }
    assert!(pages > 3, "walked {pages} pages");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no session twice");
    assert!(
        expected.is_subset(&unique),
        "every session that existed before the walk was listed"
    );
}

#[tokio::test]
async fn a_tampered_cursor_is_a_clear_error() {
    let store = spawn_store().await;
    let sessions: Vec<Session> = (0..12)
        .map(|n| plain(n, 0, 4, T0.plus_secs(i64::from(n))))
        .collect();
    store.seed_sessions(&sessions).await.unwrap();
    let q = query::parse("*").unwrap();
    let page = store
        .list_sessions(&newest_first(&q, 5, None))
        .await
        .unwrap();
    let good = page.next_cursor.expect("more pages");
    let mut bytes = good.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    for bad in [
        tampered,
        "garbage".to_owned(),
        String::new(),
        "x".repeat(5000),
    ] {
        let err = store
            .list_sessions(&newest_first(&q, 5, Some(bad.clone())))
            .await
            .expect_err("refused");
        match err {
            StoreError::Invalid(e) => assert_eq!(e.field, "cursor", "{bad:?}"),
            other => panic!("expected a cursor error for {bad:?}, got {other:?}"),
        }
    }
    // A cursor from one query does not resume another.
    let other = query::parse("+region:us-east-1").unwrap();
    let err = store
        .list_sessions(&newest_first(&other, 5, Some(good)))
        .await
        .expect_err("refused");
    assert!(matches!(err, StoreError::Invalid(ref e) if e.field == "cursor"));
}

#[tokio::test]
async fn typical_queries_read_at_most_twice_what_they_return() {
    let store = spawn_store().await;
    let sessions: Vec<Session> = (0..300)
        .map(|n| spread(n, 3, 6, NAMES[(n % 4) as usize], MODES[(n % 3) as usize]))
        .collect();
    store.seed_sessions(&sessions).await.unwrap();
    for (text, sort) in [
        ("*", Sort::CreatedDesc),
        ("+region:eu-west-1", Sort::CreatedDesc),
        ("+fleetId:fleet-b", Sort::CreatedDesc),
        ("+value.metadata.GameSessionName:lobby", Sort::CreatedDesc),
    ] {
        let (got, worst) = walk(&store, text, sort, 20).await.unwrap();
        assert!(!got.is_empty(), "{text}");
        assert!(worst <= 2.0, "{text}: read amplification {worst}");
    }
}

#[tokio::test]
async fn a_page_of_a_sharded_index_reads_at_most_two_items_a_shard_beyond_twice_the_page() {
    let store = spawn_store().await;
    let sessions: Vec<Session> = (0..300)
        .map(|n| spread(n, 3, 6, NAMES[(n % 4) as usize], MODES[(n % 3) as usize]))
        .collect();
    store.seed_sessions(&sessions).await.unwrap();
    let shards = index::COUNT_SHARDS as u64;
    for (text, sort) in [
        ("+value.player_count:2", Sort::CreatedDesc),
        ("+openSlots:>=3", Sort::OpenDesc),
        ("+playerCount:>=2", Sort::PlayersAsc),
        ("*", Sort::PlayersDesc),
    ] {
        let q = query::parse(text).unwrap();
        assert_eq!(
            query::plan(&q, sort).unwrap().index.shards,
            index::COUNT_SHARDS
        );
        let mut listed = Vec::new();
        for page in pages(&store, &q, sort, 20).await.unwrap() {
            let returned = page.sessions.len() as u64;
            listed.extend(page.sessions.iter().map(|s| s.id.to_string()));
            // Each shard is read ahead by at most two items (one Query each, all at once), and a
            // shard whose read-ahead runs out is read again only when its next item is needed.
            assert!(
                page.items_read <= 2 * returned + 2 * shards,
                "{text}: {} items read for {returned}",
                page.items_read
            );
        }
        let unique: HashSet<&String> = listed.iter().collect();
        assert_eq!(unique.len(), listed.len(), "{text}: no session twice");
        let expected: HashSet<String> = sessions
            .iter()
            .filter(|s| q.matches(s))
            .map(|s| s.id.to_string())
            .collect();
        assert_eq!(
            unique,
            expected.iter().collect(),
            "{text}: every session listed"
        );
    }
}
