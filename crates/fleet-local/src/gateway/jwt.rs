//! The player API's JWT authorizer, as API Gateway's HTTP API runs it: HS256 with the local dev key
//! ([`GatewayAuth::jwt_secret`]), `iss` and `aud` as configured, `exp` in the future (with
//! [`LEEWAY_SECS`] of skew), `nbf` (when present) in the past, a non-empty string `sub`, and no other
//! algorithm (`alg: none` included: `jsonwebtoken` cannot even parse it). The claims that pass become
//! `requestContext.authorizer.jwt.claims`, every value as a string, as API Gateway renders them.

use std::collections::{BTreeMap, HashSet};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

use crate::local::GatewayAuth;

/// Clock skew tolerated on `exp` and `nbf`, in seconds (the same as the `$connect` authorizer's).
pub const LEEWAY_SECS: i64 = fleet_functions::ws_authorizer::LEEWAY_SECS;

/// Why a bearer token was refused. The text goes into the 401's message: a local stack is a
/// developer's tool, and "expired" helps more than API Gateway's bare `Unauthorized`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts, unreadable JSON, or an algorithm `jsonwebtoken` does not know
    /// (`none`).
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// Signed with an algorithm other than HS256.
    #[error("the token must be signed with HS256")]
    WrongAlgorithm,
    /// The signature does not verify with the dev key.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iss` is not the local issuer.
    #[error("the token's issuer is not the expected one")]
    WrongIssuer,
    /// `aud` does not name the local audience.
    #[error("the token's audience is not the expected one")]
    WrongAudience,
    /// A required claim is missing or has the wrong type.
    #[error("the token has no valid `{0}` claim")]
    MissingClaim(String),
}

/// Verifies a bearer token at `now_secs` (Unix seconds) and returns its claims as API Gateway passes
/// them to the integration: every value a string (numbers in decimal, arrays as `[a b]`, objects as
/// JSON).
pub fn verify(
    auth: &GatewayAuth,
    token: &str,
    now_secs: i64,
) -> Result<BTreeMap<String, String>, JwtError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[auth.jwt_issuer.as_str()]);
    validation.set_audience(&[auth.jwt_audience.as_str()]);
    validation.required_spec_claims = ["exp", "sub", "iss", "aud"]
        .into_iter()
        .map(String::from)
        .collect::<HashSet<_>>();
    // Time is checked below against `now_secs`, so tests control it.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    let data = jsonwebtoken::decode::<Map<String, Value>>(
        token,
        &DecodingKey::from_secret(&auth.jwt_secret),
        &validation,
    )
    .map_err(|e| match e.kind() {
        ErrorKind::InvalidSignature => JwtError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => JwtError::WrongAlgorithm,
        ErrorKind::InvalidIssuer => JwtError::WrongIssuer,
        ErrorKind::InvalidAudience => JwtError::WrongAudience,
        ErrorKind::MissingRequiredClaim(c) => JwtError::MissingClaim(c.clone()),
        _ => JwtError::Malformed(e.to_string()),
    })?;
    let claims = data.claims;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| JwtError::MissingClaim("exp".into()))?;
    if exp + LEEWAY_SECS <= now_secs {
        return Err(JwtError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_i64()
            .ok_or_else(|| JwtError::MissingClaim("nbf".into()))?;
        if nbf - LEEWAY_SECS > now_secs {
            return Err(JwtError::NotYetValid);
        }
    }
    // The handler maps `sub` to a player id; an empty or non-string one is refused here already, as
    // API Gateway refuses a token without its identity.
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(JwtError::MissingClaim("sub".into()));
    }
    Ok(claims
        .into_iter()
        .map(|(k, v)| (k, claim_text(&v)))
        .collect())
}

/// A claim as API Gateway renders it in `authorizer.jwt.claims`.
fn claim_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(claim_text).collect::<Vec<_>>().join(" ")
        ),
        other => other.to_string(),
    }
}

/// A player token for `sub`, valid `ttl_secs` from now: HS256 with the dev key, `iss`, `aud`, `sub`,
/// `iat` and `exp` (what `fleet-local token --sub` prints).
pub fn mint_token(auth: &GatewayAuth, sub: &str, ttl_secs: u64) -> String {
    mint_at(auth, sub, unix_now(), ttl_secs)
}

/// [`mint_token`] at a given `iat` (tests).
pub(crate) fn mint_at(auth: &GatewayAuth, sub: &str, iat: i64, ttl_secs: u64) -> String {
    let exp = iat.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX));
    let claims = json!({"iss": auth.jwt_issuer, "aud": auth.jwt_audience, "sub": sub, "iat": iat, "exp": exp});
    // HMAC signing of a JSON object with a byte key has no failure mode; the arm exists only because
    // `encode` serves every algorithm.
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&auth.jwt_secret),
    )
    .unwrap_or_else(|e| unreachable!("HS256 signing cannot fail: {e}"))
}

