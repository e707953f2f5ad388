//! The bench's results: the printed table, `report.json` and `REPORT.md`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

/// One figure against its baseline.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    /// The suite.
    pub suite: String,
    /// What is measured.
    pub metric: String,
    /// Our figure, with its unit.
    pub ours: String,
    /// The baseline's figure, with its unit.
    pub baseline: String,
    /// ours / baseline (or the target's own quantity, e.g. an overhead in ms).
    pub ratio: Option<f64>,
    /// The target, as the issue states it.
    pub target: String,
    /// Whether the target is met (`None`: not judged).
    pub met: Option<bool>,
    /// Anything the reader must know about this figure.
    pub note: String,
}

/// Calls one operation makes downstream, ours against nakama-gamelift's pattern.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRow {
    /// The operation.
    pub operation: String,
    /// How many times the workload ran it.
    pub count: u64,
    /// Our GameLift calls per operation.
    pub gamelift: f64,
    /// Our DynamoDB reads per operation.
    pub dynamo_reads: f64,
    /// Our DynamoDB writes per operation.
    pub dynamo_writes: f64,
    /// the docs/architecture.md#functions-and-call-budget budget.
    pub budget: String,
    /// Within the budget.
    pub within_budget: bool,
    /// nakama-gamelift's GameLift calls per operation, from its documented pattern.
    pub nakama_gamelift: f64,
    /// What nakama-gamelift calls.
    pub nakama_calls: String,
}

/// One function binary's cold start.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColdRow {
    /// The binary.
    pub binary: String,
    /// Median exec → first `GET …/invocation/next`, ms.
    pub init_ms: f64,
    /// The hello baseline's median, ms.
    pub hello_ms: f64,
    /// init / hello.
    pub ratio: f64,
    /// VmRSS right after the first poll, MB (median).
    pub rss_mb: f64,
    /// File size (stripped by the release profile), MB.
    pub size_mb: f64,
    /// Runs.
    pub runs: usize,
}

/// The machine the run was on.
#[derive(Debug, Clone, Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// `uname -a`.
    pub uname: String,
    /// Logical CPUs.
    pub nproc: usize,
    /// CPU model.
    pub cpu: String,
    /// Memory, MB.
    pub memory_mb: u64,
    /// Load averages at the start.
    pub load_start: String,
    /// Load averages at the end.
    pub load_end: String,
    /// UTC date of the run.
    pub date: String,
}

impl Machine {
    fn probe() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let uname = std::process::Command::new("uname")
            .arg("-a")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default();
        let memory_mb = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024);
        let date = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Self {
            uname,
            nproc: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            cpu,
            memory_mb,
            load_start: load(),
            load_end: String::new(),
            date,
        }
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Everything a run measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// `quick` or `full`.
    pub mode: String,
    /// The suites that ran (`--only` names), in run order.
    pub suites: Vec<String>,
    /// Whether `--only` chose them.
    #[serde(skip)]
    pub only: bool,
    /// The machine.
    pub machine: Machine,
    /// Wall time of the run, s.
    pub elapsed_s: f64,
    /// Figures against baselines.
    pub rows: Vec<Row>,
    /// Calls per operation.
    pub calls: Vec<CallRow>,
    /// Cold starts.
    pub cold_start: Vec<ColdRow>,
    /// Notes (skipped parts, errors).
    pub notes: Vec<String>,
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("-".to_owned(), |r| {
        if r.is_finite() {
            format!("{r:.2}")
        } else {
            "-".to_owned()
        }
    })
}

fn fmt_met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "-",
    }
}

impl Row {
    /// The row's line of the Markdown table.
    fn table_line(&self) -> String {
        let Self {
            suite,
            metric,
            ours,
            baseline,
            ratio,
            target,
            met,
            ..
        } = self;
        let (ratio, met) = (fmt_ratio(*ratio), fmt_met(*met));
        format!("| {suite} | {metric} | {ours} | {baseline} | {ratio} | {target} | {met} |\n")
    }
}

impl CallRow {
    /// The row's line of the Markdown table.
    fn table_line(&self) -> String {
        let within = if self.within_budget { "within" } else { "OVER" };
        let Self {
            operation,
            count,
            gamelift,
            dynamo_reads,
            dynamo_writes,
            budget,
            ..
        } = self;
        let (nakama, nakama_calls) = (self.nakama_gamelift, &self.nakama_calls);
        format!(
            "| {operation} | {count} | {gamelift:.2} | {dynamo_reads:.2} | {dynamo_writes:.2} | {budget} | {within} | {nakama:.2} ({nakama_calls}) |\n"
        )
    }
}

