//! An in-memory queue with SQS semantics between gamelift-sim's events and the placement-events
//! handler, standing in for the SNS topic → SQS queue → Lambda event source mapping of the deployment.
//!
//! What it keeps from SQS and Lambda, because the handler's correctness depends on it:
//!
//! - **Bodies** are the SNS envelopes the simulator publishes (SNS → SQS without raw delivery), so the
//!   handler parses the same shape as in AWS.
//! - **Batches** of up to [`QueueOptions::batch_size`] (10) visible messages, delivered as an
//!   [`SqsEvent`] built as Lambda's JSON (`messageId`, `receiptHandle`, `body`, `attributes` with
//!   `ApproximateReceiveCount`, `md5OfBody`, `eventSource` `aws:sqs`, `eventSourceARN`, `awsRegion`).
//! - **Visibility timeout**: a received message is invisible for [`QueueOptions::visibility_timeout`];
//!   messages named in `batchItemFailures` are not deleted and come back after it, every other message
//!   of the batch is deleted.
//! - **Redrive**: a message already received [`QueueOptions::max_receives`] times (5, the template's
//!   `maxReceiveCount`) moves to the dead-letter queue the next time it would be received, and stays
//!   there for inspection ([`LocalQueue::dlq`]).
//!
//! Quarantined records (acknowledged poison, docs/architecture.md#placement-events-and-results) are not visible in the handler's response; the
//! stack records them through [`LocalQueue::record_quarantined`] for inspection.
//!
//! Each delivery, failed message, dead-lettered or quarantined message is also a [`term`] line.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Digest as _;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::term::{self, Line, Source};

/// How the queue behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// How long a received message stays invisible (SQS `VisibilityTimeout`).
    pub visibility_timeout: Duration,
    /// Receives after which a message is moved to the dead-letter queue (`maxReceiveCount`).
    pub max_receives: u32,
    /// Most messages per handler invocation (the event source mapping's `BatchSize`).
    pub batch_size: usize,
    /// Longest the poller sleeps when nothing is visible (new messages wake it at once).
    pub wait: Duration,
}

impl Default for QueueOptions {
    /// 30 s visibility (short enough that a transient failure is retried soon on a laptop), 5
    /// receives, batches of 10, 100 ms polls.
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 5,
            batch_size: 10,
            wait: Duration::from_millis(100),
        }
    }
}

/// A message moved to the dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetter {
    /// The SQS message id.
    pub message_id: String,
    /// The body, unchanged.
    pub body: String,
    /// How many times it was received before it was moved.
    pub receive_count: u32,
}

/// A record the handler acknowledged as poison (logged and never redelivered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quarantined {
    /// The SQS message id.
    pub message_id: String,
    /// The body.
    pub body: String,
}

/// Counters of what the queue did (reported by `GET /v1/health`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    /// Messages sent to the queue.
    pub enqueued: u64,
    /// Handler invocations.
    pub batches: u64,
    /// Messages deleted after a successful delivery.
    pub deleted: u64,
    /// Deliveries reported back as batch item failures.
    pub failures: u64,
    /// Messages moved to the dead-letter queue.
    pub dead_lettered: u64,
    /// Records the handler quarantined.
    pub quarantined: u64,
    /// Messages waiting to be received.
    pub visible: u64,
    /// Messages received and not yet deleted or visible again.
    pub in_flight: u64,
}

/// A message still in the queue, as a console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    /// The SQS message id.
    pub message_id: String,
    /// The body, unchanged.
    pub body: String,
    /// Receives so far.
    pub receive_count: u32,
    /// Whether it is received and invisible now (else it waits to be received).
    pub in_flight: bool,
    /// When it was sent (epoch milliseconds).
    pub sent_ms: i64,
}

#[derive(Debug)]
struct Message {
    id: String,
    body: String,
    sent_ms: i64,
    first_receive_ms: Option<i64>,
    receive_count: u32,
    invisible_until: Option<Instant>,
    receipt: Option<String>,
}

#[derive(Debug, Default)]
struct State {
    messages: VecDeque<Message>,
    dlq: Vec<DeadLetter>,
    quarantined: Vec<Quarantined>,
    stats: QueueStats,
}

/// The queue. Clones share it.
#[derive(Debug, Clone)]
pub struct LocalQueue {
    state: Arc<Mutex<State>>,
    notify: Arc<Notify>,
    options: QueueOptions,
    arn: String,
    region: String,
}