/// Seconds since the Unix epoch on the system clock: API Gateway checks tokens on its own clock,
/// not the functions'.
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    const NOW: i64 = 1_795_600_800;

    fn auth() -> GatewayAuth {
        GatewayAuth::local([])
    }

    fn signed(claims: &Value, secret: &[u8], alg: Algorithm) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    #[test]
    fn a_minted_token_verifies_and_its_claims_become_strings() {
        let token = mint_at(&auth(), "player-1", NOW, 3600);
        let claims = verify(&auth(), &token, NOW + 10).expect("valid");
        assert_eq!(claims["sub"], "player-1");
        assert_eq!(claims["iss"], crate::local::JWT_ISSUER);
        assert_eq!(claims["aud"], crate::local::JWT_AUDIENCE);
        assert_eq!(claims["iat"], NOW.to_string());
        assert_eq!(claims["exp"], (NOW + 3600).to_string());
    }

    #[test]
    fn an_expired_token_is_refused_after_the_leeway_only() {
        let token = mint_at(&auth(), "p", NOW, 60);
        assert!(
            verify(&auth(), &token, NOW + 60 + LEEWAY_SECS - 1).is_ok(),
            "within the leeway"
        );
        assert_eq!(
            verify(&auth(), &token, NOW + 60 + LEEWAY_SECS),
            Err(JwtError::Expired)
        );
    }

    #[test]
    fn a_wrong_issuer_or_audience_is_refused() {
        let base = json!({"sub": "p", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 60});
        let mut iss = base.clone();
        iss["iss"] = json!("someone-else");
        assert_eq!(
            verify(
                &auth(),
                &signed(&iss, &auth().jwt_secret, Algorithm::HS256),
                NOW
            ),
            Err(JwtError::WrongIssuer)
        );
        let mut aud = base.clone();
        aud["aud"] = json!("other-app");
        assert_eq!(
            verify(
                &auth(),
                &signed(&aud, &auth().jwt_secret, Algorithm::HS256),
                NOW
            ),
            Err(JwtError::WrongAudience)
        );
        let mut list = base;
        list["aud"] = json!(["other-app", crate::local::JWT_AUDIENCE]);
        let claims = verify(
            &auth(),
            &signed(&list, &auth().jwt_secret, Algorithm::HS256),
            NOW,
        )
        .expect("aud list naming us");
        assert_eq!(
            claims["aud"],
            format!("[other-app {}]", crate::local::JWT_AUDIENCE)
        );
    }

    #[test]
    fn alg_none_another_algorithm_and_another_key_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            json!({"sub": "p", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 60})
                .to_string(),
        );
        assert!(matches!(
            verify(&auth(), &format!("{header}.{body}."), NOW),
            Err(JwtError::Malformed(_))
        ));
        let claims = json!({"sub": "p", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 60});
        assert_eq!(
            verify(
                &auth(),
                &signed(&claims, &auth().jwt_secret, Algorithm::HS384),
                NOW
            ),
            Err(JwtError::WrongAlgorithm)
        );
        assert_eq!(
            verify(
                &auth(),
                &signed(&claims, b"another-key", Algorithm::HS256),
                NOW
            ),
            Err(JwtError::BadSignature)
        );
        assert!(matches!(
            verify(&auth(), "not-a-jwt", NOW),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn a_token_without_sub_or_exp_is_refused() {
        let no_sub = json!({"iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 60});
        assert_eq!(
            verify(
                &auth(),
                &signed(&no_sub, &auth().jwt_secret, Algorithm::HS256),
                NOW
            ),
            Err(JwtError::MissingClaim("sub".into()))
        );
        let empty_sub = json!({"sub": "", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 60});
        assert_eq!(
            verify(
                &auth(),
                &signed(&empty_sub, &auth().jwt_secret, Algorithm::HS256),
                NOW
            ),
            Err(JwtError::MissingClaim("sub".into()))
        );
        let no_exp =
            json!({"sub": "p", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE});
        assert_eq!(
            verify(
                &auth(),
                &signed(&no_exp, &auth().jwt_secret, Algorithm::HS256),
                NOW
            ),
            Err(JwtError::MissingClaim("exp".into()))
        );
    }

    #[test]
    fn a_token_used_before_its_nbf_is_refused() {
        let claims = json!({"sub": "p", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 600, "nbf": NOW + 300});
        assert_eq!(
            verify(
                &auth(),
                &signed(&claims, &auth().jwt_secret, Algorithm::HS256),
                NOW
            ),
            Err(JwtError::NotYetValid)
        );
    }
}
