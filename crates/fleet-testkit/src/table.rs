//! Reading a whole table back, for suites that audit what the store wrote: a consistent Scan through
//! the SDK's paginator. Test inspection only; no request path scans.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use fleet_aws::dynamo::DynamoStore;

/// Every item of `store`'s table.
///
/// # Panics
/// When DynamoDB refuses a page.
pub async fn scan(store: &DynamoStore) -> Vec<HashMap<String, AttributeValue>> {
    store
        .client()
        .scan()
        .table_name(store.table())
        .consistent_read(true)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap_or_else(|e| panic!("scan: {e:?}"))
}
