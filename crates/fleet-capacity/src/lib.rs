//! fleetlift's capacity model: what the table's partitions would carry at a target workload.
//!
//! DynamoDB Local has no partitions, so benchmarks on it cannot see the first wall a real deployment
//! hits: a partition key serves at most 1,000 WCU and 3,000 RCU per second, the table's and each GSI's
//! alike, and a GSI that falls behind throttles the table's writes. This crate measures the key usage
//! of the code as it is, on its production code paths:
//!
//! 1. [`mix::record`] runs the real handlers on a `DynamoStore` whose SDK client carries
//!    [`recorder::RecordingInterceptor`]: every request reports its consumed capacity, table and GSIs,
//!    and the partition key values it touched;
//! 2. [`keys::normalise`] turns key values into patterns (`S#<session>`, `ACTIVE`, a Region);
//! 3. [`model::scale`] scales the per-operation means to the workload and divides each pattern's load
//!    over its number of keys at scale; [`sweep::figures`] times the sweeper's cycle.
//!
//! `scripts/capacity.sh` runs it on DynamoDB Local and writes `bench/capacity.json`; `bench/CAPACITY.md`
//! reads the figures.

pub mod keys;
pub mod mix;
pub mod model;
pub mod recorder;
pub mod sweep;
pub mod template;

use std::collections::BTreeMap;

use fleet_functions::config::Config;
use fleet_functions::sweeper::{self, SweepLimits};
use serde::Serialize;

use crate::mix::{MixOptions, Recording, TABLE_LABEL};
use crate::model::{OpCost, Partition, Shape, Totals, Workload};
use crate::sweep::{SweeperFigures, SweeperModel};
use crate::template::Deployment;

/// A failure of the model's run, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// Everything a run is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The workload.
    pub workload: Workload,
    /// How the mix is sampled.
    pub mix: MixOptions,
    /// Share of list pages asking `+openSlots:>=1`.
    pub open_slots_list_share: f64,
    /// ACTIVE sessions the sweeper figures are computed for.
    pub sweeper_sessions: u64,
    /// Seconds between sweeper runs, instead of template.yaml's schedule.
    pub sweep_interval_secs: Option<f64>,
}

/// The on-demand prices used.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    /// USD per million write request units.
    pub usd_per_million_write_units: f64,
    /// USD per million read request units.
    pub usd_per_million_read_units: f64,
    /// Where they come from.
    pub source: &'static str,
}

/// What the run assumed beyond the workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assumptions {
    /// Request shapes and placement.
    #[serde(flatten)]
    pub shape: Shape,
    /// `maxPlayers` of every session.
    pub max_players: u32,
    /// Sessions seeded in the sample table.
    pub sample_sessions: usize,
    /// Invocations recorded per operation.
    pub samples_per_op: usize,
    /// Distinct partition key values per index in the sample table at the end (a sanity check).
    pub sample_index_values: BTreeMap<String, usize>,
    /// What DynamoDB Local's index units of a transaction were divided by (it charges them twice,
    /// DynamoDB once).
    pub transaction_index_factor: f64,
}

/// `capacity.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// The workload.
    pub workload: Workload,
    /// The hottest key of every (table or index, pattern), hottest first; every index appears.
    pub partitions: Vec<Partition>,
    /// The largest `wcuPerSec` over 1,000.
    pub max_write_fraction: f64,
    /// The largest `rcuPerSec` over 3,000.
    pub max_read_fraction: f64,
    /// The sweeper's cycle.
    pub sweeper: SweeperFigures,
    /// Per operation: requests, units and cost.
    pub operations: Vec<OpCost>,
    /// The whole workload's throughput and cost.
    pub totals: Totals,
    /// The assumptions.
    pub assumptions: Assumptions,
    /// The prices.
    pub pricing: Pricing,
}

