//! The HTTP gateway: both HTTP APIs of docs/architecture.md#http-api on one port (see the [module docs](super) for the
//! order of checks and the answers it gives itself).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, Request as AxumRequest, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use base64::Engine as _;
use fleet_core::ports::{GameLift, SessionStore};
use fleet_functions::deps::{Deps, Ports};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value, json};

use super::{clf_time, jwt, now_ms, percent_decode, query_pairs, sigv4};
use crate::local::{ACCOUNT, GatewayAuth};

/// Where the local issuer's JWKS is served.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// API Gateway's payload limit for HTTP APIs.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// Which of the two HTTP APIs a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// The player API (JWT authorizer).
    Player,
    /// The service API (`AWS_IAM`).
    Service,
}

impl Api {
    /// The API a request's `Authorization` header picks, if any.
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, _) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("bearer") {
            Some(Self::Player)
        } else if scheme == sigv4::SCHEME {
            Some(Self::Service)
        } else {
            None
        }
    }

    /// The API's id in `requestContext.apiId` (API Gateway's are 10 characters).
    pub const fn api_id(self) -> &'static str {
        match self {
            Self::Player => "localplayr",
            Self::Service => "localservc",
        }
    }

    /// The API's name in deploy/routes.json's `apis`.
    const fn name(self) -> &'static str {
        match self {
            Self::Player => "player",
            Self::Service => "service",
        }
    }

    /// The API's routes, as template.yaml declares them (deploy/routes.json, compiled in).
    pub fn routes(self) -> impl Iterator<Item = &'static RouteDef> {
        route_table()
            .iter()
            .filter(move |r| r.apis.iter().any(|a| a == self.name()))
    }
}

/// One route of deploy/routes.json.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct RouteDef {
    /// The method.
    pub method: String,
    /// The path template (`{name}` one segment, `{name+}` the rest).
    pub path: String,
    /// The function behind it (`fleet-api` or `status-rpc`).
    pub function: String,
    /// The HTTP APIs that carry it (`player`, `service`).
    pub apis: Vec<String>,
    /// Whether it has no authorizer.
    #[serde(default)]
    pub public: bool,
}

/// deploy/routes.json, the one route table template.yaml is checked against, parsed once. It is
/// compiled in and a test parses it, so a failure here is a broken build; the gateway then serves
/// no route (and says so in the log) rather than panic.
fn route_table() -> &'static [RouteDef] {
    static TABLE: std::sync::OnceLock<Vec<RouteDef>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        #[derive(serde::Deserialize)]
        struct Doc {
            routes: Vec<RouteDef>,
        }
        serde_json::from_str::<Doc>(include_str!("../../../../deploy/routes.json"))
            .map(|d| d.routes)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "deploy/routes.json does not parse; no route served");
                Vec::new()
            })
    })
}

/// A matched route: API Gateway's `routeKey`, the path parameters (decoded) and the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// `METHOD /path/{param}` as declared.
    pub key: String,
    /// Parameter name → decoded value.
    pub params: BTreeMap<String, String>,
    /// The function behind the route.
    pub function: String,
}

/// Matches `method path` against `api`'s routes as API Gateway's HTTP APIs do: the path is
/// percent-decoded first (so `%2F` is a `/` by then and an ARN spans several segments), then the
/// most specific route wins, `{name}` taking one segment and `{name+}` the rest. `path` is the
/// decoded path ([`decoded_path`]).
pub fn match_route(api: Api, method: &Method, path: &str) -> Option<Route> {
    let candidates: Vec<&RouteDef> = api.routes().collect();
    let (template, params) = fleet_functions::api::routes::find(
        candidates
            .iter()
            .map(|r| (r.method.as_str(), r.path.as_str())),
        method.as_str(),
        path,
    )?;
    let def = candidates
        .iter()
        .find(|r| r.method == method.as_str() && r.path == template)?;
    Some(Route {
        key: format!("{} {}", def.method, def.path),
        params,
        function: def.function.clone(),
    })
}

/// The path as API Gateway's HTTP APIs decode it before matching routes and hand it to the function
/// (`rawPath`, `requestContext.http.path` and `pathParameters` all carry the decoded form: "API
/// Gateway decodes URL-encoded request parameters before passing them to your backend integration";
/// AWS's own Lambda test tool builds `rawPath` decoded too). A broken escape is kept as sent.
pub fn decoded_path(raw_path: &str) -> String {
    percent_decode(raw_path)
}

/// What the gateway knows of a request when it builds the event.
#[derive(Debug, Clone)]
pub struct Incoming<'a> {
    /// The method.
    pub method: &'a Method,
    /// The path, percent-decoded as API Gateway hands it over ([`decoded_path`]).
    pub path: &'a str,
    /// The raw query string (without `?`).
    pub raw_query: &'a str,
    /// All headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
    /// The client's IP.
    pub source_ip: String,
    /// The gateway's own port (for `x-forwarded-port`).
    pub port: u16,
}

