//! R11 poison (I4, I9): batches mixing good events, their duplicates and poison messages. The good
//! ones are applied exactly once; poison is quarantined (acknowledged) on its first receipt; nothing
//! is returned to the queue, so nothing cycles to the DLQ. A small SQS model redelivers whatever a
//! batch reports as failed, up to `maxReceiveCount` = 3, and counts what would reach the DLQ.

use fleet_core::fakes::MemoryStore;
use fleet_functions::placement_events::process;
use fleet_reliability::fixtures::{
    Rng, T0, fulfilled_body, sqs_event, sqs_record, unfulfilled_body,
};
use fleet_reliability::model::{self, Action, Script};
use fleet_reliability::scorecard;

/// Bodies that can never be a placement event.
fn poison() -> Vec<String> {
    let big = format!(
        "{{\"detail\":{{\"type\":\"PlacementFulfilled\",\"placementId\":\"x\",\"pad\":\"{}\"}}}}",
        "x".repeat(300 * 1024)
    );
    vec![
        String::new(),
        "   ".into(),
        "not json".into(),
        "null".into(),
        "[1,2,3]".into(),
        "42".into(),
        "{}".into(),
        r#"{"Type":"SubscriptionConfirmation","Message":"{}"}"#.into(),
        r#"{"Type":"Notification","Message":null}"#.into(),
        r#"{"Type":"Notification","Message":"not json either"}"#.into(),
        r#"{"detail":{"type":"PlacementFulfilled"}}"#.into(),
        r#"{"detail":{"type":"PlacementFulfilled","placementId":"bad id with spaces"}}"#.into(),
        r#"{"detail":{"type":"PlacementFulfilled","placementId":"r11-x","port":"99999"}}"#.into(),
        r#"{"detail":{"type":7,"placementId":"r11-x"}}"#.into(),
        r#"{"detail":"a string"}"#.into(),
        r#"{"type":"SomethingElse"}"#.into(),
        "{\"detail\":".repeat(200),
        big,
    ]
}

#[tokio::test]
async fn poison_is_quarantined_at_first_receipt_and_good_events_apply_exactly_once() {
    let batches = 300 * scorecard::scale();
    let poison = poison();
    let mut violations = Vec::new();
    let mut dlq = 0u64;
    let mut messages = 0u64;
    for b in 0..batches {
        let ns = format!("q{b}");
        let mut rng = Rng::new(b);
        let store = MemoryStore::new();
        let script = Script {
            name: "poison".into(),
            placements: vec!["a".into(), "b".into()],
            actions: vec![
                Action::Fulfilled {
                    placement: "a".into(),
                    session: 1,
                    players: vec!["ann".into()],
                    end_s: 3,
                },
                Action::Unfulfilled {
                    placement: "b".into(),
                    kind: "PlacementFailed",
                    end_s: 4,
                },
            ],
        };
        model::setup(&store, &ns, &script).await;
        let good = [
            fulfilled_body(&ns, "a", 1, &["ann"], T0.plus_secs(3)),
            unfulfilled_body(&ns, "b", "PlacementFailed", T0.plus_secs(4)),
        ];
        let mut bodies: Vec<String> = Vec::new();
        for g in &good {
            for _ in 0..1 + rng.below(3) {
                bodies.push(g.clone());
            }
        }
        for _ in 0..1 + rng.below(6) {
            bodies.push(poison[rng.below(poison.len() as u64) as usize].clone());
        }
        rng.shuffle(&mut bodies);
        messages += bodies.len() as u64;
        // The queue: deliver, then redeliver what the batch reported, until the DLQ's receive count.
        let mut pending: Vec<(String, String)> = bodies
            .iter()
            .enumerate()
            .map(|(i, body)| (format!("m-{b}-{i}"), body.clone()))
            .collect();
        for receive in 1..=3u32 {
            if pending.is_empty() {
                break;
            }
            let records = pending
                .iter()
                .map(|(id, body)| sqs_record(id, body, receive))
                .collect();
            let (response, _) = process(&store, sqs_event(records)).await;
            let failed: Vec<String> = response
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect();
            if !failed.is_empty() {
                violations.push(format!(
                    "batch {b} receive {receive}: {} messages returned to the queue",
                    failed.len()
                ));
            }
            pending.retain(|(id, _)| failed.contains(id));
        }
        dlq += pending.len() as u64;
        let want = model::expected(&script, &[0, 1]);
        let got = model::observe(&store, &ns, &script).await;
        if got != want {
            violations.push(format!(
                "batch {b}: good events not applied exactly once: {got:?}"
            ));
        }
    }
    if dlq > 0 {
        violations.push(format!("{dlq} messages would reach the DLQ"));
    }
    let detail = format!(
        "{messages} messages in {batches} batches; quarantined at first receipt, 0 to the DLQ"
    );
    scorecard::finish("R11 poison", batches, &violations, &detail);
}
