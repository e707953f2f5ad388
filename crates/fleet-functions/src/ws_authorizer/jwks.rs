//! The issuer's signing keys (its JWKS), fetched once at cold start and kept, as API Gateway's JWT
//! authorizer keeps them.
//!
//! A token whose `kid` is not in the cached set makes the cache fetch the JWKS again (the issuer
//! rotated its keys), but at most once every [`REFETCH_INTERVAL_SECS`] however many such tokens
//! arrive, so a flood of made-up `kid`s costs the issuer one request per interval per container,
//! the same back-off AWS's own verifier (`aws-jwt-verify`'s `SimplePenaltyBox`, 10 s) uses. A set
//! older than [`MAX_AGE_SECS`] (API Gateway caches keys for up to two hours) is fetched again on the
//! next token, so a key the issuer withdrew stops working within that time. The set is bounded:
//! at most [`MAX_JWKS_BYTES`] read, at most [`MAX_KEYS`] keys kept, and a fetch replaces the set
//! rather than adding to it.
//!
//! Fetch failures never fail a token on their own: the last good set stays in use and the next
//! attempt waits for the interval.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use fleet_core::time::Timestamp;
use futures::future::BoxFuture;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// Least time between two fetches of the JWKS, in seconds.
pub const REFETCH_INTERVAL_SECS: i64 = 10;
/// Age after which the set is fetched again on the next token, in seconds.
pub const MAX_AGE_SECS: i64 = 2 * 3600;
/// Most keys kept from one JWKS (providers publish two or three: the current one and the next).
pub const MAX_KEYS: usize = 16;
/// Most bytes read of a JWKS answer.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;
/// Longest a fetch may take, answer included: it runs inside a `$connect` (or at init).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// Where a JWKS comes from.
pub trait FetchJwks: Send + Sync {
    /// The JWKS document's bytes, or why there are none.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, String>>;
    /// Where it is fetched from (for logs).
    fn source(&self) -> &str;
}

/// A JWKS fetched over HTTPS (or plain HTTP to loopback, the local stack's), with Mozilla's roots
/// compiled in unless `SSL_CERT_FILE`/`SSL_CERT_DIR` name others: nothing read from disk at init.
#[derive(Debug, Clone)]
pub struct HttpJwks {
    url: String,
    client: reqwest::Client,
}

impl HttpJwks {
    /// A fetcher of `url`; the client is built once (no connection is made here).
    pub fn new(url: &str) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(FETCH_TIMEOUT)
            // The URL is configured, never taken from a token: a redirect is a misconfiguration.
            .redirect(reqwest::redirect::Policy::none());
        let system_roots = ["SSL_CERT_FILE", "SSL_CERT_DIR"]
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
        if !system_roots {
            let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
                .iter()
                .filter_map(|c| reqwest::Certificate::from_der(c.as_ref()).ok());
            builder = builder.tls_certs_only(roots);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Self {
            url: url.to_owned(),
            client,
        })
    }
}

