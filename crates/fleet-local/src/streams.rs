//! The DynamoDB Streams poller: reads the table's real stream from DynamoDB Local and feeds the notifier
//! handler with the records Lambda's event source mapping would deliver.
//!
//! It does what the mapping does for the notifier in template.yaml:
//!
//! - finds the stream (`DescribeTable` → `LatestStreamArn`) and its shards (`DescribeStream`), starts
//!   each shard open at start-up after its last record (what `LATEST` means; read through from
//!   `TRIM_HORIZON`, because DynamoDB Local's `LATEST` on an empty shard breaks) and each shard that
//!   appears later at `TRIM_HORIZON` (everything in it is new), follows `NextShardIterator`, and drops
//!   a shard once it is closed and drained; `GetRecords` is read as its wire JSON, which is already
//!   the record shape Lambda forwards;
//! - turns each SDK record into the JSON Lambda sends (`eventID`, `eventName`, `eventVersion`,
//!   `eventSource` `aws:dynamodb`, `awsRegion`, `dynamodb{ApproximateCreationDateTime, Keys, NewImage,
//!   OldImage, SequenceNumber, SizeBytes, StreamViewType}`, `eventSourceARN`) and deserializes that into
//!   [`aws_lambda_events::event::dynamodb::Event`], so the handler sees exactly the deployed shape;
//! - applies the template's `FilterCriteria` ([`passes_filter`]: a MODIFY of a placement item, sk `P`,
//!   from PENDING to a terminal status) before invoking, in batches of up to 100;
//! - on `batchItemFailures`, delivers that shard again from the reported sequence number, after a
//!   pause, at most [`StreamOptions::max_retries`] times (then the records are dropped with an error
//!   log, as a mapping with `MaximumRetryAttempts` would); a shard is not read further while it retries,
//!   so its records stay in order.
//!
//! Between polls it sleeps [`StreamOptions::poll_interval`], unless the last poll read records (then it
//! reads on at once, as the mapping does while a shard has a backlog) or it is woken through
//! [`StreamPoller::waker`]: the stack wakes it when placement-events or the sweeper has just written,
//! so a placement's result does not wait out the interval (the interval stays the fallback for writes
//! nobody announces).
//!
//! Every item change it reads that a person debugging would follow (a placement started or finished, a
//! session started or ended, a connection opened, subscribed or closed), each delivery to the notifier
//! and each failed one are [`term`] lines.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::term::{self, Line, Source};

/// How the poller behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamOptions {
    /// Longest pause between two polls of the shards (a wake-up or a backlog cuts it short).
    pub poll_interval: Duration,
    /// Most records per handler invocation (the template's `BatchSize`).
    pub batch_size: usize,
    /// Deliveries of a failed record after the first, before it is dropped.
    pub max_retries: u32,
    /// Pause before a retry.
    pub retry_backoff: Duration,
    /// How often the shard list is refreshed (new shards appear when DynamoDB rolls them over).
    pub shard_refresh: Duration,
}

impl Default for StreamOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(100),
            batch_size: 100,
            max_retries: 10,
            retry_backoff: Duration::from_millis(500),
            shard_refresh: Duration::from_secs(5),
        }
    }
}

/// Counters of what the poller did (reported by `GET /v1/health`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamStats {
    /// The stream being read.
    pub stream_arn: String,
    /// Shards being read.
    pub shards: u64,
    /// Stream records read.
    pub records: u64,
    /// Records that passed the filter and were handed to the notifier.
    pub delivered: u64,
    /// Handler invocations.
    pub batches: u64,
    /// Deliveries repeated after a batch item failure.
    pub retries: u64,
    /// Records dropped after the last retry.
    pub dropped: u64,
    /// Failed stream API calls.
    pub errors: u64,
    /// When the shards were last polled (epoch milliseconds).
    pub last_poll_ms: i64,
    /// The last failed call's error, if any.
    pub last_error: Option<String>,
}

/// Why the poller could not start.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The table or its stream could not be described.
    #[error("DynamoDB stream of table {table}: {message}")]
    Describe {
        /// The table.
        table: String,
        /// What went wrong.
        message: String,
    },
}

/// A DynamoDB Streams client for DynamoDB Local at `url` (the local region and dummy credentials:
/// DynamoDB Local checks neither).
pub fn local_streams_client(url: &str) -> aws_sdk_dynamodbstreams::Client {
    let config = aws_sdk_dynamodbstreams::config::Builder::from(&crate::local::sdk_config())
        .endpoint_url(url)
        .build();
    aws_sdk_dynamodbstreams::Client::from_conf(config)
}

