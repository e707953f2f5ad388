//! A table written before the shards keeps working: the sweeper's walk gives old sessions their count
//! shard, and its seat and overdue-placement queries still find items under the unsharded values.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::DynamoStore;
use fleet_core::index::{self, PK, SK};
use fleet_core::model::Session;
use fleet_core::ports::{SessionStore, SweepStore};
use fleet_core::query::{self, Sort};

use crate::steps::{fulfilled_session, join};
use crate::support::*;

/// Every session a walk of `sort` over `text` lists, by id.
async fn listed(store: &impl SessionStore, text: &str, sort: Sort) -> HashSet<String> {
    let query = query::parse(text).expect("a valid query");
    let pages = pages(store, &query, sort, 50).await.expect("every page");
    pages
        .iter()
        .flat_map(|p| p.sessions.iter().map(|s| s.id.to_string()))
        .collect()
}

/// Rewrites the item at (`pk`, `sk`) as the previous version wrote it: `update` with `#a` naming
/// `attribute` and, when given, `:v` the value.
async fn as_before(
    store: &DynamoStore,
    (pk, sk): (String, String),
    update: &str,
    attribute: &str,
    value: Option<&str>,
) {
    store
        .client()
        .update_item()
        .table_name(store.table())
        .key(PK, AttributeValue::S(pk))
        .key(SK, AttributeValue::S(sk))
        .update_expression(update)
        .expression_attribute_names("#a", attribute)
        .set_expression_attribute_values(
            value.map(|v| [(":v".to_owned(), AttributeValue::S(v.to_owned()))].into()),
        )
        .send()
        .await
        .expect("the old item shape");
}

/// Makes session items look as the previous version wrote them: no count shard.
async fn unshard(store: &DynamoStore, sessions: &[Session]) {
    for s in sessions {
        let key = (index::session_pk(&s.id), index::SESSION_SK.to_owned());
        as_before(store, key, "REMOVE #a", index::BY_PLAYERS.pk, None).await;
    }
}

#[tokio::test]
async fn one_sweeper_walk_puts_sessions_written_before_the_shards_into_the_count_orders() {
    let store = spawn_store().await;
    let sessions: Vec<Session> = (0..40u32)
        .map(|n| {
            session(
                n,
                "us-east-1",
                "fleet-a",
                n % 5,
                8,
                None,
                None,
                T0.plus_secs(i64::from(n)),
            )
        })
        .collect();
    store.seed_sessions(&sessions).await.unwrap();
    let (old, new) = sessions.split_at(25);
    unshard(&store, old).await;
    let all: HashSet<String> = sessions.iter().map(|s| s.id.to_string()).collect();
    let new_ids: HashSet<String> = new.iter().map(|s| s.id.to_string()).collect();

    // Before the walk: the created orders list everything, the count orders only the new items.
    assert_eq!(listed(&store, "*", Sort::CreatedDesc).await, all);
    assert_eq!(listed(&store, "*", Sort::PlayersDesc).await, new_ids);

    let mut after = None;
    loop {
        let page = store.oldest_sessions(7, after.as_deref()).await.unwrap();
        assert!(page.sessions.len() <= 7);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }

    for sort in [
        Sort::PlayersDesc,
        Sort::PlayersAsc,
        Sort::OpenDesc,
        Sort::OpenAsc,
    ] {
        assert_eq!(listed(&store, "*", sort).await, all, "{sort:?}");
    }
    assert_eq!(
        listed(&store, "+playerCount:3", Sort::CreatedDesc)
            .await
            .len(),
        8
    );
}

#[tokio::test]
async fn seats_reserved_under_the_unsharded_value_are_still_found_when_they_lapse() {
    let store = spawn_store().await;
    fulfilled_session(&store, "p-mig-1", 8, &["a"], 1, T0.plus_secs(3600)).await;
    fulfilled_session(&store, "p-mig-2", 8, &["b"], 2, T0.plus_secs(3600)).await;
    let (one, two) = (arn(1).session_id(), arn(2).session_id());
    join(&store, &one, &["late-1"], T0).await.expect("seated");
    join(&store, &two, &["late-2"], T0).await.expect("seated");
    // Session 1's new seat as the previous version wrote it: in the one RESERVED partition.
    let key = (index::session_pk(&one), index::seat_sk(&player("late-1")));
    let (attribute, old) = (index::SEATS_BY_EXPIRY.pk, Some("RESERVED"));
    as_before(&store, key, "SET #a = :v", attribute, old).await;

    let due = store
        .due_seat_sessions(T0.plus_secs(120), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().collect::<HashSet<_>>(),
        [&one, &two].into_iter().collect(),
        "both lapsed joins are due, the old-shaped one too"
    );
    assert_eq!(
        store.expire_seats(&one, T0.plus_secs(120)).await.unwrap(),
        1
    );
    let left = store
        .due_seat_sessions(T0.plus_secs(120), 10)
        .await
        .unwrap();
    assert_eq!(left, vec![two]);
}

#[tokio::test]
async fn placements_created_under_the_unsharded_value_are_still_found_when_overdue() {
    let store = spawn_store().await;
    let mut placements: Vec<_> = (0..12)
        .map(|i| {
            let mut p = placement(&format!("p-due-{i:02}"), 4, &[]);
            // Deadlines 1..12 s after T0, in an order the shards do not follow.
            p.deadline = T0.plus_secs(1 + (i * 7) % 12);
            p
        })
        .collect();
    for p in &placements {
        store.create_placement(p, None).await.expect("create");
    }
    // Created now, they are spread over the shards.
    let mut shards = HashSet::new();
    for p in &placements {
        let item = store
            .client()
            .get_item()
            .table_name(store.table())
            .key(PK, AttributeValue::S(index::placement_pk(&p.placement_id)))
            .key(SK, AttributeValue::S(index::PLACEMENT_SK.to_owned()))
            .send()
            .await
            .expect("get")
            .item
            .expect("the placement item");
        let shard = item[index::PENDING_BY_DEADLINE.pk]
            .as_s()
            .expect("a string");
        assert_eq!(*shard, index::pending_partition(&p.placement_id));
        shards.insert(shard.clone());
    }
    assert!(shards.len() > 1, "12 placements in one shard: {shards:?}");
    // The first one as the previous version wrote it: in the one PENDING partition.
    let key = (
        index::placement_pk(&placements[0].placement_id),
        index::PLACEMENT_SK.to_owned(),
    );
    let (attribute, old) = (index::PENDING_BY_DEADLINE.pk, Some("PENDING"));
    as_before(&store, key, "SET #a = :v", attribute, old).await;
    placements.sort_by_key(|p| p.deadline);
    let by_deadline: Vec<_> = placements.iter().map(|p| p.placement_id.clone()).collect();

    let all = store.due_placements(T0.plus_secs(60), 100).await.unwrap();
    let earliest = store.due_placements(T0.plus_secs(60), 5).await.unwrap();
    let by_six = store.due_placements(T0.plus_secs(6), 100).await.unwrap();

    assert_eq!(
        all, by_deadline,
        "every shard and the old partition, earliest first"
    );
    assert_eq!(
        earliest,
        by_deadline[..5],
        "the earliest five over all of them"
    );
    assert_eq!(by_six, by_deadline[..6], "only those past their deadline");
}
