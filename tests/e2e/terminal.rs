//! The fleet-local binary as a user runs it: copied out of the checkout and started from elsewhere
//! (`up` installs and starts its own DynamoDB Local through the installer compiled into it), and `demo`
//! with its streams captured: progress alone on stderr, the summary table on stdout, the metrics in the
//! log file.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// A directory of its own under the system's temporary directory, removed afterwards.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("fleet-local-{what}-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let checkout = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap();
        assert!(
            !dir.canonicalize().unwrap().starts_with(&checkout),
            "{} must be outside the checkout {}",
            dir.display(),
            checkout.display()
        );
        Self(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// The built binary, copied here: nothing may tie it to the checkout it was built in.
    fn copy_binary(&self) -> PathBuf {
        let to = self.0.join("fleet-local");
        std::fs::copy(env!("CARGO_BIN_EXE_fleet-local"), &to).unwrap();
        to
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            eprintln!("could not remove {}: {e}", self.0.display());
        }
    }
}

/// Kills what a failed test left running: the stack (its handle kills it on drop) and its Java child.
struct Leftovers {
    java: Option<u32>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if let Some(pid) = self.java.filter(|pid| alive(*pid)) {
            let status = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            eprintln!("killed the leftover Java process {pid}: {status:?}");
        }
    }
}

/// Lines a child printed so far, read as they come.
fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

fn alive(pid: u32) -> bool {
    // A zombie has exited; only its parent has not read its status yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z'))
    })
}