fn epoch_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn md5_like(body: &str) -> String {
    // SQS sends an MD5 of the body; nothing checks it, so a truncated SHA-256 keeps the field's shape
    // without another hash crate.
    let digest = sha2::Sha256::digest(body.as_bytes());
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

impl LocalQueue {
    /// An empty queue named by `arn` (the `eventSourceARN` of its records) in `region`.
    pub fn new(options: QueueOptions, arn: impl Into<String>, region: impl Into<String>) -> Self {
        let mut options = options;
        // SQS refuses batches outside 1–10 for a standard queue without a batch window; keep within it.
        options.batch_size = options.batch_size.clamp(1, 10);
        options.max_receives = options.max_receives.max(1);
        Self {
            state: Arc::new(Mutex::new(State::default())),
            notify: Arc::new(Notify::new()),
            options,
            arn: arn.into(),
            region: region.into(),
        }
    }

    /// The options in force.
    pub fn options(&self) -> &QueueOptions {
        &self.options
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind: keep serving.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Sends a message (SendMessage); returns its message id.
    pub fn enqueue(&self, body: impl Into<String>) -> String {
        self.enqueue_batch([body.into()]).pop().unwrap_or_default()
    }

    /// Sends several messages at once (SendMessageBatch): they are visible together, so the next
    /// receive delivers them in one batch (up to the batch size). Returns their message ids.
    pub fn enqueue_batch(&self, bodies: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut ids = Vec::new();
        {
            let mut s = self.state();
            for body in bodies {
                let id = uuid::Uuid::new_v4().to_string();
                s.messages.push_back(Message {
                    id: id.clone(),
                    body,
                    sent_ms: epoch_ms(),
                    first_receive_ms: None,
                    receive_count: 0,
                    invisible_until: None,
                    receipt: None,
                });
                s.stats.enqueued += 1;
                ids.push(id);
            }
        }
        self.notify.notify_one();
        ids
    }

    /// Receives up to a batch of visible messages (ReceiveMessage), as the records of Lambda's SQS
    /// event, making them invisible for the visibility timeout. A visible message that was already
    /// received `max_receives` times is moved to the dead-letter queue instead.
    pub fn receive(&self) -> SqsEvent {
        let now = Instant::now();
        let now_ms = epoch_ms();
        let mut records: Vec<Value> = Vec::new();
        let mut s = self.state();
        let mut i = 0;
        while i < s.messages.len() && records.len() < self.options.batch_size {
            let visible = s.messages[i].invisible_until.is_none_or(|t| t <= now);
            if !visible {
                i += 1;
                continue;
            }
            if s.messages[i].receive_count >= self.options.max_receives {
                if let Some(m) = s.messages.remove(i) {
                    tracing::warn!(
                        message_id = m.id.as_str(),
                        receives = m.receive_count,
                        "message moved to the dead-letter queue"
                    );
                    if term::enabled() {
                        term::emit(Line::Trouble {
                            from: Source::Queue,
                            text: format!(
                                "message {} moved to the dead-letter queue after {} receives: {}",
                                m.id,
                                m.receive_count,
                                term::queue_message_summary(Some(&m.body))
                            ),
                        });
                    }
                    s.dlq.push(DeadLetter {
                        message_id: m.id,
                        body: m.body,
                        receive_count: m.receive_count,
                    });
                    s.stats.dead_lettered += 1;
                }
                continue;
            }
            let m = &mut s.messages[i];
            m.receive_count += 1;
            m.invisible_until = Some(now + self.options.visibility_timeout);
            let first = *m.first_receive_ms.get_or_insert(now_ms);
            // A new receipt handle per receive, as SQS does: an old one no longer deletes the message.
            let receipt = format!("{}#{}", m.id, m.receive_count);
            m.receipt = Some(receipt.clone());
            records.push(json!({
                "messageId": m.id,
                "receiptHandle": receipt,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": m.receive_count.to_string(),
                    "SentTimestamp": m.sent_ms.to_string(),
                    "SenderId": "AIDALOCALSNSSENDER000",
                    "ApproximateFirstReceiveTimestamp": first.to_string(),
                },
                "messageAttributes": {},
                "md5OfBody": md5_like(&m.body),
                "eventSource": "aws:sqs",
                "eventSourceARN": self.arn,
                "awsRegion": self.region,
            }));
            i += 1;
        }
        drop(s);
        // Built from Lambda's JSON so the event is exactly what the deployed function deserializes.
        serde_json::from_value(json!({ "Records": records })).unwrap_or_else(|e| {
            tracing::error!(error = %e, "could not build the SQS event; batch skipped");
            SqsEvent::default()
        })
    }

    /// Deletes a received message by its receipt handle (DeleteMessage); a stale handle does nothing.
    pub fn delete(&self, receipt: &str) -> bool {
        let mut s = self.state();
        let before = s.messages.len();
        s.messages.retain(|m| m.receipt.as_deref() != Some(receipt));
        let deleted = s.messages.len() < before;
        if deleted {
            s.stats.deleted += 1;
        }
        deleted
    }

    /// Applies a handler's answer to the batch it was given, as the event source mapping does: the
    /// messages named in `batchItemFailures` stay in the queue (visible again after the visibility
    /// timeout); every other message of the batch is deleted.
    pub fn settle(&self, batch: &SqsEvent, response: &SqsBatchResponse) {
        let failed: HashSet<&str> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.as_str())
            .collect();
        // An identifier that names no message of the batch makes Lambda treat the whole batch as failed.
        let ids: HashSet<&str> = batch
            .records
            .iter()
            .filter_map(|r| r.message_id.as_deref())
            .collect();
        let whole_batch_failed = failed.iter().any(|id| !ids.contains(id));
        let mut kept = Vec::new();
        for record in &batch.records {
            let id = record.message_id.as_deref().unwrap_or("");
            if whole_batch_failed || failed.contains(id) {
                self.state().stats.failures += 1;
                kept.push(record);
                continue;
            }
            if let Some(receipt) = record.receipt_handle.as_deref() {
                self.delete(receipt);
            }
        }
        if !kept.is_empty() && term::enabled() {
            let what: Vec<String> = kept
                .iter()
                .map(|r| term::queue_message_summary(r.body.as_deref()))
                .collect();
            term::emit(Line::Trouble {
                from: Source::Queue,
                text: format!(
                    "{} of {} messages failed in {}, visible again in {} s: {}",
                    kept.len(),
                    batch.records.len(),
                    fleet_functions::placement_events::FUNCTION,
                    self.options.visibility_timeout.as_secs_f64(),
                    term::batch_summary(&what)
                ),
            });
        }
    }

    /// Records a message the handler quarantined.
    pub fn record_quarantined(&self, message_id: &str, body: &str) {
        if term::enabled() {
            term::emit(Line::Trouble {
                from: Source::Queue,
                text: format!(
                    "message {message_id} quarantined (acknowledged, never redelivered): {}",
                    term::queue_message_summary(Some(body))
                ),
            });
        }
        let mut s = self.state();
        s.quarantined.push(Quarantined {
            message_id: message_id.to_owned(),
            body: body.to_owned(),
        });
        s.stats.quarantined += 1;
    }

    /// The dead-letter queue's messages, oldest first.
    pub fn dlq(&self) -> Vec<DeadLetter> {
        self.state().dlq.clone()
    }

    /// The records quarantined so far, oldest first.
    pub fn quarantined(&self) -> Vec<Quarantined> {
        self.state().quarantined.clone()
    }

    /// The first `limit` messages still in the queue (waiting or in flight), oldest first.
    pub fn messages(&self, limit: usize) -> Vec<QueuedMessage> {
        let now = Instant::now();
        self.state()
            .messages
            .iter()
            .take(limit)
            .map(|m| QueuedMessage {
                message_id: m.id.clone(),
                body: m.body.clone(),
                receive_count: m.receive_count,
                in_flight: m.invisible_until.is_some_and(|t| t > now),
                sent_ms: m.sent_ms,
            })
            .collect()
    }

    /// Counters, with the current visible and in-flight depths.
    pub fn stats(&self) -> QueueStats {
        let now = Instant::now();
        let s = self.state();
        let mut stats = s.stats;
        let in_flight = s
            .messages
            .iter()
            .filter(|m| m.invisible_until.is_some_and(|t| t > now))
            .count() as u64;
        stats.in_flight = in_flight;
        stats.visible = s.messages.len() as u64 - in_flight;
        stats
    }

    /// When the next invisible message becomes visible, if any.
    fn next_visible(&self) -> Option<Instant> {
        self.state()
            .messages
            .iter()
            .filter_map(|m| m.invisible_until)
            .min()
    }

    /// The event source mapping: receives batches forever and hands each to `handler`, settling the
    /// batch with its answer. Sleeps when nothing is visible, waking for a new message, for the next
    /// message to become visible again, or after [`QueueOptions::wait`].
    pub async fn run<F, Fut>(self, handler: F)
    where
        F: Fn(SqsEvent) -> Fut,
        Fut: Future<Output = SqsBatchResponse>,
    {
        loop {
            let batch = self.receive();
            if batch.records.is_empty() {
                let now = Instant::now();
                let until = self
                    .next_visible()
                    .filter(|t| *t > now)
                    .map_or(self.options.wait, |t| (t - now).min(self.options.wait));
                tokio::select! {
                    () = self.notify.notified() => {}
                    () = tokio::time::sleep(until) => {}
                }
                continue;
            }
            self.state().stats.batches += 1;
            if term::enabled() {
                term::emit(delivery_line(&batch));
            }
            let response = handler(batch.clone()).await;
            self.settle(&batch, &response);
        }
    }
}