/// A wire record (`GetRecords`' JSON) as Lambda's event source mapping delivers it (see
/// `events/stream/*.json`): the same fields plus `eventSourceARN`, with the table's region.
pub fn lambda_record(record: &Value, stream_arn: &str) -> Value {
    // DynamoDB Local reports its own region name ("ddblocal"); Lambda reports the table's region.
    let region = record["awsRegion"]
        .as_str()
        .filter(|r| r.contains('-'))
        .unwrap_or(crate::local::REGION);
    let mut dynamodb = record["dynamodb"].clone();
    for image in ["Keys", "NewImage", "OldImage"] {
        if let Some(Value::Object(item)) = dynamodb.get_mut(image) {
            item.values_mut().for_each(repair_attribute);
        }
    }
    json!({
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"].as_str().unwrap_or("1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

/// DynamoDB Local writes an empty map attribute (`{"M": {}}`) into stream records as `{}`, which
/// neither DynamoDB nor Lambda ever sends and no reader accepts; it is put back as the empty map.
fn repair_attribute(value: &mut Value) {
    match value {
        Value::Object(o) if o.is_empty() => *value = json!({ "M": {} }),
        Value::Object(o) => {
            if let Some(Value::Object(m)) = o.get_mut("M") {
                m.values_mut().for_each(repair_attribute);
            }
            if let Some(Value::Array(l)) = o.get_mut("L") {
                l.iter_mut().for_each(repair_attribute);
            }
        }
        _ => {}
    }
}

/// The notifier's `FilterCriteria` from template.yaml, on a record in Lambda's JSON:
/// `{"eventName":["MODIFY"],"dynamodb":{"Keys":{"sk":{"S":["P"]}},"OldImage":{"status":{"S":["PENDING"]}},
/// "NewImage":{"status":{"S":["FULFILLED","TIMED_OUT","CANCELLED","FAILED"]}}}}`.
pub fn passes_filter(record: &Value) -> bool {
    let d = &record["dynamodb"];
    record["eventName"] == "MODIFY"
        && d["Keys"]["sk"]["S"] == "P"
        && d["OldImage"]["status"]["S"] == "PENDING"
        && ["FULFILLED", "TIMED_OUT", "CANCELLED", "FAILED"]
            .iter()
            .any(|s| d["NewImage"]["status"]["S"] == *s)
}

/// A batch of Lambda-shaped records as the handler's event.
pub fn lambda_event(records: &[Value]) -> Result<Event, serde_json::Error> {
    serde_json::from_value(json!({ "Records": records }))
}

#[derive(Debug)]
struct Shard {
    id: String,
    iterator: Option<String>,
    last_sequence: Option<String>,
    /// Filtered records waiting for a retry, oldest first.
    pending: Vec<Value>,
    attempts: u32,
    retry_at: Option<Instant>,
}

/// The poller of one table's stream.
pub struct StreamPoller {
    client: aws_sdk_dynamodbstreams::Client,
    http: reqwest::Client,
    endpoint: String,
    stream_arn: String,
    options: StreamOptions,
    shards: Vec<Shard>,
    known: BTreeSet<String>,
    stats: Arc<Mutex<StreamStats>>,
    wake: Arc<tokio::sync::Notify>,
    /// Every record read, unfiltered and in Lambda's shape, for whoever listens (the console).
    tap: Option<tokio::sync::broadcast::Sender<Arc<Value>>>,
}

impl std::fmt::Debug for StreamPoller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamPoller")
            .field("stream_arn", &self.stream_arn)
            .field("shards", &self.shards.len())
            .finish()
    }
}

fn lock(stats: &Mutex<StreamStats>) -> std::sync::MutexGuard<'_, StreamStats> {
    stats
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl StreamPoller {
    /// Finds the table's stream and positions every open shard after its last record, so that only
    /// changes made from now on are delivered (what a new event source mapping at `LATEST` does).
    pub async fn connect(
        dynamo: &aws_sdk_dynamodb::Client,
        client: aws_sdk_dynamodbstreams::Client,
        endpoint: &str,
        table: &str,
        options: StreamOptions,
    ) -> Result<Self, StreamError> {
        let err = |message: String| StreamError::Describe {
            table: table.to_owned(),
            message,
        };
        let described = dynamo
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| err(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()))?;
        let stream_arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .ok_or_else(|| {
                err(
                    "the table has no stream (it must be created from fleet_aws::dynamo::schema)"
                        .into(),
                )
            })?
            .to_owned();
        let stats = Arc::new(Mutex::new(StreamStats {
            stream_arn: stream_arn.clone(),
            ..StreamStats::default()
        }));
        let mut poller = Self {
            client,
            http: reqwest::Client::new(),
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            stream_arn,
            options,
            shards: Vec::new(),
            known: BTreeSet::new(),
            stats,
            wake: Arc::new(tokio::sync::Notify::new()),
            tap: None,
        };
        let shards = poller.describe_shards().await.map_err(err)?;
        for (id, open) in shards {
            poller.known.insert(id.clone());
            if open {
                // From the start of the shard, skipping what is already there: DynamoDB Local's LATEST
                // iterator on a shard with no record yet fails later with TrimmedDataAccessException.
                let mut iterator = Some(
                    poller
                        .iterator(&id, ShardIteratorType::TrimHorizon, None)
                        .await
                        .map_err(err)?,
                );
                let mut last_sequence = None;
                for _ in 0..10_000 {
                    let Some(it) = iterator.clone() else { break };
                    let page = poller.get_records(&it).await.map_err(err)?;
                    iterator = page["NextShardIterator"].as_str().map(str::to_owned);
                    let records = page["Records"].as_array().cloned().unwrap_or_default();
                    match records
                        .last()
                        .and_then(|r| r["dynamodb"]["SequenceNumber"].as_str())
                    {
                        Some(seq) => last_sequence = Some(seq.to_owned()),
                        None => break,
                    }
                }
                poller.shards.push(Shard {
                    id,
                    iterator,
                    last_sequence,
                    pending: Vec::new(),
                    attempts: 0,
                    retry_at: None,
                });
            }
        }
        lock(&poller.stats).shards = poller.shards.len() as u64;
        Ok(poller)
    }

    /// The poller's counters (shared; they keep moving while [`Self::run`] runs).
    pub fn stats(&self) -> Arc<Mutex<StreamStats>> {
        self.stats.clone()
    }

    /// Wakes the poller for an early poll (a wake-up while it polls is kept for its next pause).
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Sends every record read from now on, before the notifier's filter, to `tap` (only while it has
    /// receivers, so nobody listening costs nothing).
    pub fn set_tap(&mut self, tap: tokio::sync::broadcast::Sender<Arc<Value>>) {
        self.tap = Some(tap);
    }

    /// The stream's ARN.
    pub fn stream_arn(&self) -> &str {
        &self.stream_arn
    }

    /// Every shard of the stream, with whether it is still open.
    async fn describe_shards(&self) -> Result<Vec<(String, bool)>, String> {
        let mut out = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let page = self
                .client
                .describe_stream()
                .stream_arn(&self.stream_arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e).to_string())?;
            let Some(description) = page.stream_description() else {
                break;
            };
            for shard in description.shards() {
                if let Some(id) = shard.shard_id() {
                    let open = shard
                        .sequence_number_range()
                        .is_none_or(|r| r.ending_sequence_number().is_none());
                    out.push((id.to_owned(), open));
                }
            }
            start = description.last_evaluated_shard_id().map(str::to_owned);
            if start.is_none() {
                break;
            }
        }
        Ok(out)
    }

    /// `GetRecords` as its wire JSON (AWS JSON 1.0, signed like any SDK call). The SDK's typed answer
    /// is not used: it refuses some of DynamoDB Local's attribute values ("Union did not contain a
    /// valid variant"), and the wire records are already the shape Lambda forwards.
    async fn get_records(&self, iterator: &str) -> Result<Value, String> {
        let body = json!({ "ShardIterator": iterator, "Limit": 1000 }).to_string();
        let key = crate::signing::SigningKey {
            access_key: "local".into(),
            secret: "local".into(),
        };
        let url = format!("{}/", self.endpoint);
        let mut req = self
            .http
            .post(&url)
            .header("content-type", "application/x-amz-json-1.0")
            .header("x-amz-target", "DynamoDBStreams_20120810.GetRecords");
        for (k, v) in
            crate::signing::sigv4_headers_for("POST", &url, body.as_bytes(), &key, "dynamodb")?
        {
            req = req.header(k, v);
        }
        let res = req.body(body).send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        let text = res.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("GetRecords answer: {e}"))
    }

    async fn iterator(
        &self,
        shard: &str,
        kind: ShardIteratorType,
        after: Option<&str>,
    ) -> Result<String, String> {
        let answer = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.stream_arn)
            .shard_id(shard)
            .shard_iterator_type(kind)
            .set_sequence_number(after.map(str::to_owned))
            .send()
            .await
            .map_err(|e| aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e).to_string())?;
        answer
            .shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| format!("no iterator for shard {shard}"))
    }

    /// Adds the shards that appeared since the last look (at `TRIM_HORIZON`: all of it is new).
    async fn refresh_shards(&mut self) {
        let shards = match self.describe_shards().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = e, "DescribeStream failed");
                lock(&self.stats).errors += 1;
                return;
            }
        };
        for (id, _) in shards {
            if self.known.contains(&id) {
                continue;
            }
            match self
                .iterator(&id, ShardIteratorType::TrimHorizon, None)
                .await
            {
                Ok(iterator) => {
                    tracing::debug!(shard = id.as_str(), "new stream shard");
                    self.known.insert(id.clone());
                    self.shards.push(Shard {
                        id,
                        iterator: Some(iterator),
                        last_sequence: None,
                        pending: Vec::new(),
                        attempts: 0,
                        retry_at: None,
                    });
                }
                Err(e) => {
                    tracing::warn!(shard = id.as_str(), error = e, "GetShardIterator failed");
                    lock(&self.stats).errors += 1;
                }
            }
        }
        lock(&self.stats).shards = self.shards.len() as u64;
    }

    /// Polls forever, handing matching records to `handler` (the notifier).
    pub async fn run<F, Fut>(mut self, handler: F)
    where
        F: Fn(Event) -> Fut,
        Fut: Future<Output = DynamoDbEventResponse>,
    {
        let mut next_refresh = Instant::now() + self.options.shard_refresh;
        loop {
            if Instant::now() >= next_refresh || self.shards.is_empty() {
                self.refresh_shards().await;
                next_refresh = Instant::now() + self.options.shard_refresh;
            }
            let mut read_any = false;
            for i in 0..self.shards.len() {
                read_any |= self.poll_shard(i, &handler).await;
            }
            // A closed shard that is drained has nothing more to give.
            self.shards
                .retain(|s| s.iterator.is_some() || !s.pending.is_empty());
            {
                let mut stats = lock(&self.stats);
                stats.shards = self.shards.len() as u64;
                stats.last_poll_ms = crate::clock::LocalClock::system().now_millis();
            }
            if read_any {
                // A backlog: read on at once, only letting the other tasks of the thread run.
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.options.poll_interval) => {}
            }
        }
    }

    /// Polls one shard (or retries its pending records); whether it read any record.
    async fn poll_shard<F, Fut>(&mut self, i: usize, handler: &F) -> bool
    where
        F: Fn(Event) -> Fut,
        Fut: Future<Output = DynamoDbEventResponse>,
    {
        if !self.shards[i].pending.is_empty() {
            if self.shards[i].retry_at.is_some_and(|t| t > Instant::now()) {
                return false;
            }
            lock(&self.stats).retries += 1;
            let pending = std::mem::take(&mut self.shards[i].pending);
            self.deliver(i, pending, handler).await;
            return false;
        }
        let Some(iterator) = self.shards[i].iterator.clone() else {
            return false;
        };
        let answer = match self.get_records(&iterator).await {
            Ok(a) => a,
            Err(e) => {
                // An expired iterator (15 min) or one DynamoDB Local no longer honours: take a new one.
                let expired = e.contains("ExpiredIteratorException")
                    || e.contains("TrimmedDataAccessException");
                {
                    let mut stats = lock(&self.stats);
                    stats.errors += 1;
                    stats.last_error = Some(e.clone());
                }
                tracing::warn!(
                    shard = self.shards[i].id.as_str(),
                    expired,
                    error = e,
                    "GetRecords failed"
                );
                if expired {
                    // Resume right after the last record seen, or from the shard's start if none was
                    // (everything in it is newer than the poller: existing records were skipped).
                    let shard = &self.shards[i];
                    let (kind, after) = match shard.last_sequence.clone() {
                        Some(seq) => (ShardIteratorType::AfterSequenceNumber, Some(seq)),
                        None => (ShardIteratorType::TrimHorizon, None),
                    };
                    let id = shard.id.clone();
                    match self.iterator(&id, kind, after.as_deref()).await {
                        Ok(it) => self.shards[i].iterator = Some(it),
                        Err(e) => tracing::warn!(
                            shard = id.as_str(),
                            error = e,
                            "GetShardIterator failed"
                        ),
                    }
                }
                return false;
            }
        };
        self.shards[i].iterator = answer["NextShardIterator"].as_str().map(str::to_owned);
        let records = answer["Records"].as_array().cloned().unwrap_or_default();
        if records.is_empty() {
            return false;
        }
        if let Some(seq) = records
            .last()
            .and_then(|r| r["dynamodb"]["SequenceNumber"].as_str())
        {
            self.shards[i].last_sequence = Some(seq.to_owned());
        }
        if term::enabled() {
            for change in term::stream_changes(&records) {
                term::emit(Line::Change(change));
            }
        }
        let matched: Vec<Value> = records
            .iter()
            .map(|r| lambda_record(r, &self.stream_arn))
            .filter(passes_filter)
            .collect();
        lock(&self.stats).records += records.len() as u64;
        if let Some(tap) = self.tap.as_ref().filter(|t| t.receiver_count() > 0) {
            for r in &records {
                if tap
                    .send(Arc::new(lambda_record(r, &self.stream_arn)))
                    .is_err()
                {
                    break;
                }
            }
        }
        if !matched.is_empty() {
            self.shards[i].attempts = 0;
            self.deliver(i, matched, handler).await;
        }
        true
    }

    /// Delivers `records` in batches; on a failure keeps the failed record and everything after it for a
    /// retry (or drops them once the retries are spent).
    async fn deliver<F, Fut>(&mut self, i: usize, records: Vec<Value>, handler: &F)
    where
        F: Fn(Event) -> Fut,
        Fut: Future<Output = DynamoDbEventResponse>,
    {
        let mut start = 0;
        while start < records.len() {
            let end = (start + self.options.batch_size.max(1)).min(records.len());
            let chunk = &records[start..end];
            let event = match lambda_event(chunk) {
                Ok(e) => e,
                Err(e) => {
                    // Cannot happen for records built by lambda_record; never loop on it.
                    tracing::error!(error = %e, "stream records do not deserialize as Lambda's event; dropped");
                    let mut stats = lock(&self.stats);
                    stats.dropped += chunk.len() as u64;
                    stats.last_error = Some(format!("{e}: {}", Value::Array(chunk.to_vec())));
                    start = end;
                    continue;
                }
            };
            {
                let mut stats = lock(&self.stats);
                stats.batches += 1;
                stats.delivered += chunk.len() as u64;
            }
            if term::enabled() {
                term::emit(delivery_line(chunk, self.shards[i].attempts + 1));
            }
            let response = handler(event).await;
            let failed_at = response
                .batch_item_failures
                .iter()
                .filter_map(|f| f.item_identifier.as_deref())
                .filter_map(|seq| {
                    chunk
                        .iter()
                        .position(|r| r["dynamodb"]["SequenceNumber"] == seq)
                })
                .min();
            let Some(at) = failed_at else {
                if !response.batch_item_failures.is_empty() {
                    // An identifier naming no record of the batch: Lambda retries the whole batch.
                    self.retry_or_drop(i, records[start..].to_vec());
                    return;
                }
                start = end;
                continue;
            };
            self.retry_or_drop(i, records[start + at..].to_vec());
            return;
        }
        self.shards[i].attempts = 0;
    }

    fn retry_or_drop(&mut self, i: usize, rest: Vec<Value>) {
        let shard = &mut self.shards[i];
        shard.attempts += 1;
        if shard.attempts > self.options.max_retries {
            tracing::error!(
                shard = shard.id.as_str(),
                records = rest.len(),
                attempts = shard.attempts,
                "stream records still failing after the last retry; dropped"
            );
            lock(&self.stats).dropped += rest.len() as u64;
            if term::enabled() {
                term::emit(Line::Trouble {
                    from: Source::Stream,
                    text: format!(
                        "{} records still failing in {} after {} deliveries: dropped",
                        rest.len(),
                        fleet_functions::notifier::FUNCTION,
                        shard.attempts
                    ),
                });
            }
            shard.attempts = 0;
            return;
        }
        if term::enabled() {
            term::emit(Line::Trouble {
                from: Source::Stream,
                text: format!(
                    "{} failed on {} records: delivered again in {} ms",
                    fleet_functions::notifier::FUNCTION,
                    rest.len(),
                    self.options.retry_backoff.as_millis()
                ),
            });
        }
        shard.retry_at = Some(Instant::now() + self.options.retry_backoff);
        shard.pending = rest;
    }
}

