//! ws-authorizer: the WebSocket API's `$connect` REQUEST authorizer.
//!
//! A client connects with `?token=<jwt>`. The token is checked by the rules API Gateway's JWT
//! authorizer applies to the player HTTP API ("Control access to HTTP APIs with JWT authorizers" in
//! the API Gateway developer guide), so one token works on both APIs:
//!
//! * signed with RS256/RS384/RS512 by a key of the issuer's JWKS that the header's `kid` names (or
//!   by the one configured PEM key, or HS256 with the local stack's dev secret); `alg: none` and any
//!   other algorithm are refused;
//! * `iss` equals the configured issuer;
//! * `aud` names the configured audience, or, only when there is no `aud`, `client_id` equals it
//!   (Cognito access tokens carry `client_id` and no `aud`);
//! * `exp` is after now, `nbf` and `iat` (when present) are not after now, each with
//!   [`LEEWAY_SECS`] of clock skew;
//!
//! and, for the WebSocket only, `sub` must be a valid player id (it becomes the connection's owner).
//!
//! The answer is an IAM policy for the `$connect` method: **Allow** with `context.sub` (which API
//! Gateway passes to the ws function as `requestContext.authorizer.sub`), or an explicit **Deny** for
//! any failure, which API Gateway turns into a 403 without calling the ws function. A Deny rather than
//! a raised `Unauthorized` error, so a bad token is an answer and never counts as a function error;
//! the reason is logged, never returned to the client. (When the route's identity source is
//! `route.request.querystring.token`, API Gateway itself refuses a connection without the parameter,
//! with a 401, before calling this function.)

pub mod jwks;

use std::collections::HashSet;

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::event::iam::{IamPolicyEffect, IamPolicyStatement};
use fleet_core::ids::PlayerId;
use fleet_core::ports::Clock;
use fleet_core::time::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation, errors::ErrorKind};
use serde_json::{Map, Value, json};

use self::jwks::{HttpJwks, JwksCache};
use crate::config::{ConfigError, JwtConfig};
use crate::deps::{Deps, Ports};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (issuers and Lambda clocks drift a
/// little).
pub const LEEWAY_SECS: i64 = 30;

/// Why a token was refused (logged; the client only sees the Deny).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No `token` query parameter.
    #[error("no token query parameter")]
    Missing,
    /// Not a JWT, or a header or claims that cannot be read (including `alg: none`).
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Signed with an algorithm no configured key verifies.
    #[error("algorithm not allowed")]
    WrongAlgorithm,
    /// An RSA token without the `kid` that says which key of the JWKS signed it.
    #[error("no kid in the token's header")]
    MissingKid,
    /// The `kid` names no key of the issuer's JWKS (even after fetching it again).
    #[error("no key {0:?} in the issuer's JWKS")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is still in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("token issued in the future")]
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// Neither `aud` nor (without `aud`) `client_id` names the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim (`exp`, `iss`, `aud` or `client_id`, `sub`) is missing or of the wrong type.
    #[error("missing claim {0}")]
    MissingClaim(String),
    /// `sub` is not a valid player id.
    #[error("sub is not a valid player id")]
    BadSubject,
}

impl TokenError {
    /// A stable snake-case name, for logs and metrics.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed(_) => "malformed",
            Self::WrongAlgorithm => "wrong_algorithm",
            Self::MissingKid => "missing_kid",
            Self::UnknownKey(_) => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuedInFuture => "issued_in_future",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::BadSubject => "bad_subject",
        }
    }
}

/// What a token must say, besides its signature: the issuer and the accepted audiences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRules {
    /// The one accepted `iss`.
    pub issuer: String,
    /// Accepted values of `aud` (or of `client_id` when there is no `aud`).
    pub audiences: Vec<String>,
}

/// The token's header, or why it cannot be read.
pub fn header(token: &str) -> Result<Header, TokenError> {
    jsonwebtoken::decode_header(token).map_err(|e| match e.kind() {
        ErrorKind::InvalidAlgorithmName => TokenError::WrongAlgorithm,
        _ => TokenError::Malformed(e.to_string()),
    })
}

