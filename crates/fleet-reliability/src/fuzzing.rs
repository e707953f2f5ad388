//! The bodies of the cargo-fuzz targets in `fuzz/` (event parser, query parser, request bodies,
//! cursors), here so the reliability binary replays every corpus file through exactly the same code on
//! stable (R08). Only `fleet_core` is used: the fuzz crate includes this file by path and depends on
//! `fleet-core` alone. Each function panics only on a broken property, never on bad input.

use std::collections::BTreeMap;

use fleet_core::event::parse_message;
use fleet_core::query::{self, Sort, cursor};
use fleet_core::request::{
    CreateSession, DeleteInstanceInfo, JoinSession, ListParams, UpdateInstanceInfo,
};

/// The secret the cursor target signs with.
pub const CURSOR_SECRET: &[u8] = b"fuzz-cursor-secret-0123456789";

/// The placement-event parser on any text (SQS body: SNS envelope, EventBridge event or raw detail).
pub fn event_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(ev) = parse_message(&text) {
        let _ = ev.occurred_at();
        let _ = ev.kind.type_name();
        let _ = ev.kind.status();
    }
}

/// The list query language, then planning under every sort; and the whole list parameter set from a
/// raw query string (`name=value&…`, not decoded).
pub fn query_parser(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(q) = query::parse(&text) {
        for sort in Sort::ALL {
            if let Ok(p) = query::plan(&q, sort) {
                let _ = p.fingerprint(&q, sort);
            }
        }
    }
    let pairs: Vec<(String, String)> = text
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.to_owned(), String::new()),
        })
        .collect();
    if let Ok(params) = ListParams::parse(&pairs) {
        let _ = query::plan(&params.query, params.sort);
    }
}

/// Every request body parser on the same bytes (create, join, update/delete instance info).
pub fn request_bodies(data: &[u8]) {
    if let Ok(c) = CreateSession::parse(data) {
        let _ = c.digest();
    }
    let _ = JoinSession::parse(data);
    let _ = UpdateInstanceInfo::parse(data);
    let _ = DeleteInstanceInfo::parse(data);
}

/// Cursor decoding of any text (it must never be accepted unless it is a valid signature), and the
/// round trip of a key built from the input.
pub fn cursor(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = cursor::decode(CURSOR_SECRET, "fp", &text);
    let key: BTreeMap<String, String> = text
        .split('\n')
        .take(8)
        .enumerate()
        .map(|(i, v)| (format!("a{i}"), v.to_owned()))
        .collect();
    let c = cursor::encode(CURSOR_SECRET, "fp", &key);
    if c.chars().count() <= cursor::CURSOR_MAX {
        assert_eq!(
            cursor::decode(CURSOR_SECRET, "fp", &c).ok().as_ref(),
            Some(&key),
            "a cursor does not round-trip"
        );
    }
    assert!(
        cursor::decode(CURSOR_SECRET, "other-fp", &c).is_err(),
        "a cursor was accepted for another query"
    );
    assert!(
        cursor::decode(b"another-secret", "fp", &c).is_err(),
        "a cursor was accepted under another secret"
    );
}

/// A target's body.
pub type Target = fn(&[u8]);

/// The targets by name (the folder names under `fuzz/corpus/`).
pub const TARGETS: [(&str, Target); 4] = [
    ("event_parser", event_parser),
    ("query_parser", query_parser),
    ("request_bodies", request_bodies),
    ("cursor", cursor),
];
