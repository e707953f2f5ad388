//! Structured JSON logs (`tracing`) and CloudWatch Embedded Metric Format: a metric is a JSON log line
//! CloudWatch turns into a metric, so the dashboard needs no PutMetricData call (and no IAM for it).

use std::collections::BTreeMap;
use std::sync::OnceLock;

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

    /// Writes the EMF line to the [EMF sink](set_emf_sink) (stdout, where the Lambda runtime ships it to
    /// CloudWatch Logs, unless the process chose another).
    pub fn flush(&mut self, timestamp_ms: i64) {
        if let Some(doc) = self.to_emf(timestamp_ms) {
            emit_emf(&doc);
        }
        self.values.clear();
    }
}

/// Where EMF lines go when a process has chosen; unset means stdout.
type EmfSink = Box<dyn Fn(&str) + Send + Sync>;
static EMF_SINK: OnceLock<EmfSink> = OnceLock::new();

/// Sends every EMF line of this process to `sink` instead of stdout. A Lambda never calls this (CloudWatch
/// reads stdout); the local stack does, so that metrics do not drown the terminal. Only the first call
/// takes effect, so a line never goes to two places; it returns whether this call was that first one.
pub fn set_emf_sink(sink: impl Fn(&str) + Send + Sync + 'static) -> bool {
    EMF_SINK.set(Box::new(sink)).is_ok()
}

/// Writes one EMF document as one line to the sink (stdout unless [`set_emf_sink`] chose another).
pub fn emit_emf(doc: &Value) {
    match EMF_SINK.get() {
        Some(sink) => sink(&doc.to_string()),
        None => println!("{doc}"),
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
    fn flushed_lines_go_to_the_sink_the_process_chose_and_only_the_first_choice_counts() {
        static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        assert!(set_emf_sink(|line| SEEN
            .lock()
            .unwrap()
            .push(line.to_owned())));
        assert!(
            !set_emf_sink(|_| panic!("a second sink must never receive a line")),
            "the first sink stays"
        );
        let mut m = Metrics::new("sink-test");
        m.count("Flushed", 1);
        m.flush(42);
        let seen = SEEN.lock().unwrap().clone();
        // Other tests of this process may flush too: find this one's line.
        let line = seen
            .iter()
            .find(|l| l.contains("\"sink-test\""))
            .expect("the line reached the sink");
        let doc: Value = serde_json::from_str(line).unwrap();
        assert_eq!(doc["Flushed"], 1.0);
        assert_eq!(doc["_aws"]["Timestamp"], 42);
        assert!(!line.contains('\n'), "one line per document");
        assert!(m.get("Flushed").is_none(), "flushing empties the batch");
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
