//! Shared set-up: DynamoDB Local tables and stores.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use fleet_aws::dynamo::{DynamoStore, create_table, local_client};

/// The DynamoDB Local endpoint the test script exported.
pub fn endpoint() -> String {
    std::env::var("FLEETLIFT_TEST_DYNAMODB").unwrap_or_else(|_| {
        panic!("FLEETLIFT_TEST_DYNAMODB is not set: run with scripts/test.sh or scripts/with-dynamodb.sh, which start DynamoDB Local")
    })
}

/// A fresh table name.
pub fn table_name(tag: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "rel-{tag}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        uuid::Uuid::new_v4().simple()
    )
}

/// A store on a new, empty table.
pub async fn spawn_store(tag: &str) -> DynamoStore {
    let client = local_client(&endpoint());
    let table = table_name(tag);
    create_table(&client, &table).await.expect("create table");
    DynamoStore::new(client, table, b"reliability-cursor-secret".to_vec())
}

/// A store on a new table reached through `client` (e.g. one with faults installed).
pub async fn spawn_store_with(client: aws_sdk_dynamodb::Client, tag: &str) -> DynamoStore {
    let table = table_name(tag);
    create_table(&local_client(&endpoint()), &table)
        .await
        .expect("create table");
    DynamoStore::new(client, table, b"reliability-cursor-secret".to_vec())
}

/// A unique namespace for ids.
pub fn ns(tag: &str, n: u64) -> String {
    format!("{tag}{n}")
}