impl FetchJwks for HttpJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, String>> {
        Box::pin(async move {
            let mut response = self
                .client
                .get(&self.url)
                .header(reqwest::header::ACCEPT, "application/json")
                .send()
                .await
                .map_err(|e| format!("GET {}: {e}", self.url))?;
            if !response.status().is_success() {
                return Err(format!("GET {}: HTTP {}", self.url, response.status()));
            }
            let mut body = Vec::new();
            while let Some(chunk) = response
                .chunk()
                .await
                .map_err(|e| format!("GET {}: {e}", self.url))?
            {
                if body.len() + chunk.len() > MAX_JWKS_BYTES {
                    return Err(format!(
                        "GET {}: the JWKS is over {MAX_JWKS_BYTES} bytes",
                        self.url
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(body)
        })
    }

    fn source(&self) -> &str {
        &self.url
    }
}

/// A fixed JWKS document (the local stack's own keys, tests).
#[derive(Debug, Clone)]
pub struct StaticJwks {
    json: Vec<u8>,
}

impl StaticJwks {
    /// Serves `json` on every fetch.
    pub fn new(json: impl Into<Vec<u8>>) -> Self {
        Self { json: json.into() }
    }
}

impl FetchJwks for StaticJwks {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<u8>, String>> {
        Box::pin(async move { Ok(self.json.clone()) })
    }

    fn source(&self) -> &str {
        "a fixed JWKS"
    }
}

/// One verification key of the set.
pub struct VerifyKey {
    /// The RSA public key.
    pub key: DecodingKey,
    /// The algorithm the JWK names, when it names one (a token must then use that one).
    pub alg: Option<Algorithm>,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct KeySet {
    by_kid: HashMap<String, Arc<VerifyKey>>,
    fetched_at: Option<Timestamp>,
}

/// The cached JWKS of one issuer (see the [module docs](self)).
pub struct JwksCache {
    fetcher: Box<dyn FetchJwks>,
    keys: RwLock<Arc<KeySet>>,
    /// When the last fetch was attempted; held across a fetch, so concurrent misses share it.
    last_attempt: tokio::sync::Mutex<Option<Timestamp>>,
    fetches: AtomicU64,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("source", &self.fetcher.source())
            .field("keys", &self.len())
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// An empty cache over `fetcher` (call [`JwksCache::refresh`] at cold start).
    pub fn new(fetcher: impl FetchJwks + 'static) -> Self {
        Self {
            fetcher: Box::new(fetcher),
            keys: RwLock::new(Arc::new(KeySet::default())),
            last_attempt: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
        }
    }

    /// Where the keys come from.
    pub fn source(&self) -> &str {
        self.fetcher.source()
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.snapshot().by_kid.len()
    }

    /// Whether the set holds no key (never fetched, or every fetch failed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many fetches were attempted (tests and logs).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn snapshot(&self) -> Arc<KeySet> {
        // Writers replace the whole set under the lock, so a poisoned lock still holds a whole set.
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The key `kid` names: from the cached set, or from a fresh fetch when the set does not hold
    /// it or has aged out, if the interval since the last attempt allows one.
    pub async fn key(&self, kid: &str, now: Timestamp) -> Option<Arc<VerifyKey>> {
        let set = self.snapshot();
        let aged = set
            .fetched_at
            .is_none_or(|t| now.millis() - t.millis() >= MAX_AGE_SECS * 1000);
        if let Some(key) = set.by_kid.get(kid)
            && !aged
        {
            return Some(key.clone());
        }
        self.refresh(now).await;
        self.snapshot().by_kid.get(kid).cloned()
    }

    /// Fetches the JWKS again unless the last attempt was less than [`REFETCH_INTERVAL_SECS`] ago;
    /// returns whether it fetched. A failed fetch keeps the current set (and is logged).
    pub async fn refresh(&self, now: Timestamp) -> bool {
        let mut last = self.last_attempt.lock().await;
        if last.is_some_and(|t| now.millis() - t.millis() < REFETCH_INTERVAL_SECS * 1000) {
            return false;
        }
        *last = Some(now);
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let parsed = self
            .fetcher
            .fetch()
            .await
            .and_then(|bytes| parse_jwks(&bytes));
        match parsed {
            Ok(by_kid) => {
                tracing::info!(source = self.source(), keys = by_kid.len(), "JWKS fetched");
                let set = Arc::new(KeySet {
                    by_kid,
                    fetched_at: Some(now),
                });
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = set;
            }
            Err(why) => {
                tracing::warn!(
                    source = self.source(),
                    error = %why,
                    kept = self.len(),
                    "could not fetch the JWKS; keeping the keys already known"
                );
            }
        }
        true
    }
}

/// The RSA signing keys of a JWKS document, by `kid`. Keys that cannot sign JWTs this authorizer
/// accepts (no `kid`, not RSA, `use` other than `sig`, another algorithm, unreadable) are skipped;
/// none left is an error. At most [`MAX_KEYS`] are kept, in document order.
pub fn parse_jwks(bytes: &[u8]) -> Result<HashMap<String, Arc<VerifyKey>>, String> {
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(format!("the JWKS is over {MAX_JWKS_BYTES} bytes"));
    }
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("the JWKS has no `keys` array")?;
    let mut out = HashMap::new();
    for jwk in keys {
        let text = |k: &str| jwk.get(k).and_then(Value::as_str);
        let Some(kid) = text("kid").filter(|k| !k.is_empty() && k.len() <= 256) else {
            continue;
        };
        if text("kty") != Some("RSA") || text("use").is_some_and(|u| u != "sig") {
            continue;
        }
        let alg = match text("alg") {
            None => None,
            Some(name) => match rsa_algorithm(name) {
                Some(alg) => Some(alg),
                None => continue,
            },
        };
        let (Some(n), Some(e)) = (text("n"), text("e")) else {
            continue;
        };
        let Ok(key) = DecodingKey::from_rsa_components(n, e) else {
            tracing::warn!(kid, "skipping a JWK whose n or e is not base64url");
            continue;
        };
        if out.len() == MAX_KEYS {
            tracing::warn!(max = MAX_KEYS, "the JWKS holds more keys than are kept");
            break;
        }
        out.insert(kid.to_owned(), Arc::new(VerifyKey { key, alg }));
    }
    if out.is_empty() {
        return Err("the JWKS has no RSA signing key with a kid".into());
    }
    Ok(out)
}

/// The RSA algorithms API Gateway's JWT authorizer verifies ("only RSA-based algorithms").
pub fn rsa_algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        _ => None,
    }
}