/// The API Gateway HTTP API v2 event (payload format 2.0) for `req` on `api`, matched to `route`,
/// with `authorizer` as `requestContext.authorizer`. Shaped like `events/api/*.json`: headers
/// lower-cased (repeated ones joined with `,`), `cookie` moved to `cookies`, decoded
/// `queryStringParameters` (repeated ones joined with `,`) and `pathParameters` only when there are
/// any, and the body as text, or base64 with `isBase64Encoded` when it is not UTF-8.
pub fn event(
    req: &Incoming<'_>,
    api: Api,
    route: &Route,
    authorizer: Value,
    request_id: &str,
    epoch_ms: i64,
) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for name in req.headers.keys() {
        let values: Vec<String> = req
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if name == http::header::COOKIE {
            cookies.extend(
                values
                    .iter()
                    .flat_map(|v| v.split(';'))
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            );
            continue;
        }
        headers.insert(name.as_str().to_owned(), Value::String(values.join(",")));
    }
    headers
        .entry("x-forwarded-for")
        .or_insert_with(|| Value::String(req.source_ip.clone()));
    headers.insert(
        "x-forwarded-port".into(),
        Value::String(req.port.to_string()),
    );
    headers.insert("x-forwarded-proto".into(), Value::String("http".into()));
    let host = headers
        .get("host")
        .and_then(Value::as_str)
        .unwrap_or("localhost")
        .to_owned();
    let domain_prefix = host.split(['.', ':']).next().unwrap_or_default().to_owned();
    let user_agent = headers
        .get("user-agent")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();

    let mut query: Map<String, Value> = Map::new();
    for (k, v) in query_pairs(req.raw_query) {
        match query.get_mut(&k) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k, Value::String(v));
            }
        }
    }

    let mut context = json!({
        "accountId": ACCOUNT,
        "apiId": api.api_id(),
        "domainName": host,
        "domainPrefix": domain_prefix,
        "http": {
            "method": req.method.as_str(),
            "path": req.path,
            "protocol": "HTTP/1.1",
            "sourceIp": req.source_ip,
            "userAgent": user_agent,
        },
        "requestId": request_id,
        "routeKey": route.key,
        "stage": "$default",
        "time": clf_time(epoch_ms),
        "timeEpoch": epoch_ms,
    });
    if !authorizer.is_null() {
        context["authorizer"] = authorizer;
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": req.path,
        "rawQueryString": req.raw_query,
        "headers": headers,
        "requestContext": context,
        "isBase64Encoded": false,
    });
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !route.params.is_empty() {
        event["pathParameters"] = json!(route.params);
    }
    if !req.body.is_empty() {
        match std::str::from_utf8(req.body) {
            Ok(text) => event["body"] = Value::String(text.to_owned()),
            Err(_) => {
                event["body"] =
                    Value::String(base64::engine::general_purpose::STANDARD.encode(req.body));
                event["isBase64Encoded"] = Value::Bool(true);
            }
        }
    }
    event
}

/// `requestContext.authorizer` for a verified JWT.
pub fn jwt_authorizer(claims: &BTreeMap<String, String>) -> Value {
    json!({"jwt": {"claims": claims, "scopes": null}})
}

/// `requestContext.authorizer` for a verified SigV4 signer. Local keys are long-term keys of a role,
/// so `callerId` and `userId` are the access key id (AWS would show the role's unique id).
pub fn iam_authorizer(signer: &sigv4::Signer) -> Value {
    json!({"iam": {
        "accessKey": signer.access_key,
        "accountId": ACCOUNT,
        "callerId": signer.access_key,
        "cognitoIdentity": null,
        "principalOrgId": null,
        "userArn": signer.principal,
        "userId": signer.access_key,
    }})
}

/// The event as the Lambda runtime hands it to the handler: deserialised into `LambdaRequest` and
/// converted to `lambda_http::Request` (what `lambda_http::run` does).
pub fn to_lambda_request(event: &Value) -> Result<lambda_http::Request, String> {
    let lambda: lambda_http::request::LambdaRequest = serde_json::from_value(event.clone())
        .map_err(|e| format!("the event does not deserialise: {e}"))?;
    match lambda {
        lambda_http::request::LambdaRequest::ApiGatewayV2(_) => {
            Ok(lambda_http::Request::from(lambda))
        }
        _ => Err("the event was not read as an HTTP API v2 event".into()),
    }
}

/// The HTTP gateway (see the [module docs](super)).
#[derive(Debug, Clone, Copy)]
pub struct HttpGateway;

ports_alias! {
    /// The ports the HTTP gateway serves the API with: the API handlers' ports, owned by the server's
    /// tasks (hence `'static`).
    pub trait HttpPorts = Ports<
        Store: SessionStore + 'static,
        GameLift: GameLift + 'static,
        Notifier: Send + Sync + 'static,
        Clock: 'static,
        Ids: 'static,
    > + 'static
}

