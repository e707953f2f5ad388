//! Placement events, published the way GameLift does it: an EventBridge event (`detail-type`
//! "GameLift Queue Placement Event") inside an SNS notification envelope, handed to [`EventSink`]s.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Somewhere placement events go. `publish` receives the SNS envelope (a JSON object whose `Message`
/// is the EventBridge event as a string).
#[async_trait]
pub trait EventSink: Send + Sync + 'static {
    /// Publishes one envelope. Sinks must not block for long; failures are theirs to log.
    async fn publish(&self, envelope: &Value);
}

/// Sends each envelope, serialized to a JSON string, into a `tokio::sync::mpsc` channel.
///
/// If the receiver is full the event is dropped with a warning (the simulator never blocks on a
/// slow reader); if it is closed the event is discarded.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<String>,
}

impl ChannelSink {
    /// A sink and its receiver with room for `capacity` unread events.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx }, rx)
    }

    /// A sink around an existing sender.
    pub fn from_sender(tx: mpsc::Sender<String>) -> Self {
        Self { tx }
    }
}

#[async_trait]
impl EventSink for ChannelSink {
    async fn publish(&self, envelope: &Value) {
        match self.tx.try_send(envelope.to_string()) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("event channel full; placement event dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

/// Keeps every envelope in memory (handy for assertions).
#[derive(Debug, Clone, Default)]
pub struct RecordingSink {
    events: Arc<Mutex<Vec<Value>>>,
}

impl RecordingSink {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything published so far, in order.
    pub fn events(&self) -> Vec<Value> {
        self.events.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl EventSink for RecordingSink {
    async fn publish(&self, envelope: &Value) {
        if let Ok(mut v) = self.events.lock() {
            v.push(envelope.clone());
        }
    }
}

/// POSTs each envelope to a URL, like an SNS HTTP subscription (`x-amz-sns-message-type:
/// Notification`, body = the envelope JSON). Only `http://` URLs are supported.
///
/// Deliveries happen in order on a background task, so a slow endpoint never stalls the simulator;
/// a failed delivery is logged and not retried.
#[derive(Debug, Clone)]
pub struct HttpSink {
    tx: mpsc::UnboundedSender<Value>,
}

impl HttpSink {
    /// Starts the delivery task (needs a Tokio runtime).
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
        tokio::spawn(async move {
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http::<http_body_util::Full<bytes::Bytes>>();
            while let Some(envelope) = rx.recv().await {
                let body = envelope.to_string();
                let message_id = envelope
                    .get("MessageId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let topic = envelope
                    .get("TopicArn")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let req = http::Request::post(url.as_str())
                    .header("content-type", "text/plain; charset=UTF-8")
                    .header("x-amz-sns-message-type", "Notification")
                    .header("x-amz-sns-message-id", message_id)
                    .header("x-amz-sns-topic-arn", topic)
                    .body(http_body_util::Full::new(bytes::Bytes::from(body)));
                let req = match req {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, url = %url, "cannot build event POST");
                        continue;
                    }
                };
                match client.request(req).await {
                    Ok(resp) if resp.status().is_success() => {}
                    Ok(resp) => {
                        tracing::warn!(status = %resp.status(), url = %url, "event POST refused")
                    }
                    Err(e) => tracing::warn!(error = %e, url = %url, "event POST failed"),
                }
            }
        });
        Self { tx }
    }
}

#[async_trait]
impl EventSink for HttpSink {
    async fn publish(&self, envelope: &Value) {
        if self.tx.send(envelope.clone()).is_err() {
            tracing::warn!("http sink task has stopped");
        }
    }
}

/// Builds the SNS notification envelope around an EventBridge event.
pub fn sns_envelope(topic_arn: &str, message_id: &str, timestamp: &str, event: &Value) -> Value {
    let region = topic_arn.split(':').nth(3).unwrap_or("us-east-1");
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Message": event.to_string(),
        "Timestamp": timestamp,
        "SignatureVersion": "1",
        "Signature": "c2ltdWxhdGVkLXNpZ25hdHVyZS1ub3QtdmVyaWZpYWJsZQ==",
        "SigningCertURL": format!("https://sns.{region}.amazonaws.com/SimpleNotificationService-gamelift-sim.pem"),
        "UnsubscribeURL": format!("https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:{message_id}"),
    })
}
