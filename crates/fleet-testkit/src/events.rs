//! GameLift queue placement events as GameLift publishes them: an EventBridge event in the SNS
//! envelope the queue's topic delivers to SQS.

use fleet_core::ids::GameSessionArn;
use fleet_core::time::Timestamp;
use serde_json::{Value, json};

use crate::T0;

/// A `PlacementFulfilled` body for `placement_id`, on session `arn`, placing `players` with player
/// session ids `<psess_prefix>-0000`, `-0001`, …; started at [`T0`], ended at `end`.
pub fn fulfilled_body(
    placement_id: &str,
    arn: &GameSessionArn,
    players: &[&str],
    psess_prefix: &str,
    end: Timestamp,
) -> String {
    let placed: Vec<Value> = players
        .iter()
        .enumerate()
        .map(|(i, p)| json!({"playerId": p, "playerSessionId": format!("{psess_prefix}-{i:04}")}))
        .collect();
    let detail = json!({
        "type": "PlacementFulfilled",
        "placementId": placement_id,
        "port": "7777",
        "gameSessionArn": arn.as_str(),
        "ipAddress": "10.0.1.17",
        "dnsName": "ec2-10-0-1-17.compute-1.amazonaws.com",
        "startTime": T0.to_rfc3339(),
        "endTime": end.to_rfc3339(),
        "gameSessionRegion": "us-east-1",
        "placedPlayerSessions": placed,
    });
    envelope(&detail, end)
}

/// A terminal event without a session (`PlacementTimedOut`, `PlacementCancelled`,
/// `PlacementFailed`, the last with GameLift's error code for a crashed server process).
pub fn unfulfilled_body(placement_id: &str, kind: &str, end: Timestamp) -> String {
    let mut detail = json!({
        "type": kind, "placementId": placement_id, "startTime": T0.to_rfc3339(), "endTime": end.to_rfc3339(),
    });
    if kind == "PlacementFailed" {
        detail["errorCode"] = json!("SERVER_PROCESS_CRASHED");
    }
    envelope(&detail, end)
}

/// An SNS envelope around an EventBridge-format event with `detail`, published at `time`.
pub fn envelope(detail: &Value, time: Timestamp) -> String {
    let event = json!({
        "version": "0", "id": format!("ev-{}", detail["placementId"]), "detail-type": "GameLift Queue Placement Event",
        "source": "aws.gamelift", "account": "123456789012", "time": time.to_rfc3339(), "region": "us-east-1",
        "resources": ["arn:aws:gamelift:us-east-1:123456789012:gamesessionqueue/default-queue"], "detail": detail,
    });
    json!({
        "Type": "Notification", "MessageId": "8f2b6a7e-0000-4000-8000-000000000001",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:gamelift-placements",
        "Message": event.to_string(), "Timestamp": time.to_rfc3339(), "SignatureVersion": "1",
        "Signature": "c2lnbmF0dXJl", "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
    })
    .to_string()
}
