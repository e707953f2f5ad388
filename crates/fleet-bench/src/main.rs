//! `fleet-bench [--quick] [--only SUITE,…]`: the performance suites against a local stack of their own,
//! each figure against a baseline of the same run; prints a table and writes `bench/report.json` and
//! `bench/REPORT.md`. Every failure is one line on stderr and exit code 1.

use std::path::PathBuf;

use clap::Parser;
use fleet_bench::{BenchOptions, Suite};
use fleet_local::logs::{self, LogFile, LogFormat};

#[derive(Parser, Debug)]
#[command(
    name = "fleet-bench",
    version,
    about = "fleetlift's performance suites, each figure a ratio against a baseline of the same run"
)]
struct Cli {
    /// Small sizes and few iterations: the whole run within 90 s (CI).
    #[arg(long)]
    quick: bool,
    /// Use an already running DynamoDB (Local) at URL instead of starting one.
    #[arg(long, value_name = "URL", env = "FLEETLIFT_DYNAMODB_ENDPOINT")]
    dynamodb_endpoint: Option<String>,
    /// Where report.json and REPORT.md go.
    #[arg(long, value_name = "DIR", default_value = "bench")]
    out: PathBuf,
    /// Where the release binaries are, for the cold start.
    #[arg(long, value_name = "DIR", default_value = "target/release")]
    release_dir: PathBuf,
    /// Build the release binaries first (cargo build --release -p fleet-functions --bins --example lambda-hello).
    #[arg(long)]
    build: bool,
    /// Skip the cold-start suite.
    #[arg(long)]
    skip_cold_start: bool,
    /// Run only these suites (repeatable, or a comma list); the stack is started only if one needs it,
    /// so `--only cold-start` takes seconds.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SUITE")]
    only: Vec<Suite>,
}

/// Runs the suites; the handlers' JSON logs and EMF lines would bury the report, so they go to a log file.
async fn run(cli: Cli) -> Result<(), String> {
    let path = fleet_local::cache::log_file("fleet-bench.log");
    let file = LogFile::create(&path)
        .map_err(|e| format!("cannot write the log file {}: {e}", path.display()))?;
    logs::init(LogFormat::Text, Some(&file), false);
    let options = BenchOptions {
        quick: cli.quick,
        dynamodb_endpoint: cli.dynamodb_endpoint.filter(|s| !s.is_empty()),
        out_dir: cli.out,
        release_dir: cli.release_dir,
        build: cli.build,
        skip_cold_start: cli.skip_cold_start,
        only: cli.only,
    };
    tokio::select! {
        r = fleet_bench::run(options) => r.map(|_| ()),
        // SIGTERM as well as Ctrl-C: dropping the run stops the stack and its DynamoDB Local.
        () = fleet_local::shutdown::signal("fleet-bench") => Err("interrupted".into()),
    }
}

fn main() {
    let cli = Cli::parse();
    let result = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => Err(format!("cannot start the async runtime: {e}")),
    };
    if let Err(message) = result {
        eprintln!("fleet-bench: {message}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn only(args: &[&str]) -> Result<Vec<Suite>, clap::Error> {
        Ok(Cli::try_parse_from(["fleet-bench"].iter().chain(args))?.only)
    }

    #[test]
    fn only_takes_comma_lists_and_repeats() {
        assert_eq!(only(&[]).unwrap(), vec![]);
        assert_eq!(
            only(&["--only", "cold-start"]).unwrap(),
            vec![Suite::ColdStart]
        );
        assert_eq!(
            only(&["--only", "get,create-push", "--only", "calls"]).unwrap(),
            vec![Suite::Get, Suite::CreatePush, Suite::Calls]
        );
    }

    #[test]
    fn only_refuses_an_unknown_suite() {
        let e = only(&["--only", "cold"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
    }
}