/// The terminal line of a batch handed to the notifier: the placement results it carries.
fn delivery_line(chunk: &[Value], attempt: u32) -> Line {
    let what: Vec<String> = chunk
        .iter()
        .map(|r| {
            let d = &r["dynamodb"];
            let id = d["Keys"]["pk"]["S"].as_str().unwrap_or("?");
            let status = d["NewImage"]["status"]["S"].as_str().unwrap_or("?");
            format!("placement {} {status}", id.trim_start_matches("P#"))
        })
        .collect();
    Line::Delivery {
        from: Source::Stream,
        handler: fleet_functions::notifier::FUNCTION,
        summary: term::batch_summary(&what),
        attempt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, old: &str, new: &str) -> Value {
        let image = |status: &str| {
            json!({"pk": {"S": "P#p-1"}, "sk": {"S": "P"}, "kind": {"S": "placement"}, "status": {"S": status},
                   "players": {"L": [{"M": {"playerId": {"S": "a"}, "data": {}}}]}, "properties": {},
                   "flag": {"BOOL": true}, "none": {"NULL": true}})
        };
        json!({
            "eventID": "e-1", "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "ddblocal",
            "dynamodb": {"ApproximateCreationDateTime": 1_795_600_801, "Keys": {"pk": {"S": "P#p-1"}, "sk": {"S": "P"}},
                         "NewImage": image(new), "OldImage": image(old), "SequenceNumber": "000000000000000000042",
                         "SizeBytes": 321, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        })
    }

    #[test]
    fn a_wire_record_becomes_lambdas_json_and_deserializes_as_the_lambda_event() {
        let arn = "arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2026-01-01T00:00:00.000";
        let json = lambda_record(&record("MODIFY", "PENDING", "FULFILLED"), arn);
        assert_eq!(json["eventSource"], "aws:dynamodb");
        assert_eq!(json["awsRegion"], "us-east-1");
        assert_eq!(json["eventSourceARN"], arn);
        assert_eq!(
            json["dynamodb"]["ApproximateCreationDateTime"],
            1_795_600_801
        );
        assert_eq!(
            json["dynamodb"]["NewImage"]["properties"],
            json!({"M": {}}),
            "DynamoDB Local's empty map, repaired"
        );
        assert_eq!(
            json["dynamodb"]["OldImage"]["players"]["L"][0]["M"]["data"],
            json!({"M": {}})
        );
        let event = lambda_event(&[json]).expect("the Lambda event type reads it");
        let r = &event.records[0];
        assert_eq!(
            (r.event_name.as_str(), r.event_id.as_str()),
            ("MODIFY", "e-1")
        );
        assert_eq!(
            r.change.sequence_number.as_deref(),
            Some("000000000000000000042")
        );
        assert!(
            matches!(
                fleet_functions::notifier::finished_placement(r),
                Err(fleet_functions::notifier::Skip::Unreadable(_))
            ),
            "a partial image is read, and found incomplete"
        );
    }

    #[test]
    fn a_delivery_line_names_the_results_the_notifier_gets() {
        let chunk = [lambda_record(
            &record("MODIFY", "PENDING", "FULFILLED"),
            "arn",
        )];
        assert_eq!(
            delivery_line(&chunk, 2),
            Line::Delivery {
                from: Source::Stream,
                handler: "notifier",
                summary: "placement p-1 FULFILLED".into(),
                attempt: 2
            }
        );
    }

    #[test]
    fn only_placements_moving_from_pending_to_a_terminal_status_pass_the_templates_filter() {
        let pass = |name, old, new| passes_filter(&lambda_record(&record(name, old, new), "arn"));
        assert!(pass("MODIFY", "PENDING", "FULFILLED"));
        assert!(pass("MODIFY", "PENDING", "TIMED_OUT"));
        assert!(!pass("MODIFY", "PENDING", "PENDING"));
        assert!(!pass("MODIFY", "FULFILLED", "FAILED"));
        assert!(!pass("INSERT", "PENDING", "FULFILLED"));
        assert!(!pass("REMOVE", "PENDING", "FULFILLED"));
    }
}
