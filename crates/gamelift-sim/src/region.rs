//! Which Region a request is made in: the Region of its SigV4 credential scope.
//!
//! Real GameLift has one endpoint per Region (`gamelift.<region>.amazonaws.com`) and refuses a
//! credential scoped to another Region, so the scope and the endpoint always agree. The simulator serves
//! every Region on one endpoint, so the scope is the only thing that says which Region a request is
//! for, and a request without one is refused as AWS refuses an unsigned request.
//!
//! The refusals follow the AWS JSON front end's own answers, as recorded by dynalite
//! (`architect/dynalite`, `index.js`, which replays DynamoDB's answers from the same front end):
//! no `Authorization` header (or one that is not `AWS4-…`) is `MissingAuthenticationTokenException`
//! "Request is missing Authentication Token"; a header without `Credential`, `SignedHeaders` or
//! `Signature`, without a date, with another algorithm or a scope that is not five `/`-separated parts is
//! `IncompleteSignatureException`; a scope naming no valid Region, another service, another terminator or
//! another date than `X-Amz-Date` is `InvalidSignatureException`. All are HTTP 400 there. The AWS SDKs
//! raise an unsigned request's refusal as `MissingAuthenticationTokenException` too (aws-sdk-ruby's
//! `features/cognitoidentity` "unsigned requests" scenario, a JSON 1.1 service).
//!
//! The signature itself is not verified (the simulator has no secret keys), nor its age: it runs on a
//! clock that tests move, so a 15-minute window would refuse requests signed at the wall-clock time.

use axum::http::HeaderMap;

use crate::error::ApiError;

/// The SigV4 service name GameLift's credential scope must carry.
pub const SERVICE: &str = "gamelift";

/// Whether `s` has the shape of an AWS Region name: two letters, one or more words, a number
/// (`us-east-1`, `eu-west-1`, `us-gov-west-1`, `cn-northwest-1`, `eu-isoe-west-1`).
///
/// A game session's ARN and a fleet's home Region are always such a name; GameLift's custom locations
/// (`custom-home-lab`) and Local Zones (`us-east-1-bos-1`) are locations of a fleet, never its home.
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    s.len() <= 32
        && words.len() >= 2
        && words[0].len() == 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// The Region of a request: the third part of its credential scope
/// (`Credential=AKID/20260101/<region>/gamelift/aws4_request`), from the `Authorization` header or, for
/// a presigned request, the `X-Amz-Credential` query parameter. Refused as AWS refuses it otherwise.
pub fn request_region(headers: &HeaderMap, query: Option<&str>) -> Result<String, ApiError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(auth) = header("authorization").filter(|a| a.trim_start().starts_with("AWS4-")) {
        let auth = auth.trim();
        let (algorithm, params) = auth.split_once(' ').unwrap_or((auth, ""));
        let param = |name: &str| {
            params.split(',').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k.trim() == name && !v.trim().is_empty()).then(|| v.trim())
            })
        };
        let mut missing = String::new();
        for name in ["Credential", "Signature", "SignedHeaders"] {
            if param(name).is_none() {
                missing.push_str(&format!(
                    "Authorization header requires '{name}' parameter. "
                ));
            }
        }
        let date = header("x-amz-date").or_else(|| header("date"));
        if date.is_none() {
            missing.push_str(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
            );
        }
        if !missing.is_empty() {
            return Err(ApiError::incomplete_signature(format!(
                "{missing}Authorization={auth}"
            )));
        }
        if algorithm != "AWS4-HMAC-SHA256" {
            return Err(ApiError::incomplete_signature(format!(
                "Unsupported AWS 'algorithm': '{algorithm}' (only AWS4-HMAC-SHA256 for now). "
            )));
        }
        return scope_region(param("Credential").unwrap_or_default(), date);
    }
    let presigned = query.and_then(|q| {
        let value = |name: &str| {
            q.split('&').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                (k == name).then(|| percent_decode(v))
            })
        };
        Some((value("X-Amz-Credential")?, value("X-Amz-Date")))
    });
    match presigned {
        Some((credential, date)) => scope_region(&credential, date.as_deref()),
        None => Err(ApiError::missing_authentication_token()),
    }
}

