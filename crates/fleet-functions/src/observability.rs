//! Structured JSON logs (`tracing`) and CloudWatch Embedded Metric Format: a metric is a JSON log line
//! CloudWatch turns into a metric, so the dashboard needs no PutMetricData call (and no IAM for it).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// Installs the JSON log subscriber once per container (`RUST_LOG` filters; default `info`).
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second init (tests, or a binary that also embeds another) is harmless: keep the first.
    if tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .without_time()
        .try_init()
        .is_err()
    {
        tracing::debug!("log subscriber already installed");
    }
}

/// CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "fleetlift";

/// A batch of counters for one invocation, written as one EMF line.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Metrics {
    function: &'static str,
    values: BTreeMap<&'static str, (f64, &'static str)>,
}

impl Metrics {
    /// Metrics of `function` (the `Function` dimension).
    pub fn new(function: &'static str) -> Self {
        Self {
            function,
            values: BTreeMap::new(),
        }
    }

    /// Adds `n` to a count.
    pub fn count(&mut self, name: &'static str, n: u64) {
        self.values.entry(name).or_insert((0.0, "Count")).0 += n as f64;
    }

    /// Records a duration in milliseconds (the last value wins within one line).
    pub fn millis(&mut self, name: &'static str, ms: f64) {
        self.values.insert(name, (ms, "Milliseconds"));
    }

    /// The value recorded under `name` (tests).
    pub fn get(&self, name: &str) -> Option<f64> {
        self.values.get(name).map(|v| v.0)
    }

    /// The EMF document, or `None` when nothing was recorded.
    pub fn to_emf(&self, timestamp_ms: i64) -> Option<Value> {
        if self.values.is_empty() {
            return None;
        }
        let defs: Vec<Value> = self
            .values
            .iter()
            .map(|(k, (_, unit))| json!({"Name": k, "Unit": unit}))
            .collect();
        let mut doc = json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [["Function"]], "Metrics": defs}],
            },
            "Function": self.function,
        });
        for (k, (v, _)) in &self.values {
            doc[*k] = json!(v);
        }
        Some(doc)
    }

    /// Prints the EMF line to stdout, where the Lambda runtime ships it to CloudWatch Logs.
    pub fn flush(&mut self, timestamp_ms: i64) {
        if let Some(doc) = self.to_emf(timestamp_ms) {
            println!("{doc}");
        }
        self.values.clear();
    }
}

/// One EMF line for a gauge with a second dimension (e.g. `OpenSlots` per `Region`): CloudWatch needs
/// a separate document per dimension value.
pub fn dimensioned_emf(
    function: &str,
    dimension: (&str, &str),
    name: &str,
    unit: &str,
    value: f64,
    timestamp_ms: i64,
) -> Value {
    let mut doc = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Function", dimension.0]],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        },
        "Function": function,
    });
    doc[dimension.0] = json!(dimension.1);
    doc[name] = json!(value);
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_declares_every_metric_it_carries() {
        let mut m = Metrics::new("placement-events");
        m.count("EventsApplied", 2);
        m.count("EventsApplied", 1);
        m.millis("TimeToFulfilment", 1250.0);
        let doc = m.to_emf(1_000).unwrap();
        assert_eq!(doc["EventsApplied"], 3.0);
        assert_eq!(doc["Function"], "placement-events");
        let names: Vec<_> = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["Name"].clone())
            .collect();
        assert_eq!(
            names,
            vec![json!("EventsApplied"), json!("TimeToFulfilment")]
        );
        assert!(Metrics::new("x").to_emf(0).is_none());
    }

    #[test]
    fn a_dimensioned_line_carries_both_dimensions_and_its_value() {
        let doc = dimensioned_emf(
            "sweeper",
            ("Region", "eu-west-1"),
            "OpenSlots",
            "Count",
            42.0,
            7,
        );
        assert_eq!(
            doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Function", "Region"]])
        );
        assert_eq!(
            (doc["Region"].clone(), doc["OpenSlots"].clone()),
            (json!("eu-west-1"), json!(42.0))
        );
    }
}