impl ColdRow {
    /// The row's line of the Markdown table.
    fn table_line(&self) -> String {
        let Self {
            binary,
            init_ms,
            hello_ms,
            ratio,
            rss_mb,
            size_mb,
            runs,
        } = self;
        format!(
            "| {binary} | {init_ms:.1} ms | {hello_ms:.1} ms | {ratio:.2} | {rss_mb:.1} MB | {size_mb:.1} MB | {runs} |\n"
        )
    }
}

impl Report {
    pub(crate) fn new(quick: bool) -> Self {
        Self {
            mode: if quick { "quick" } else { "full" }.to_owned(),
            suites: Vec::new(),
            only: false,
            machine: Machine::probe(),
            elapsed_s: 0.0,
            rows: Vec::new(),
            calls: Vec::new(),
            cold_start: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn note(&mut self, text: impl Into<String>) {
        let text = text.into();
        eprintln!("bench: note: {text}");
        self.notes.push(text);
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn row(
        &mut self,
        suite: &str,
        metric: &str,
        ours: String,
        baseline: String,
        ratio: Option<f64>,
        target: &str,
        met: Option<bool>,
        note: impl Into<String>,
    ) {
        let row = Row {
            suite: suite.into(),
            metric: metric.into(),
            ours,
            baseline,
            ratio,
            target: target.into(),
            met,
            note: note.into(),
        };
        eprintln!(
            "bench: {} / {}: {} vs {} → {} ({})",
            row.suite,
            row.metric,
            row.ours,
            row.baseline,
            fmt_ratio(row.ratio),
            fmt_met(row.met)
        );
        self.rows.push(row);
    }

    /// The figures as a Markdown table (also what the command prints).
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| suite | metric | ours | baseline | ratio | target | |\n|---|---|---|---|---|---|---|\n",
        );
        out.extend(self.rows.iter().map(Row::table_line));
        if !self.calls.is_empty() {
            out.push_str("\n| operation | n | ours: GameLift | ours: DynamoDB reads | ours: DynamoDB writes | docs/architecture.md#functions-and-call-budget budget | | nakama-gamelift: GameLift |\n|---|---|---|---|---|---|---|---|\n");
            out.extend(self.calls.iter().map(CallRow::table_line));
        }
        if !self.cold_start.is_empty() {
            out.push_str("\n| binary | init (exec → first poll) | hello | ratio | RSS after init | stripped size | runs |\n|---|---|---|---|---|---|---|\n");
            out.extend(self.cold_start.iter().map(ColdRow::table_line));
        }
        out
    }

    /// Writes `report.json` and `REPORT.md` into `dir`.
    pub(crate) fn write(&mut self, dir: &Path) -> Result<(), String> {
        self.machine.load_end = load();
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("report.json"), json + "\n")
            .map_err(|e| format!("{}/report.json: {e}", dir.display()))?;
        // The hand-written reading of a run (below ANALYSIS_MARKER) survives a regeneration.
        let path = dir.join("REPORT.md");
        let mut markdown = self.markdown();
        if let Ok(previous) = std::fs::read_to_string(&path)
            && let Some(at) = previous.find(ANALYSIS_MARKER)
        {
            markdown.push('\n');
            markdown.push_str(&previous[at..]);
        }
        std::fs::write(&path, markdown).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(())
    }

    fn markdown(&self) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ignored = write!(
            out,
            "# fleetlift benchmark report\n\n\
             Generated by `fleet-bench{}{}` ({} mode, {:.0} s). Every figure is a ratio against a baseline \
             measured in the same run on the same DynamoDB Local; absolute times are shown only beside their \
             baseline, because the machine is shared and noisy.\n\n\
             **Machine:** {} · {} logical CPUs ({}) · {} MB RAM · load {} at start, {} at end · {}\n\n",
            if self.mode == "quick" { " --quick" } else { "" },
            if self.only {
                format!(" --only {}", self.suites.join(","))
            } else {
                String::new()
            },
            self.mode,
            self.elapsed_s,
            m.uname,
            m.nproc,
            m.cpu,
            m.memory_mb,
            m.load_start,
            m.load_end,
            m.date
        );
        out.push_str("## Results\n\n");
        out.push_str(&self.table());
        out.push_str("\nNotes on individual rows:\n\n");
        for r in &self.rows {
            if !r.note.is_empty() {
                let _ignored = writeln!(out, "- **{} / {}**: {}", r.suite, r.metric, r.note);
            }
        }
        if !self.notes.is_empty() {
            out.push_str("\nRun notes:\n\n");
            for n in &self.notes {
                let _ignored = writeln!(out, "- {n}");
            }
        }
        out.push_str(SUITES_TEXT);
        out
    }
}

/// Where the hand-written reading of a run starts in `REPORT.md`; everything from it on is kept when the
/// report is written again.
pub(crate) const ANALYSIS_MARKER: &str = "<!-- analysis: kept by fleet-bench -->";

