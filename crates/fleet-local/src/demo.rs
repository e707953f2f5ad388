//! `fleet-local demo`: bots that use the system the way a game backend and its players do, through
//! the public endpoints only (HTTP, WebSocket, SigV4), with a live progress line and a summary.
//!
//! Each bot is one player with one WebSocket connection. Per round it creates a session for itself
//! (player token), waits for the placement's push on its WebSocket (the create→push latency), has a
//! friend join the session (the friend's token), reports the player count as the game server would
//! (`update_instance_info`, game-server key), and ends the session (`DELETE …?terminate=true`, service
//! key). A bot that misses a step counts an error and goes on with its next round.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

use crate::client::signed;
use crate::gateway::mint_token;
use crate::local::GatewayAuth;
use crate::stack::SigningKey;

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
    /// Creates accepted (202).
    pub placements: u64,
    /// Placements pushed as FULFILLED.
    pub fulfilled: u64,
    /// Placements pushed with another status.
    pub unfulfilled: u64,
    /// Joins that succeeded.
    pub joins: u64,
    /// Status updates accepted.
    pub updates: u64,
    /// Sessions ended.
    pub ended: u64,
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
    placements: AtomicU64,
    fulfilled: AtomicU64,
    unfulfilled: AtomicU64,
    joins: AtomicU64,
    updates: AtomicU64,
    ended: AtomicU64,
    errors: AtomicU64,
    latencies: Mutex<Vec<u64>>,
    first_errors: Mutex<Vec<String>>,
}

impl Counters {
    async fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().await;
        if first.len() < 5 {
            first.push(what);
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

/// Runs the bots to the end, printing a progress line to stderr; returns the summary.
pub async fn run(options: DemoOptions) -> DemoSummary {
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let total = u64::from(options.bots) * u64::from(options.rounds);
    let progress = {
        let c = counters.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let lat = { c.latencies.lock().await.clone() };
                let mut sorted = lat;
                sorted.sort_unstable();
                eprint!(
                    "\rplacements {}/{}  fulfilled {}  joins {}  updates {}  ended {}  errors {}  p50 {}   ",
                    c.placements.load(Ordering::Relaxed),
                    total,
                    c.fulfilled.load(Ordering::Relaxed),
                    c.joins.load(Ordering::Relaxed),
                    c.updates.load(Ordering::Relaxed),
                    c.ended.load(Ordering::Relaxed),
                    c.errors.load(Ordering::Relaxed),
                    percentile(&sorted, 0.5).map_or("-".to_owned(), |ms| format!("{ms} ms")),
                );
            }
        })
    };
    let http = reqwest::Client::new();
    let bots: Vec<_> = (0..options.bots)
        .map(|i| {
            let (o, c, h) = (options.clone(), counters.clone(), http.clone());
            tokio::spawn(async move { bot(i, &o, &c, &h).await })
        })
        .collect();
    for b in bots {
        if let Err(e) = b.await {
            counters.error(format!("bot task: {e}")).await;
        }
    }
    progress.abort();
    eprintln!();
    let mut sorted = counters.latencies.lock().await.clone();
    sorted.sort_unstable();
    DemoSummary {
        placements: counters.placements.load(Ordering::Relaxed),
        fulfilled: counters.fulfilled.load(Ordering::Relaxed),
        unfulfilled: counters.unfulfilled.load(Ordering::Relaxed),
        joins: counters.joins.load(Ordering::Relaxed),
        updates: counters.updates.load(Ordering::Relaxed),
        ended: counters.ended.load(Ordering::Relaxed),
        errors: counters.errors.load(Ordering::Relaxed),
        p50_ms: percentile(&sorted, 0.5),
        p99_ms: percentile(&sorted, 0.99),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        first_errors: counters.first_errors.lock().await.clone(),
    }
}

