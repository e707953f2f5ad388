//! `fleet-capacity`: runs the capacity model against the DynamoDB Local of `FLEETLIFT_TEST_DYNAMODB`
//! (`scripts/capacity.sh` starts one) and writes `<out>/capacity.json`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use fleet_capacity::mix::MixOptions;
use fleet_capacity::model::Workload;
use fleet_capacity::{Report, RunOptions};

/// The capacity model: records the real handlers' DynamoDB usage on DynamoDB Local and scales it to a
/// workload, per partition key.
#[derive(Debug, Parser)]
#[command(name = "fleet-capacity")]
struct Args {
    /// Directory capacity.json is written to.
    #[arg(long, default_value = "bench")]
    out: PathBuf,
    /// ACTIVE sessions.
    #[arg(long, default_value_t = Workload::TARGET.active_sessions)]
    active_sessions: u64,
    /// Status reports (update_instance_info) per second.
    #[arg(long, default_value_t = Workload::TARGET.reports_per_sec, value_parser = rate)]
    reports_per_sec: f64,
    /// Creates per second (each one fulfilled).
    #[arg(long, default_value_t = Workload::TARGET.creates_per_sec, value_parser = rate)]
    creates_per_sec: f64,
    /// Joins per second.
    #[arg(long, default_value_t = Workload::TARGET.joins_per_sec, value_parser = rate)]
    joins_per_sec: f64,
    /// List pages per second.
    #[arg(long, default_value_t = Workload::TARGET.list_pages_per_sec, value_parser = rate)]
    list_pages_per_sec: f64,
    /// Regions (GameLift locations) sessions are spread over, evenly (1–10).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10))]
    regions: u32,
    /// Fleets per Region, sessions spread evenly.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    fleets_per_region: u32,
    /// Players named by each create.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=25))]
    players_per_create: u32,
    /// Players in each join.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=25))]
    players_per_join: u32,
    /// maxPlayers of every session.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(2..=200))]
    max_players: u32,
    /// Share of list pages that ask +openSlots:>=1 (the rest take the default query).
    #[arg(long, default_value_t = 0.5, value_parser = share)]
    open_slots_list_share: f64,
    /// ACTIVE sessions the sweeper figures are computed for.
    #[arg(long, default_value_t = 100_000)]
    sweeper_sessions: u64,
    /// Seconds between sweeper runs (default: template.yaml's SweeperSchedule).
    #[arg(long, value_parser = rate)]
    sweep_interval_secs: Option<f64>,
    /// Sessions seeded in the sample table (below the sweeper's budget, so one run covers them).
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(10..=100_000))]
    sample_sessions: u64,
    /// Invocations recorded per operation (at most --sample-sessions).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    samples_per_op: u64,
    /// What DynamoDB Local's index units of a transaction are divided by: it charges them twice,
    /// DynamoDB once (1 takes DynamoDB Local's figures as they are).
    #[arg(long, default_value_t = fleet_capacity::recorder::LOCAL_TRANSACTION_INDEX_FACTOR, value_parser = positive)]
    transaction_index_factor: f64,
    /// template.yaml (the sweeper's schedule, budget and timeout; the table's indexes).
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// DynamoDB Local's endpoint.
    #[arg(long, env = "FLEETLIFT_TEST_DYNAMODB")]
    dynamodb: String,
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number ≥ 0")),
    }
}

fn positive(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number > 0")),
    }
}

fn share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a share between 0 and 1")),
    }
}

fn summary(report: &Report, seconds: f64) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "capacity model: maxWriteFraction {:.2}, maxReadFraction {:.2} (of 1,000 WCU / 3,000 RCU per partition)\n",
        report.max_write_fraction, report.max_read_fraction
    ));
    for p in report.partitions.iter().take(8) {
        out.push_str(&format!(
            "  {:<18} {:<44} {:>10.1} WCU/s {:>9.1} RCU/s  ({})\n",
            p.table, p.key, p.wcu_per_sec, p.rcu_per_sec, p.spread
        ));
    }
    let s = &report.sweeper;
    out.push_str(&format!(
        "sweeper: {} sessions, full cycle {} s, {:.2} GameLift calls/s (peak {:.0}, limit {:.0})\n",
        s.sessions,
        s.full_cycle_seconds
            .map_or("never".to_owned(), |c| format!("{c:.0}")),
        s.gamelift_calls_per_sec,
        s.peak_gamelift_calls_per_sec,
        s.gamelift_limit_per_sec
    ));
    out.push_str(&format!(
        "totals: {:.0} WCU/s, {:.0} RCU/s, ${:.2}/hour on demand; recorded in {seconds:.1} s\n",
        report.totals.wcu_per_sec, report.totals.rcu_per_sec, report.totals.usd_per_hour
    ));
    out
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let template = match std::fs::read_to_string(&args.template) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("--template {}: {e}", args.template.display());
            return ExitCode::FAILURE;
        }
    };
    let opts = RunOptions {
        workload: Workload {
            active_sessions: args.active_sessions,
            reports_per_sec: args.reports_per_sec,
            creates_per_sec: args.creates_per_sec,
            joins_per_sec: args.joins_per_sec,
            list_pages_per_sec: args.list_pages_per_sec,
        },
        mix: MixOptions {
            sample_sessions: args.sample_sessions as usize,
            samples_per_op: args.samples_per_op as usize,
            regions: args.regions,
            fleets_per_region: args.fleets_per_region,
            players_per_create: args.players_per_create,
            players_per_join: args.players_per_join,
            max_players: args.max_players,
            transaction_index_factor: args.transaction_index_factor,
            ..MixOptions::default()
        },
        open_slots_list_share: args.open_slots_list_share,
        sweeper_sessions: args.sweeper_sessions,
        sweep_interval_secs: args.sweep_interval_secs,
    };
    let report = match fleet_capacity::run(&args.dynamodb, &template, &opts).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("fleet-capacity: {e}");
            return ExitCode::FAILURE;
        }
    };
    let text = match serde_json::to_string_pretty(&report) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("fleet-capacity: the report does not serialize: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = args.out.join("capacity.json");
    if let Err(e) =
        std::fs::create_dir_all(&args.out).and_then(|()| std::fs::write(&path, text + "\n"))
    {
        eprintln!("--out {}: {e}", args.out.display());
        return ExitCode::FAILURE;
    }
    eprint!("{}", summary(&report, started.elapsed().as_secs_f64()));
    eprintln!("wrote {}", path.display());
    ExitCode::SUCCESS
}
