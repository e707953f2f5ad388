//! Who is calling, read **only** from API Gateway's request context (never from a header or the
//! body): API Gateway has already authenticated the caller, and the context is the one thing a client
//! cannot forge.
//!
//! * Player API (JWT authorizer): `requestContext.authorizer.jwt.claims.sub` → [`Caller::Player`].
//!   The `sub` must be a valid player id (1–1024 characters, no control characters) and not an ARN
//!   ([`fleet_core::auth::sub_is_player`]: players and IAM principals share the requester namespace).
//! * Service API (AWS_IAM): `requestContext.authorizer.iam.userArn`, normalised
//!   ([`fleet_core::auth::normalise_principal`]: an STS assumed-role session becomes its role) →
//!   [`Caller::GameServer`] when configured in `FLEETLIFT_GAME_SERVER_FLEETS`, else
//!   [`Caller::Service`] when listed in `FLEETLIFT_SERVICE_PRINCIPALS`, else 403: a valid AWS
//!   signature alone grants nothing.
//!
//! Fails closed: no request context, no authorizer, an authorizer of another kind (a Lambda
//! authorizer), both a JWT and IAM, a JWT without `sub`, or IAM without `userArn` are all 401.

pub use fleet_core::auth::Caller;
use fleet_core::auth::normalise_principal;
use fleet_core::ids::PlayerId;
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::config::Config;
use crate::error::ApiError;

/// Resolves the caller of an HTTP API request, or the 401/403 to answer.
pub fn caller(req: &Request, config: &Config) -> Result<Caller, ApiError> {
    let unauthenticated =
        |why: &str| ApiError::Unauthenticated(format!("no usable identity: {why}"));
    let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
        return Err(unauthenticated("not an API Gateway HTTP API request"));
    };
    let Some(authorizer) = ctx.authorizer.as_ref() else {
        return Err(unauthenticated("the request carries no authorizer context"));
    };
    match (authorizer.jwt.as_ref(), authorizer.iam.as_ref()) {
        (Some(jwt), None) => {
            let sub = jwt
                .claims
                .get("sub")
                .ok_or_else(|| unauthenticated("the token has no sub claim"))?;
            let player = PlayerId::parse(sub)
                .ok()
                .filter(|_| fleet_core::auth::sub_is_player(sub))
                .ok_or_else(|| unauthenticated("the token's sub is not a valid player id"))?;
            Ok(Caller::Player(player))
        }
        (None, Some(iam)) => {
            let arn = iam
                .user_arn
                .as_deref()
                .filter(|a| !a.is_empty())
                .ok_or_else(|| unauthenticated("the IAM context has no userArn"))?;
            principal(arn, config)
        }
        (Some(_), Some(_)) => Err(unauthenticated("both a JWT and an IAM identity")),
        (None, None) => Err(unauthenticated(
            "the authorizer context has neither a JWT nor an IAM identity",
        )),
    }
}

/// Maps an IAM principal ARN to a game server, a service, or 403.
fn principal(arn: &str, config: &Config) -> Result<Caller, ApiError> {
    let me = normalise_principal(arn);
    // A principal listed as a game server gets only a game server's rights, even if also a service.
    let game_server = config
        .game_servers
        .iter()
        .find(|(p, _)| normalise_principal(p) == me);
    if let Some((_, fleets)) = game_server {
        return Ok(Caller::GameServer {
            principal: me,
            fleets: fleets.clone(),
        });
    }
    if config
        .service_principals
        .iter()
        .any(|p| normalise_principal(p) == me)
    {
        return Ok(Caller::Service(me));
    }
    tracing::warn!(principal = %me, "IAM principal is not configured as a service or game server");
    Err(ApiError::Forbidden {
        field: None,
        message: format!("the IAM principal {me} is not allowed to call this API"),
    })
}
