//! Structured JSON logs (`tracing`) and CloudWatch Embedded Metric Format: a metric is a JSON log line
//! CloudWatch turns into a metric, so the dashboard needs no PutMetricData call (and no IAM for it).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde_json::{Value, json};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the JSON log subscriber once per container: `RUST_LOG` filters (see [`log_filter`]).
pub fn init_logs() {
    let (filter, refused) = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    // A second init (tests, or a binary that also embeds another) is harmless: keep the first.
    if tracing_subscriber::fmt()
        .json()
        .with_current_span(true)
        .without_time()
        .finish()
        .with(filter)
        .try_init()
        .is_err()
    {
        tracing::debug!("log subscriber already installed");
    }
    if let Some(why) = refused {
        tracing::warn!("RUST_LOG ignored, logging at info: {why}");
    }
}

/// The log filter of a `RUST_LOG` value: a comma-separated list of `target=level` directives and an
/// optional bare default level (`info`, `debug`, `warn,fleet_functions=debug`); unset or blank means
/// `info`. Span and field filters (`target[span{field=value}]=level`) are refused: that syntax needs
/// tracing-subscriber's `EnvFilter`, whose regex engine and Unicode tables were a quarter of every
/// function binary's start-up relocations, for a feature a Lambda's logs do not use. A refused value
/// falls back to `info` and says why (the caller logs it once the subscriber is up).
pub fn log_filter(value: Option<&str>) -> (Targets, Option<String>) {
    let info = || Targets::new().with_default(tracing::Level::INFO);
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => (info(), None),
        Some(v) => match v.parse::<Targets>() {
            Ok(filter) => (filter, None),
            Err(e) => (
                info(),
                Some(format!(
                    "{v:?} is not a list of target=level directives ({e})"
                )),
            ),
        },
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
    fn rust_log_sets_a_default_level_and_per_target_levels() {
        use tracing::Level;
        let (unset, refused) = log_filter(None);
        assert!(refused.is_none());
        assert!(unset.would_enable("fleet_functions::api", &Level::INFO));
        assert!(!unset.would_enable("fleet_functions::api", &Level::DEBUG));
        assert!(log_filter(Some("  ")).0.would_enable("any", &Level::INFO));

        let (filter, refused) = log_filter(Some("warn,fleet_functions=debug"));
        assert!(refused.is_none());
        assert!(filter.would_enable("fleet_functions::sweeper", &Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(filter.would_enable("aws_smithy_runtime", &Level::WARN));

        let (only, _) = log_filter(Some("fleet_functions=debug"));
        assert!(
            !only.would_enable("hyper", &Level::ERROR),
            "without a bare level, other targets are off, as EnvFilter had it"
        );
    }

    #[test]
    fn a_span_filter_is_refused_with_its_reason_and_logging_stays_at_info() {
        use tracing::Level;
        let (filter, refused) = log_filter(Some("fleet_functions[list{shard=3}]=trace"));
        let why = refused.expect("span filters need EnvFilter");
        assert!(
            why.contains("fleet_functions[list{shard=3}]=trace"),
            "{why}"
        );
        assert!(filter.would_enable("fleet_functions", &Level::INFO));
        assert!(!filter.would_enable("fleet_functions", &Level::TRACE));
    }

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
