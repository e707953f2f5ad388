//! Page cursors: an opaque, signed wrapper around DynamoDB's `LastEvaluatedKey`, bound to the query
//! and sort that produced it.
//!
//! Format: `base64url(payload) "." base64url(HMAC-SHA256(secret, "fleetlift-cursor-v1\n" ‖ payload))`,
//! where `payload` is the JSON `{"f": <plan fingerprint>, "k": {<attribute>: <string>, …}}`. The MAC is
//! checked (in constant time) before the payload is read, so a tampered cursor is rejected without
//! parsing attacker-chosen JSON; then the fingerprint must equal the current query's.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::FieldError;

/// Longest cursor accepted, in characters.
pub const CURSOR_MAX: usize = 2048;

/// Attributes a key may hold (a table key plus an index key).
const KEY_ATTRS_MAX: usize = 8;

const DOMAIN: &[u8] = b"fleetlift-cursor-v1\n";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    f: String,
    k: BTreeMap<String, String>,
}

fn mac(secret: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length (long keys are hashed, short ones padded): this cannot fail.
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    m.update(DOMAIN);
    m.update(payload);
    m
}

/// Wraps an exclusive start key (all string attributes: table `pk`/`sk` and the index's keys) into
/// an opaque cursor bound to `fingerprint` (see [`Plan::fingerprint`](super::Plan::fingerprint)).
pub fn encode(secret: &[u8], fingerprint: &str, key: &BTreeMap<String, String>) -> String {
    let payload = Payload {
        f: fingerprint.to_owned(),
        k: key.clone(),
    };
    // Serializing a struct of strings to JSON cannot fail.
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    let tag = mac(secret, &json).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&json),
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Checks a cursor and returns the exclusive start key it carries. Errors (field `cursor`) for
/// anything longer than 2048 characters, malformed text, a bad signature (tampered, or from another
/// deployment's secret) and a cursor issued for a different query or sort. Never panics.
pub fn decode(
    secret: &[u8],
    fingerprint: &str,
    cursor: &str,
) -> Result<BTreeMap<String, String>, FieldError> {
    let bad = |why: &str| FieldError::new("cursor", why.to_owned());
    let n = cursor.chars().count();
    if n > CURSOR_MAX {
        return Err(FieldError::new(
            "cursor",
            format!("must be at most {CURSOR_MAX} characters, got {n}"),
        ));
    }
    let malformed = "is not a cursor this API issued (malformed)";
    let (body, tag) = cursor.split_once('.').ok_or_else(|| bad(malformed))?;
    let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| bad(malformed))?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| bad(malformed))?;
    mac(secret, &json).verify_slice(&tag).map_err(|_| {
        bad("has an invalid signature (it was altered, or issued by another deployment)")
    })?;
    let payload: Payload = serde_json::from_slice(&json).map_err(|_| bad(malformed))?;
    if payload.f != fingerprint {
        return Err(bad(
            "was issued for a different query or sort; start again without a cursor",
        ));
    }
    if payload.k.is_empty() || payload.k.len() > KEY_ATTRS_MAX {
        return Err(bad(malformed));
    }
    Ok(payload.k)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("pk".to_owned(), "S#gs-abc".to_owned()),
            ("sk".to_owned(), "S".to_owned()),
            ("lAll".to_owned(), "ACTIVE".to_owned()),
            (
                "kName".to_owned(),
                "lobby\u{1}2025-11-25T00:00:00.000Z#gs-abc".to_owned(),
            ),
        ])
    }

    #[test]
    fn a_cursor_round_trips_its_key() {
        let c = encode(b"secret", "fp", &key());
        assert!(
            c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{c}"
        );
        assert_eq!(decode(b"secret", "fp", &c), Ok(key()));
    }

    #[test]
    fn a_cursor_for_another_query_or_secret_is_refused() {
        let c = encode(b"secret", "fp", &key());
        let e = decode(b"secret", "other", &c).unwrap_err();
        assert_eq!(e.field, "cursor");
        assert!(e.problem.contains("different query"), "{}", e.problem);
        let e = decode(b"other secret", "fp", &c).unwrap_err();
        assert!(e.problem.contains("signature"), "{}", e.problem);
    }

    #[test]
    fn garbage_and_oversized_cursors_are_clear_errors() {
        for bad in ["", ".", "abc", "a.b", "!!!.???", "é.é", "..", "eyJ9.AAAA"] {
            let e = decode(b"s", "fp", bad).unwrap_err();
            assert_eq!(e.field, "cursor", "{bad}");
        }
        let e = decode(b"s", "fp", &"a".repeat(2049)).unwrap_err();
        assert!(e.problem.contains("2048"), "{}", e.problem);
    }

    #[test]
    fn a_validly_signed_empty_key_is_refused() {
        let c = encode(b"s", "fp", &BTreeMap::new());
        assert!(decode(b"s", "fp", &c).is_err());
    }
}