/// Checks `token` (whose header is `header`) against `key` and `rules` at `now_secs`, and returns
/// its claims. The caller chose `key` for `header.alg`; this verifies the signature with that
/// algorithm only, so a token cannot pick another (an HS256 token made with a public key's bytes
/// never meets an RSA key).
pub fn check(
    token: &str,
    header: &Header,
    key: &DecodingKey,
    rules: &TokenRules,
    now_secs: i64,
) -> Result<Map<String, Value>, TokenError> {
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[rules.issuer.as_str()]);
    validation.required_spec_claims = ["exp", "iss"]
        .into_iter()
        .map(String::from)
        .collect::<HashSet<_>>();
    // `aud` or else `client_id` is checked below (jsonwebtoken knows only `aud`); time claims are
    // checked against `now_secs`, so tests and the gateway's clock control time.
    validation.validate_aud = false;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                TokenError::WrongAlgorithm
            }
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
            ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c.clone()),
            _ => TokenError::Malformed(e.to_string()),
        })?
        .claims;
    let time = |name: &str| -> Result<Option<i64>, TokenError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_f64().map(|f| f as i64))
                .map(Some)
                .ok_or_else(|| TokenError::MissingClaim(name.to_owned())),
        }
    };
    let exp = time("exp")?.ok_or_else(|| TokenError::MissingClaim("exp".into()))?;
    if exp + LEEWAY_SECS <= now_secs {
        return Err(TokenError::Expired);
    }
    if time("nbf")?.is_some_and(|nbf| nbf - LEEWAY_SECS > now_secs) {
        return Err(TokenError::NotYetValid);
    }
    if time("iat")?.is_some_and(|iat| iat - LEEWAY_SECS > now_secs) {
        return Err(TokenError::IssuedInFuture);
    }
    let accepted = |v: &str| rules.audiences.iter().any(|a| a == v);
    // API Gateway evaluates `aud` when a token has one, and `client_id` only when it has none.
    match (claims.get("aud"), claims.get("client_id")) {
        (Some(Value::String(aud)), _) if accepted(aud) => {}
        (Some(Value::Array(auds)), _) if auds.iter().filter_map(Value::as_str).any(accepted) => {}
        (Some(_), _) => return Err(TokenError::WrongAudience),
        (None, Some(Value::String(client))) if accepted(client) => {}
        (None, Some(_)) => return Err(TokenError::WrongAudience),
        (None, None) => return Err(TokenError::MissingClaim("aud or client_id".into())),
    }
    Ok(claims)
}

/// Checks player tokens; built once per container from the configuration (a PEM is parsed once,
/// the JWKS fetched by [`TokenVerifier::prefetch`] and then cached).
pub struct TokenVerifier {
    rules: TokenRules,
    hs256: Option<DecodingKey>,
    rsa_pem: Option<DecodingKey>,
    jwks: Option<JwksCache>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("rules", &self.rules)
            .field("hs256", &self.hs256.is_some())
            .field("rsa_pem", &self.rsa_pem.is_some())
            .field("jwks", &self.jwks)
            .finish()
    }
}

