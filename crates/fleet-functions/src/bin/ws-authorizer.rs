//! The ws-authorizer Lambda (`$connect` REQUEST authorizer): checks the token configuration, parses
//! the key or fetches the issuer's JWKS once per container, then answers every request with
//! [`fleet_functions::ws_authorizer::handle`]'s Allow or Deny policy.

use fleet_core::ports::Clock;
use fleet_functions::bootstrap;
use fleet_functions::deps::{Deps, NoGameLift, NoNotifier, SystemClock};
use fleet_functions::ws_authorizer::{self, TokenVerifier};
use lambda_runtime::Error;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let (config, verifier) =
        bootstrap::config_or_exit(|c| c.require_jwt().and_then(TokenVerifier::new));
    // The JWKS is fetched during init (which runs before the first connection waits on it); a
    // failure is logged and retried by the first token, never fatal: the issuer may be down briefly.
    verifier.prefetch(SystemClock.now()).await;
    // The authorizer reads no table and calls no AWS API: it only checks signatures.
    let deps: bootstrap::AuthorizerDeps = Deps::deployed((), NoGameLift, NoNotifier, config);
    let verifier = &verifier;
    bootstrap::serve_events(&deps, |deps, request, _| async move {
        Ok(ws_authorizer::handle(deps, verifier, request).await)
    })
    .await
}
