//! `fleet-local demo`: bots that use the system the way a game backend and its players do, through
//! the public endpoints only (HTTP, WebSocket, SigV4), with a progress bar and a summary table.
//!
//! Each bot is one player with one WebSocket connection. Per round it creates a session for itself
//! (player token), waits for the placement's push on its WebSocket (the create→push latency), has a
//! friend join the session (the friend's token) and join again as a client that lost the answer would
//! (a rejoin: the same seat back), reports the player count as the game server would
//! (`update_instance_info`, game-server key), and ends the session (`DELETE …?terminate=true`, service
//! key). One round in five a bot gives up waiting: it cancels its placement right after the create
//! (`DELETE /v1/placements/{id}`) and expects the CANCELLED push instead, or, when the cancel comes too
//! late (409: GameLift already placed it), plays the round as usual. A bot that misses a step counts
//! an error and goes on with its next round.
//!
//! The progress goes to stderr and nothing else does there (see [`Progress`]); the summary is for stdout.

use std::collections::HashSet;
use std::io::{IsTerminal as _, Write as _};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle, TermLike};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::gateway::mint_token;
use crate::local::GatewayAuth;
use crate::signing::SigningKey;
use crate::signing::signed;

/// Where the bots go and how hard they push.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The HTTP API.
    pub http_url: String,
    /// The WebSocket API.
    pub ws_url: String,
    /// Concurrent bots.
    pub bots: u32,
    /// Sessions per bot.
    pub rounds: u32,
    /// Players per session.
    pub max_players: u32,
    /// How long a bot waits for a push.
    pub push_timeout: Duration,
    /// Token signing (the stack's JWT key).
    pub auth: Arc<GatewayAuth>,
    /// The service key (ends sessions).
    pub service_key: SigningKey,
    /// The game-server key (reports player counts).
    pub game_server_key: SigningKey,
}

/// What the bots did.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DemoSummary {
    /// Bots that ran.
    pub bots: u64,
    /// Rounds each bot was asked for.
    pub rounds: u64,
    /// Bots with at least one failed step.
    pub failed_bots: u64,
    /// Creates accepted (202).
    pub placements: u64,
    /// Placements pushed as FULFILLED.
    pub fulfilled: u64,
    /// Placements pushed with another status.
    pub unfulfilled: u64,
    /// Joins that succeeded.
    pub joins: u64,
    /// Repeated joins answered with the seat already held (same player session).
    pub rejoins: u64,
    /// Status updates accepted.
    pub updates: u64,
    /// Sessions ended.
    pub ended: u64,
    /// Placements a bot gave up on and cancelled (200).
    pub cancelled: u64,
    /// Cancels that came too late: GameLift had already placed the session (409).
    pub cancels_too_late: u64,
    /// Failed steps.
    pub errors: u64,
    /// create → push latency, median, milliseconds.
    pub p50_ms: Option<u64>,
    /// create → push latency, 99th percentile, milliseconds.
    pub p99_ms: Option<u64>,
    /// Wall time of the run, milliseconds.
    pub elapsed_ms: u64,
    /// The first few errors, for the summary.
    pub first_errors: Vec<String>,
}