/// The DynamoDB Local processes whose parent is `parent`.
fn java_children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid …`; comm may hold spaces and parentheses, so read after the last ')'.
        let ppid = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == Some(parent) && String::from_utf8_lossy(&cmdline).contains("DynamoDBLocal.jar") {
            found.push(pid);
        }
    }
    found
}

async fn wait_for<T>(what: &str, within: Duration, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn exited(child: &mut Child, within: Duration) -> ExitStatus {
    tokio::time::timeout(within, child.wait())
        .await
        .unwrap_or_else(|_| panic!("fleet-local still running after {within:?}"))
        .unwrap()
}

#[tokio::test]
async fn a_copied_binary_brings_the_stack_up_from_outside_the_checkout_and_takes_java_down_with_it()
{
    let dir = TempDir::new("up");
    let binary = dir.copy_binary();
    let log = dir.path().join("fleet-local.log");
    let mut child = Command::new(&binary)
        .current_dir(dir.path())
        .args(["up", "--http-port", "0", "--ws-port", "0", "--gamelift-port", "0"])
        .args(["--dynamodb-port", "0", "--log-file"])
        .arg(&log)
        // Its own DynamoDB Local and simulator, whatever the test environment points at.
        .env_remove("FLEETLIFT_DYNAMODB_ENDPOINT")
        .env_remove("AWS_ENDPOINT_URL_GAMELIFT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let mut leftovers = Leftovers { java: None };

    // A first run on a new machine installs Java and DynamoDB Local: allow for it.
    let http = wait_for("the endpoints", Duration::from_secs(300), async || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "fleet-local up exited with {status}; stderr:\n{}",
                stderr.lock().unwrap().join("\n")
            );
        }
        let lines = stdout.lock().unwrap();
        lines
            .iter()
            .find_map(|l| l.strip_prefix("export FLEETLIFT_HTTP="))
            .map(str::to_owned)
    })
    .await;
    let java = java_children(pid);
    assert_eq!(
        java.len(),
        1,
        "one DynamoDB Local, a child of fleet-local: {java:?}"
    );
    leftovers.java = Some(java[0]);
    assert!(
        stderr.lock().unwrap()[0].contains(&log.display().to_string()),
        "the log file is named at start: {:?}",
        stderr.lock().unwrap()
    );

    let client = reqwest::Client::new();
    wait_for("GET /v1/health 200", Duration::from_secs(60), async || {
        let r = client.get(format!("{http}/v1/health")).send().await.ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    // The terminal shows the request, with its API, caller, method, path and status.
    wait_for(
        "the health check's line",
        Duration::from_secs(5),
        async || {
            stdout
                .lock()
                .unwrap()
                .iter()
                .find(|l| {
                    let words: Vec<&str> = l.split_whitespace().collect();
                    words.get(1..6) == Some(&["anon", "-", "GET", "/v1/health", "200"][..])
                })
                .cloned()
        },
    )
    .await;

    let term = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = exited(&mut child, Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "fleet-local up exits 0 on SIGTERM: {status}"
    );
    wait_for("Java gone", Duration::from_secs(10), async || {
        (!alive(java[0])).then_some(())
    })
    .await;
    wait_for("the last words", Duration::from_secs(5), async || {
        stderr
            .lock()
            .unwrap()
            .iter()
            .any(|l| l == "fleet-local: stopped")
            .then_some(())
    })
    .await;
}

/// Runs `fleet-local demo ARGS` to the end; its exit status, stdout and stderr.
async fn demo(dir: &TempDir, args: &[&str]) -> (ExitStatus, String, String) {
    let binary = dir.copy_binary();
    let output = Command::new(&binary)
        .current_dir(dir.path())
        .arg("demo")
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(180), output)
        .await
        .expect("the demo ends within 3 minutes")
        .unwrap();
    (
        output.status,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_demo_keeps_stderr_for_its_progress_and_prints_its_summary_as_a_table_on_stdout() {
    let url = std::env::var("FLEETLIFT_TEST_DYNAMODB")
        .expect("run with scripts/with-dynamodb.sh, which starts DynamoDB Local");
    let dir = TempDir::new("demo");
    let log = dir.path().join("demo.log");
    let table = format!("demo-{}", uuid::Uuid::new_v4().simple());
    let log_arg = log.display().to_string();
    let (status, stdout, stderr) = demo(
        &dir,
        &[
            "--bots",
            "2",
            "--rounds",
            "2",
            "--dynamodb-endpoint",
            &url,
            "--table",
            &table,
            "--log-file",
            &log_arg,
        ],
    )
    .await;
    assert!(
        status.success(),
        "{status}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );

    // stderr: the progress, and nothing else (no EMF line, no log line).
    assert!(!stderr.contains("\"_aws\""), "EMF on stderr:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines.first(),
        Some(&"starting a stack of its own…"),
        "{stderr}"
    );
    assert!(lines[1].starts_with("stack up in "), "{stderr}");
    for line in &lines[2..] {
        assert!(
            line.contains("/4 rounds  placements "),
            "not a progress line: {line}"
        );
    }
    let last = lines.last().unwrap();
    assert!(
        last.contains("[==============================] 4/4 rounds") && last.contains("errors 0"),
        "the bar ends full: {last}"
    );

    // stdout: the table.
    assert!(!stdout.contains("\"_aws\""), "EMF on stdout:\n{stdout}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(name))
            .map(|l| l[name.len()..].trim().to_owned())
            .unwrap_or_else(|| panic!("no row {name}:\n{stdout}"))
    };
    assert!(
        stdout.lines().next().unwrap().starts_with("demo "),
        "{stdout}"
    );
    assert_eq!(row("bots"), "2 (0 failed)");
    assert_eq!(row("placements created"), "4");
    assert_eq!(row("  pushed FULFILLED"), "4");
    assert_eq!(row("sessions ended"), "4");
    assert_eq!(row("  rejoins (same seat back)"), "4");
    assert_eq!(row("failed steps"), "0");
    assert!(row("create → push p50").ends_with(" ms"));

    // The metrics and the request lines went to the log file instead.
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged
            .lines()
            .any(|l| l.contains("\"_aws\"") && l.contains("\"fleet-api\""))
    );
    assert!(
        logged
            .lines()
            .any(|l| l.contains("fleet_local::term") && l.contains("/v1/sessions"))
    );
}

#[tokio::test]
async fn a_demo_whose_bots_fail_exits_non_zero_after_its_summary() {
    // A port nothing listens on: every bot fails to connect.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = TempDir::new("demo-fails");
    let log = dir.path().join("demo.log").display().to_string();
    let http = format!("http://127.0.0.1:{port}");
    let ws = format!("ws://127.0.0.1:{port}");
    let (status, stdout, stderr) = demo(
        &dir,
        &[
            "--bots",
            "2",
            "--rounds",
            "1",
            "--http",
            &http,
            "--ws",
            &ws,
            "--log-file",
            &log,
        ],
    )
    .await;
    assert_eq!(
        status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("bots") && l.ends_with("2 (2 failed)")),
        "{stdout}"
    );
    assert!(
        stdout.contains("WebSocket connect"),
        "the first errors are listed:\n{stdout}"
    );
    assert_eq!(
        stderr.lines().last(),
        Some("fleet-local: 2 of 2 bots failed (the summary lists the first errors)")
    );
}
