//! Cold start: each release binary against a local fake of the Lambda Runtime API. Init is the time
//! from exec to its first `GET /2018-06-01/runtime/invocation/next`; RSS is `VmRSS` right then.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tokio::sync::mpsc;

use crate::Plan;
use crate::report::{ColdRow, Report};

/// The baseline first, then the seven functions.
pub(crate) const BINARIES: [&str; 8] = [
    "lambda-hello",
    "fleet-api",
    "placement-events",
    "status-rpc",
    "ws",
    "ws-authorizer",
    "notifier",
    "sweeper",
];

/// The workspace root (two levels above this crate).
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cargo build --release -p fleet-functions --bins --example lambda-hello`.
pub(crate) async fn build(report: &mut Report) {
    let status =
        tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args([
                "build",
                "--release",
                "-p",
                "fleet-functions",
                "--bins",
                "--example",
                "lambda-hello",
            ])
            .current_dir(workspace())
            .status()
            .await;
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => report.note(format!("cold start: the release build failed ({s})")),
        Err(e) => report.note(format!("cold start: cannot run cargo: {e}")),
    }
}

/// Where cargo puts a release binary: the baseline is an example of `fleet-functions`.
fn binary_path(release_dir: &Path, name: &str) -> PathBuf {
    if name == "lambda-hello" {
        release_dir.join("examples").join(name)
    } else {
        release_dir.join(name)
    }
}

fn rss_kb(pid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The environment of a Lambda running `name`, with the function's configuration.
fn env(name: &str, api: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/25/[$LATEST]bench".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
        ("AWS_ACCESS_KEY_ID", "AKIALOCALBENCH000001".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "local-bench-secret".to_owned()),
        ("AWS_SESSION_TOKEN", "local-bench-token".to_owned()),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4003".to_owned()),
        ("AWS_ENDPOINT_URL_GAMELIFT", "http://127.0.0.1:4002".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("FLEETLIFT_TABLE", "fleetlift".to_owned()),
        ("FLEETLIFT_CURSOR_SECRET", "0123456789abcdef0123".to_owned()),
        ("FLEETLIFT_QUEUE_NAME", "default-queue".to_owned()),
        ("FLEETLIFT_SERVICE_PRINCIPALS", fleet_local::local::SERVICE_PRINCIPAL.to_owned()),
        (
            "FLEETLIFT_GAME_SERVER_FLEETS",
            serde_json::json!({ fleet_local::local::GAME_SERVER_PRINCIPAL: ["fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31"] }).to_string(),
        ),
        ("FLEETLIFT_WS_ENDPOINT", "http://127.0.0.1:4001/@connections".to_owned()),
        ("FLEETLIFT_JWT_ISSUER", fleet_local::local::JWT_ISSUER.to_owned()),
        ("FLEETLIFT_JWT_AUDIENCE", fleet_local::local::JWT_AUDIENCE.to_owned()),
        ("FLEETLIFT_JWT_HS256_SECRET", fleet_local::local::DEV_JWT_SECRET.to_owned()),
    ]
}

/// Measures the first `plan.cold_binaries` of [`BINARIES`] (all of them in a full run, hello and fleet-api
/// in quick mode) that exist in `release_dir`; a missing one is noted.
pub(crate) async fn run(release_dir: &Path, plan: &Plan, budget: Duration, report: &mut Report) {
    let Some(present) = present_binaries(release_dir, plan, report) else {
        return;
    };
    let mut runtime = match FakeRuntimeApi::start().await {
        Ok(r) => r,
        Err(e) => {
            report.note(format!("cold start: cannot listen: {e}"));
            return;
        }
    };
    let staged = match Staged::copy(release_dir, &present) {
        Ok(staged) => staged,
        Err(e) => {
            report.note(format!(
                "cold start: cannot copy the binaries to a staging directory: {e}"
            ));
            return;
        }
    };
    let samples = sample_rounds(&staged.dir, &present, &mut runtime, plan, budget, report).await;
    let hello_ms = push_cold_rows(&staged.dir, &present, samples, report);
    runtime.server.abort();
    summary_rows(hello_ms, report);
}

/// The binaries, copied into a directory of their own and run from there (removed on drop).
///
/// Every binary runs from a file written the same way, sequentially and synced: a file's page
/// cache keeps the shape of the writes that filled it, and on a kernel with large page-cache folios
/// a binary written by the linker takes more page faults at start than the same bytes copied (374
/// against 327 for one function, ≈ 0.35 ms of its 2.5 ms init), by an amount that differs from one
/// binary to the next. Copied, hello and the functions differ only in what they run. A Lambda
/// function, too, runs from a file the service unpacked, never from the linker's output.
struct Staged {
    dir: PathBuf,
}

impl Staged {
    fn copy(release_dir: &Path, present: &[&str]) -> std::io::Result<Self> {
        let dir = std::env::temp_dir().join(format!("fleet-bench-cold-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("examples"))?;
        let staged = Self { dir };
        for name in present {
            let to = binary_path(&staged.dir, name);
            std::fs::copy(binary_path(release_dir, name), &to)?;
            std::fs::File::open(&to)?.sync_all()?;
        }
        Ok(staged)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(dir = %self.dir.display(), error = %e, "could not remove the staged binaries");
        }
    }
}

/// The chosen binaries that are built, each missing one noted; `None` (with a note) when the
/// baseline or every function is missing.
fn present_binaries(
    release_dir: &Path,
    plan: &Plan,
    report: &mut Report,
) -> Option<Vec<&'static str>> {
    let chosen = &BINARIES[..plan.cold_binaries.min(BINARIES.len())];
    let present: Vec<&str> = chosen
        .iter()
        .copied()
        .filter(|b| binary_path(release_dir, b).is_file())
        .collect();
    if !present.contains(&"lambda-hello") || present.len() < 2 {
        report.note(format!(
            "cold start: skipped: the release binaries are not in {} (build them with `cargo build --release -p fleet-functions --bins --example lambda-hello`, or pass --build)",
            release_dir.display()
        ));
        return None;
    }
    for missing in chosen.iter().filter(|b| !present.contains(b)) {
        report.note(format!(
            "cold start: {missing}: not in {} (not built)",
            release_dir.display()
        ));
    }
    Some(present)
}

/// A fake Lambda Runtime API that reports each poll for the next invocation and never answers it.
struct FakeRuntimeApi {
    /// Its `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    api: String,
    /// The time of each poll.
    polls: mpsc::UnboundedReceiver<Instant>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeRuntimeApi {
    /// Serves the fake on a free local port.
    async fn start() -> std::io::Result<Self> {
        let (tx, polls) = mpsc::unbounded_channel::<Instant>();
        let app = Router::new().route(
            "/2018-06-01/runtime/invocation/next",
            get(move || {
                let tx = tx.clone();
                async move {
                    if tx.send(Instant::now()).is_err() {
                        tracing::debug!("the cold-start bench stopped listening");
                    }
                    // Never answer: the function waits for an event until it is killed.
                    std::future::pending::<()>().await;
                    ""
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let api = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "the fake Runtime API stopped");
            }
        });
        Ok(Self { api, polls, server })
    }
}

