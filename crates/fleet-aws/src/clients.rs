//! The AWS clients a Lambda binary builds once per container, from one shared configuration.
//!
//! [`aws_config`] reads the standard environment (region, credentials from the Lambda role, and the
//! per-service endpoint overrides `AWS_ENDPOINT_URL_GAMELIFT`, `AWS_ENDPOINT_URL_DYNAMODB`, …), which is
//! how the local stack points the same binaries at gamelift-sim and DynamoDB Local without a code path of
//! their own.
//!
//! Building them is most of a function's init phase, which every cold start waits for, so it does only
//! what the container will use. With the SDK's defaults, `fleet-api` spent ≈ 3.7 ms here (against
//! ≈ 1.5 ms for a whole `lambda_runtime` hello): ≈ 2 ms reading and parsing the system root store
//! (`/etc/ssl/certs`), ≈ 1 ms building the default credential and region chains (profile, web identity,
//! ECS and IMDS providers, with HTTP clients of their own), and ≈ 0.2 ms per SDK client for a TLS
//! connector the SDK builds at construction and throws away.
//! Instead: one HTTPS client shared by every SDK client, trusting Mozilla's roots compiled into the
//! binary, whose TLS connector is built by the first request (which built its own connector before as
//! well); and the environment's region and credentials, which Lambda always sets, read directly instead
//! of through chains built only for their first link to answer. What remains is the SDK's own client
//! construction (endpoint partitions, runtime plugins): ≈ 0.08 ms for the shared configuration and
//! ≈ 0.15 ms for the DynamoDB client, the one every function's first call needs. The others (≈ 0.1 ms
//! each) are [`OnFirstUse`]: built while the first invocation's first DynamoDB request is on the wire.
//!
//! Cost moved to the first request: encoding and parsing the compiled roots, ≈ 0.6 ms once per process
//! (and per timeout settings), beside a first call's DNS, TCP and TLS handshake.
//!
//! TLS runs on rustls with ring, not the SDK's default aws-lc: aws-lc's start-up constructor, its
//! ≈ 3,000 start-up relocations and its 2 MB of code cost every cold start ≈ 0.06 ms (sweeper and
//! fleet-api, 61 runs each), and nothing here needs what only aws-lc gives: FIPS mode, and the hybrid
//! post-quantum key exchange (X25519MLKEM768) rustls offers on aws-lc alone, so connections to AWS use
//! X25519. Switching back is the workspace's `aws-smithy-http-client` feature (`rustls-aws-lc`) and
//! `CryptoMode::AwsLc` here. The SDK crates are built without their `default-https-client` feature (it
//! would link aws-lc again), so every SDK configuration of the workspace takes its client from
//! [`http_client`].

use std::fmt;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::environment::region::EnvironmentVariableRegionProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Connector, proxy::ProxyConfig};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::service_config::ServiceConfigKey;
use base64::Engine;

/// Longest a PostToConnection may take to connect.
pub const PUSH_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// Longest one PostToConnection attempt may take, answer included (API Gateway answers in milliseconds).
pub const PUSH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// The shared SDK configuration from the environment (call once per container: it resolves the region
/// and the credentials provider, and carries the one HTTPS client every SDK client of the process uses).
pub async fn aws_config() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
    // Lambda sets the region and the execution role's credentials in the environment, the first link of
    // each default chain: use that link alone rather than build the chains (profile files, SSO, web
    // identity, ECS, IMDS clients) at init only for their first link to answer. Elsewhere (a developer's
    // profile), the default chains.
    if env_value("AWS_REGION").is_some() {
        loader = loader.region(EnvironmentVariableRegionProvider::new());
    }
    if has_env_credentials(env_value) {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    loader.load().await
}

/// The HTTPS client every SDK configuration of the workspace uses (tools and tests too: the SDK crates
/// carry no default client), trusting the roots the environment asks for (see [`aws_config`]).
pub fn http_client() -> SharedHttpClient {
    https_client(Roots::from_env(env_value))
}

