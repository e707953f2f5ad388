//! The table DynamoDB Local holds is the one the single-source definition describes.

use fleet_aws::dynamo::table_spec;

use crate::support::*;

#[tokio::test]
async fn the_created_table_has_every_index_key_stream_and_ttl_of_the_definition() {
    let store = spawn_store().await;
    let spec = table_spec();
    let (client, table) = (store.client(), store.table());
    let d = client.describe_table().table_name(table).send().await;
    let d = d.unwrap();
    let t = d.table().unwrap();
    let keys: Vec<_> = t
        .key_schema()
        .iter()
        .map(|k| k.attribute_name().to_owned())
        .collect();
    assert_eq!(keys, vec![spec.pk, spec.sk]);
    let mut got: Vec<_> = t
        .global_secondary_indexes()
        .iter()
        .map(|g| {
            let ks: Vec<_> = g
                .key_schema()
                .iter()
                .map(|k| k.attribute_name().to_owned())
                .collect();
            (g.index_name().unwrap_or_default().to_owned(), ks)
        })
        .collect();
    got.sort();
    let mut want: Vec<_> = spec
        .indexes
        .iter()
        .map(|i| (i.name.to_owned(), vec![i.pk.to_owned(), i.sk.to_owned()]))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let stream = t.stream_specification().unwrap();
    assert_eq!(
        stream.stream_view_type().map(|v| v.as_str()),
        Some(spec.stream)
    );
    let ttl = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await;
    let ttl = ttl.unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        Some(spec.ttl)
    );
}