async fn bot(i: u32, o: &DemoOptions, c: &Counters, http: &reqwest::Client) {
    let me = format!(
        "demo-bot-{i}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let friend = format!("{me}-friend");
    let token = mint_token(&o.auth, &me, 3600);
    let friend_token = mint_token(&o.auth, &friend, 3600);
    let (mut socket, _) =
        match tokio_tungstenite::connect_async(format!("{}/?token={token}", o.ws_url)).await {
            Ok(s) => s,
            Err(e) => {
                c.error(format!("{me}: WebSocket connect: {e}")).await;
                return;
            }
        };
    for round in 0..o.rounds {
        let body = json!({
            "maxPlayers": o.max_players,
            "players": [{"playerId": me}],
            "name": format!("demo-{i}-{round}"),
            "properties": {"mode": "demo"},
        });
        let t0 = Instant::now();
        let created = http
            .post(format!("{}/v1/sessions", o.http_url))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await;
        let placement_id = match created {
            Ok(r) if r.status().as_u16() == 202 => match r.json::<Value>().await {
                Ok(v) => v["placementId"].as_str().unwrap_or_default().to_owned(),
                Err(e) => {
                    c.error(format!("{me}: create answer: {e}")).await;
                    continue;
                }
            },
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                c.error(format!("{me}: create: {status} {text}")).await;
                continue;
            }
            Err(e) => {
                c.error(format!("{me}: create: {e}")).await;
                continue;
            }
        };
        c.placements.fetch_add(1, Ordering::Relaxed);
        // The push for this placement (the bot's own connection hears every placement it requested).
        let push = tokio::time::timeout(o.push_timeout, async {
            while let Some(frame) = socket.next().await {
                if let Ok(Message::Text(text)) = frame
                    && let Ok(v) = serde_json::from_str::<Value>(text.as_str())
                    && v["type"] == "placement"
                    && v["placementId"] == placement_id.as_str()
                {
                    return Some(v);
                }
            }
            None
        })
        .await;
        let msg = match push {
            Ok(Some(v)) => v,
            Ok(None) => {
                c.error(format!("{me}: WebSocket closed")).await;
                return;
            }
            Err(_) => {
                c.error(format!(
                    "{me}: no push for {placement_id} within {:?}",
                    o.push_timeout
                ))
                .await;
                continue;
            }
        };
        c.latencies
            .lock()
            .await
            .push(u64::try_from(t0.elapsed().as_millis()).unwrap_or(u64::MAX));
        if msg["status"] != "FULFILLED" {
            c.unfulfilled.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        c.fulfilled.fetch_add(1, Ordering::Relaxed);
        let Some(session_id) = msg["session"]["id"].as_str().map(str::to_owned) else {
            c.error(format!("{me}: FULFILLED push without a session"))
                .await;
            continue;
        };
        let join = http
            .post(format!("{}/v1/sessions/{session_id}/join", o.http_url))
            .bearer_auth(&friend_token)
            .json(&json!({"players": [{"playerId": friend}]}))
            .send()
            .await;
        match join {
            Ok(r) if r.status().is_success() => {
                c.joins.fetch_add(1, Ordering::Relaxed);
            }
            Ok(r) => c.error(format!("{me}: join: {}", r.status())).await,
            Err(e) => c.error(format!("{me}: join: {e}")).await,
        }
        let report = json!({"id": session_id, "playerCount": 2}).to_string();
        let url = format!("{}/v1/rpc/update_instance_info", o.http_url);
        match signed(
            http,
            reqwest::Method::POST,
            &url,
            Some(report),
            &o.game_server_key,
        ) {
            Ok(req) => match req.send().await {
                Ok(r) if r.status().is_success() => {
                    c.updates.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => {
                    c.error(format!("{me}: update_instance_info: {}", r.status()))
                        .await
                }
                Err(e) => c.error(format!("{me}: update_instance_info: {e}")).await,
            },
            Err(e) => c.error(format!("{me}: signing: {e}")).await,
        }
        let url = format!("{}/v1/sessions/{session_id}?terminate=true", o.http_url);
        match signed(http, reqwest::Method::DELETE, &url, None, &o.service_key) {
            Ok(req) => match req.send().await {
                Ok(r) if r.status().is_success() => {
                    c.ended.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => c.error(format!("{me}: delete: {}", r.status())).await,
                Err(e) => c.error(format!("{me}: delete: {e}")).await,
            },
            Err(e) => c.error(format!("{me}: signing: {e}")).await,
        }
    }
    if let Err(e) = socket.close(None).await {
        tracing::debug!(error = %e, "closing the bot's WebSocket");
    }
    // Drain the close handshake so the gateway sees a clean close.
    while let Some(Ok(_)) = socket.next().await {}
}

impl DemoSummary {
    /// The summary as the demo prints it.
    pub fn render(&self) -> String {
        let ms = |v: Option<u64>| v.map_or("-".to_owned(), |v| format!("{v} ms"));
        let mut out = format!(
            "demo: {} placements ({} fulfilled, {} not), create→push p50 {} p99 {}, {} joins, {} status updates, {} sessions ended, {} errors, {:.1} s",
            self.placements,
            self.fulfilled,
            self.unfulfilled,
            ms(self.p50_ms),
            ms(self.p99_ms),
            self.joins,
            self.updates,
            self.ended,
            self.errors,
            self.elapsed_ms as f64 / 1000.0,
        );
        for e in &self.first_errors {
            out.push_str("\n  error: ");
            out.push_str(e);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile(&[7], 0.99), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
