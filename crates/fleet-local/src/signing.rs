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
    let identity = Credentials::new(&key.access_key, &key.secret, None, None, "fleet-local").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let headers: [(&str, &str); 0] = [];
    let request = SignableRequest::new(method, url, headers.into_iter(), SignableBody::Bytes(body))
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