/// The router's state, as axum hands it to the handler.
type Shared<P> = State<Arc<HttpState<P>>>;

/// The health report, as the stack hands it to the gateway.
type HealthFn = Arc<dyn Fn() -> Value + Send + Sync>;

struct HttpState<P: Ports> {
    deps: Arc<Deps<P>>,
    auth: Arc<GatewayAuth>,
    health: HealthFn,
    port: u16,
}

impl HttpGateway {
    /// Serves both HTTP APIs on `listener` until the returned task is aborted.
    pub async fn serve<P: HttpPorts>(
        listener: tokio::net::TcpListener,
        deps: Arc<Deps<P>>,
        auth: Arc<GatewayAuth>,
        health: Arc<dyn Fn() -> Value + Send + Sync>,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        Self::serve_with_routes(listener, deps, auth, health, Router::new()).await
    }

    /// [`Self::serve`], with `local` (local-only tools such as the console, never routes of the
    /// deployed APIs) answered first; everything they do not route goes to the APIs. Their handlers
    /// can read the peer's address (`ConnectInfo<SocketAddr>`).
    pub async fn serve_with_routes<P: HttpPorts>(
        listener: tokio::net::TcpListener,
        deps: Arc<Deps<P>>,
        auth: Arc<GatewayAuth>,
        health: Arc<dyn Fn() -> Value + Send + Sync>,
        local: Router,
    ) -> std::io::Result<tokio::task::JoinHandle<()>> {
        let port = listener.local_addr()?.port();
        let term_auth = auth.clone();
        let state = Arc::new(HttpState {
            deps,
            auth,
            health,
            port,
        });
        let app = Router::new().fallback(entry::<P>).with_state(state);
        let app = crate::term::observe(app, crate::term::Gateway::Http, term_auth);
        let app = local.fallback_service(app);
        Ok(super::spawn_serving(listener, app, "HTTP"))
    }
}