/// Runs the binaries in rounds until `plan.cold_runs` or the budget: per binary, its init times in
/// ms and RSS figures in MB. A binary that cannot run is noted and left out of later rounds.
async fn sample_rounds(
    release_dir: &Path,
    present: &[&str],
    runtime: &mut FakeRuntimeApi,
    plan: &Plan,
    budget: Duration,
    report: &mut Report,
) -> Vec<(Vec<f64>, Vec<f64>)> {
    let started = Instant::now();
    // Round-robin: each round runs every binary once, so a burst of load on the shared machine hits
    // hello and the functions alike instead of skewing whichever binary was being timed then.
    let mut samples: Vec<(Vec<f64>, Vec<f64>)> =
        present.iter().map(|_| (Vec::new(), Vec::new())).collect();
    let mut broken: Vec<bool> = present.iter().map(|_| false).collect();
    for round in 0..plan.cold_runs {
        if round > 0 && started.elapsed() > budget {
            break;
        }
        for (k, name) in present.iter().enumerate() {
            if broken.get(k).copied().unwrap_or(true) {
                continue;
            }
            let path = binary_path(release_dir, name);
            match measure_once(&path, name, &runtime.api, &mut runtime.polls).await {
                Ok(Some((init, rss))) => {
                    if let Some((inits, rsss)) = samples.get_mut(k) {
                        inits.push(init);
                        rsss.extend(rss);
                    }
                }
                Ok(None) => report.note(format!(
                    "cold start: {name} exited or never polled the Runtime API"
                )),
                Err(e) => {
                    report.note(format!("cold start: {name}: cannot run: {e}"));
                    if let Some(b) = broken.get_mut(k) {
                        *b = true;
                    }
                }
            }
        }
    }
    samples
}

