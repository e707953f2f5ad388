//! `fleet-bench`: performance suites against a stack of its own, every figure a ratio against a
//! baseline measured in the same run (the machines are shared and noisy; an absolute time is shown only
//! beside its baseline).
//!
//! Suites (see `bench/REPORT.md` for what each means): `get`, `list scaling`, `events`, `create→push`,
//! `joins under contention`, `calls per operation` (on the fakes, against nakama-gamelift's documented
//! pattern) and `cold start` (the release binaries against a fake Lambda Runtime API). Each suite has
//! a time budget; `--quick` keeps the whole run within 90 s, the full run within 10 minutes. `--only`
//! runs some suites alone (the stack is started only for the suites that need it, so `--only cold-start`
//! takes seconds). Figures are printed and written, never asserted: speed is judged from the report.

mod calls;
mod cold;
mod report;
mod suites;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use report::{Machine, Report, Row};

use fleet_local::stack::{self, StackOptions};

/// What `fleet-bench` is told.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Small sizes and few iterations (≤ 90 s).
    pub quick: bool,
    /// A running DynamoDB (Local) instead of starting one.
    pub dynamodb_endpoint: Option<String>,
    /// Where `report.json` and `REPORT.md` go.
    pub out_dir: PathBuf,
    /// Where the release binaries are (`target/release`).
    pub release_dir: PathBuf,
    /// Build the release binaries first (`cargo build --release -p fleet-functions --bins --example lambda-hello`).
    pub build: bool,
    /// Skip the cold-start suite.
    pub skip_cold_start: bool,
    /// Run only these suites (empty: all of them).
    pub only: Vec<Suite>,
}

/// One suite of `fleet-bench`, in the order they run (`--only` names them in kebab case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Suite {
    Get,
    CreatePush,
    Events,
    Joins,
    List,
    Calls,
    ColdStart,
}

impl Suite {
    /// Every suite, in the order they run.
    pub const ALL: [Suite; 7] = [
        Suite::Get,
        Suite::CreatePush,
        Suite::Events,
        Suite::Joins,
        Suite::List,
        Suite::Calls,
        Suite::ColdStart,
    ];

    /// Whether the suite runs against the local stack (DynamoDB Local, gamelift-sim, gateways); the
    /// calls suite uses the in-memory fakes and the cold start its own fake Runtime API.
    pub fn needs_stack(self) -> bool {
        !matches!(self, Suite::Calls | Suite::ColdStart)
    }

    /// The name `--only` takes.
    pub fn name(self) -> &'static str {
        self.names().0
    }

    /// What the run's progress lines call the suite.
    fn title(self) -> &'static str {
        self.names().1
    }

    /// The suite's [`Self::name`] and [`Self::title`].
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Suite::Get => ("get", "get"),
            Suite::CreatePush => ("create-push", "create→push"),
            Suite::Events => ("events", "events"),
            Suite::Joins => ("joins", "joins under contention"),
            Suite::List => ("list", "list scaling (seeding)"),
            Suite::Calls => ("calls", "calls per operation"),
            Suite::ColdStart => ("cold-start", "cold start"),
        }
    }

    /// The suites a run does: `only` (every suite when empty), in run order, once each, without the cold
    /// start when it is skipped.
    pub fn selection(only: &[Suite], skip_cold_start: bool) -> Vec<Suite> {
        let mut chosen: Vec<Suite> = if only.is_empty() {
            Suite::ALL.to_vec()
        } else {
            only.to_vec()
        };
        chosen.sort_unstable();
        chosen.dedup();
        chosen.retain(|s| !(skip_cold_start && *s == Suite::ColdStart));
        chosen
    }
}

/// Sizes and iteration counts of one mode.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub get_iterations: usize,
    pub list_sizes: [usize; 3],
    pub list_iterations: usize,
    pub events: usize,
    pub pushes: usize,
    pub players: usize,
    pub join_sessions: usize,
    pub concurrency: usize,
    pub cold_runs: usize,
    pub cold_binaries: usize,
    pub placement_delay_ms: u64,
}

impl Plan {
    pub(crate) fn of(quick: bool) -> Self {
        if quick {
            Self {
                get_iterations: 200,
                list_sizes: [1_000, 2_000, 5_000],
                list_iterations: 40,
                events: 200,
                pushes: 15,
                players: 1_000,
                join_sessions: 100,
                concurrency: 16,
                cold_runs: 5,
                cold_binaries: 2,
                placement_delay_ms: 200,
            }
        } else {
            Self {
                get_iterations: 1_000,
                list_sizes: [1_000, 10_000, 100_000],
                list_iterations: 150,
                events: 2_000,
                pushes: 200,
                players: 1_000,
                join_sessions: 100,
                concurrency: 16,
                // The row is the worst of seven medians, and the largest of several noisy figures
                // is biased upward: 61 rounds (≈ 20 s) keep each median within ≈ 0.02 ms run to run.
                cold_runs: 61,
                cold_binaries: cold::BINARIES.len(),
                placement_delay_ms: 200,
            }
        }
    }
}