/// The environment variable `name` when it is set and not blank.
fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Whether the environment holds static credentials, as Lambda sets the execution role's
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); `env` answers set, non-blank
/// variables.
fn has_env_credentials(env: impl Fn(&str) -> Option<String>) -> bool {
    env("AWS_ACCESS_KEY_ID").is_some() && env("AWS_SECRET_ACCESS_KEY").is_some()
}

/// Which root certificates the HTTPS client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Roots {
    /// Mozilla's, compiled in (`webpki-root-certs`): nothing to read at init; the AWS endpoints' Amazon
    /// Trust Services roots are among them.
    Compiled,
    /// The system store, when `SSL_CERT_FILE` or `SSL_CERT_DIR` says which (a private CA, a proxy):
    /// the operator asked for it, so it is honoured at the cost of reading it.
    System,
    /// Only these PEM certificates (the tests' own endpoint).
    #[cfg(test)]
    Pem(&'static [u8]),
}

impl Roots {
    fn from_env(env: impl Fn(&str) -> Option<String>) -> Self {
        if env("SSL_CERT_FILE").is_some() || env("SSL_CERT_DIR").is_some() {
            Roots::System
        } else {
            Roots::Compiled
        }
    }

    fn tls_context(self) -> TlsContext {
        match self {
            Roots::Compiled => COMPILED_ROOTS.clone(),
            Roots::System => TlsContext::default(),
            #[cfg(test)]
            Roots::Pem(pem) => TlsContext::builder()
                .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// Mozilla's roots as the PEM the SDK's TLS context takes, encoded on the first connection.
static COMPILED_ROOTS: LazyLock<TlsContext> = LazyLock::new(|| {
    let mut pem = String::with_capacity(webpki_root_certs::TLS_SERVER_ROOT_CERTS.len() * 2_400);
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        base64::engine::general_purpose::STANDARD.encode_string(cert.as_ref(), &mut pem);
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem.into_bytes()))
        .build()
        .unwrap_or_default()
});

/// The SDK's HTTPS client (hyper 1, rustls on ring as the module docs explain, proxies from
/// `HTTPS_PROXY` and friends, one connector per timeout settings, shared by every SDK client), trusting
/// [`Roots`], and building its TLS connector on the first request.
fn https_client(roots: Roots) -> SharedHttpClient {
    // The constructor aws-smithy-runtime's own default HTTPS client is made with; only the TLS context
    // differs.
    let client = aws_smithy_http_client::Builder::new().build_with_connector_fn(
        move |settings, components| {
            let mut connector = Connector::builder()
                .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
                .tls_context(roots.tls_context());
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        },
    );
    SharedHttpClient::new(ConnectOnFirstRequest(client))
}

/// The SDK's client without its eager check: the SDK builds, and throws away, a TLS connector in every
/// SDK client's constructor so that the system store is read during init rather than by a first request.
/// With the roots compiled in there is nothing to read, and the connector requests use is built on the
/// first request (once per timeout settings, then cached) whether or not the check ran.
#[derive(Debug)]
struct ConnectOnFirstRequest(SharedHttpClient);

impl HttpClient for ConnectOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// An SDK client built by the first call that needs it, or in the background while a request waits
/// ([`build_in_background`](Self::build_in_background)), then reused; clones share it.
///
/// Building an SDK client parses its crate's endpoint partitions and compiles their Region patterns
/// (≈ 0.1 ms per SDK crate), which every cold start waits for when it happens during init. Every
/// function's first call is to DynamoDB, so only the DynamoDB client is built in init; the others
/// (GameLift, API Gateway's management API) are built while that first DynamoDB request is on the wire,
/// when the single-threaded runtime has nothing else to run.
#[derive(Clone)]
pub struct OnFirstUse<C>(Arc<FirstUse<C>>);

struct FirstUse<C> {
    client: OnceLock<C>,
    build: Box<dyn Fn() -> C + Send + Sync>,
}

impl<C: Clone + Send + Sync + 'static> OnFirstUse<C> {
    /// A client `build` makes on the first [`get`](Self::get).
    pub fn new(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self(Arc::new(FirstUse {
            client: OnceLock::new(),
            build: Box::new(build),
        }))
    }