/// Adds a cold-start row per binary that has samples (medians, against hello's median init);
/// returns hello's median init in ms.
fn push_cold_rows(
    release_dir: &Path,
    present: &[&str],
    samples: Vec<(Vec<f64>, Vec<f64>)>,
    report: &mut Report,
) -> f64 {
    let hello_ms = present
        .iter()
        .zip(&samples)
        .find(|(name, _)| **name == "lambda-hello")
        .map_or(f64::NAN, |(_, (inits, _))| median(inits.clone()));
    for (name, (inits, rss)) in present.iter().zip(samples) {
        if inits.is_empty() {
            continue;
        }
        let size_mb = std::fs::metadata(binary_path(release_dir, name))
            .map_or(f64::NAN, |m| m.len() as f64 / 1_048_576.0);
        let runs = inits.len();
        let init = median(inits);
        report.cold_start.push(ColdRow {
            binary: (*name).to_owned(),
            init_ms: init,
            hello_ms,
            ratio: init / hello_ms,
            rss_mb: median(rss),
            size_mb,
            runs,
        });
    }
    hello_ms
}

/// The cold-start suite's rows: the worst function's init against hello, and the worst RSS.
fn summary_rows(hello_ms: f64, report: &mut Report) {
    let functions: Vec<&ColdRow> = report
        .cold_start
        .iter()
        .filter(|c| c.binary != "lambda-hello")
        .collect();
    if let (Some(worst_ratio), Some(worst_rss)) = (
        functions.iter().map(|c| c.ratio).max_by(f64::total_cmp),
        functions.iter().map(|c| c.rss_mb).max_by(f64::total_cmp),
    ) {
        let (hello, count) = (hello_ms, functions.len());
        report.row(
            "cold start",
            &format!("worst init / hello over {count} function binaries"),
            format!("{:.1} ms", worst_ratio * hello),
            format!("lambda_runtime hello {hello:.1} ms"),
            Some(worst_ratio),
            "init ≤ 1.5× hello",
            worst_ratio.is_finite().then_some(worst_ratio <= 1.5),
            "exec → first GET /2018-06-01/runtime/invocation/next, median of the runs",
        );
        report.row(
            "cold start",
            "worst RSS after init",
            format!("{worst_rss:.1} MB"),
            format!(
                "hello {:.1} MB",
                report.cold_start.first().map_or(f64::NAN, |c| c.rss_mb)
            ),
            None,
            "RSS ≤ 32 MB",
            worst_rss.is_finite().then_some(worst_rss <= 32.0),
            "",
        );
    }
}

/// Runs one binary until its first poll of the Runtime API: init time in ms and RSS in MB then;
/// `None` when it exited or never polled within 10 s.
async fn measure_once(
    path: &Path,
    name: &str,
    api: &str,
    polls: &mut mpsc::UnboundedReceiver<Instant>,
) -> std::io::Result<Option<(f64, Option<f64>)>> {
    while polls.try_recv().is_ok() {}
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(path)
        .env_clear()
        .envs(env(name, api))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let polled = tokio::select! {
        t = polls.recv() => t,
        _ = child.wait() => None,
        () = tokio::time::sleep(Duration::from_secs(10)) => None,
    };
    let measured = polled.map(|t| {
        let rss = child.id().and_then(rss_kb).map(|kb| kb as f64 / 1024.0);
        (t.duration_since(t0).as_secs_f64() * 1000.0, rss)
    });
    if let Err(e) = child.kill().await {
        tracing::debug!(error = %e, "killing a bench function");
    }
    Ok(measured)
}
