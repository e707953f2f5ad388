//! The service API's `AWS_IAM` check: a SigV4 signature (header form, `AWS4-HMAC-SHA256`) verified
//! the way API Gateway does, by computing it again from the request as received.
//!
//! The recomputation is [`aws_sigv4::http_request::sign`] itself, fed with exactly the headers the
//! client listed in `SignedHeaders`, the method, the path and raw query as sent, and the body (so a
//! tampered body, path, query or signed header changes the signature). The settings are the SDKs'
//! defaults for `execute-api` (double percent-encoding and normalisation of the path), except that
//! no header is excluded: a client that chose to sign `user-agent` has it checked too.
//!
//! Refused ([`SigV4Error`]): another scheme; a malformed `Authorization`; a credential scope that is
//! not `<date>/<region>/execute-api/aws4_request` for the gateway's region; a scope date other than
//! `X-Amz-Date`'s; an `X-Amz-Date` more than [`MAX_SKEW`] away from now; `host` or `x-amz-date` not
//! signed; an unknown access key; an `x-amz-content-sha256` that is not the body's hash; a signature
//! that differs (compared in constant time). Presigned URLs (signature in the query) are not
//! accepted: nothing local uses them.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::local::{GatewayAuth, SIGV4_SERVICE};

/// The scheme of a SigV4 `Authorization` header.
pub const SCHEME: &str = "AWS4-HMAC-SHA256";

/// How far `X-Amz-Date` may be from the gateway's clock (API Gateway's, and every AWS service's).
pub const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Who a valid signature identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The access key id that signed.
    pub access_key: String,
    /// The IAM principal ARN the key stands for ([`crate::local::LocalKey::principal`]).
    pub principal: String,
}

/// Why a signature was refused (its text goes into the 401's message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header, or not the `AWS4-HMAC-SHA256` scheme.
    #[error("the request is not signed with AWS4-HMAC-SHA256")]
    NotSigned,
    /// The header or a signed value cannot be read.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// The credential scope names another service, region or terminator.
    #[error("the credential scope must be <date>/{region}/execute-api/aws4_request, got {scope}")]
    WrongScope {
        /// The expected region.
        region: String,
        /// The scope sent.
        scope: String,
    },
    /// `X-Amz-Date` is too far from now.
    #[error("the signature's date {0} is more than 5 minutes from the gateway's clock")]
    Stale(String),
    /// The access key is not one of the local keys.
    #[error("the access key {0} is not known to the local gateway")]
    UnknownKey(String),
    /// The signature does not match.
    #[error("the signature does not match the request; check the secret and what was signed")]
    BadSignature,
}

/// Verifies a SigV4-signed request at `now`. `path_and_query` is the request target as received
/// (still percent-encoded); `headers` are all the request's headers.
pub fn verify(
    auth: &GatewayAuth,
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    now: SystemTime,
) -> Result<Signer, SigV4Error> {
    let malformed = |why: &str| SigV4Error::Malformed(why.to_owned());
    let authorization = headers
        .get(http::header::AUTHORIZATION)
        .ok_or(SigV4Error::NotSigned)?
        .to_str()
        .map_err(|_| malformed("the Authorization header is not ASCII"))?;
    let parsed = parse_authorization(authorization)?;

    let (access_key, date, region) = credential_scope(auth, parsed.credential)?;
    let signed_at = signing_time(headers, date, now)?;

    let signed_names: Vec<&str> = parsed.signed_headers.split(';').collect();
    for required in ["host", "x-amz-date"] {
        if !signed_names.contains(&required) {
            return Err(SigV4Error::Malformed(format!(
                "SignedHeaders must include {required}"
            )));
        }
    }
    let key = auth
        .sigv4_keys
        .get(access_key)
        .ok_or_else(|| SigV4Error::UnknownKey(access_key.to_owned()))?;

    let signable_body = signable_body(headers, body)?;
    let signed_headers = signed_header_values(headers, &signed_names)?;

    let identity =
        Credentials::new(access_key, key.secret.as_str(), None, None, "fleet-local").into();
    let mut settings = SigningSettings::default();
    // Exactly the headers the client signed are given to the signer; none may be dropped.
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SIGV4_SERVICE)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|e| SigV4Error::Malformed(e.to_string()))?
        .into();
    // The authority is only a fallback for `host`, which is always among the signed headers here.
    let uri = format!("http://localhost{path_and_query}");
    let request = SignableRequest::new(method, uri, signed_headers.into_iter(), signable_body)
        .map_err(|e| SigV4Error::Malformed(e.to_string()))?;
    let expected = sign(request, &params).map_err(|e| SigV4Error::Malformed(e.to_string()))?;
    if !constant_time_eq(expected.signature().as_bytes(), parsed.signature.as_bytes()) {
        return Err(SigV4Error::BadSignature);
    }
    Ok(Signer {
        access_key: access_key.to_owned(),
        principal: key.principal.clone(),
    })
}