#[derive(Default)]
struct Counters {
    rounds_done: AtomicU64,
    placements: AtomicU64,
    fulfilled: AtomicU64,
    unfulfilled: AtomicU64,
    joins: AtomicU64,
    rejoins: AtomicU64,
    updates: AtomicU64,
    ended: AtomicU64,
    cancelled: AtomicU64,
    cancels_too_late: AtomicU64,
    errors: AtomicU64,
    // Plain mutexes, never held across an await: the progress bar reads them from its own thread.
    latencies: Mutex<Vec<u64>>,
    first_errors: Mutex<Vec<String>>,
    failed_bots: Mutex<HashSet<String>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Counters stay meaningful after a panicking bot: keep counting.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Counters {
    /// A step's outcome: counted in `done` when it succeeded, else an error of `bot`.
    fn outcome(&self, bot: &str, done: &AtomicU64, result: Result<(), String>) {
        match result {
            Ok(()) => {
                done.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => self.error(bot, e),
        }
    }

    fn error(&self, bot: &str, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        lock(&self.failed_bots).insert(bot.to_owned());
        let mut first = lock(&self.first_errors);
        if first.len() < 5 {
            first.push(format!("{bot}: {what}"));
        }
    }

    fn sorted_latencies(&self) -> Vec<u64> {
        let mut sorted = lock(&self.latencies).clone();
        sorted.sort_unstable();
        sorted
    }

    /// The progress bar's counters.
    fn progress_text(&self) -> String {
        format!(
            "placements {}  fulfilled {}  joins {}  updates {}  ended {}  errors {}  p50 {}",
            self.placements.load(Ordering::Relaxed),
            self.fulfilled.load(Ordering::Relaxed),
            self.joins.load(Ordering::Relaxed),
            self.updates.load(Ordering::Relaxed),
            self.ended.load(Ordering::Relaxed),
            self.errors.load(Ordering::Relaxed),
            percentile(&self.sorted_latencies(), 0.5)
                .map_or("-".to_owned(), |ms| format!("{ms} ms")),
        )
    }
}

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

/// How the demo shows its progress: an indicatif bar on a terminal; where stderr is a file or a pipe (CI,
/// a test), the same bar drawn as plain lines, one a second, that read well in a log; or nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing shown.
    Hidden,
    /// A live bar on the terminal.
    Bar,
    /// One plain line a second.
    Lines,
}

impl Progress {
    /// [`Progress::Bar`] when stderr is a terminal, else [`Progress::Lines`].
    pub fn stderr() -> Self {
        if std::io::stderr().is_terminal() {
            Self::Bar
        } else {
            Self::Lines
        }
    }

    fn target(self) -> ProgressDrawTarget {
        match self {
            Self::Hidden => ProgressDrawTarget::hidden(),
            Self::Bar => ProgressDrawTarget::stderr_with_hz(10),
            Self::Lines => {
                ProgressDrawTarget::term_like_with_hz(Box::new(PlainLines::default()), 1)
            }
        }
    }

    /// How often the bar is brought up to date.
    fn every(self) -> Duration {
        match self {
            Self::Lines => Duration::from_secs(1),
            Self::Bar | Self::Hidden => Duration::from_millis(100),
        }
    }

    /// A spinner with `message` for a step of unknown length (starting the stack); end it with
    /// [`Step::done`] or [`Step::failed`].
    pub fn step(self, message: &str) -> Step {
        let bar = ProgressBar::with_draw_target(None, self.target());
        bar.set_style(self.style(match self {
            Self::Bar => "{spinner:.green} {msg} {elapsed:.dim}",
            Self::Lines | Self::Hidden => "{msg}",
        }));
        bar.set_message(message.to_owned());
        if self == Self::Bar {
            bar.enable_steady_tick(Duration::from_millis(100));
        }
        Step(bar, self)
    }

    /// A style from a fixed template (a broken one falls back to indicatif's default).
    fn style(self, template: &str) -> ProgressStyle {
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_spinner())
            .tick_strings(&SPINNER)
    }

    fn rounds_bar(self, total: u64, counters: &Arc<Counters>) -> ProgressBar {
        let template = match self {
            Self::Bar => {
                "{spinner:.green} {elapsed:>4} [{bar:30.cyan/blue}] {pos}/{len} rounds  {counters}"
            }
            Self::Lines | Self::Hidden => "{elapsed:>4} [{bar:30}] {pos}/{len} rounds  {counters}",
        };
        let c = counters.clone();
        let style = self
            .style(template)
            .progress_chars(if self == Self::Bar {
                "█▉▊▋▌▍▎▏ "
            } else {
                "=> "
            })
            .with_key(
                "counters",
                move |_: &ProgressState, out: &mut dyn std::fmt::Write| {
                    // Writing into the bar's own line buffer cannot fail.
                    out.write_str(&c.progress_text()).ok();
                },
            );
        let bar = ProgressBar::with_draw_target(Some(total), self.target());
        bar.set_style(style);
        bar
    }
}

/// A spinner's frames; the last one is shown once the work is done.
const SPINNER: [&str; 11] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✔"];