/// The sweeper's model from its real configuration: `fleet_functions::sweeper`'s limits for the
/// deployment's budget, the schedule and timeout of template.yaml, and the measured sessions per call.
pub fn sweeper_model(
    deployment: &Deployment,
    interval_override: Option<f64>,
    sessions_per_call: f64,
) -> Result<SweeperModel, Error> {
    let budget = deployment.sweep_budget.to_string();
    let config = Config::from_lookup(|k| match k {
        "FLEETLIFT_TABLE" => Some("capacity".into()),
        "FLEETLIFT_CURSOR_SECRET" => Some("fleet-capacity-cursor-secret".into()),
        "FLEETLIFT_SWEEP_BUDGET" => Some(budget.clone()),
        _ => None,
    })
    .map_err(|e| Error(e.to_string()))?;
    let limits = SweepLimits::from_config(&config);
    let interval = match interval_override {
        Some(s) => s,
        None => sweep::rate_seconds(&deployment.sweeper_schedule).map_err(Error)?,
    };
    Ok(SweeperModel {
        budget_per_run: limits.budget,
        sessions_per_run_limit: limits.sessions_per_run,
        calls_per_sec_limit: limits.describe_sessions_per_sec,
        sessions_per_call,
        run_interval_secs: interval,
        run_secs: (deployment.sweeper_timeout_secs - limits.stop_margin.as_secs_f64()).max(0.0),
    })
}

/// The report of a recording: pure, so the same recording can be read at any workload.
pub fn report(
    recording: &Recording,
    opts: &RunOptions,
    sweeper: &SweeperModel,
    indexes: &[String],
) -> Report {
    let w = opts.workload;
    let limit = sweeper::DESCRIBE_SESSIONS_PER_SEC;
    // The sweeper's DynamoDB load at this workload: the sessions one run checks, and the open-slots
    // gauge's read, every interval.
    let at_workload = sweep::figures(sweeper, w.active_sessions, limit);
    let read_per_run = at_workload.sessions_per_run.min(w.active_sessions as f64)
        + (w.active_sessions as f64).min(f64::from(sweeper::OPEN_SLOTS_MAX_SESSIONS));
    let shape = Shape {
        players_per_create: opts.mix.players_per_create,
        players_per_join: opts.mix.players_per_join,
        open_slots_list_share: opts.open_slots_list_share,
        regions: opts.mix.regions,
        fleets_per_region: opts.mix.fleets_per_region,
        sweeper_sessions_read_per_sec: if sweeper.run_interval_secs > 0.0 {
            read_per_run / sweeper.run_interval_secs
        } else {
            0.0
        },
    };
    let mut tables = vec![TABLE_LABEL.to_owned()];
    tables.extend(indexes.iter().cloned());
    let partitions = model::scale(&recording.sample, &w, &shape, &tables);
    let (max_write_fraction, max_read_fraction) = model::max_fractions(&partitions);
    let operations = model::op_costs(&recording.sample, &w, &shape, TABLE_LABEL);
    let totals = model::totals(&operations);
    Report {
        workload: w,
        partitions,
        max_write_fraction,
        max_read_fraction,
        sweeper: sweep::figures(sweeper, opts.sweeper_sessions, limit),
        operations,
        totals,
        assumptions: Assumptions {
            shape,
            max_players: opts.mix.max_players,
            sample_sessions: opts.mix.sample_sessions,
            samples_per_op: opts.mix.samples_per_op,
            sample_index_values: recording.index_values.clone(),
            transaction_index_factor: opts.mix.transaction_index_factor,
        },
        pricing: Pricing {
            usd_per_million_write_units: model::USD_PER_MILLION_WRITE_UNITS,
            usd_per_million_read_units: model::USD_PER_MILLION_READ_UNITS,
            source: model::PRICING_SOURCE,
        },
    }
}

/// Records the mix on the DynamoDB Local at `url` and reports it at the workload.
pub async fn run(url: &str, template_text: &str, opts: &RunOptions) -> Result<Report, Error> {
    let deployment = template::read(template_text).map_err(Error)?;
    let mix = MixOptions {
        sweep_budget: deployment.sweep_budget,
        ..opts.mix.clone()
    };
    let recording = mix::record(url, &mix).await?;
    let model = sweeper_model(
        &deployment,
        opts.sweep_interval_secs,
        recording.sweeper_sessions_per_call,
    )?;
    let opts = RunOptions {
        mix,
        ..opts.clone()
    };
    let mut indexes: Vec<String> = fleet_aws::dynamo::table_spec()
        .indexes
        .iter()
        .map(|i| i.name.to_owned())
        .collect();
    for ix in &deployment.indexes {
        if !indexes.contains(ix) {
            indexes.push(ix.clone());
        }
    }
    Ok(report(&recording, &opts, &model, &indexes))
}
