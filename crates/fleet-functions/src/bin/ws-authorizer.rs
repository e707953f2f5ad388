//! The ws-authorizer Lambda (`$connect` REQUEST authorizer): checks the token configuration, parses
//! the key or fetches the issuer's JWKS once per container, then answers every request with
//! [`fleet_functions::ws_authorizer::handle`]'s Allow or Deny policy.

use aws_lambda_events::event::apigw::ApiGatewayCustomAuthorizerRequestTypeRequest;
use fleet_core::ports::Clock;
use fleet_functions::bootstrap;
use fleet_functions::deps::{Deps, NoGameLift, NoNotifier, SystemClock};
use fleet_functions::ws_authorizer::{self, TokenVerifier};
use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (config, verifier) =
        bootstrap::config_or_exit(|c| c.require_jwt().and_then(TokenVerifier::new));
    // The JWKS is fetched during init (which runs before the first connection waits on it); a
    // failure is logged and retried by the first token, never fatal: the issuer may be down briefly.
    verifier.prefetch(SystemClock.now()).await;
    // The authorizer reads no table and calls no AWS API: it only checks signatures.
    let deps = Deps::deployed((), NoGameLift, NoNotifier, config);
    let (deps, verifier) = (&deps, &verifier);
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayCustomAuthorizerRequestTypeRequest>| async move {
            Ok::<_, Error>(ws_authorizer::handle(deps, verifier, event.payload).await)
        },
    ))
    .await
}
