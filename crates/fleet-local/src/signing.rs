//! SigV4 keys and signing for calls to the local stack (AWS's own `aws-sigv4`, as any AWS SDK signs an
//! `execute-api` or `dynamodb` request). A leaf module: the stack, the demo, the bench and the streams
//! poller all sign through it.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::local::{REGION, SIGV4_SERVICE};

/// A SigV4 key: access key id and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Access key id.
    pub access_key: String,
    /// Secret access key.
    pub secret: String,
}

/// The headers that sign `method url` with `body` for `key` (region us-east-1, service execute-api).
pub fn sigv4_headers(
    method: &str,
    url: &str,
    body: &[u8],
    key: &SigningKey,
) -> Result<Vec<(String, String)>, String> {
    sigv4_headers_for(method, url, body, key, SIGV4_SERVICE)
}

/// The headers that sign `method url` with `body` for `key` and `service` in us-east-1.
pub fn sigv4_headers_for(
    method: &str,
    url: &str,
    body: &[u8],
    key: &SigningKey,
    service: &str,
) -> Result<Vec<(String, String)>, String> {
    let scope = (REGION, service);
    sigv4_headers_at(method, url, &[], body, key, scope, SystemTime::now())
}

/// The headers that sign `method url` carrying `headers` (signed too) and `body` for `key`, in the
/// `(region, service)` scope, at `at`.
pub fn sigv4_headers_at(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    key: &SigningKey,
    (region, service): (&str, &str),
    at: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity = Credentials::new(&key.access_key, &key.secret, None, None, "fleet-local").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers = headers.iter().copied();
    let request = SignableRequest::new(method, url, headers, SignableBody::Bytes(body))
        .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

/// A reqwest request signed with `key`.
pub fn signed(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<String>,
    key: &SigningKey,
) -> Result<reqwest::RequestBuilder, String> {
    let bytes = body.clone().unwrap_or_default();
    let mut req = http.request(method.clone(), url);
    for (k, v) in sigv4_headers(method.as_str(), url, bytes.as_bytes(), key)? {
        req = req.header(k, v);
    }
    if let Some(b) = body {
        req = req.header("content-type", "application/json").body(b);
    }
    Ok(req)
}