/// A step shown by [`Progress::step`].
#[derive(Debug)]
pub struct Step(ProgressBar, Progress);

impl Step {
    /// Ends the step, leaving `message` on its line.
    pub fn done(self, message: String) {
        if self.1 == Progress::Bar {
            // The message says how long it took: no running clock beside it any more.
            self.0.set_style(self.1.style("{spinner:.green} {msg}"));
        }
        self.0.finish_with_message(message);
    }

    /// Ends the step where it stood (the error is reported after it).
    pub fn failed(self) {
        self.0.abandon();
    }
}

/// A draw target that turns each redraw into one line on stderr: no cursor movement, no clearing, so a
/// log or a test reads the bar's successive states one after the other.
#[derive(Debug, Default)]
struct PlainLines {
    line: Mutex<String>,
    /// The last line written: a redraw that changed nothing is not repeated.
    last: Mutex<String>,
}

impl TermLike for PlainLines {
    fn width(&self) -> u16 {
        120
    }

    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }

    fn write_line(&self, s: &str) -> std::io::Result<()> {
        lock(&self.line).push_str(s);
        self.flush()
    }

    fn write_str(&self, s: &str) -> std::io::Result<()> {
        lock(&self.line).push_str(s);
        Ok(())
    }

    fn clear_line(&self) -> std::io::Result<()> {
        // Lines are never drawn over: there is nothing to clear.
        Ok(())
    }

    fn flush(&self) -> std::io::Result<()> {
        let line = std::mem::take(&mut *lock(&self.line));
        let line = line.trim_matches(|c: char| c == '\r' || c.is_whitespace());
        let mut last = lock(&self.last);
        if line.is_empty() || *last == line {
            return Ok(());
        }
        line.clone_into(&mut last);
        let mut err = std::io::stderr().lock();
        writeln!(err, "{line}")?;
        err.flush()
    }
}

/// Runs the bots to the end without showing progress; returns the summary.
pub async fn run(options: DemoOptions) -> DemoSummary {
    run_with_progress(options, Progress::Hidden).await
}

/// Runs the bots to the end, showing their progress as `progress` says; returns the summary.
pub async fn run_with_progress(options: DemoOptions, progress: Progress) -> DemoSummary {
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let total = u64::from(options.bots) * u64::from(options.rounds);
    let bar = progress.rounds_bar(total, &counters);
    let ticker = {
        let (c, bar) = (counters.clone(), bar.clone());
        tokio::spawn(async move {
            loop {
                bar.set_position(c.rounds_done.load(Ordering::Relaxed));
                tokio::time::sleep(progress.every()).await;
            }
        })
    };
    if progress == Progress::Bar {
        bar.enable_steady_tick(Duration::from_millis(100));
    }
    let http = reqwest::Client::new();
    let bots: Vec<_> = (0..options.bots)
        .map(|i| {
            let (o, c, h) = (options.clone(), counters.clone(), http.clone());
            tokio::spawn(async move { bot(i, &o, &c, &h).await })
        })
        .collect();
    for (i, b) in bots.into_iter().enumerate() {
        if let Err(e) = b.await {
            counters.error(&format!("demo-bot-{i}"), format!("bot task: {e}"));
        }
    }
    ticker.abort();
    bar.set_position(counters.rounds_done.load(Ordering::Relaxed));
    bar.finish();
    let sorted = counters.sorted_latencies();
    DemoSummary {
        bots: u64::from(options.bots),
        rounds: u64::from(options.rounds),
        failed_bots: lock(&counters.failed_bots).len() as u64,
        placements: counters.placements.load(Ordering::Relaxed),
        fulfilled: counters.fulfilled.load(Ordering::Relaxed),
        unfulfilled: counters.unfulfilled.load(Ordering::Relaxed),
        joins: counters.joins.load(Ordering::Relaxed),
        rejoins: counters.rejoins.load(Ordering::Relaxed),
        updates: counters.updates.load(Ordering::Relaxed),
        ended: counters.ended.load(Ordering::Relaxed),
        cancelled: counters.cancelled.load(Ordering::Relaxed),
        cancels_too_late: counters.cancels_too_late.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        p50_ms: percentile(&sorted, 0.5),
        p99_ms: percentile(&sorted, 0.99),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        first_errors: lock(&counters.first_errors).clone(),
    }
}