/// The credential scope's access key, date and region, refused unless it is
/// `<access key>/<date>/<gateway's region>/execute-api/aws4_request`.
fn credential_scope<'a>(
    auth: &GatewayAuth,
    credential: &'a str,
) -> Result<(&'a str, &'a str, &'a str), SigV4Error> {
    let mut scope = credential.split('/');
    let (Some(access_key), Some(date), Some(region), Some(service), Some(terminator), None) = (
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
        scope.next(),
    ) else {
        return Err(SigV4Error::Malformed(
            "Credential must be <access key>/<date>/<region>/<service>/aws4_request".to_owned(),
        ));
    };
    if region != auth.region || service != SIGV4_SERVICE || terminator != "aws4_request" {
        return Err(SigV4Error::WrongScope {
            region: auth.region.clone(),
            scope: credential.split_once('/').map_or("", |(_, s)| s).to_owned(),
        });
    }
    Ok((access_key, date, region))
}

/// When the request was signed (`X-Amz-Date`), refused unless the scope's `date` is its day and it
/// is within [`MAX_SKEW`] of `now`.
fn signing_time(
    headers: &HeaderMap,
    date: &str,
    now: SystemTime,
) -> Result<SystemTime, SigV4Error> {
    let malformed = |why: &str| SigV4Error::Malformed(why.to_owned());
    let amz_date = headers
        .get("x-amz-date")
        .ok_or_else(|| malformed("no X-Amz-Date header"))?
        .to_str()
        .map_err(|_| malformed("X-Amz-Date is not ASCII"))?;
    let signed_at =
        parse_amz_date(amz_date).ok_or_else(|| malformed("X-Amz-Date must be YYYYMMDDTHHMMSSZ"))?;
    if !amz_date.starts_with(date) || date.len() != 8 {
        return Err(malformed("the credential scope's date is not X-Amz-Date's"));
    }
    let skew = now
        .duration_since(signed_at)
        .unwrap_or_else(|e| e.duration());
    if skew > MAX_SKEW {
        return Err(SigV4Error::Stale(amz_date.to_owned()));
    }
    Ok(signed_at)
}

/// The payload hash the client signed: the body's, unless it declared an unsigned payload; a declared
/// hash that is not the body's is refused.
fn signable_body<'a>(headers: &HeaderMap, body: &'a [u8]) -> Result<SignableBody<'a>, SigV4Error> {
    let declared = headers
        .get("x-amz-content-sha256")
        .map(|v| v.to_str().unwrap_or(""));
    match declared {
        Some("UNSIGNED-PAYLOAD") => Ok(SignableBody::UnsignedPayload),
        Some(hash) if !hash.eq_ignore_ascii_case(&hex(&Sha256::digest(body))) => Err(
            SigV4Error::Malformed("x-amz-content-sha256 is not the SHA-256 of the body".to_owned()),
        ),
        Some(_) | None => Ok(SignableBody::Bytes(body)),
    }
}

/// Every value of every header the client listed in `SignedHeaders`, each of which must be present.
fn signed_header_values<'a>(
    headers: &'a HeaderMap,
    names: &[&'a str],
) -> Result<Vec<(&'a str, &'a str)>, SigV4Error> {
    let mut signed_headers = Vec::new();
    for name in names {
        let mut any = false;
        for value in headers.get_all(*name) {
            let text = value.to_str().map_err(|_| {
                SigV4Error::Malformed(format!("the signed header {name} is not ASCII"))
            })?;
            signed_headers.push((*name, text));
            any = true;
        }
        if !any {
            return Err(SigV4Error::Malformed(format!(
                "the signed header {name} is not in the request"
            )));
        }
    }
    Ok(signed_headers)
}