/// The terminal line of a batch handed to placement-events: its events, and which delivery it is (the
/// highest receive count among its messages).
fn delivery_line(batch: &SqsEvent) -> Line {
    let what: Vec<String> = batch
        .records
        .iter()
        .map(|r| term::queue_message_summary(r.body.as_deref()))
        .collect();
    let attempt = batch
        .records
        .iter()
        .filter_map(|r| r.attributes.get("ApproximateReceiveCount")?.parse().ok())
        .max()
        .unwrap_or(1);
    Line::Delivery {
        from: Source::Queue,
        handler: fleet_functions::placement_events::FUNCTION,
        summary: term::batch_summary(&what),
        attempt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::event::sqs::BatchItemFailure;

    fn queue(visibility_ms: u64) -> LocalQueue {
        let options = QueueOptions {
            visibility_timeout: Duration::from_millis(visibility_ms),
            ..QueueOptions::default()
        };
        LocalQueue::new(
            options,
            "arn:aws:sqs:us-east-1:000000000000:fleetlift-local-placement-events",
            "us-east-1",
        )
    }

    fn fail(ids: &[&str]) -> SqsBatchResponse {
        let mut r = SqsBatchResponse::default();
        for id in ids {
            let mut f = BatchItemFailure::default();
            f.item_identifier = (*id).to_owned();
            r.batch_item_failures.push(f);
        }
        r
    }

    #[tokio::test]
    async fn a_batch_holds_at_most_ten_messages_shaped_like_lambdas_sqs_records() {
        let q = queue(30_000);
        for i in 0..25 {
            q.enqueue(format!("{{\"n\":{i}}}"));
        }
        let first = q.receive();
        assert_eq!(first.records.len(), 10);
        let r = &first.records[0];
        assert_eq!(r.body.as_deref(), Some("{\"n\":0}"));
        assert_eq!(r.event_source.as_deref(), Some("aws:sqs"));
        assert_eq!(r.aws_region.as_deref(), Some("us-east-1"));
        assert!(
            r.event_source_arn
                .as_deref()
                .is_some_and(|a| a.starts_with("arn:aws:sqs:"))
        );
        assert_eq!(
            r.attributes
                .get("ApproximateReceiveCount")
                .map(String::as_str),
            Some("1")
        );
        assert!(r.receipt_handle.is_some() && r.md5_of_body.is_some());
        assert_eq!(q.receive().records.len(), 10);
        assert_eq!(q.receive().records.len(), 5);
        assert!(q.receive().records.is_empty(), "all 25 are in flight");
        assert_eq!(q.stats().in_flight, 25);
    }

    #[tokio::test]
    async fn a_received_message_is_invisible_until_its_visibility_timeout_passes() {
        let q = queue(80);
        q.enqueue("a");
        assert_eq!(q.receive().records.len(), 1);
        assert!(q.receive().records.is_empty());
        tokio::time::sleep(Duration::from_millis(120)).await;
        let again = q.receive();
        assert_eq!(again.records.len(), 1);
        assert_eq!(
            again.records[0]
                .attributes
                .get("ApproximateReceiveCount")
                .map(String::as_str),
            Some("2")
        );
    }

    #[tokio::test]
    async fn a_partial_batch_failure_deletes_the_others_and_redelivers_only_the_failed_one() {
        let q = queue(50);
        let ids: Vec<String> = (0..3).map(|i| q.enqueue(format!("m{i}"))).collect();
        let batch = q.receive();
        q.settle(&batch, &fail(&[ids[1].as_str()]));
        assert_eq!(q.stats().deleted, 2);
        tokio::time::sleep(Duration::from_millis(80)).await;
        let again = q.receive();
        assert_eq!(again.records.len(), 1);
        assert_eq!(
            again.records[0].message_id.as_deref(),
            Some(ids[1].as_str())
        );
        q.settle(&again, &SqsBatchResponse::default());
        assert_eq!(q.stats().visible + q.stats().in_flight, 0);
    }

    #[tokio::test]
    async fn a_failure_naming_no_message_of_the_batch_fails_the_whole_batch_as_lambda_does() {
        let q = queue(30_000);
        q.enqueue("a");
        q.enqueue("b");
        let batch = q.receive();
        q.settle(&batch, &fail(&["not-in-this-batch"]));
        assert_eq!(q.stats().deleted, 0);
        assert_eq!(q.stats().in_flight, 2);
    }

    #[tokio::test]
    async fn a_message_received_five_times_moves_to_the_dead_letter_queue() {
        let q = queue(10);
        let id = q.enqueue("always fails");
        for n in 1..=5 {
            let batch = q.receive();
            assert_eq!(batch.records.len(), 1, "receive {n}");
            q.settle(&batch, &fail(&[id.as_str()]));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            q.receive().records.is_empty(),
            "the sixth receive moves it instead"
        );
        let dlq = q.dlq();
        assert_eq!(dlq.len(), 1);
        assert_eq!(
            (
                dlq[0].message_id.as_str(),
                dlq[0].body.as_str(),
                dlq[0].receive_count
            ),
            (id.as_str(), "always fails", 5)
        );
        assert_eq!(q.stats().dead_lettered, 1);
        assert_eq!(q.stats().visible + q.stats().in_flight, 0);
    }

    #[tokio::test]
    async fn a_delivery_line_names_the_events_of_the_batch_and_its_delivery_number() {
        let q = queue(10);
        let body = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../events/placement/sns-fulfilled.json"
        ))
        .unwrap();
        q.enqueue(body);
        q.enqueue("not json");
        let Line::Delivery {
            handler,
            summary,
            attempt,
            ..
        } = delivery_line(&q.receive())
        else {
            panic!("a delivery line")
        };
        assert_eq!((handler, attempt), ("placement-events", 1));
        assert!(summary.starts_with("PlacementFulfilled "), "{summary}");
        assert!(summary.contains(", not a placement event"), "{summary}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let Line::Delivery { attempt, .. } = delivery_line(&q.receive()) else {
            panic!("a delivery line")
        };
        assert_eq!(attempt, 2, "the second delivery of the same messages");
    }

    #[tokio::test]
    async fn messages_lists_what_waits_and_what_is_in_flight_oldest_first() {
        let q = queue(30_000);
        let first = q.enqueue("first");
        let second = q.enqueue("second");
        let batch = q.receive();
        assert_eq!(batch.records.len(), 2);
        q.enqueue("third");
        assert_eq!(q.messages(2).len(), 2);
        let listed = q.messages(10);
        let seen: Vec<(&str, bool, u32)> = listed
            .iter()
            .map(|m| (m.body.as_str(), m.in_flight, m.receive_count))
            .collect();
        assert_eq!(
            seen,
            vec![("first", true, 1), ("second", true, 1), ("third", false, 0)]
        );
        assert_eq!(listed[0].message_id, first);
        assert_eq!(listed[1].message_id, second);
    }

    #[tokio::test]
    async fn a_stale_receipt_handle_does_not_delete_a_redelivered_message() {
        let q = queue(10);
        q.enqueue("a");
        let old = q.receive();
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _new = q.receive();
        let stale = old.records[0].receipt_handle.clone().unwrap_or_default();
        assert!(!q.delete(&stale));
    }

    #[tokio::test]
    async fn the_poller_delivers_every_message_once_and_retries_failures_until_they_succeed() {
        let q = queue(30);
        let seen = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
        let handler = {
            let seen = seen.clone();
            move |event: SqsEvent| {
                let seen = seen.clone();
                async move {
                    let mut failed = Vec::new();
                    for r in &event.records {
                        let body = r.body.clone().unwrap_or_default();
                        let count = r
                            .attributes
                            .get("ApproximateReceiveCount")
                            .cloned()
                            .unwrap_or_default();
                        seen.lock().unwrap().push((body.clone(), count.clone()));
                        // "flaky" fails on its first two receives only.
                        if body == "flaky" && count != "3" {
                            failed.push(r.message_id.clone().unwrap_or_default());
                        }
                    }
                    let names: Vec<&str> = failed.iter().map(String::as_str).collect();
                    fail(&names)
                }
            }
        };
        let task = tokio::spawn(q.clone().run(handler));
        for i in 0..12 {
            q.enqueue(format!("ok-{i}"));
        }
        q.enqueue("flaky");
        let deadline = Instant::now() + Duration::from_secs(5);
        while q.stats().deleted < 13 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        task.abort();
        let seen = seen.lock().unwrap().clone();
        assert_eq!(q.stats().deleted, 13);
        assert_eq!(
            seen.iter().filter(|(b, _)| b.starts_with("ok-")).count(),
            12,
            "each good message once"
        );
        assert_eq!(seen.iter().filter(|(b, _)| b == "flaky").count(), 3);
        assert!(q.stats().batches >= 3);
    }
}