/// How a round ended.
#[derive(Debug, PartialEq, Eq)]
enum RoundEnd {
    /// On to the next round (whether this one went through or counted an error).
    Next,
    /// The bot's WebSocket is gone: no later round can hear its push.
    Stop,
}

async fn bot(i: u32, o: &DemoOptions, c: &Counters, http: &reqwest::Client) {
    let me = format!(
        "demo-bot-{i}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let token = mint_token(&o.auth, &me, 3600);
    let (mut socket, _) =
        match tokio_tungstenite::connect_async(format!("{}/?token={token}", o.ws_url)).await {
            Ok(s) => s,
            Err(e) => {
                c.error(&me, format!("WebSocket connect: {e}"));
                c.rounds_done
                    .fetch_add(u64::from(o.rounds), Ordering::Relaxed);
                return;
            }
        };
    let bot = Bot {
        friend_token: mint_token(&o.auth, &format!("{me}-friend"), 3600),
        friend: format!("{me}-friend"),
        me,
        token,
        index: i,
    };
    for round in 0..o.rounds {
        let end = bot.round(round, o, c, http, &mut socket).await;
        c.rounds_done.fetch_add(1, Ordering::Relaxed);
        if end == RoundEnd::Stop {
            c.rounds_done
                .fetch_add(u64::from(o.rounds - round - 1), Ordering::Relaxed);
            break;
        }
    }
    if let Err(e) = socket.close(None).await {
        tracing::debug!(error = %e, "closing the bot's WebSocket");
    }
    // Drain the close handshake so the gateway sees a clean close.
    while let Some(Ok(_)) = socket.next().await {}
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One bot's identity: its player, its friend, their tokens.
struct Bot {
    me: String,
    friend: String,
    token: String,
    friend_token: String,
    index: u32,
}

impl Bot {
    /// Create, hear the push, join, report, end: one session's life.
    async fn round(
        &self,
        round: u32,
        o: &DemoOptions,
        c: &Counters,
        http: &reqwest::Client,
        socket: &mut Socket,
    ) -> RoundEnd {
        let me = self.me.as_str();
        let t0 = Instant::now();
        let Some(placement_id) = self.create(round, o, c, http).await else {
            return RoundEnd::Next;
        };
        c.placements.fetch_add(1, Ordering::Relaxed);
        let gave_up = (self.index + round) % 5 == 4 && self.cancel(&placement_id, o, c, http).await;
        let msg = match self.hear_push(&placement_id, o, c, socket).await {
            Ok(msg) => msg,
            Err(end) => return end,
        };
        if !gave_up {
            lock(&c.latencies).push(u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX));
        }
        if gave_up && msg["status"] != "CANCELLED" {
            c.error(
                me,
                format!("cancelled {placement_id}, pushed {}", msg["status"]),
            );
        }
        if msg["status"] != "FULFILLED" {
            c.unfulfilled.fetch_add(1, Ordering::Relaxed);
            return RoundEnd::Next;
        }
        c.fulfilled.fetch_add(1, Ordering::Relaxed);
        let Some(session_id) = msg["session"]["id"].as_str().map(str::to_owned) else {
            c.error(me, "FULFILLED push without a session".into());
            return RoundEnd::Next;
        };
        self.join_twice(&session_id, o, c, http).await;
        c.outcome(
            me,
            &c.updates,
            report_two_players(&session_id, o, http).await,
        );
        c.outcome(me, &c.ended, end_session(&session_id, o, http).await);
        RoundEnd::Next
    }

    /// Asks for a session for the bot's player: the placement id of the 202, or none (counted).
    async fn create(
        &self,
        round: u32,
        o: &DemoOptions,
        c: &Counters,
        http: &reqwest::Client,
    ) -> Option<String> {
        let me = self.me.as_str();
        let body = json!({
            "maxPlayers": o.max_players,
            "players": [{"playerId": me}],
            "name": format!("demo-{}-{round}", self.index),
            "properties": {"mode": "demo"},
        });
        let created = http
            .post(format!("{}/v1/sessions", o.http_url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await;
        match created {
            Ok(r) if r.status().as_u16() == 202 => match r.json::<Value>().await {
                Ok(v) => Some(v["placementId"].as_str().unwrap_or_default().to_owned()),
                Err(e) => {
                    c.error(me, format!("create answer: {e}"));
                    None
                }
            },
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                c.error(me, format!("create: {status} {text}"));
                None
            }
            Err(e) => {
                c.error(me, format!("create: {e}"));
                None
            }
        }
    }

    /// The push for this placement (the bot's own connection hears every placement it requested), or
    /// how the round ends without it.
    async fn hear_push(
        &self,
        placement_id: &str,
        o: &DemoOptions,
        c: &Counters,
        socket: &mut Socket,
    ) -> Result<Value, RoundEnd> {
        let push = tokio::time::timeout(o.push_timeout, async {
            while let Some(frame) = socket.next().await {
                if let Ok(Message::Text(text)) = frame
                    && let Ok(v) = serde_json::from_str::<Value>(text.as_str())
                    && v["type"] == "placement"
                    && v["placementId"] == placement_id
                {
                    return Some(v);
                }
            }
            None
        })
        .await;
        match push {
            Ok(Some(v)) => Ok(v),
            Ok(None) => {
                c.error(&self.me, "WebSocket closed".into());
                Err(RoundEnd::Stop)
            }
            Err(_) => {
                c.error(
                    &self.me,
                    format!("no push for {placement_id} within {:?}", o.push_timeout),
                );
                Err(RoundEnd::Next)
            }
        }
    }

    /// The friend joins, then joins again as a client that lost the answer would: the same seat
    /// must come back.
    async fn join_twice(
        &self,
        session_id: &str,
        o: &DemoOptions,
        c: &Counters,
        http: &reqwest::Client,
    ) {
        let me = self.me.as_str();
        match self.join(session_id, o, http).await {
            Ok(seat) => {
                c.joins.fetch_add(1, Ordering::Relaxed);
                match self.join(session_id, o, http).await {
                    Ok(again) if again == seat => {
                        c.rejoins.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(again) => c.error(me, format!("rejoin: {again} instead of {seat}")),
                    Err(e) => c.error(me, format!("rejoin: {e}")),
                }
            }
            Err(e) => c.error(me, format!("join: {e}")),
        }
    }
}

/// The game server reports two players in the session.
async fn report_two_players(
    session_id: &str,
    o: &DemoOptions,
    http: &reqwest::Client,
) -> Result<(), String> {
    let report = json!({"id": session_id, "playerCount": 2}).to_string();
    let url = format!("{}/v1/rpc/update_instance_info", o.http_url);
    send_signed(
        http,
        Method::POST,
        &url,
        Some(report),
        &o.game_server_key,
        "update_instance_info",
    )
    .await
}

/// The service ends the session.
async fn end_session(
    session_id: &str,
    o: &DemoOptions,
    http: &reqwest::Client,
) -> Result<(), String> {
    let url = format!("{}/v1/sessions/{session_id}?terminate=true", o.http_url);
    send_signed(http, Method::DELETE, &url, None, &o.service_key, "delete").await
}

/// Sends a request signed with `key`: `Ok` on a success, else what went wrong, `what` failing.
async fn send_signed(
    http: &reqwest::Client,
    method: Method,
    url: &str,
    body: Option<String>,
    key: &SigningKey,
    what: &str,
) -> Result<(), String> {
    let request = signed(http, method, url, body, key).map_err(|e| format!("signing: {e}"))?;
    match request.send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("{what}: {}", r.status())),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

impl Bot {
    /// The friend joins the session: its player session id.
    async fn join(
        &self,
        session_id: &str,
        o: &DemoOptions,
        http: &reqwest::Client,
    ) -> Result<String, String> {
        let answer = http
            .post(format!("{}/v1/sessions/{session_id}/join", o.http_url))
            .bearer_auth(&self.friend_token)
            .json(&json!({"players": [{"playerId": self.friend}]}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !answer.status().is_success() {
            return Err(answer.status().to_string());
        }
        let body: Value = answer.json().await.map_err(|e| e.to_string())?;
        body["playerSessions"][0]["playerSessionId"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no player session in the answer".to_owned())
    }

    /// Gives up on a placement: whether it is now cancelled (a 409, too late, plays the round on).
    async fn cancel(
        &self,
        placement_id: &str,
        o: &DemoOptions,
        c: &Counters,
        http: &reqwest::Client,
    ) -> bool {
        let answer = http
            .delete(format!("{}/v1/placements/{placement_id}", o.http_url))
            .bearer_auth(&self.token)
            .send()
            .await;
        match answer {
            Ok(r) if r.status().as_u16() == 200 => {
                c.cancelled.fetch_add(1, Ordering::Relaxed);
                true
            }
            Ok(r) if r.status().as_u16() == 409 => {
                c.cancels_too_late.fetch_add(1, Ordering::Relaxed);
                false
            }
            Ok(r) => {
                c.error(&self.me, format!("cancel: {}", r.status()));
                false
            }
            Err(e) => {
                c.error(&self.me, format!("cancel: {e}"));
                false
            }
        }
    }
}

impl DemoSummary {
    /// The summary as a table, for stdout: one row per measure, then the first errors.
    pub fn table(&self) -> String {
        let ms = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v} ms"));
        let rows: [(&str, String); 15] = [
            (
                "bots",
                format!("{} ({} failed)", self.bots, self.failed_bots),
            ),
            ("rounds per bot", self.rounds.to_string()),
            ("placements created", self.placements.to_string()),
            ("  pushed FULFILLED", self.fulfilled.to_string()),
            ("  pushed another status", self.unfulfilled.to_string()),
            ("create → push p50", ms(self.p50_ms)),
            ("create → push p99", ms(self.p99_ms)),
            ("joins", self.joins.to_string()),
            ("  rejoins (same seat back)", self.rejoins.to_string()),
            ("status updates", self.updates.to_string()),
            ("sessions ended", self.ended.to_string()),
            ("gave up: cancelled", self.cancelled.to_string()),
            ("gave up too late (409)", self.cancels_too_late.to_string()),
            ("failed steps", self.errors.to_string()),
            (
                "elapsed",
                format!("{:.1} s", self.elapsed_ms as f64 / 1000.0),
            ),
        ];
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let value_width = rows
            .iter()
            .map(|(_, v)| v.chars().count())
            .max()
            .unwrap_or(0)
            .max("value".len());
        let pad = |text: &str, to: usize| {
            format!(
                "{text}{}",
                " ".repeat(to.saturating_sub(text.chars().count()))
            )
        };
        let mut out = format!(
            "{}  value\n{}  {}\n",
            pad("demo", width),
            "-".repeat(width),
            "-".repeat(value_width)
        );
        for (k, v) in &rows {
            out.push_str(&format!("{}  {v}\n", pad(k, width)));
        }
        if !self.first_errors.is_empty() {
            out.push_str("\nfirst errors:\n");
            for e in &self.first_errors {
                out.push_str(&format!("  {e}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_is_a_table_of_aligned_rows_then_the_first_errors() {
        let summary = DemoSummary {
            bots: 2,
            rounds: 3,
            failed_bots: 1,
            placements: 6,
            fulfilled: 5,
            errors: 1,
            p50_ms: Some(1012),
            elapsed_ms: 4_300,
            first_errors: vec!["demo-bot-1-abcdef: join: 409 Conflict".into()],
            ..DemoSummary::default()
        };
        let table = summary.table();
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("demo ") && lines[0].ends_with("value"));
        assert!(lines[1].starts_with("----"));
        let column = lines[0].find("value").unwrap();
        for (line, value) in [
            (lines[2], "2 (1 failed)"),
            (lines[4], "6"),
            (lines[7], "1012 ms"),
            (lines[8], "-"),
            (lines[16], "4.3 s"),
        ] {
            assert_eq!(
                line.char_indices().nth(column).map(|(i, _)| &line[i..]),
                Some(value),
                "{line}"
            );
        }
        assert_eq!(lines[18], "first errors:");
        assert_eq!(lines[19], "  demo-bot-1-abcdef: join: 409 Conflict");
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile(&[7], 0.99), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