/// Runs the chosen suites, prints the table and writes the report files.
pub async fn run(options: BenchOptions) -> Result<Report, String> {
    let started = Instant::now();
    let plan = Plan::of(options.quick);
    let suites = Suite::selection(&options.only, options.skip_cold_start);
    let mut report = Report::new(options.quick);
    report.suites = suites.iter().map(|s| s.name().to_owned()).collect();
    report.only = !options.only.is_empty();
    let cold_start = suites.contains(&Suite::ColdStart);
    if options.build && cold_start {
        eprintln!(
            "bench: building the release binaries (cargo build --release -p fleet-functions --bins --example lambda-hello)…"
        );
        cold::build(&mut report).await;
    }
    let budget =
        |quick: u64, full: u64| Duration::from_secs(if options.quick { quick } else { full });

    if suites.iter().any(|s| s.needs_stack()) {
        let mut stack_options = StackOptions::ephemeral();
        stack_options.dynamodb_endpoint = options.dynamodb_endpoint.clone();
        stack_options.table = format!("fleetlift-bench-{}", std::process::id());
        stack_options.sweep_interval = Duration::from_secs(3600);
        let mut model = stack::local_model();
        model.placement_delay_ms = plan.placement_delay_ms;
        model.throttling = false;
        for f in &mut model.fleets {
            for l in &mut f.locations {
                l.slots = l.slots.max(1_000);
            }
        }
        stack_options.sim_model = Some(model);
        eprintln!("bench: starting the stack (DynamoDB Local, gamelift-sim, gateways)…");
        let stack = stack::start(stack_options)
            .await
            .map_err(|e| format!("the stack did not start: {e}"))?;
        let list_baseline = if suites.contains(&Suite::List) {
            match suites::list_baseline(&stack, &plan).await {
                Ok(b) => Some(b),
                Err(e) => {
                    report.note(format!(
                        "list scaling: the baseline table could not be prepared: {e}"
                    ));
                    None
                }
            }
        } else {
            None
        };
        for &suite in suites.iter().filter(|s| s.needs_stack()) {
            eprintln!("bench: {}", suite.title());
            let (stack, plan, report) = (&stack, &plan, &mut report);
            match suite {
                Suite::Get => suites::get(stack, plan, budget(6, 40), report).await,
                Suite::CreatePush => suites::create_push(stack, plan, budget(8, 60), report).await,
                Suite::Events => suites::events(stack, plan, budget(6, 60), report).await,
                Suite::Joins => suites::joins(stack, plan, budget(6, 60), report).await,
                Suite::List => {
                    let baseline = list_baseline.as_ref();
                    suites::list(stack, plan, baseline, budget(20, 270), report).await;
                }
                Suite::Calls | Suite::ColdStart => {}
            }
        }
        stack.shutdown().await;
    }

    if suites.contains(&Suite::Calls) {
        eprintln!("bench: {}", Suite::Calls.title());
        calls::run(&mut report).await;
    }
    if options.skip_cold_start {
        report.note("cold start: skipped (--skip-cold-start)");
    } else if cold_start {
        eprintln!("bench: {}", Suite::ColdStart.title());
        cold::run(&options.release_dir, &plan, budget(15, 60), &mut report).await;
    }

    report.elapsed_s = started.elapsed().as_secs_f64();
    println!("{}", report.table());
    report.write(&options.out_dir)?;
    eprintln!(
        "bench: wrote {}/report.json and {}/REPORT.md in {:.0} s",
        options.out_dir.display(),
        options.out_dir.display(),
        report.elapsed_s
    );
    Ok(report)
}

/// The `p`-quantile (nearest rank) of sorted durations, in milliseconds.
pub(crate) fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted
        .get(rank - 1)
        .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// Percent-encodes a query-string value (everything but unreserved characters).
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_only_runs_every_suite_in_order_and_skip_cold_start_drops_it() {
        assert_eq!(Suite::selection(&[], false), Suite::ALL.to_vec());
        assert_eq!(Suite::selection(&[], true), Suite::ALL[..6].to_vec());
    }

    #[test]
    fn only_keeps_run_order_once_each() {
        let only = [Suite::ColdStart, Suite::Get, Suite::ColdStart];
        assert_eq!(
            Suite::selection(&only, false),
            vec![Suite::Get, Suite::ColdStart]
        );
        assert_eq!(
            Suite::selection(&[Suite::ColdStart], true),
            Vec::<Suite>::new()
        );
    }

    #[test]
    fn only_the_cold_start_and_the_calls_need_no_stack() {
        let without: Vec<Suite> = Suite::ALL
            .into_iter()
            .filter(|s| !s.needs_stack())
            .collect();
        assert_eq!(without, vec![Suite::Calls, Suite::ColdStart]);
    }

    #[test]
    fn suite_names_are_what_only_accepts() {
        use clap::ValueEnum;
        for suite in Suite::ALL {
            assert_eq!(Suite::from_str(suite.name(), false), Ok(suite));
        }
    }

    #[test]
    fn a_full_run_measures_hello_and_all_seven_functions_a_quick_run_two() {
        assert_eq!(Plan::of(false).cold_binaries, 8);
        assert_eq!(cold::BINARIES.len(), 8);
        assert_eq!(Plan::of(true).cold_binaries, 2);
    }
}