/// An error answer in the API's shape.
/// `api/openapi.yaml` or `api/asyncapi.yaml` as JSON. Converted once per process: the documents are
/// compiled in, so they always match the handlers this binary runs.
fn api_document(openapi: bool) -> AxumResponse {
    static DOCUMENTS: std::sync::OnceLock<Result<(String, String), String>> =
        std::sync::OnceLock::new();
    let documents = DOCUMENTS.get_or_init(|| {
        let json = |yaml: &str| {
            serde_yaml_ng::from_str::<Value>(yaml)
                .map(|v| v.to_string())
                .map_err(|e| e.to_string())
        };
        Ok((
            json(include_str!("../../../../api/openapi.yaml"))?,
            json(include_str!("../../../../api/asyncapi.yaml"))?,
        ))
    });
    match documents {
        Ok((openapi_json, asyncapi_json)) => {
            let body = if openapi {
                openapi_json.clone()
            } else {
                asyncapi_json.clone()
            };
            (
                StatusCode::OK,
                [(http::header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
        Err(e) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("the bundled API document does not parse: {e}"),
        ),
    }
}

pub(crate) fn error(status: StatusCode, code: &str, message: impl Into<String>) -> AxumResponse {
    let body = json!({"error": {"code": code, "message": message.into()}});
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn entry<P: HttpPorts>(
    State(state): Shared<P>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: AxumRequest,
) -> AxumResponse {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = answer(&state, peer, request, &request_id).await;
    if let Ok(v) = http::HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("apigw-requestid", v);
    }
    response
}

async fn answer<P: HttpPorts>(
    state: &HttpState<P>,
    peer: SocketAddr,
    request: AxumRequest,
    request_id: &str,
) -> AxumResponse {
    let (parts, body) = request.into_parts();
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    if parts.method == Method::GET
        && let Some(response) = local_document(&raw_path, &state.health)
    {
        return response;
    }

    let api = Api::of(&parts.headers);
    let path = decoded_path(&raw_path);
    // API Gateway matches the route before it runs the authorizer, so an unknown route is its own
    // 404 for everyone; a request with no usable scheme is held against the service API's (larger)
    // table.
    let Some(route) = match_route(api.unwrap_or(Api::Service), &parts.method, &path) else {
        return gateway_message(StatusCode::NOT_FOUND, "Not Found");
    };
    let Some(api) = api else {
        // The player API's JWT authorizer finds no token in its identity source.
        return unauthorized("Bearer");
    };
    let body = match read_body(&parts.headers, body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let authorizer = match authorize(&state.auth, api, &parts, &body) {
        Ok(authorizer) => authorizer,
        Err(response) => return *response,
    };

    let incoming = Incoming {
        method: &parts.method,
        path: &path,
        raw_query: &raw_query,
        headers: &parts.headers,
        body: &body,
        source_ip: peer.ip().to_string(),
        port: state.port,
    };
    let event = event(&incoming, api, &route, authorizer, request_id, now_ms());
    let lambda_request = match to_lambda_request(&event) {
        Ok(r) => r,
        Err(why) => {
            tracing::error!(error = %why, "could not build the HTTP API event");
            return gateway_message(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error");
        }
    };
    let response = if route.function == "status-rpc" {
        fleet_functions::rpc::handle(&state.deps, lambda_request).await
    } else {
        fleet_functions::api::handle(&state.deps, lambda_request).await
    };
    from_lambda_response(response)
}

/// The gateway's own documents, answered to a GET before any route or authorizer: the health report,
/// the contracts (served only locally, not routes of the deployed APIs) and the local issuer's JWKS,
/// where an identity provider publishes its keys (the `$connect` authorizer fetches it from here; any
/// OIDC library can verify the local tokens with it).
fn local_document(raw_path: &str, health: &HealthFn) -> Option<AxumResponse> {
    let json_response = |status: StatusCode, body: String| {
        (
            status,
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    };
    match raw_path {
        "/v1/health" => {
            let health = health();
            let status = if health.get("status").and_then(Value::as_str) == Some("ok") {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            Some(json_response(status, health.to_string()))
        }
        "/v1/openapi.json" | "/v1/asyncapi.json" => {
            Some(api_document(raw_path == "/v1/openapi.json"))
        }
        JWKS_PATH => Some(json_response(StatusCode::OK, jwt::jwks_json())),
        _ => None,
    }
}

/// The request's body, refused with API Gateway's 413 past its 10 MB payload limit (by the declared
/// length first, so an oversized body is not read).
async fn read_body(headers: &HeaderMap, body: AxumBody) -> Result<axum::body::Bytes, AxumResponse> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the body exceeds API Gateway's 10 MB limit",
        )
    };
    if declared.is_some_and(|n| n > MAX_PAYLOAD_BYTES as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_PAYLOAD_BYTES)
        .await
        .map_err(|_| too_large())
}

/// The API's authorizer: the player API's JWT authorizer or the service API's IAM (SigV4) check,
/// as the `requestContext.authorizer` they hand the function, or the 401 API Gateway answers.
fn authorize(
    auth: &GatewayAuth,
    api: Api,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Value, Box<AxumResponse>> {
    match api {
        Api::Player => {
            let token = parts
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .map(|(_, t)| t.trim())
                .unwrap_or("");
            match jwt::verify(auth, token, now_ms() / 1000) {
                Ok(claims) => Ok(jwt_authorizer(&claims)),
                Err(e) => {
                    tracing::info!(code = e.code(), reason = %e, "bearer token refused");
                    Err(Box::new(unauthorized(&format!(
                        "Bearer scope=\"\" error=\"invalid_token\" error_description=\"{}\"",
                        jwt::description(&e)
                    ))))
                }
            }
        }
        Api::Service => {
            let target = parts
                .uri
                .path_and_query()
                .map_or(parts.uri.path(), |pq| pq.as_str());
            sigv4::verify(
                auth,
                parts.method.as_str(),
                target,
                &parts.headers,
                body,
                std::time::SystemTime::now(),
            )
            .map(|signer| iam_authorizer(&signer))
            .map_err(|e| {
                Box::new(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    e.to_string(),
                ))
            })
        }
    }
}

/// API Gateway's own answer, `{"message": "…"}` (no route, a crashed integration).
fn gateway_message(status: StatusCode, message: &str) -> AxumResponse {
    (
        status,
        [(http::header::CONTENT_TYPE, "application/json")],
        json!({"message": message}).to_string(),
    )
        .into_response()
}

/// The JWT authorizer's refusal: 401 `{"message":"Unauthorized"}` with the reason in
/// `www-authenticate`, as API Gateway answers it.
fn unauthorized(www_authenticate: &str) -> AxumResponse {
    let mut response = gateway_message(StatusCode::UNAUTHORIZED, "Unauthorized");
    if let Ok(v) = http::HeaderValue::from_str(www_authenticate) {
        response
            .headers_mut()
            .insert(http::header::WWW_AUTHENTICATE, v);
    }
    response
}

/// The handler's answer as the gateway's HTTP response.
pub fn from_lambda_response(response: lambda_http::Response<lambda_http::Body>) -> AxumResponse {
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(t) => t.into_bytes(),
        lambda_http::Body::Binary(b) => b,
        // `Body` is non-exhaustive upstream; anything new is read through its bytes.
        #[allow(unreachable_patterns)]
        other => AsRef::<[u8]>::as_ref(&other).to_vec(),
    };
    AxumResponse::from_parts(parts, AxumBody::from(bytes))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::SystemTime;

    use crate::gateway::testing::{self, Serving};

    use fleet_functions::config::Config;
    use fleet_functions::identity::{self, Caller};

    use crate::local::{
        GAME_SERVER_ACCESS_KEY, GAME_SERVER_PRINCIPAL, GAME_SERVER_SECRET, REGION,
        SERVICE_ACCESS_KEY, SERVICE_PRINCIPAL, SERVICE_SECRET, SIGV4_SERVICE, fake_deps,
        fakes_config,
    };

    pub(crate) const FLEET: &str = "fleet-2f6d4c1a-8b3e-4d7f-9a10-5c2e8b7d4f31";

    pub(crate) fn config() -> Config {
        fakes_config(FLEET, &[]).expect("a valid test configuration")
    }

    struct Running {
        base: String,
        host: String,
        client: reqwest::Client,
        _serving: Serving,
    }

    async fn start(healthy: bool) -> Running {
        let (listener, addr) = testing::listener().await;
        let health: Arc<dyn Fn() -> Value + Send + Sync> = Arc::new(
            move || json!({"status": if healthy { "ok" } else { "degraded" }, "dynamodb": healthy}),
        );
        let task = HttpGateway::serve(
            listener,
            Arc::new(fake_deps(config())),
            Arc::new(GatewayAuth::local([])),
            health,
        )
        .await
        .expect("serve");
        Running {
            base: format!("http://{addr}"),
            host: addr.to_string(),
            client: reqwest::Client::new(),
            _serving: Serving(task),
        }
    }

    impl Running {
        fn bearer(
            &self,
            method: reqwest::Method,
            path: &str,
            token: &str,
        ) -> reqwest::RequestBuilder {
            self.client
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(token)
        }

        fn signed(
            &self,
            method: &str,
            path: &str,
            body: &[u8],
            key: (&str, &str),
        ) -> reqwest::RequestBuilder {
            let headers = sigv4::tests::signed_headers(
                method,
                &self.host,
                path,
                body,
                key,
                (REGION, SIGV4_SERVICE),
                SystemTime::now(),
            );
            let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            self.client
                .request(method, format!("{}{path}", self.base))
                .headers(headers)
                .body(body.to_vec())
        }
    }

    async fn read(r: reqwest::RequestBuilder) -> (u16, Value) {
        let response = r.send().await.expect("an answer");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (
            status,
            if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).expect("JSON")
            },
        )
    }

    fn player_token(sub: &str) -> String {
        jwt::mint_token(&GatewayAuth::local([]), sub, 600)
    }

    #[test]
    fn routes_match_the_decoded_path_with_greedy_session_routes() {
        let raw = concat!(
            "/v1/sessions/arn%3Aaws%3Agamelift%3Aus-east-1%3A%3Agamesession%2Ffleet-1%2Fgsess-1",
            "/join"
        );
        let path = decoded_path(raw);
        assert_eq!(
            path,
            "/v1/sessions/arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1/join"
        );
        let join = match_route(Api::Player, &Method::POST, &path).expect("join");
        assert_eq!(join.key, "POST /v1/sessions/{id+}");
        assert_eq!(join.function, "fleet-api");
        assert_eq!(
            join.params["id"],
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1/join"
        );
        let get = match_route(Api::Player, &Method::GET, "/v1/sessions/gs-x").expect("get");
        assert_eq!(get.key, "GET /v1/sessions/{id+}");
        assert!(
            match_route(Api::Player, &Method::DELETE, "/v1/sessions/x").is_none(),
            "delete is a service route"
        );
        assert!(match_route(Api::Service, &Method::DELETE, "/v1/sessions/x").is_some());
        assert!(match_route(Api::Player, &Method::POST, "/v1/rpc/update_instance_info").is_none());
        let rpc =
            match_route(Api::Service, &Method::POST, "/v1/rpc/update_instance_info").expect("rpc");
        assert_eq!(rpc.function, "status-rpc");
        assert!(
            match_route(Api::Service, &Method::GET, "/v1/sessions/").is_none(),
            "an empty greedy variable is no id"
        );
        assert!(
            match_route(Api::Service, &Method::GET, "/v1/placements/a/b").is_none(),
            "{{placementId}} takes one segment"
        );
        assert!(match_route(Api::Service, &Method::GET, "/v1/nothing").is_none());
    }

    #[test]
    fn the_route_table_is_deploy_routes_json() {
        let doc: Value = serde_json::from_str(include_str!("../../../../deploy/routes.json"))
            .expect("deploy/routes.json is JSON");
        assert_eq!(
            route_table().len(),
            doc["routes"].as_array().map_or(0, Vec::len),
            "every route parsed"
        );
        assert!(
            Api::Player
                .routes()
                .all(|r| r.apis.contains(&"player".to_owned()))
        );
        assert_eq!(Api::Service.routes().count(), route_table().len());
    }

    #[test]
    fn a_decoded_path_with_reserved_characters_still_makes_a_request() {
        let headers = HeaderMap::new();
        let method = Method::GET;
        for raw in [
            "/v1/sessions/a%3Fb",
            "/v1/sessions/a%23b",
            "/v1/sessions/a%20b",
            "/v1/sessions/%E2%82%AC",
        ] {
            let path = decoded_path(raw);
            let route = match_route(Api::Service, &method, &path).expect("the greedy route");
            let incoming = Incoming {
                method: &method,
                path: &path,
                raw_query: "",
                headers: &headers,
                body: b"",
                source_ip: "127.0.0.1".into(),
                port: 4000,
            };
            let e = event(&incoming, Api::Service, &route, Value::Null, "r", 0);
            assert_eq!(e["rawPath"], path);
            assert_eq!(
                e["pathParameters"]["id"],
                path.trim_start_matches("/v1/sessions/")
            );
            assert!(to_lambda_request(&e).is_ok(), "{raw}");
        }
    }

    #[test]
    fn the_authorization_scheme_picks_the_api() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert("authorization", v.parse().unwrap());
            Api::of(&h)
        };
        assert_eq!(with("Bearer abc"), Some(Api::Player));
        assert_eq!(with("bearer abc"), Some(Api::Player));
        assert_eq!(with("AWS4-HMAC-SHA256 Credential=x"), Some(Api::Service));
        assert_eq!(with("Basic abc"), None);
        assert_eq!(Api::of(&HeaderMap::new()), None);
    }

    #[test]
    fn the_event_round_trips_into_a_lambda_request_with_the_callers_identity() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:4000".parse().unwrap());
        headers.insert("user-agent", "test-agent".parse().unwrap());
        headers.insert("cookie", "a=1; b=2".parse().unwrap());
        headers.append("x-multi", "one".parse().unwrap());
        headers.append("x-multi", "two".parse().unwrap());
        let method = Method::GET;
        let incoming = Incoming {
            method: &method,
            path: "/v1/sessions",
            raw_query: "query=%2Bregion%3Aus-east-1&limit=10&limit=20",
            headers: &headers,
            body: &[0xff, 0x00],
            source_ip: "127.0.0.1".into(),
            port: 4000,
        };
        let route = match_route(Api::Service, &method, "/v1/sessions").unwrap();
        let signer = sigv4::Signer {
            access_key: SERVICE_ACCESS_KEY.into(),
            principal: SERVICE_PRINCIPAL.into(),
        };
        let e = event(
            &incoming,
            Api::Service,
            &route,
            iam_authorizer(&signer),
            "req-1",
            1_795_600_800_000,
        );
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "GET /v1/sessions");
        assert_eq!(e["cookies"], json!(["a=1", "b=2"]));
        assert_eq!(e["headers"]["x-multi"], "one,two");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(
            e["queryStringParameters"],
            json!({"query": "+region:us-east-1", "limit": "10,20"})
        );
        assert!(e.get("pathParameters").is_none());
        assert_eq!(e["isBase64Encoded"], true);
        assert_eq!(e["body"], "/wA=");
        let ctx = &e["requestContext"];
        assert_eq!(
            (
                ctx["accountId"].as_str(),
                ctx["stage"].as_str(),
                ctx["time"].as_str()
            ),
            (
                Some(ACCOUNT),
                Some("$default"),
                Some("25/Nov/2026:10:00:00 +0000")
            )
        );
        assert_eq!(ctx["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(ctx["http"]["userAgent"], "test-agent");
        assert_eq!(ctx["authorizer"]["iam"]["userArn"], SERVICE_PRINCIPAL);
        assert_eq!(ctx["authorizer"]["iam"]["accountId"], ACCOUNT);

        let req = to_lambda_request(&e).expect("a v2 request");
        assert_eq!(
            req.uri().query(),
            Some("query=%2Bregion%3Aus-east-1&limit=10&limit=20")
        );
        assert_eq!(req.body().as_ref(), &[0xff, 0x00]);
        assert_eq!(
            identity::caller(&req, &config()).expect("a caller"),
            Caller::Service(SERVICE_PRINCIPAL.into())
        );

        let claims = BTreeMap::from([
            ("sub".to_owned(), "player-1".to_owned()),
            ("exp".to_owned(), "1".to_owned()),
        ]);
        let player = event(
            &incoming,
            Api::Player,
            &route,
            jwt_authorizer(&claims),
            "req-2",
            0,
        );
        let req = to_lambda_request(&player).expect("a v2 request");
        assert!(
            matches!(identity::caller(&req, &config()), Ok(Caller::Player(p)) if p.as_str() == "player-1")
        );
        let gs = sigv4::Signer {
            access_key: GAME_SERVER_ACCESS_KEY.into(),
            principal: GAME_SERVER_PRINCIPAL.into(),
        };
        let req = to_lambda_request(&event(
            &incoming,
            Api::Service,
            &route,
            iam_authorizer(&gs),
            "r",
            0,
        ))
        .unwrap();
        assert!(matches!(
            identity::caller(&req, &config()),
            Ok(Caller::GameServer { .. })
        ));
    }

    #[tokio::test]
    async fn health_needs_no_auth_and_reports_503_when_a_component_is_down() {
        let up = start(true).await;
        let (status, body) = read(up.client.get(format!("{}/v1/health", up.base))).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
        let down = start(false).await;
        let (status, body) = read(down.client.get(format!("{}/v1/health", down.base))).await;
        assert_eq!((status, body["dynamodb"].as_bool()), (503, Some(false)));
    }

    #[tokio::test]
    async fn the_api_contracts_are_served_as_json_without_authentication() {
        let gw = start(true).await;
        for (document, version) in [("openapi", "3.1"), ("asyncapi", "3")] {
            let url = format!("{}/v1/{document}.json", gw.base);
            let (status, contract) = read(gw.client.get(url)).await;
            assert_eq!(status, 200, "{document}");
            assert!(
                contract[document]
                    .as_str()
                    .is_some_and(|v| v.starts_with(version)),
                "{contract}"
            );
            if document == "openapi" {
                assert!(contract["paths"]["/v1/sessions"].is_object());
            }
        }
    }

    #[tokio::test]
    async fn a_player_with_a_valid_token_creates_and_reads_its_placement() {
        let gw = start(true).await;
        let token = player_token("player-1");
        let body = json!({"maxPlayers": 4, "players": [{"playerId": "player-1"}]});
        let (status, created) = read(
            gw.bearer(reqwest::Method::POST, "/v1/sessions", &token)
                .json(&body),
        )
        .await;
        assert_eq!(status, 202, "{created}");
        let id = created["placementId"].as_str().expect("a placement id");
        let (status, placement) = read(gw.bearer(
            reqwest::Method::GET,
            &format!("/v1/placements/{id}"),
            &token,
        ))
        .await;
        assert_eq!(
            (status, placement["status"].as_str()),
            (200, Some("PENDING")),
            "{placement}"
        );
        let (status, list) =
            read(gw.bearer(reqwest::Method::GET, "/v1/sessions?limit=5", &token)).await;
        assert_eq!(status, 200, "{list}");
    }

    #[tokio::test]
    async fn bad_tokens_get_api_gateways_401_with_the_reason_in_www_authenticate() {
        let gw = start(true).await;
        let unauthorized = |r: &reqwest::Response| {
            r.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let send = |r: reqwest::RequestBuilder| async move {
            let response = r.send().await.expect("an answer");
            let header = unauthorized(&response);
            let status = response.status().as_u16();
            let body: Value = response.json().await.expect("JSON");
            (status, body, header)
        };
        let (status, body, _) = send(gw.client.get(format!("{}/v1/sessions", gw.base))).await;
        assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
        let expired = jwt::mint_at(&GatewayAuth::local([]), "p", jwt::unix_now() - 3600, 60);
        let (status, body, why) =
            send(gw.bearer(reqwest::Method::GET, "/v1/sessions", &expired)).await;
        assert_eq!((status, body), (401, json!({"message": "Unauthorized"})));
        assert_eq!(
            why,
            r#"Bearer scope="" error="invalid_token" error_description="the token has expired""#
        );
        let mut other = json!({
            "sub": "p", "iss": crate::local::JWT_ISSUER, "client_id": "another-app",
            "token_use": "access", "exp": jwt::unix_now() + 60,
        });
        let (status, _, why) = send(gw.bearer(
            reqwest::Method::GET,
            "/v1/sessions",
            &jwt::sign_rs256(&other, jwt::DEV_KEYS[1].0).expect("signed"),
        ))
        .await;
        assert_eq!(status, 401);
        assert!(why.contains("does not have a valid audience"), "{why}");
        other["client_id"] = json!(crate::local::JWT_AUDIENCE);
        let (status, _, _) = send(gw.bearer(
            reqwest::Method::GET,
            "/v1/sessions",
            &jwt::sign_rs256(&other, jwt::DEV_KEYS[1].0).expect("signed"),
        ))
        .await;
        assert_eq!(status, 200, "the same token for this app client passes");
        let (status, _, _) =
            send(gw.bearer(reqwest::Method::GET, "/v1/sessions", "abc.def.ghi")).await;
        assert_eq!(status, 401);
        let (status, _, _) = send(
            gw.client
                .get(format!("{}/v1/sessions", gw.base))
                .header("authorization", "Basic eDp5"),
        )
        .await;
        assert_eq!(status, 401);
    }

    #[tokio::test]
    async fn a_cognito_shaped_access_token_is_accepted_and_the_jwks_is_served() {
        let gw = start(true).await;
        let token = jwt::mint_access_token(&GatewayAuth::local([]), "player-7", 600);
        let (status, list) = read(gw.bearer(reqwest::Method::GET, "/v1/sessions", &token)).await;
        assert_eq!(status, 200, "{list}");
        let (status, jwks) = read(gw.client.get(format!("{}{JWKS_PATH}", gw.base))).await;
        assert_eq!(status, 200);
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    }

    #[tokio::test]
    async fn a_path_no_route_matches_is_api_gateways_own_404_and_a_matched_one_reaches_the_handler()
    {
        let gw = start(true).await;
        let token = player_token("player-1");
        let not_found = json!({"message": "Not Found"});
        let (status, body) = read(
            gw.bearer(
                reqwest::Method::POST,
                "/v1/rpc/update_instance_info",
                &token,
            )
            .body(r#"{"id":"x","playerCount":1}"#),
        )
        .await;
        assert_eq!(
            (status, &body),
            (404, &not_found),
            "rpc is not on the player API"
        );
        let (status, body) =
            read(gw.bearer(reqwest::Method::DELETE, "/v1/sessions/gs-x", &token)).await;
        assert_eq!(
            (status, &body),
            (404, &not_found),
            "delete is not on the player API"
        );
        for path in [
            "/v2/unknown",
            "/v1/placements/a%2Fb",
            "/v1/sessions/",
            "/v1/sessions/x/../",
        ] {
            let (status, body) = read(gw.bearer(reqwest::Method::GET, path, &token)).await;
            assert_eq!((status, &body), (404, &not_found), "{path}");
        }
        let (status, body) = read(gw.client.get(format!("{}/v2/unknown", gw.base))).await;
        assert_eq!(
            (status, &body),
            (404, &not_found),
            "an unknown route is 404 even without credentials"
        );
        // A percent-encoded ARN matches the greedy route: the handler answers (its own 404 shape).
        let arn = "arn%3Aaws%3Agamelift%3Aus-east-1%3A%3Agamesession%2Ffleet-1%2Fgsess-1";
        for (method, path) in [
            (reqwest::Method::GET, format!("/v1/sessions/{arn}")),
            (reqwest::Method::POST, format!("/v1/sessions/{arn}/join")),
            (reqwest::Method::POST, format!("/v1/sessions/{arn}/leave")),
        ] {
            let (status, body) = read(
                gw.bearer(method.clone(), &path, &token)
                    .json(&json!({"players": [{"playerId": "player-1"}]})),
            )
            .await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (404, Some("not_found")),
                "{method} {path}: {body}"
            );
        }
    }

    const SERVICE: (&str, &str) = (SERVICE_ACCESS_KEY, SERVICE_SECRET);

    #[tokio::test]
    async fn a_signed_service_request_reaches_the_handlers_as_its_principal() {
        let gw = start(true).await;
        let body = br#"{"maxPlayers": 2}"#;
        let (status, created) = read(gw.signed("POST", "/v1/sessions", body, SERVICE)).await;
        assert_eq!(status, 202, "{created}");
        let (status, list) = read(gw.signed("GET", "/v1/sessions?limit=3", b"", SERVICE)).await;
        assert_eq!(status, 200, "{list}");
        // A game server reaches status-rpc; the session is unknown by short id, which the handler says.
        let rpc = br#"{"id": "gs-NPBdlaBzDIIkB4DAKzlCaq", "playerCount": 1}"#;
        let report = |key| read(gw.signed("POST", "/v1/rpc/update_instance_info", rpc, key));
        let (status, body) = report((GAME_SERVER_ACCESS_KEY, GAME_SERVER_SECRET)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{body}"
        );
        // The service may not report (it is not a game server): the handler's 403, through the gateway.
        let (status, body) = report(SERVICE).await;
        assert!(status == 403 || status == 404, "{status} {body}");
    }

    #[tokio::test]
    async fn a_bad_signature_is_401_and_the_handler_is_never_called() {
        let gw = start(true).await;
        let wrong = (SERVICE_ACCESS_KEY, "wrong");
        let (status, body) =
            read(gw.signed("POST", "/v1/sessions", br#"{"maxPlayers":2}"#, wrong)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "{body}"
        );
        // Signed for one body, sent with another.
        let headers = sigv4::tests::signed_headers(
            "POST",
            &gw.host,
            "/v1/sessions",
            b"{}",
            SERVICE,
            (REGION, SIGV4_SERVICE),
            SystemTime::now(),
        );
        let (status, _) = read(
            gw.client
                .post(format!("{}/v1/sessions", gw.base))
                .headers(headers)
                .body(r#"{"maxPlayers":9}"#),
        )
        .await;
        assert_eq!(status, 401);
    }

    #[tokio::test]
    async fn a_body_over_ten_megabytes_is_413_at_the_gateway() {
        let gw = start(true).await;
        let big = vec![b'x'; MAX_PAYLOAD_BYTES + 1];
        let (status, body) = read(
            gw.bearer(reqwest::Method::POST, "/v1/sessions", &player_token("p"))
                .body(big),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (413, Some("payload_too_large"))
        );
    }
}