/// Checks a credential scope `AKID/<yyyymmdd>/<region>/gamelift/aws4_request` and returns its Region.
fn scope_region(credential: &str, date: Option<&str>) -> Result<String, ApiError> {
    let parts: Vec<&str> = credential.trim_end_matches('/').split('/').collect();
    let [_key, day, region, service, terminator] = parts.as_slice() else {
        return Err(ApiError::incomplete_signature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        )));
    };
    let mut wrong = String::new();
    if !is_aws_region(region) {
        wrong.push_str(&format!(
            "Credential should be scoped to a valid region, not '{region}'. "
        ));
    }
    if *service != SERVICE {
        wrong.push_str(&format!(
            "Credential should be scoped to correct service: '{SERVICE}'. "
        ));
    }
    if *terminator != "aws4_request" {
        wrong.push_str(&format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
        ));
    }
    // X-Amz-Date is ISO 8601 basic (20260101T000000Z); the scope carries its first eight characters.
    if let Some(date) = date
        && date.len() >= 8
        && date
            .get(..8)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()))
        && date.get(..8) != Some(*day)
    {
        wrong.push_str(&format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{day}' != '{}', from '{date}'.",
            &date[..8]
        ));
    }
    if wrong.is_empty() {
        Ok((*region).to_owned())
    } else {
        Err(ApiError::invalid_signature(wrong.trim_end().to_owned()))
    }
}

/// Decodes `%XX` escapes of a query value (a presigned credential's `/` arrive as `%2F`).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).expect("header value"));
        }
        h
    }

    const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/gamelift/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    #[test]
    fn real_region_names_are_regions_and_locations_or_garbage_are_not() {
        for r in [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-5",
            "us-gov-west-1",
            "cn-northwest-1",
            "eu-isoe-west-1",
            "il-central-1",
        ] {
            assert!(is_aws_region(r), "{r}");
        }
        for r in [
            "",
            "x",
            "us-east",
            "useast-1",
            "us-east-1a",
            "us-east-100",
            "US-EAST-1",
            "us--east-1",
            "custom-home-lab",
            "us-east-1-bos-1",
            "us-east-1 ",
        ] {
            assert!(!is_aws_region(r), "{r:?}");
        }
    }

    #[test]
    fn the_region_is_the_one_of_the_credential_scope() {
        let h = headers(&[
            ("authorization", SIGNED),
            ("x-amz-date", "20260101T000000Z"),
        ]);
        assert_eq!(request_region(&h, None), Ok("eu-west-1".to_owned()));
    }

    #[test]
    fn an_unsigned_request_is_missing_its_authentication_token() {
        for h in [headers(&[]), headers(&[("authorization", "Bearer abc")])] {
            let e = request_region(&h, None).expect_err("unsigned");
            assert_eq!(
                (e.code.as_str(), e.status),
                ("MissingAuthenticationTokenException", 400)
            );
        }
    }

    #[test]
    fn a_header_without_its_parts_or_date_is_an_incomplete_signature() {
        let h = headers(&[("authorization", SIGNED)]);
        let e = request_region(&h, None).expect_err("no date");
        assert_eq!(e.code, "IncompleteSignatureException");
        assert!(e.message.contains("'X-Amz-Date'"), "{}", e.message);
        let h = headers(&[
            ("authorization", "AWS4-HMAC-SHA256 Signature=abc"),
            ("x-amz-date", "20260101T000000Z"),
        ]);
        let e = request_region(&h, None).expect_err("no credential");
        assert!(e.message.contains("'Credential'") && e.message.contains("'SignedHeaders'"));
        let h = headers(&[
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1, SignedHeaders=host, Signature=abc",
            ),
            ("x-amz-date", "20260101T000000Z"),
        ]);
        let e = request_region(&h, None).expect_err("short scope");
        assert_eq!(e.code, "IncompleteSignatureException");
        assert!(e.message.contains("exactly 5"), "{}", e.message);
    }

    #[test]
    fn a_scope_for_no_region_another_service_or_another_day_is_an_invalid_signature() {
        for (scope, names) in [
            (
                "AKID/20260101/moon-1/gamelift/aws4_request",
                "valid region, not 'moon-1'",
            ),
            (
                "AKID/20260101/us-east-1/dynamodb/aws4_request",
                "correct service: 'gamelift'",
            ),
            ("AKID/20260101/us-east-1/gamelift/aws4", "valid terminator"),
            (
                "AKID/20251231/us-east-1/gamelift/aws4_request",
                "'20251231' != '20260101'",
            ),
        ] {
            let auth =
                format!("AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=abc");
            let h = headers(&[("authorization", &auth), ("x-amz-date", "20260101T000000Z")]);
            let e = request_region(&h, None).expect_err(scope);
            assert_eq!(e.code, "InvalidSignatureException", "{scope}");
            assert!(e.message.contains(names), "{scope}: {}", e.message);
        }
    }

    #[test]
    fn a_presigned_request_carries_its_scope_in_the_query() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fap-south-1%2Fgamelift%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Signature=abc";
        assert_eq!(
            request_region(&headers(&[]), Some(q)),
            Ok("ap-south-1".to_owned())
        );
    }
}
