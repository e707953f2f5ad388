//! ws-authorizer: the WebSocket API's `$connect` REQUEST authorizer (DESIGN §5, §8).
//!
//! A client connects with `?token=<jwt>`. The token must be signed with the configured key (HS256
//! with a shared secret, the local stack's dev key, or RS256 with an identity provider's public key;
//! no other algorithm and never `none`), unexpired (and past its `nbf`), issued by the configured
//! `iss` for the configured `aud`, and carry a `sub` that is a valid player id.
//!
//! The answer is an IAM policy for the `$connect` method: **Allow** with `context.sub` (which API
//! Gateway passes to the ws function as `requestContext.authorizer.sub`), or an explicit **Deny** for
//! any failure, which API Gateway turns into a 403 without calling the ws function. A Deny rather than
//! a raised `Unauthorized` error, so a bad token is an answer and never counts as a function error;
//! the reason is logged, never returned to the client. (When the route's identity source is
//! `route.request.querystring.token`, API Gateway itself refuses a connection without the parameter,
//! with a 401, before calling this function.)

use std::collections::HashSet;

use aws_lambda_events::event::apigw::{
    ApiGatewayCustomAuthorizerRequestTypeRequest, ApiGatewayCustomAuthorizerResponse,
};
use aws_lambda_events::event::iam::{IamPolicyEffect, IamPolicyStatement};
use fleet_core::ids::PlayerId;
use fleet_core::ports::Clock;
use fleet_core::time::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;
use serde_json::json;

use crate::config::{ConfigError, JwtConfig, JwtKey};
use crate::deps::Deps;

/// Clock skew tolerated on `exp` and `nbf`, in seconds (issuers and Lambda clocks drift a little).
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
    /// Signed with another algorithm than the configured one.
    #[error("algorithm not allowed")]
    WrongAlgorithm,
    /// The signature does not verify.
    #[error("bad signature")]
    BadSignature,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` is still in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("wrong issuer")]
    WrongIssuer,
    /// `aud` does not include the configured audience.
    #[error("wrong audience")]
    WrongAudience,
    /// A required claim (`exp`, `sub`, `iss`, `aud`) is missing.
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
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongIssuer => "wrong_issuer",
            Self::WrongAudience => "wrong_audience",
            Self::MissingClaim(_) => "missing_claim",
            Self::BadSubject => "bad_subject",
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
}

/// Checks player tokens; built once per container from the configuration (a PEM is parsed once).
pub struct TokenVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("algorithms", &self.validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier for `config`; a public key that is not a valid RSA PEM is a configuration error.
    pub fn new(config: &JwtConfig) -> Result<Self, ConfigError> {
        let (key, algorithm) = match &config.key {
            JwtKey::Hs256(secret) => (DecodingKey::from_secret(secret), Algorithm::HS256),
            JwtKey::Rs256Pem(pem) => (
                DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| ConfigError {
                    var: "FLEETLIFT_JWT_PUBLIC_KEY_PEM",
                    problem: format!("must be an RSA public key in PEM: {e}"),
                })?,
                Algorithm::RS256,
            ),
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&[config.audience.as_str()]);
        validation.required_spec_claims = ["exp", "sub", "iss", "aud"]
            .into_iter()
            .map(String::from)
            .collect::<HashSet<_>>();
        // Time claims are checked against the injected clock below, so tests control time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self { key, validation })
    }

    /// The token's player, or why it is refused.
    pub fn verify(&self, token: &str, now: Timestamp) -> Result<PlayerId, TokenError> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).map_err(
            |e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    TokenError::WrongAlgorithm
                }
                ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
                ErrorKind::InvalidAudience => TokenError::WrongAudience,
                ErrorKind::MissingRequiredClaim(c) => TokenError::MissingClaim(c.clone()),
                ErrorKind::ExpiredSignature => TokenError::Expired,
                ErrorKind::ImmatureSignature => TokenError::NotYetValid,
                _ => TokenError::Malformed(e.to_string()),
            },
        )?;
        let claims = data.claims;
        let now_secs = now.epoch_seconds();
        if claims.exp + LEEWAY_SECS <= now_secs {
            return Err(TokenError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf - LEEWAY_SECS > now_secs) {
            return Err(TokenError::NotYetValid);
        }
        if !fleet_core::auth::sub_is_player(&claims.sub) {
            return Err(TokenError::BadSubject);
        }
        PlayerId::parse(&claims.sub).map_err(|_| TokenError::BadSubject)
    }
}

/// The authorizer's answer for a request (see the module docs).
pub fn authorize(
    verifier: &TokenVerifier,
    request: &ApiGatewayCustomAuthorizerRequestTypeRequest,
    now: Timestamp,
) -> ApiGatewayCustomAuthorizerResponse {
    let method_arn = request.method_arn.as_deref().filter(|a| !a.is_empty());
    let token = request
        .query_string_parameters
        .first("token")
        .filter(|t| !t.is_empty());
    let verdict = token
        .ok_or(TokenError::Missing)
        .and_then(|t| verifier.verify(t, now));
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
pub async fn handle<S, G, N, C: Clock, I>(
    deps: &Deps<S, G, N, C, I>,
    verifier: &TokenVerifier,
    request: ApiGatewayCustomAuthorizerRequestTypeRequest,
) -> ApiGatewayCustomAuthorizerResponse {
    authorize(verifier, &request, deps.clock.now())
}
