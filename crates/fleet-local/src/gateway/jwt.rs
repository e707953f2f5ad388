//! The player API's JWT authorizer, as API Gateway's HTTP API runs it, and the local stack's token
//! issuer.
//!
//! API Gateway's rules ("Control access to HTTP APIs with JWT authorizers"): the signature verifies
//! with the key of the issuer's JWKS that the header's `kid` names (RSA algorithms only), `iss` is
//! the configured issuer, `aud` names a configured audience or, only when there is no `aud`,
//! `client_id` does, `exp` is after now and `nbf`/`iat` are not (with [`LEEWAY_SECS`] of skew). The
//! checks are `fleet_functions::ws_authorizer`'s, the very code of the `$connect` authorizer, so a
//! token works on the WebSocket exactly when it works here. The local issuer has two RS256 keys
//! ([`DEV_KEYS`], served as a JWKS at `/.well-known/jwks.json`) and, for `fleet-local token`, the
//! HS256 dev key ([`GatewayAuth::jwt_secret`]), which API Gateway would not accept but which keeps
//! simple local scripts simple. A token without a non-empty `sub` is refused here too: API Gateway
//! would let it through and fleet-api would answer 401 for want of an identity.
//!
//! The claims that pass become `requestContext.authorizer.jwt.claims`, every value as a string, as
//! API Gateway renders them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fleet_functions::ws_authorizer::{self, TokenError, TokenRules};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Value, json};

use crate::local::GatewayAuth;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (the same as the `$connect`
/// authorizer's).
pub const LEEWAY_SECS: i64 = ws_authorizer::LEEWAY_SECS;

/// Why a bearer token was refused (the `$connect` authorizer's reasons).
pub type JwtError = TokenError;

/// The local issuer's RS256 signing keys, `(kid, private key PEM)`: the first signs, the second is
/// published beside it as a provider's next key is. Fixed so tokens minted by `fleet-local token`
/// work on any running stack; they open nothing but a stack on loopback, like the HS256 dev key.
pub const DEV_KEYS: [(&str, &str); 2] = [
    ("fleetlift-local-1", include_str!("dev-keys/local-1.pem")),
    ("fleetlift-local-2", include_str!("dev-keys/local-2.pem")),
];

/// A dev key, parsed.
struct DevKey {
    kid: &'static str,
    signing: EncodingKey,
    verifying: DecodingKey,
    jwk: Value,
}

/// The dev keys, parsed once. The PEMs are compiled in and tested, so a parse failure would be a
/// broken build; such a key is left out (and then every token naming it is refused).
fn dev_keys() -> &'static [DevKey] {
    static KEYS: OnceLock<Vec<DevKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        DEV_KEYS
            .iter()
            .filter_map(|(kid, pem)| {
                let signing = EncodingKey::from_rsa_pem(pem.as_bytes()).ok()?;
                let jwk = Jwk::from_encoding_key(&signing, Algorithm::RS256).ok()?;
                let mut jwk = serde_json::to_value(jwk).ok()?;
                jwk["kid"] = json!(kid);
                jwk["use"] = json!("sig");
                let verifying =
                    DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).ok()?).ok()?;
                Some(DevKey {
                    kid,
                    signing,
                    verifying,
                    jwk,
                })
            })
            .collect()
    })
}

