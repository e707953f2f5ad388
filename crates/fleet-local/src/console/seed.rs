//! The console's first look at the table: a bounded scan for the placements and ACTIVE sessions that
//! existed before it started following the stream (a `--persist` directory, a shared DynamoDB).
//!
//! A scan is fine here and nowhere else: it runs once, when a developer opens the console of a local
//! stack, never on a request path.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Value};

use super::live::plain_from_sdk;

/// Most pages read (1 MB each at most).
const MAX_PAGES: usize = 25;
/// Most items kept from the scan.
const MAX_ITEMS: usize = 25_000;

/// An item found by the scan: `pk`, `sk` and its attributes as plain JSON.
pub type ScannedItem = (String, String, Map<String, Value>);

/// Placements and ACTIVE sessions of `table`, oldest first (by `createdAt`), so that applying them in
/// order keeps the most recent ones when the console's lists are full.
pub async fn scan(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<ScannedItem>, String> {
    let mut items: Vec<ScannedItem> = Vec::new();
    let mut start = None;
    for _ in 0..MAX_PAGES {
        let page = client
            .scan()
            .table_name(table)
            .filter_expression("#k = :placement OR (#k = :session AND #st = :active)")
            .expression_attribute_names("#k", "kind")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":placement", AttributeValue::S("placement".into()))
            .expression_attribute_values(":session", AttributeValue::S("session".into()))
            .expression_attribute_values(":active", AttributeValue::S("ACTIVE".into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string())?;
        for item in page.items() {
            let key = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            let plain: Map<String, Value> = item
                .iter()
                .map(|(k, v)| (k.clone(), plain_from_sdk(v)))
                .collect();
            items.push((key("pk"), key("sk"), plain));
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() || items.len() >= MAX_ITEMS {
            break;
        }
    }
    // RFC 3339 with fixed-width milliseconds sorts as time does.
    items.sort_by(|a, b| {
        let created = |m: &Map<String, Value>| {
            m.get("createdAt")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        created(&a.2).cmp(&created(&b.2))
    });
    items.truncate(MAX_ITEMS);
    Ok(items)
}
