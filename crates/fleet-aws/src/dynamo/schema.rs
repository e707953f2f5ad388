//! The table definition, built from `fleet_core::index`: the single source that tests, the local stack
//! and the deployment template come from (or are checked against).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use fleet_core::index::{self, ALL_INDEXES, IndexDef, PK, SK, TTL};

use crate::dynamo::error::{StoreResult, map_sdk};

/// Everything about the table except its name, as plain data (so the SAM template can be checked
/// against it without an AWS client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    /// Partition key attribute (string).
    pub pk: &'static str,
    /// Sort key attribute (string).
    pub sk: &'static str,
    /// Global secondary indexes, all string keys, projection ALL.
    pub indexes: Vec<IndexDef>,
    /// TTL attribute.
    pub ttl: &'static str,
    /// Stream view type (`NEW_AND_OLD_IMAGES`: the notifier compares old and new placement status).
    pub stream: &'static str,
    /// Billing (`PAY_PER_REQUEST`: idle costs nothing).
    pub billing: &'static str,
}

/// The table's specification.
pub fn table_spec() -> TableSpec {
    TableSpec {
        pk: PK,
        sk: SK,
        indexes: ALL_INDEXES.to_vec(),
        ttl: TTL,
        stream: "NEW_AND_OLD_IMAGES",
        billing: "PAY_PER_REQUEST",
    }
}

impl TableSpec {
    /// Every attribute used in a key of the table or an index (each defined once, as a string).
    pub fn key_attributes(&self) -> Vec<&'static str> {
        let mut attrs = vec![self.pk, self.sk];
        for ix in &self.indexes {
            for a in [ix.pk, ix.sk] {
                if !attrs.contains(&a) {
                    attrs.push(a);
                }
            }
        }
        attrs
    }
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .expect("attribute name and key type are set")
}

/// Creates the table `name` with its indexes, stream and TTL, and waits until it is ACTIVE.
pub async fn create_table(client: &Client, name: &str) -> StoreResult<()> {
    let spec = table_spec();
    let mut req = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(spec.pk, KeyType::Hash))
        .key_schema(key(spec.sk, KeyType::Range))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("stream_enabled is set"),
        );
    for attr in spec.key_attributes() {
        req = req.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set"),
        );
    }
    for ix in &spec.indexes {
        req = req.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(ix.name)
                .key_schema(key(ix.pk, KeyType::Hash))
                .key_schema(key(ix.sk, KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(match ix.projection {
                            index::Projection::All => ProjectionType::All,
                            index::Projection::KeysOnly => ProjectionType::KeysOnly,
                        })
                        .build(),
                )
                .build()
                .expect("name and key schema are set"),
        );
    }
    req.send().await.map_err(map_sdk)?;

    // DynamoDB creates asynchronously; writes before ACTIVE fail with ResourceNotFound.
    for attempt in 0..600u32 {
        let d = client
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(map_sdk)?;
        let active = d
            .table()
            .and_then(|t| t.table_status())
            .is_some_and(|s| s.as_str() == "ACTIVE");
        if active {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(if attempt < 20 {
            50
        } else {
            500
        }))
        .await;
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(spec.ttl)
                .enabled(true)
                .build()
                .expect("name and enabled are set"),
        )
        .send()
        .await
        .map_err(map_sdk)?;
    Ok(())
}