    /// A client already built (the local stack and the tests, which build every client up front).
    pub fn ready(client: C) -> Self {
        let built = OnceLock::from(client.clone());
        Self(Arc::new(FirstUse {
            client: built,
            build: Box::new(move || client.clone()),
        }))
    }

    /// The client, built now if no call has needed it yet.
    pub fn get(&self) -> &C {
        self.0.client.get_or_init(|| (self.0.build)())
    }

    /// Whether the client has been built.
    pub fn is_built(&self) -> bool {
        self.0.client.get().is_some()
    }

    /// Unless the client is built, builds it in a task of the current Tokio runtime. On the
    /// single-threaded runtime the functions use, that task runs when the caller's task next waits
    /// (its first request on the wire), so the build overlaps the wait instead of adding to it; a
    /// call that needs the client before then builds it itself. Outside a runtime it does nothing.
    pub fn build_in_background(&self) {
        if self.is_built() {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let this = self.clone();
            runtime.spawn(async move {
                this.get();
            });
        }
    }
}

impl<C> fmt::Debug for OnFirstUse<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnFirstUse")
            .field("built", &self.0.client.get().is_some())
            .finish()
    }
}

/// A DynamoDB client (honours `AWS_ENDPOINT_URL_DYNAMODB`).
pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// A GameLift client (honours `AWS_ENDPOINT_URL_GAMELIFT`). It keeps the SDK's standard retries for
/// reads; [`crate::gamelift::SdkGameLift`] turns them off for the calls GameLift refuses when repeated.
pub fn gamelift(config: &SdkConfig) -> aws_sdk_gamelift::Client {
    aws_sdk_gamelift::Client::new(config)
}

/// [`gamelift`], built by the first call that needs it.
pub fn gamelift_on_first_use(config: &SdkConfig) -> OnFirstUse<aws_sdk_gamelift::Client> {
    let config = config.clone();
    OnFirstUse::new(move || gamelift(&config))
}

/// An API Gateway management client for one WebSocket API stage: `endpoint` is its
/// `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` URL (or the local gateway's), used
/// unless the SDK's standard endpoint configuration names one (`AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`,
/// `AWS_ENDPOINT_URL`, a profile's `endpoint_url`, see [`standard_endpoint`]): that is how an emulator
/// redirects every client of a deployed function without a variable of ours. The SDK's retries are
/// off: [`crate::notifier::ApiGatewayNotifier`] retries throttles itself and counts attempts. Each
/// attempt is bounded ([`PUSH_CONNECT_TIMEOUT`], [`PUSH_ATTEMPT_TIMEOUT`]) so that one hung push cannot
/// eat the notifier's Lambda deadline; a push that times out is reported, not repeated.
pub fn apigw_management(
    config: &SdkConfig,
    endpoint: &str,
) -> aws_sdk_apigatewaymanagement::Client {
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(PUSH_CONNECT_TIMEOUT)
        .operation_attempt_timeout(PUSH_ATTEMPT_TIMEOUT)
        .build();
    // `Builder::from` has already applied the standard configuration; only without one does the
    // stage URL from our own configuration take its place.
    let mut builder = aws_sdk_apigatewaymanagement::config::Builder::from(config);
    if standard_endpoint(config).is_none() {
        builder = builder.endpoint_url(endpoint);
    }
    let conf = builder
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(conf)
}

/// [`apigw_management`], built by the first push.
pub fn apigw_management_on_first_use(
    config: &SdkConfig,
    endpoint: &str,
) -> OnFirstUse<aws_sdk_apigatewaymanagement::Client> {
    let (config, endpoint) = (config.clone(), endpoint.to_owned());
    OnFirstUse::new(move || apigw_management(&config, &endpoint))
}