struct Authorization<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, SigV4Error> {
    let Some(rest) = header.strip_prefix(SCHEME).filter(|r| r.starts_with(' ')) else {
        return Err(SigV4Error::NotSigned);
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let Some((name, value)) = part.trim().split_once('=') else {
            return Err(SigV4Error::Malformed(format!(
                "`{}` is not name=value",
                part.trim()
            )));
        };
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            other => {
                return Err(SigV4Error::Malformed(format!(
                    "unknown Authorization component {other}"
                )));
            }
        };
        if slot.replace(value).is_some() {
            return Err(SigV4Error::Malformed(format!("{name} is given twice")));
        }
    }
    match (credential, signed_headers, signature) {
        (Some(credential), Some(signed_headers), Some(signature)) if !signed_headers.is_empty() => {
            Ok(Authorization {
                credential,
                signed_headers,
                signature,
            })
        }
        _ => Err(SigV4Error::Malformed(
            "Authorization needs Credential, SignedHeaders and Signature".into(),
        )),
    }
}

/// `YYYYMMDDTHHMMSSZ` as a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &format).ok()?;
    Some(t.assume_utc().into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equality whose time does not depend on where the inputs differ (only on their lengths, which
/// are public: a signature is always 64 hex digits).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::local::{
        GAME_SERVER_ACCESS_KEY, GAME_SERVER_PRINCIPAL, REGION, SERVICE_ACCESS_KEY,
        SERVICE_PRINCIPAL, SERVICE_SECRET,
    };
    use http::HeaderName;

    /// Signs a request as an AWS SDK would (aws-sigv4, default settings) and returns its headers.
    pub(crate) fn signed_headers(
        method: &str,
        host: &str,
        path_and_query: &str,
        body: &[u8],
        (key, secret): (&str, &str),
        scope: (&str, &str),
        at: SystemTime,
    ) -> HeaderMap {
        let url = format!("http://{host}{path_and_query}");
        let sent = [("host", host), ("content-type", "application/json")];
        let key = crate::signing::SigningKey {
            access_key: key.into(),
            secret: secret.into(),
        };
        let signing = crate::signing::sigv4_headers_at(method, &url, &sent, body, &key, scope, at);
        let sent = sent.map(|(k, v)| (k.to_owned(), v.to_owned()));
        sent.into_iter()
            .chain(signing.unwrap())
            .map(|(k, v)| (HeaderName::try_from(k).unwrap(), v.parse().unwrap()))
            .collect()
    }

    const SERVICE: (&str, &str) = (SERVICE_ACCESS_KEY, SERVICE_SECRET);
    const SCOPE: (&str, &str) = (REGION, SIGV4_SERVICE);
    const PATH: &str =
        "/v1/sessions/arn%3Aaws%3Agamelift%3Aus-east-1%3A%3Agamesession%2Ff%2Fg/join?x=1&a=b%20c";

    fn now() -> SystemTime {
        SystemTime::now()
    }

    fn check(headers: &HeaderMap, method: &str, body: &[u8]) -> Result<Signer, SigV4Error> {
        verify(&GatewayAuth::local([]), method, PATH, headers, body, now())
    }

    #[test]
    fn a_request_signed_like_an_sdk_is_accepted_as_its_principal() {
        let headers = signed_headers(
            "POST",
            "127.0.0.1:4000",
            PATH,
            br#"{"a":1}"#,
            SERVICE,
            SCOPE,
            now(),
        );
        let signer = check(&headers, "POST", br#"{"a":1}"#).expect("valid");
        assert_eq!(
            signer,
            Signer {
                access_key: SERVICE_ACCESS_KEY.into(),
                principal: SERVICE_PRINCIPAL.into()
            }
        );
        let gs = signed_headers(
            "GET",
            "localhost:4000",
            PATH,
            b"",
            (GAME_SERVER_ACCESS_KEY, crate::local::GAME_SERVER_SECRET),
            SCOPE,
            now(),
        );
        assert_eq!(
            check(&gs, "GET", b"").expect("valid").principal,
            GAME_SERVER_PRINCIPAL
        );
    }

    /// A `{}` POST to [`PATH`] signed with `key` for `scope` at `at`.
    fn signed_post(key: (&str, &str), scope: (&str, &str), at: SystemTime) -> HeaderMap {
        signed_headers("POST", "h", PATH, b"{}", key, scope, at)
    }

    #[test]
    fn a_wrong_secret_or_unknown_key_is_refused() {
        let wrong = signed_post((SERVICE_ACCESS_KEY, "not-the-secret"), SCOPE, now());
        assert_eq!(check(&wrong, "POST", b"{}"), Err(SigV4Error::BadSignature));
        let unknown = signed_post(("AKIAUNKNOWN000000000", SERVICE_SECRET), SCOPE, now());
        assert_eq!(
            check(&unknown, "POST", b"{}"),
            Err(SigV4Error::UnknownKey("AKIAUNKNOWN000000000".into()))
        );
    }

    #[test]
    fn a_wrong_service_or_region_is_refused() {
        for scope in [(REGION, "s3"), ("eu-west-1", SIGV4_SERVICE)] {
            let headers = signed_post(SERVICE, scope, now());
            assert!(
                matches!(
                    check(&headers, "POST", b"{}"),
                    Err(SigV4Error::WrongScope { .. })
                ),
                "{scope:?}"
            );
        }
    }

    #[test]
    fn a_stale_or_future_date_is_refused() {
        let stale = [
            now() - Duration::from_secs(301),
            now() + Duration::from_secs(400),
        ];
        for at in stale {
            let headers = signed_post(SERVICE, SCOPE, at);
            assert!(
                matches!(check(&headers, "POST", b"{}"), Err(SigV4Error::Stale(_))),
                "{at:?}"
            );
        }
        let recent = signed_post(SERVICE, SCOPE, now() - Duration::from_secs(200));
        assert!(check(&recent, "POST", b"{}").is_ok(), "within five minutes");
    }

    #[test]
    fn a_tampered_body_method_path_or_header_is_refused() {
        let headers = signed_headers("POST", "h", PATH, br#"{"n":1}"#, SERVICE, SCOPE, now());
        assert_eq!(
            check(&headers, "POST", br#"{"n":2}"#),
            Err(SigV4Error::BadSignature)
        );
        assert_eq!(
            check(&headers, "PUT", br#"{"n":1}"#),
            Err(SigV4Error::BadSignature)
        );
        let other_path = verify(
            &GatewayAuth::local([]),
            "POST",
            "/v1/sessions",
            &headers,
            br#"{"n":1}"#,
            now(),
        );
        assert_eq!(other_path, Err(SigV4Error::BadSignature));
        let mut moved = headers.clone();
        moved.insert("host", "evil.example".parse().unwrap());
        assert_eq!(
            check(&moved, "POST", br#"{"n":1}"#),
            Err(SigV4Error::BadSignature)
        );
        let mut declared = headers;
        declared.insert(
            "x-amz-content-sha256",
            hex(&Sha256::digest(b"other")).parse().unwrap(),
        );
        assert!(matches!(
            check(&declared, "POST", br#"{"n":1}"#),
            Err(SigV4Error::Malformed(_))
        ));
    }

    #[test]
    fn malformed_authorization_headers_are_refused_without_panicking() {
        let good = signed_headers("GET", "h", PATH, b"", SERVICE, SCOPE, now());
        for bad in [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ",
            "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host;x-amz-date, Signature=00",
            "AWS4-HMAC-SHA256 Credential=AKIALOCALSERVICE0001/20260101/us-east-1/execute-api/aws4_request, Signature=00",
            "AWS4-HMAC-SHA256 Credential=x, Credential=y, SignedHeaders=host, Signature=0",
            "AWS4-HMAC-SHA256 garbage",
            "Bearer abc",
            "AWS4-HMAC-SHA256X Credential=a",
        ] {
            let mut h = good.clone();
            h.insert("authorization", bad.parse().unwrap());
            assert!(check(&h, "GET", b"").is_err(), "{bad}");
        }
        let mut no_date = good.clone();
        no_date.remove("x-amz-date");
        assert!(matches!(
            check(&no_date, "GET", b""),
            Err(SigV4Error::Malformed(_))
        ));
        let mut bad_date = good;
        bad_date.insert("x-amz-date", "yesterday".parse().unwrap());
        assert!(matches!(
            check(&bad_date, "GET", b""),
            Err(SigV4Error::Malformed(_))
        ));
        assert_eq!(
            check(&HeaderMap::new(), "GET", b""),
            Err(SigV4Error::NotSigned)
        );
    }
}