/// The local issuer's JWKS document (what `GET /.well-known/jwks.json` serves).
pub fn jwks_json() -> String {
    json!({"keys": dev_keys().iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

/// The rules of the local authorizer: the stack's issuer and audience.
pub fn rules(auth: &GatewayAuth) -> TokenRules {
    TokenRules {
        issuer: auth.jwt_issuer.clone(),
        audiences: vec![auth.jwt_audience.clone()],
    }
}

/// Verifies a bearer token at `now_secs` (Unix seconds) and returns its claims as API Gateway passes
/// them to the integration: every value a string (numbers in decimal, arrays as `[a b]`, objects as
/// JSON).
pub fn verify(
    auth: &GatewayAuth,
    token: &str,
    now_secs: i64,
) -> Result<BTreeMap<String, String>, JwtError> {
    let header = ws_authorizer::header(token)?;
    let key = match header.alg {
        Algorithm::HS256 => DecodingKey::from_secret(&auth.jwt_secret),
        Algorithm::RS256 | Algorithm::RS384 | Algorithm::RS512 => {
            let kid = header.kid.as_deref().ok_or(TokenError::MissingKid)?;
            dev_keys()
                .iter()
                .find(|k| k.kid == kid)
                .map(|k| k.verifying.clone())
                .ok_or_else(|| TokenError::UnknownKey(kid.chars().take(64).collect()))?
        }
        _ => return Err(TokenError::WrongAlgorithm),
    };
    let claims = ws_authorizer::check(token, &header, &key, &rules(auth), now_secs)?;
    if claims
        .get("sub")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(TokenError::MissingClaim("sub".into()));
    }
    Ok(claims
        .into_iter()
        .map(|(k, v)| (k, claim_text(&v)))
        .collect())
}

/// The `error_description` of API Gateway's `www-authenticate` header for a refused token.
pub fn description(e: &JwtError) -> String {
    match e {
        TokenError::WrongAudience => "the token does not have a valid audience".into(),
        TokenError::WrongIssuer => "the token does not have a valid issuer".into(),
        TokenError::Expired => "the token has expired".into(),
        TokenError::NotYetValid | TokenError::IssuedInFuture => "the token is not valid yet".into(),
        TokenError::UnknownKey(_) | TokenError::MissingKid => {
            "the token's kid names no key of the issuer's JWKS".into()
        }
        TokenError::BadSignature => "the token's signature does not verify".into(),
        TokenError::WrongAlgorithm => "the token's algorithm is not accepted".into(),
        TokenError::MissingClaim(c) => format!("the token has no valid {c} claim"),
        TokenError::Malformed(_) | TokenError::Missing | TokenError::BadSubject => {
            "the token is malformed".into()
        }
    }
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
pub fn mint_at(auth: &GatewayAuth, sub: &str, iat: i64, ttl_secs: u64) -> String {
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

/// A token shaped like a Cognito user pool's access token for `sub`, valid `ttl_secs` from now:
/// RS256 by the first dev key (its `kid` in the header), `client_id` (the stack's audience) and
/// `token_use: access` and no `aud` (what `fleet-local token --sub X --access` prints).
pub fn mint_access_token(auth: &GatewayAuth, sub: &str, ttl_secs: u64) -> String {
    let iat = unix_now();
    let exp = iat.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX));
    let claims = json!({
        "sub": sub, "iss": auth.jwt_issuer, "client_id": auth.jwt_audience, "token_use": "access",
        "scope": "aws.cognito.signin.user.admin", "auth_time": iat, "iat": iat, "exp": exp,
        "jti": uuid::Uuid::new_v4().to_string(), "username": sub,
    });
    sign_rs256(&claims, DEV_KEYS[0].0)
        .unwrap_or_else(|| unreachable!("the first dev key is compiled in and tested"))
}

/// `claims` signed RS256 by the dev key `kid` (with `kid` in the header); `None` for an unknown
/// `kid` (tests make tokens of every shape with it).
pub fn sign_rs256(claims: &Value, kid: &str) -> Option<String> {
    let key = dev_keys().iter().find(|k| k.kid == kid)?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key.signing).ok()
}

/// Seconds since the Unix epoch on the system clock: API Gateway checks tokens on its own clock,
/// not the functions'.
pub fn unix_now() -> i64 {
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

    fn access(sub: &str, exp: i64) -> Value {
        json!({"sub": sub, "iss": crate::local::JWT_ISSUER, "client_id": crate::local::JWT_AUDIENCE,
               "token_use": "access", "iat": NOW, "exp": exp})
    }

    #[test]
    fn both_dev_keys_parse_and_are_published_in_the_jwks() {
        assert_eq!(dev_keys().len(), DEV_KEYS.len());
        let jwks: Value = serde_json::from_str(&jwks_json()).expect("JSON");
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str())
            .collect();
        assert_eq!(kids, ["fleetlift-local-1", "fleetlift-local-2"]);
        assert!(jwks["keys"][0].get("d").is_none(), "no private part");
        let parsed = fleet_functions::ws_authorizer::jwks::parse_jwks(jwks_json().as_bytes())
            .expect("the authorizer reads it");
        assert_eq!(parsed.len(), 2);
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
    fn an_access_token_with_client_id_and_no_aud_verifies_by_either_kid() {
        let minted = mint_access_token(&auth(), "player-9", 600);
        let claims = verify(&auth(), &minted, unix_now()).expect("an access token");
        assert_eq!(claims["client_id"], crate::local::JWT_AUDIENCE);
        assert_eq!(claims["token_use"], "access");
        assert!(!claims.contains_key("aud"));
        for (kid, _) in DEV_KEYS {
            let token = sign_rs256(&access("player-9", NOW + 60), kid).expect("a dev key");
            assert!(verify(&auth(), &token, NOW).is_ok(), "{kid}");
        }
        let mut other = access("player-9", NOW + 60);
        other["client_id"] = json!("another-app");
        let token = sign_rs256(&other, DEV_KEYS[0].0).expect("signed");
        assert_eq!(verify(&auth(), &token, NOW), Err(TokenError::WrongAudience));
        // A kid the JWKS does not hold.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("elsewhere".into());
        let foreign = jsonwebtoken::encode(
            &header,
            &access("p", NOW + 60),
            &EncodingKey::from_rsa_pem(DEV_KEYS[1].1.as_bytes()).expect("pem"),
        )
        .expect("signed");
        assert!(matches!(
            verify(&auth(), &foreign, NOW),
            Err(TokenError::UnknownKey(_))
        ));
        let expired = sign_rs256(&access("p", NOW - 3600), DEV_KEYS[1].0).expect("signed");
        assert_eq!(verify(&auth(), &expired, NOW), Err(TokenError::Expired));
        assert_eq!(
            description(&TokenError::WrongAudience),
            "the token does not have a valid audience"
        );
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
            Err(TokenError::Expired)
        );
    }

    /// `claims` signed HS256 with the dev key, verified at [`NOW`].
    fn verify_hs256(claims: &Value) -> Result<BTreeMap<String, String>, TokenError> {
        verify(
            &auth(),
            &signed(claims, &auth().jwt_secret, Algorithm::HS256),
            NOW,
        )
    }

    /// Valid dev-key claims for `p` until a minute after [`NOW`].
    fn claims() -> Value {
        json!({"sub": "p", "iss": crate::local::JWT_ISSUER, "aud": crate::local::JWT_AUDIENCE, "exp": NOW + 60})
    }

    #[test]
    fn a_wrong_issuer_or_audience_is_refused() {
        let mut iss = claims();
        iss["iss"] = json!("someone-else");
        assert_eq!(verify_hs256(&iss), Err(TokenError::WrongIssuer));
        let mut aud = claims();
        aud["aud"] = json!("other-app");
        assert_eq!(verify_hs256(&aud), Err(TokenError::WrongAudience));
        let mut list = claims();
        list["aud"] = json!(["other-app", crate::local::JWT_AUDIENCE]);
        let claims = verify_hs256(&list).expect("aud list naming us");
        assert_eq!(
            claims["aud"],
            format!("[other-app {}]", crate::local::JWT_AUDIENCE)
        );
    }

    #[test]
    fn alg_none_another_algorithm_and_another_key_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        assert!(verify(&auth(), &format!("{header}.{body}."), NOW).is_err());
        let hs384 = signed(&claims(), &auth().jwt_secret, Algorithm::HS384);
        assert_eq!(
            verify(&auth(), &hs384, NOW),
            Err(TokenError::WrongAlgorithm)
        );
        let other_key = signed(&claims(), b"another-key", Algorithm::HS256);
        assert_eq!(
            verify(&auth(), &other_key, NOW),
            Err(TokenError::BadSignature)
        );
        assert!(matches!(
            verify(&auth(), "not-a-jwt", NOW),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn a_token_without_sub_or_exp_is_refused() {
        let without = |claim: &str| {
            let mut c = claims();
            if let Some(o) = c.as_object_mut() {
                o.remove(claim);
            }
            c
        };
        let mut empty_sub = claims();
        empty_sub["sub"] = json!("");
        for (case, claims, missing) in [
            ("no sub", without("sub"), "sub"),
            ("empty sub", empty_sub, "sub"),
            ("no exp", without("exp"), "exp"),
        ] {
            assert_eq!(
                verify_hs256(&claims),
                Err(TokenError::MissingClaim(missing.into())),
                "{case}"
            );
        }
    }

    #[test]
    fn a_token_used_before_its_nbf_is_refused() {
        let mut early = claims();
        early["exp"] = json!(NOW + 600);
        early["nbf"] = json!(NOW + 300);
        assert_eq!(verify_hs256(&early), Err(TokenError::NotYetValid));
    }
}