/// What each suite measures, and the public anchors; the run-specific reading follows [`ANALYSIS_MARKER`].
const SUITES_TEXT: &str = "
## What each suite measures

- **get**: `GET /v1/sessions/{id}` through the HTTP gateway (JWT check, the API Gateway v2 event, the
  fleet-api handler, one strongly consistent read) against a raw SDK `GetItem` of the same item on the same
  DynamoDB Local, interleaved so noise hits both alike. Target: p50 ratio ≤ 1.3.
- **list scaling**: a filtered list page (`+region:eu-west-1 +properties.mode:ranked`, 20 per page) from
  the store (`DynamoStore::list_sessions`: the keys-only index Query and the BatchGetItem of the page's
  sessions that fleet-api makes) at three table sizes, seeded with the
  store's own `seed_sessions` (BatchWriteItem). The baseline is the same page from a second table that
  stays at the smallest size, measured interleaved with each size (so a JVM collection after seeding hits
  both), which also makes the row at the smallest size a check that the two tables read alike. The page
  through the HTTP gateway is shown beside it. Read amplification (items read per item returned) comes
  from the store's own page accounting. Targets: ≤ 1.2 at the largest size; amplification ≤ 2.
- **events**: fulfilled placement events in SQS batches of 10 (SNS envelopes, as GameLift → SNS → SQS
  delivers them) through `placement_events::process` on DynamoDB Local, against the same transactions
  run raw at the same concurrency (per batch the 40-item fulfilment transaction and the 10-item release of
  the players' pending counts, no reads). Target: ≥ 0.9. Also shown: against GameLift's own placement
  rate (≥ 1), and against one raw `PutItem` per event (diagnostic).
- **create→push**: `POST /v1/sessions` with a player token, until the placement's message arrives on the
  player's WebSocket; gamelift-sim is configured with a fixed placement delay, so the overhead is the
  latency minus that delay (the simulator's event, the queue, placement-events' read and transaction, its
  connection lookups, sent record and PostToConnection; the stream's notifier is the fallback). First,
  half as many creates as are counted (at least two) warm up DynamoDB Local's JIT and the stack's
  connections and are not counted: DynamoDB Local's transactions keep getting faster for about 60
  creates. Target: p99 overhead ≤ 50 ms.
- **joins under contention**: 1,000 players race for 100 sessions (8 seats each, so 200 must be refused)
  through the store's `reserve_seats` (the join's transaction; GameLift's CreatePlayerSessions is not in
  the loop), against raw `TransactWriteItems` of the same shape (a conditional counter update plus a seat
  `Put`) at the same concurrency. Afterwards every session's seat items are counted against its cap.
  Targets: 0 overbooked; ratio ≥ 0.7.
- **calls per operation**: the same workload through the HTTP gateway and `placement_events::process` on
  the in-memory fakes, which count every GameLift call and every DynamoDB read and write, side by side with
  the docs/architecture.md#functions-and-call-budget budget and nakama-gamelift's pattern for the same workload (its GameLift calls, from its
  code as our design notes describe it: DescribeGameSessions per fulfilled event, UpdateGameSession per status
  update, SearchGameSessions per unfiltered list page; its storage writes go to Nakama's database, not
  counted here).
- **cold start**: each release binary (stripped by the release profile) is executed against a local fake
  of the Lambda Runtime API with the environment a Lambda has (`AWS_LAMBDA_RUNTIME_API`,
  `AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128`, `AWS_REGION`, `_HANDLER`, the
  function's `FLEETLIFT_*`); init is exec → its first `GET /2018-06-01/runtime/invocation/next`, RSS is
  `VmRSS` right then. Baseline: a minimal `lambda_runtime` hello built the same way
  (`fleet-functions`' example `lambda-hello`). Every binary, hello too, is first copied (and synced) into
  one staging directory and run from there: how a file was written shapes its page cache, and the
  linker's output took up to 15% more page faults at start than a copy of the same bytes, by an amount
  that varied from binary to binary. Targets: init ≤ 1.5× hello; RSS ≤ 32 MB.

## Public anchors

- Rust on Lambda: init ≈ 14 ms on arm64; Node.js ≈ 128 ms (published cold-start comparisons). Our local
  init is measured on this machine's CPU without the Firecracker VM and the code download, so compare the
  ratio to hello, not the absolute time, with those figures.
- GameLift's control-plane rate limits are the ceiling on calls per second per account and Region
  (as modelled by gamelift-sim: StartGameSessionPlacement 50/s, CreatePlayerSessions 150/s,
  DescribeGameSessions 20/s, UpdateGameSession 20/s, SearchGameSessions 5/s, 500/s for all APIs together).
";
