//! What the deployment template says that the model needs: the sweeper's schedule, budget and timeout,
//! and the table's indexes (every one must appear in the model's output).

use serde_yaml_ng::Value;

/// The deployment's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Deployment {
    /// `Parameters.SweeperSchedule.Default`.
    pub sweeper_schedule: String,
    /// `Parameters.SweepBudget.Default`.
    pub sweep_budget: u32,
    /// The sweeper function's timeout in seconds (its own, or the `Globals` one).
    pub sweeper_timeout_secs: f64,
    /// `Resources.Table.Properties.GlobalSecondaryIndexes[].IndexName`.
    pub indexes: Vec<String>,
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(*k))
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Reads the figures from template.yaml's text.
pub fn read(text: &str) -> Result<Deployment, String> {
    let doc: Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("template.yaml: not YAML: {e}"))?;
    let sweeper_schedule = get(&doc, &["Parameters", "SweeperSchedule", "Default"])
        .and_then(Value::as_str)
        .ok_or("template.yaml: no Parameters.SweeperSchedule.Default")?
        .to_owned();
    let sweep_budget = get(&doc, &["Parameters", "SweepBudget", "Default"])
        .and_then(number)
        .filter(|n| *n >= 1.0 && n.fract() == 0.0 && *n <= f64::from(u32::MAX))
        .ok_or("template.yaml: no whole Parameters.SweepBudget.Default")?
        as u32;
    let sweeper_timeout_secs = get(
        &doc,
        &["Resources", "SweeperFunction", "Properties", "Timeout"],
    )
    .or_else(|| get(&doc, &["Globals", "Function", "Timeout"]))
    .and_then(number)
    .ok_or("template.yaml: no timeout for SweeperFunction")?;
    let indexes = get(
        &doc,
        &["Resources", "Table", "Properties", "GlobalSecondaryIndexes"],
    )
    .and_then(Value::as_sequence)
    .ok_or("template.yaml: no Resources.Table.Properties.GlobalSecondaryIndexes")?
    .iter()
    .filter_map(|ix| {
        ix.get("IndexName")
            .and_then(Value::as_str)
            .map(str::to_owned)
    })
    .collect();
    Ok(Deployment {
        sweeper_schedule,
        sweep_budget,
        sweeper_timeout_secs,
        indexes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repositorys_template_is_read() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../template.yaml");
        let text = std::fs::read_to_string(path).expect("template.yaml");
        let d = read(&text).expect("readable");
        assert!(d.sweeper_schedule.starts_with("rate("), "{d:?}");
        assert!(d.sweep_budget >= 1 && d.sweeper_timeout_secs > 0.0, "{d:?}");
        let mut from_template = d.indexes.clone();
        from_template.sort();
        let mut from_code: Vec<String> = fleet_core::index::ALL_INDEXES
            .iter()
            .map(|i| i.name.to_owned())
            .collect();
        from_code.sort();
        assert_eq!(from_template, from_code);
    }

    #[test]
    fn a_template_without_the_sweeper_is_a_clear_error() {
        let e = read("Parameters: {}\n").expect_err("incomplete");
        assert!(e.contains("SweeperSchedule"), "{e}");
    }
}