impl TokenVerifier {
    /// A verifier for `config`. A PEM that is not an RSA public key, or a JWKS URL no HTTP client can
    /// be built for, is a configuration error naming its variable. Nothing is fetched here.
    pub fn new(config: &JwtConfig) -> Result<Self, ConfigError> {
        let rsa_pem = config
            .keys
            .public_key_pem
            .as_deref()
            .map(|pem| {
                DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| ConfigError {
                    var: "FLEETLIFT_JWT_PUBLIC_KEY_PEM",
                    problem: format!("must be an RSA public key in PEM: {e}"),
                })
            })
            .transpose()?;
        let jwks = config
            .keys
            .jwks_url
            .as_deref()
            .map(|url| {
                HttpJwks::new(url)
                    .map(JwksCache::new)
                    .map_err(|problem| ConfigError {
                        var: "FLEETLIFT_JWT_JWKS_URL",
                        problem,
                    })
            })
            .transpose()?;
        Ok(Self {
            rules: TokenRules {
                issuer: config.issuer.clone(),
                audiences: vec![config.audience.clone()],
            },
            hs256: config
                .keys
                .hs256_secret
                .as_deref()
                .map(DecodingKey::from_secret),
            rsa_pem,
            jwks,
        })
    }

    /// A verifier over given keys: an optional HS256 secret and an optional JWKS cache (the local
    /// stack's gateways, tests).
    pub fn with_keys(
        rules: TokenRules,
        hs256_secret: Option<&[u8]>,
        jwks: Option<JwksCache>,
    ) -> Self {
        Self {
            rules,
            hs256: hs256_secret.map(DecodingKey::from_secret),
            rsa_pem: None,
            jwks,
        }
    }

    /// The rules tokens are held to.
    pub fn rules(&self) -> &TokenRules {
        &self.rules
    }

    /// The JWKS cache, when keys come from a JWKS.
    pub fn jwks(&self) -> Option<&JwksCache> {
        self.jwks.as_ref()
    }

    /// Fetches the JWKS once (at cold start, so the first connection does not wait for it). A
    /// failure is logged and the first token with a `kid` tries again.
    pub async fn prefetch(&self, now: Timestamp) {
        if let Some(jwks) = &self.jwks {
            jwks.refresh(now).await;
        }
    }

    /// The token's claims when it passes API Gateway's JWT authorizer rules (see the module docs).
    pub async fn claims(
        &self,
        token: &str,
        now: Timestamp,
    ) -> Result<Map<String, Value>, TokenError> {
        let header = header(token)?;
        let now_secs = now.epoch_seconds();
        match header.alg {
            Algorithm::HS256 if self.hs256.is_some() => {
                let key = self.hs256.as_ref().ok_or(TokenError::WrongAlgorithm)?;
                check(token, &header, key, &self.rules, now_secs)
            }
            Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
                if let Some(jwks) = &self.jwks {
                    let kid = header.kid.as_deref().ok_or(TokenError::MissingKid)?;
                    let key = jwks
                        .key(kid, now)
                        .await
                        .ok_or_else(|| TokenError::UnknownKey(shown(kid)))?;
                    if key.alg.is_some_and(|alg| alg != header.alg) {
                        return Err(TokenError::WrongAlgorithm);
                    }
                    check(token, &header, &key.key, &self.rules, now_secs)
                } else if let Some(key) = &self.rsa_pem {
                    check(token, &header, key, &self.rules, now_secs)
                } else {
                    Err(TokenError::WrongAlgorithm)
                }
            }
            _ => Err(TokenError::WrongAlgorithm),
        }
    }

    /// The token's player, or why it is refused: [`TokenVerifier::claims`], then a `sub` that is a
    /// valid player id.
    pub async fn verify(&self, token: &str, now: Timestamp) -> Result<PlayerId, TokenError> {
        let claims = self.claims(token, now).await?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| TokenError::MissingClaim("sub".into()))?;
        if !fleet_core::auth::sub_is_player(sub) {
            return Err(TokenError::BadSubject);
        }
        PlayerId::parse(sub).map_err(|_| TokenError::BadSubject)
    }
}

/// A client-chosen value quoted in a log line: at most 64 characters.
fn shown(s: &str) -> String {
    s.chars().take(64).collect()
}

/// The authorizer's answer for a request (see the module docs).
pub async fn authorize(
    verifier: &TokenVerifier,
    request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
    now: Timestamp,
) -> ApiGatewayCustomAuthorizerResponse {
    let method_arn = request.method_arn.as_deref().filter(|a| !a.is_empty());
    let token = request
        .query_string_parameters
        .first("token")
        .filter(|t| !t.is_empty());
    let verdict = match token {
        None => Err(TokenError::Missing),
        Some(t) => verifier.verify(t, now).await,
    };
    match (verdict, method_arn) {
        (Ok(player), Some(arn)) => {
            tracing::info!(sub = player.as_str(), "connection allowed");
            policy(
                player.as_str(),
                IamPolicyEffect::Allow,
                arn,
                json!({"sub": player.as_str()}),
            )
        }
        (Ok(player), None) => {
            tracing::warn!(
                sub = player.as_str(),
                "no methodArn in the authorizer request; denied"
            );
            policy(player.as_str(), IamPolicyEffect::Deny, "*", json!({}))
        }
        (Err(e), arn) => {
            tracing::info!(code = e.code(), reason = %e, "connection denied");
            policy(
                "anonymous",
                IamPolicyEffect::Deny,
                arn.unwrap_or("*"),
                json!({}),
            )
        }
    }
}

fn policy(
    principal: &str,
    effect: IamPolicyEffect,
    resource: &str,
    context: serde_json::Value,
) -> ApiGatewayCustomAuthorizerResponse {
    let mut statement = IamPolicyStatement::default();
    statement.action = vec!["execute-api:Invoke".to_owned()];
    statement.effect = effect;
    statement.resource = vec![resource.to_owned()];
    let mut response = ApiGatewayCustomAuthorizerResponse::default();
    response.principal_id = Some(principal.to_owned());
    response.policy_document.version = Some("2012-10-17".to_owned());
    response.policy_document.statement = vec![statement];
    response.context = context;
    response
}

/// The Lambda entry point's body: `verifier` is built once per container from `deps.config`.
pub async fn handle<P: Ports>(
    deps: &Deps<P>,
    verifier: &TokenVerifier,
    request: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> ApiGatewayCustomAuthorizerResponse {
    authorize(verifier, &request, deps.clock.now()).await
}