/// The management endpoint the SDK's standard configuration names, if any, resolved as
/// `aws_sdk_apigatewaymanagement::config::Builder::from(&SdkConfig)` resolves it: an endpoint set on the
/// shared configuration in code wins; otherwise the service's own setting (`AWS_ENDPOINT_URL_` + the
/// service id `ApiGatewayManagementApi` upper-cased, or `endpoint_url` in the profile's services
/// section), then the global `AWS_ENDPOINT_URL`.
fn standard_endpoint(config: &SdkConfig) -> Option<String> {
    if config.get_origin("endpoint_url").is_client_config() {
        return config.endpoint_url().map(str::to_owned);
    }
    let key = ServiceConfigKey::builder()
        .service_id("ApiGatewayManagementApi")
        .env("AWS_ENDPOINT_URL")
        .profile("endpoint_url")
        .build()
        .ok()?;
    config
        .service_config()
        .and_then(|c| c.load_config(key))
        .or_else(|| config.endpoint_url().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client whose builds are counted.
    fn counted() -> (OnFirstUse<u32>, Arc<std::sync::atomic::AtomicU32>) {
        let builds = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = builds.clone();
        let client =
            OnFirstUse::new(move || counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1);
        (client, builds)
    }

    #[test]
    fn a_client_on_first_use_is_built_once_by_the_first_call_and_shared_by_clones() {
        let (client, builds) = counted();
        assert!(!client.is_built());
        assert_eq!(format!("{client:?}"), "OnFirstUse { built: false }");
        let clone = client.clone();
        assert_eq!((*client.get(), *clone.get(), *client.get()), (1, 1, 1));
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert!(clone.is_built());

        let ready = OnFirstUse::ready(7_u32);
        assert!(ready.is_built());
        assert_eq!(*ready.get(), 7);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_background_build_runs_while_the_caller_waits_and_only_once() {
        let (client, builds) = counted();
        client.build_in_background();
        assert!(
            !client.is_built(),
            "on the single-threaded runtime nothing runs before the caller waits"
        );
        // The caller's first wait (a request on the wire, here a timer) lets the build run.
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(client.is_built());
        client.build_in_background();
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(*client.get(), 1);
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn outside_a_runtime_a_background_build_is_left_to_the_first_call() {
        let (client, builds) = counted();
        client.build_in_background();
        assert!(!client.is_built());
        assert_eq!(*client.get(), 1);
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn the_management_client_targets_the_stage_url_with_bounded_attempts_and_no_sdk_retries() {
        let shared = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client())
            .region(aws_config::Region::new("eu-west-1"))
            .build();
        let client = apigw_management(
            &shared,
            "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        );
        let conf = client.config();
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(conf.retry_config().map(|r| r.max_attempts()), Some(1));
        let timeouts = conf.timeout_config().expect("timeouts");
        assert_eq!(timeouts.connect_timeout(), Some(PUSH_CONNECT_TIMEOUT));
        assert_eq!(
            timeouts.operation_attempt_timeout(),
            Some(PUSH_ATTEMPT_TIMEOUT)
        );
    }

    /// The SDK's standard configuration as `aws_config` loads it from the environment: it resolves a
    /// service's variable as `{key.env}_{SERVICE ID upper-cased, spaces as _}` (aws-runtime's
    /// `env_config`), and the shared `AWS_ENDPOINT_URL` lands on `SdkConfig::endpoint_url`.
    #[derive(Debug)]
    struct FakeEnv(Vec<(&'static str, String)>);

    impl aws_types::service_config::LoadServiceConfig for FakeEnv {
        fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
            let name = format!(
                "{}_{}",
                key.env(),
                key.service_id().to_uppercase().replace(' ', "_")
            );
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
        }
    }

    fn shared_with(service_vars: &[(&'static str, &str)], global: Option<&str>) -> SdkConfig {
        let mut b = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_sdk_apigatewaymanagement::config::SharedCredentialsProvider::new(
                    aws_sdk_apigatewaymanagement::config::Credentials::new(
                        "test", "test", None, None, "static",
                    ),
                ),
            )
            .service_config(FakeEnv(
                service_vars
                    .iter()
                    .map(|(k, v)| (*k, (*v).to_owned()))
                    .collect(),
            ));
        if let Some(url) = global {
            b = b.endpoint_url(url);
        }
        b.build()
    }

    #[test]
    fn the_standard_endpoint_variables_of_the_management_api_are_recognised() {
        let service = shared_with(
            &[(
                "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
                "http://emulator:4566",
            )],
            Some("http://global:1"),
        );
        assert_eq!(
            standard_endpoint(&service).as_deref(),
            Some("http://emulator:4566"),
            "the service's own variable wins over AWS_ENDPOINT_URL, as in the SDK"
        );
        let global = shared_with(&[], Some("http://global:1"));
        assert_eq!(
            standard_endpoint(&global).as_deref(),
            Some("http://global:1")
        );
        let other_service = shared_with(&[("AWS_ENDPOINT_URL_DYNAMODB", "http://ddb:8000")], None);
        assert_eq!(
            standard_endpoint(&other_service),
            None,
            "another service's variable does not redirect pushes"
        );
    }

    /// The stage URL from our configuration is dead here; only the standard variable leads to the
    /// listening server, so a push that arrives proves which endpoint the client used.
    #[tokio::test]
    async fn a_push_goes_to_the_standard_endpoint_when_one_is_set_and_to_the_stage_url_otherwise() {
        use axum::Router;
        use axum::http::Uri;
        use std::sync::{Arc, Mutex};
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let record = seen.clone();
        let app = Router::new().fallback(move |uri: Uri| {
            let record = record.clone();
            async move {
                record.lock().expect("lock").push(uri.path().to_owned());
                ""
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let live = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let dead = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            format!("http://{}", l.local_addr().expect("address"))
        };
        let push = |client: aws_sdk_apigatewaymanagement::Client| async move {
            client
                .post_to_connection()
                .connection_id("abc")
                .data(aws_smithy_types::Blob::new("hi"))
                .send()
                .await
        };

        let redirected = shared_with(&[("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", &live)], None);
        push(apigw_management(&redirected, &dead))
            .await
            .expect("the push reaches the standard endpoint");
        let plain = shared_with(&[], None);
        push(apigw_management(&plain, &live))
            .await
            .expect("without one, the push reaches the stage URL");
        assert!(
            push(apigw_management(&plain, &dead)).await.is_err(),
            "and only the stage URL"
        );
        assert_eq!(
            *seen.lock().expect("lock"),
            ["/@connections/abc", "/@connections/abc"]
        );
        server.abort();
    }

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn the_environment_provider_alone_only_when_lambda_set_a_key_and_its_secret() {
        let lambda = [
            ("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_SESSION_TOKEN", "token"),
        ];
        assert!(has_env_credentials(env_of(&lambda)));
        assert!(has_env_credentials(env_of(&lambda[..2])));
        assert!(
            !has_env_credentials(env_of(&lambda[..1])),
            "a key without its secret: the default chain decides"
        );
        assert!(!has_env_credentials(env_of(&[("AWS_PROFILE", "dev")])));
    }

    #[test]
    fn the_compiled_roots_unless_the_environment_names_a_store() {
        assert_eq!(Roots::from_env(env_of(&[])), Roots::Compiled);
        assert_eq!(
            Roots::from_env(env_of(&[(
                "SSL_CERT_FILE",
                "/etc/pki/tls/certs/ca-bundle.crt"
            )])),
            Roots::System
        );
        assert_eq!(
            Roots::from_env(env_of(&[("SSL_CERT_DIR", "/etc/ssl/certs")])),
            Roots::System
        );
    }

    /// The shared configuration's loader as a function's, on `roots`, with a fixed Region and static
    /// credentials (the local endpoints check no signature); the caller names the endpoint.
    fn test_loader(roots: Roots) -> aws_config::ConfigLoader {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(https_client(roots))
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "AKIDLOCAL",
                "secret",
                None,
                None,
                "test",
            ))
    }

    /// Every SDK client of a function goes through the one client, whose connector (built on the first
    /// request, with the compiled roots) must work: a DynamoDB and a GameLift call against a local endpoint.
    #[tokio::test]
    async fn dynamodb_and_gamelift_calls_go_through_the_shared_client_built_on_the_first_request() {
        use axum::Router;
        use axum::http::{HeaderMap, Uri, header};
        // DynamoDB speaks JSON 1.0 (the operation in X-Amz-Target); GameLift speaks RPC v2 CBOR (the
        // operation in the path), where an empty map (0xA0) is an output with no members.
        let app = Router::new().fallback(|uri: Uri, headers: HeaderMap| async move {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if target.ends_with(".ListTables") {
                (
                    [(header::CONTENT_TYPE, "application/x-amz-json-1.0")],
                    br#"{"TableNames":["fleetlift"]}"#.to_vec(),
                )
            } else if uri.path().ends_with("/operation/DescribeGameSessionQueues") {
                ([(header::CONTENT_TYPE, "application/cbor")], vec![0xA0])
            } else {
                (
                    [(header::CONTENT_TYPE, "text/plain")],
                    b"unexpected".to_vec(),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move { axum::serve(listener, app).await });

        let shared = test_loader(Roots::Compiled)
            .endpoint_url(format!("http://{addr}"))
            .load()
            .await;
        let tables = dynamodb(&shared)
            .list_tables()
            .send()
            .await
            .expect("ListTables");
        assert_eq!(tables.table_names(), ["fleetlift"]);
        let queues = gamelift(&shared)
            .describe_game_session_queues()
            .send()
            .await
            .expect("DescribeGameSessionQueues");
        assert!(queues.game_session_queues().is_empty());
        server.abort();
    }

    /// The fixture endpoint's self-signed certificate for `localhost` (ECDSA P-256, valid until 2126).
    const LOCALHOST_CERT: &[u8] = include_bytes!("../testdata/localhost.crt");
    const LOCALHOST_KEY: &[u8] = include_bytes!("../testdata/localhost.key");

    /// A DynamoDB-shaped HTTPS endpoint on loopback (rustls on ring, the fixture certificate) answering
    /// every request, once its body is read, with a ListTables result; its port.
    async fn tls_endpoint() -> (u16, tokio::task::JoinHandle<()>) {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let cert = CertificateDer::from_pem_slice(LOCALHOST_CERT).expect("fixture certificate");
        let key = PrivateKeyDer::from_pem_slice(LOCALHOST_KEY).expect("fixture key");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server configuration");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let server = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A refused handshake (the client distrusts the certificate) ends here.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        match tls.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&chunk[..n]),
                        }
                        if request_complete(&request) {
                            break;
                        }
                    }
                    let body = br#"{"TableNames":["over-tls"]}"#;
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    if tls.write_all(head.as_bytes()).await.is_ok()
                        && tls.write_all(body).await.is_ok()
                    {
                        tls.shutdown().await.ok();
                    }
                });
            }
        });
        (port, server)
    }

    /// Whether `request` holds a whole HTTP/1.1 request: its head and `content-length` bytes of body.
    fn request_complete(request: &[u8]) -> bool {
        let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
            return false;
        };
        let head = String::from_utf8_lossy(&request[..end]).to_ascii_lowercase();
        let length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        request.len() >= end + 4 + length
    }

    /// A DynamoDB client on `roots` for the endpoint `https://localhost:{port}`.
    async fn dynamodb_over_tls(roots: Roots, port: u16) -> aws_sdk_dynamodb::Client {
        let shared = test_loader(roots)
            .retry_config(RetryConfig::disabled())
            .endpoint_url(format!("https://localhost:{port}"))
            .load()
            .await;
        dynamodb(&shared)
    }

    /// The client's TLS (rustls on ring, no aws-lc) completes a handshake with an endpoint whose
    /// certificate it trusts, and refuses one it does not: the compiled Mozilla roots do not include a
    /// self-signed certificate.
    #[tokio::test]
    async fn https_works_through_rustls_on_ring_and_only_with_a_trusted_certificate() {
        let (port, server) = tls_endpoint().await;
        let trusted = dynamodb_over_tls(Roots::Pem(LOCALHOST_CERT), port).await;
        let tables = trusted
            .list_tables()
            .send()
            .await
            .expect("ListTables over TLS");
        assert_eq!(tables.table_names(), ["over-tls"]);

        let distrusting = dynamodb_over_tls(Roots::Compiled, port).await;
        let refused = distrusting
            .list_tables()
            .send()
            .await
            .expect_err("a self-signed certificate outside the roots must be refused");
        let why = aws_smithy_types::error::display::DisplayErrorContext(&refused).to_string();
        assert!(why.contains("certificate"), "unexpected error: {why}");
        server.abort();
    }
}
