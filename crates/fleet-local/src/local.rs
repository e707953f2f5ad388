//! The local stack's fixed facts: the dev JWT key, the documented SigV4 keys and the principals they
//! stand for, and the dependency type every local handler call uses. Shared by the gateways and the
//! stack so the two never disagree. Also the same handlers on fleet-core's in-memory fakes, which the
//! gateways' tests and the bench's call counts serve through the gateways.

use std::collections::BTreeMap;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use fleet_aws::dynamo::DynamoStore;
use fleet_aws::gamelift::SdkGameLift;
use fleet_aws::notifier::ApiGatewayNotifier;
use fleet_core::fakes::{FakeGameLift, ManualClock, MemoryNotifier, MemoryStore, SequentialIds};
use fleet_core::time::Timestamp;
use fleet_functions::config::{Config, ConfigError};
use fleet_functions::deps::{Deps, PortSet, UuidIds};

pub use crate::clock::LocalClock;

/// The dependencies of every handler the local stack calls: the same adapters the Lambdas use, and
/// the stack's [`LocalClock`] (the system clock unless a test moves it forward).
pub type LocalDeps =
    Deps<PortSet<DynamoStore, SdkGameLift, ApiGatewayNotifier, LocalClock, UuidIds>>;

/// The dependencies of a handler call on fleet-core's in-memory fakes, which count every call.
pub type FakeDeps =
    Deps<PortSet<MemoryStore, FakeGameLift, MemoryNotifier, ManualClock, SequentialIds>>;

/// [`FakeDeps`] with empty fakes and `config`, their clock at the system's time.
pub fn fake_deps(config: Config) -> FakeDeps {
    Deps {
        store: MemoryStore::new(),
        gamelift: FakeGameLift::new(),
        notifier: MemoryNotifier::default(),
        clock: ManualClock::new(Timestamp::from_millis(LocalClock::system().now_millis())),
        ids: SequentialIds::default(),
        config,
        cache: Default::default(),
    }
}

/// The handlers' configuration on the fakes: the local service principal, the local game server on
/// `fleet` alone, and `extra` variables on top.
pub fn fakes_config(fleet: &str, extra: &[(&'static str, String)]) -> Result<Config, ConfigError> {
    let fleets = serde_json::json!({ GAME_SERVER_PRINCIPAL: [fleet] }).to_string();
    let mut vars = BTreeMap::from([
        ("FLEETLIFT_TABLE", "fleetlift".to_owned()),
        ("FLEETLIFT_CURSOR_SECRET", "0123456789abcdef0123".to_owned()),
        ("FLEETLIFT_QUEUE_NAME", "fleetlift-queue".to_owned()),
        ("FLEETLIFT_SERVICE_PRINCIPALS", SERVICE_PRINCIPAL.to_owned()),
        ("FLEETLIFT_GAME_SERVER_FLEETS", fleets),
    ]);
    vars.extend(extra.iter().cloned());
    Config::from_lookup(|k| vars.get(k).cloned())
}

/// A shared SDK configuration with the local region and dummy credentials (DynamoDB Local, the
/// simulator and the local `@connections` API check no signature).
pub fn sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(fleet_aws::clients::http_client())
        .region(Region::new(REGION))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "local",
            "local",
            None,
            None,
            "fleetlift-local",
        )))
        .build()
}

/// Issuer of local player tokens.
pub const JWT_ISSUER: &str = "fleetlift-local";
/// Audience of local player tokens.
pub const JWT_AUDIENCE: &str = "fleetlift";
/// The local HS256 dev key (not a secret: it only opens a stack on loopback).
pub const DEV_JWT_SECRET: &str = "fleetlift-local-dev-key-not-secret";

/// Region of local SigV4 signatures.
pub const REGION: &str = "us-east-1";
/// Service name of local SigV4 signatures (API Gateway's).
pub const SIGV4_SERVICE: &str = "execute-api";
/// Account id the local principals live in.
pub const ACCOUNT: &str = "000000000000";

/// The admin service's access key.
pub const SERVICE_ACCESS_KEY: &str = "AKIALOCALSERVICE0001";
/// The admin service's secret.
pub const SERVICE_SECRET: &str = "local-service-secret";
/// The principal the admin service key stands for.
pub const SERVICE_PRINCIPAL: &str = "arn:aws:iam::000000000000:role/fleetlift-local-service";

/// The game-server key allowed on every simulated fleet.
pub const GAME_SERVER_ACCESS_KEY: &str = "AKIALOCALGAMESRV0001";
/// Its secret.
pub const GAME_SERVER_SECRET: &str = "local-gameserver-secret";
/// The principal it stands for.
pub const GAME_SERVER_PRINCIPAL: &str =
    "arn:aws:iam::000000000000:role/fleetlift-local-game-server";

/// One SigV4 key the gateway accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalKey {
    /// Secret access key.
    pub secret: String,
    /// The IAM principal ARN the gateway puts in the authorizer context.
    pub principal: String,
}

/// How the gateways authenticate, as API Gateway would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayAuth {
    /// HS256 key of player tokens.
    pub jwt_secret: Vec<u8>,
    /// Expected `iss`.
    pub jwt_issuer: String,
    /// Expected `aud`.
    pub jwt_audience: String,
    /// Access key id → key.
    pub sigv4_keys: BTreeMap<String, LocalKey>,
    /// Signing region.
    pub region: String,
    /// Where the `$connect` authorizer fetches the local issuer's JWKS (the HTTP gateway's
    /// `/.well-known/jwks.json`, set by the stack once it has its port); `None`: the JWKS is read in
    /// process.
    pub jwks_url: Option<String>,
}

impl GatewayAuth {
    /// The documented defaults: the admin service key and the all-fleets game-server key, plus
    /// `extra` keys (one per simulated fleet).
    pub fn local(extra: impl IntoIterator<Item = (String, LocalKey)>) -> Self {
        let mut keys = BTreeMap::from([
            (
                SERVICE_ACCESS_KEY.to_owned(),
                LocalKey {
                    secret: SERVICE_SECRET.to_owned(),
                    principal: SERVICE_PRINCIPAL.to_owned(),
                },
            ),
            (
                GAME_SERVER_ACCESS_KEY.to_owned(),
                LocalKey {
                    secret: GAME_SERVER_SECRET.to_owned(),
                    principal: GAME_SERVER_PRINCIPAL.to_owned(),
                },
            ),
        ]);
        keys.extend(extra);
        Self {
            jwt_secret: DEV_JWT_SECRET.as_bytes().to_vec(),
            jwt_issuer: JWT_ISSUER.to_owned(),
            jwt_audience: JWT_AUDIENCE.to_owned(),
            sigv4_keys: keys,
            region: REGION.to_owned(),
            jwks_url: None,
        }
    }
}
