//! Configuration from environment variables, read once per Lambda container and validated at start:
//! a missing or bad variable is an error that names it, so a misconfigured function fails its first
//! cold start loudly instead of failing requests later.

use std::collections::BTreeMap;

use fleet_core::ids::FleetId;

/// A configuration problem, naming the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration: {var}: {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

/// How the `$connect` authorizer checks player tokens: the same rules as the player API's JWT
/// authorizer (issuer, audience or `client_id`, a key found by `kid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// `FLEETLIFT_JWT_ISSUER`: the expected `iss`.
    pub issuer: String,
    /// `FLEETLIFT_JWT_AUDIENCE`: the expected `aud`, or `client_id` when a token has no `aud`
    /// (Cognito access tokens).
    pub audience: String,
    /// Where the signing keys come from.
    pub keys: JwtKeys,
}

/// The verification keys of player tokens. At least one source is set; `public_key_pem` and
/// `jwks_url` exclude each other (one issuer publishes its keys one way).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JwtKeys {
    /// `FLEETLIFT_JWT_HS256_SECRET`: a shared HS256 secret (the local stack's dev key).
    pub hs256_secret: Option<Vec<u8>>,
    /// `FLEETLIFT_JWT_PUBLIC_KEY_PEM`: one RSA public key, normalised by [`normalise_pem`].
    pub public_key_pem: Option<String>,
    /// `FLEETLIFT_JWT_JWKS_URL`: the issuer's JWKS; `<issuer>/.well-known/jwks.json` when no other
    /// key is configured.
    pub jwks_url: Option<String>,
}

/// The JWKS of an issuer at the path Cognito (and most OIDC providers) publish it.
pub fn default_jwks_url(issuer: &str) -> String {
    format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
}

/// Whether keys may be fetched from `url`: HTTPS, or plain HTTP to this machine only (the local
/// stack); keys fetched over plain HTTP from elsewhere could be swapped on the way.
pub fn is_key_url(url: &str) -> bool {
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty();
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => authority,
    };
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Puts a PEM back together the way deployment tools mangle it: surrounding quotes, literal `\n`
/// escapes (a JSON or shell value), or the whole key on one line with spaces for its newlines
/// (SAM's guided prompt and CloudFormation parameters keep one line). The result is canonical: the
/// header, the base64 body in 64-character lines, the footer. A value cut short (SAM's
/// `--parameter-overrides` ends an unquoted value at its first space, so `Key=$(cat key.pem)`
/// arrives as `-----BEGIN`) or holding something other than a public key is an error saying so.
pub fn normalise_pem(raw: &str) -> Result<String, String> {
    let mut text = raw.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            text = inner.trim();
        }
    }
    let text = text.replace("\\r", "").replace("\\n", "\n");
    let preview: String = text.chars().take(24).collect();
    let got = format!(
        "got {} characters starting `{preview}`",
        text.chars().count()
    );
    let cut_short = |missing: &str| {
        format!(
            "is cut short, it has no `{missing}` line ({got}); SAM's --parameter-overrides ends an \
             unquoted value at its first space: quote the value itself"
        )
    };
    let Some(begin) = text.find("-----BEGIN") else {
        return Err(format!(
            "must be a PEM public key (`-----BEGIN PUBLIC KEY-----` …); {got}"
        ));
    };
    let Some((label, rest)) = text[begin + "-----BEGIN".len()..]
        .strip_prefix(' ')
        .and_then(|after| after.split_once("-----"))
    else {
        return Err(cut_short("-----BEGIN PUBLIC KEY-----"));
    };
    let footer = format!("-----END {label}-----");
    let Some((body, _)) = rest.split_once(&footer) else {
        return Err(cut_short(&footer));
    };
    if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
        return Err(format!(
            "holds a `{label}`; it must be the issuer's RSA public key (`PUBLIC KEY`)"
        ));
    }
    let body: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    if body.is_empty()
        || !body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
    {
        return Err(format!("has a body that is not base64; {got}"));
    }
    let mut pem = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&footer);
    pem.push('\n');
    Ok(pem)
}

/// Everything the functions are configured with. Each binary requires the part it uses (see the
/// `require_*` methods), so one function's missing variable does not stop another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `FLEETLIFT_TABLE`: the DynamoDB table.
    pub table: String,
    /// `FLEETLIFT_CURSOR_SECRET`: signs list cursors (at least 16 bytes; stable across deploys). Empty
    /// when unset: only fleet-api signs cursors, so only it requires one ([`Config::require_cursor_secret`])
    /// and the deployment gives the secret to no other function.
    pub cursor_secret: Vec<u8>,
    /// `FLEETLIFT_QUEUE_NAME`: the GameLift queue placements go to.
    pub queue_name: Option<String>,
    /// `FLEETLIFT_PLACEMENT_TIMEOUT_SECS`: the queue's timeout (default 600); a placement with no event
    /// by then plus `FLEETLIFT_SWEEP_MARGIN_SECS` (default 60) is resolved by the sweeper.
    pub placement_timeout_secs: i64,
    /// `FLEETLIFT_SWEEP_MARGIN_SECS`.
    pub sweep_margin_secs: i64,
    /// `FLEETLIFT_SERVICE_PRINCIPALS`: comma-separated IAM principal ARNs (users or roles) that may act
    /// as a service for anyone.
    pub service_principals: Vec<String>,
    /// `FLEETLIFT_GAME_SERVER_FLEETS`: JSON object of IAM principal ARN → fleet ids its game servers
    /// may report on.
    pub game_servers: BTreeMap<String, Vec<FleetId>>,
    /// `FLEETLIFT_WS_ENDPOINT`: the WebSocket API's management endpoint
    /// (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`), for the notifier.
    pub ws_endpoint: Option<String>,
    /// `FLEETLIFT_JWT_ISSUER`, `FLEETLIFT_JWT_AUDIENCE` and the keys (see [`JwtKeys`]): the
    /// `$connect` authorizer's token check.
    pub jwt: Option<JwtConfig>,
    /// `FLEETLIFT_SWEEP_BUDGET`: GameLift calls one sweeper run may make (default 500).
    pub sweep_budget: u32,
    /// `FLEETLIFT_MAX_PENDING_PER_PLAYER`: PENDING placements one player may hold at once (default 3,
    /// 1–100); a create past it is 429. Services are not capped.
    pub max_pending_per_player: u32,
    /// `FLEETLIFT_LOCATIONS`: comma-separated locations the queue places into, in the order
    /// `GET /v1/locations` shows them; unset, every location GameLift lists.
    pub locations: Vec<String>,
    /// `FLEETLIFT_PLAYER_GATEWAY_FLEETS`: comma-separated fleet ids whose `PlayerGatewayMode` is
    /// ENABLED or REQUIRED. A join on one of them asks GameLift for relay endpoints and tokens; on any
    /// other fleet the session's own address is the connection, with no call.
    pub player_gateway_fleets: Vec<FleetId>,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &'static str| {
            get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let table = var("FLEETLIFT_TABLE").ok_or(ConfigError {
            var: "FLEETLIFT_TABLE",
            problem: "is required".into(),
        })?;
        let cursor_secret = cursor_secret(&var)?;
        let game_servers = game_server_fleets(&var)?;
        let jwt = jwt_config(&var)?;
        let locations = locations(&var)?;
        let player_gateway_fleets = player_gateway_fleets(&var)?;
        Ok(Self {
            locations,
            player_gateway_fleets,
            table,
            cursor_secret,
            queue_name: var("FLEETLIFT_QUEUE_NAME"),
            placement_timeout_secs: number(
                &var,
                "FLEETLIFT_PLACEMENT_TIMEOUT_SECS",
                600,
                10,
                43_200,
            )?,
            sweep_margin_secs: number(&var, "FLEETLIFT_SWEEP_MARGIN_SECS", 60, 0, 3_600)?,
            service_principals: list(&var, "FLEETLIFT_SERVICE_PRINCIPALS"),
            game_servers,
            ws_endpoint: var("FLEETLIFT_WS_ENDPOINT"),
            jwt,
            sweep_budget: number(&var, "FLEETLIFT_SWEEP_BUDGET", 500, 1, 100_000)? as u32,
            max_pending_per_player: number(&var, "FLEETLIFT_MAX_PENDING_PER_PLAYER", 3, 1, 100)?
                as u32,
        })
    }

    /// The GameLift queue, required by fleet-api.
    pub fn require_queue(&self) -> Result<&str, ConfigError> {
        self.queue_name.as_deref().ok_or(ConfigError {
            var: "FLEETLIFT_QUEUE_NAME",
            problem: "is required".into(),
        })
    }

    /// The list cursors' signing secret, required by fleet-api (the only function that lists).
    pub fn require_cursor_secret(&self) -> Result<&[u8], ConfigError> {
        if self.cursor_secret.is_empty() {
            return Err(ConfigError {
                var: "FLEETLIFT_CURSOR_SECRET",
                problem: "is required".into(),
            });
        }
        Ok(&self.cursor_secret)
    }

    /// The WebSocket management endpoint, required by the notifier.
    pub fn require_ws_endpoint(&self) -> Result<&str, ConfigError> {
        self.ws_endpoint.as_deref().ok_or(ConfigError {
            var: "FLEETLIFT_WS_ENDPOINT",
            problem: "is required".into(),
        })
    }

    /// The token check, required by the `$connect` authorizer.
    pub fn require_jwt(&self) -> Result<&JwtConfig, ConfigError> {
        self.jwt.as_ref().ok_or(ConfigError {
            var: "FLEETLIFT_JWT_ISSUER",
            problem: "is required (with FLEETLIFT_JWT_AUDIENCE and a key)".into(),
        })
    }
}

/// The integer in `name`, `default` when unset; an error unless it is within `min..=max`.
fn number(
    var: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ConfigError> {
    match var(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or(ConfigError {
                var: name,
                problem: format!("must be an integer {min}–{max}, got {v:?}"),
            }),
    }
}

/// The non-empty, trimmed items of the comma-separated `name` (none when unset).
fn list(var: &impl Fn(&'static str) -> Option<String>, name: &'static str) -> Vec<String> {
    var(name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// `FLEETLIFT_CURSOR_SECRET`: empty when unset, else at least 16 bytes.
fn cursor_secret(var: &impl Fn(&'static str) -> Option<String>) -> Result<Vec<u8>, ConfigError> {
    let cursor_secret = var("FLEETLIFT_CURSOR_SECRET")
        .map(String::into_bytes)
        .unwrap_or_default();
    if !cursor_secret.is_empty() && cursor_secret.len() < 16 {
        return Err(ConfigError {
            var: "FLEETLIFT_CURSOR_SECRET",
            problem: "must be at least 16 bytes".into(),
        });
    }
    Ok(cursor_secret)
}

/// `FLEETLIFT_GAME_SERVER_FLEETS`: the JSON object of principal ARN to fleet ids (empty when unset).
fn game_server_fleets(
    var: &impl Fn(&'static str) -> Option<String>,
) -> Result<BTreeMap<String, Vec<FleetId>>, ConfigError> {
    let Some(json) = var("FLEETLIFT_GAME_SERVER_FLEETS") else {
        return Ok(BTreeMap::new());
    };
    let raw: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&json).map_err(|e| ConfigError {
            var: "FLEETLIFT_GAME_SERVER_FLEETS",
            problem: format!("must be a JSON object of principal ARN to fleet ids: {e}"),
        })?;
    let mut map = BTreeMap::new();
    for (principal, fleets) in raw {
        let fleets = fleets
            .iter()
            .map(|f| FleetId::parse(f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ConfigError {
                var: "FLEETLIFT_GAME_SERVER_FLEETS",
                problem: format!("{principal}: {e}"),
            })?;
        map.insert(principal, fleets);
    }
    Ok(map)
}

/// The token check of the `$connect` authorizer: none when neither issuer nor audience is set, an
/// error when only one of them is.
fn jwt_config(
    var: &impl Fn(&'static str) -> Option<String>,
) -> Result<Option<JwtConfig>, ConfigError> {
    match (var("FLEETLIFT_JWT_ISSUER"), var("FLEETLIFT_JWT_AUDIENCE")) {
        (None, None) => Ok(None),
        (Some(issuer), Some(audience)) => Ok(Some(JwtConfig {
            keys: jwt_keys(var, &issuer)?,
            issuer,
            audience,
        })),
        (None, Some(_)) => Err(ConfigError {
            var: "FLEETLIFT_JWT_ISSUER",
            problem: "is required with FLEETLIFT_JWT_AUDIENCE".into(),
        }),
        (Some(_), None) => Err(ConfigError {
            var: "FLEETLIFT_JWT_AUDIENCE",
            problem: "is required with FLEETLIFT_JWT_ISSUER".into(),
        }),
    }
}

/// `FLEETLIFT_LOCATIONS`: each item must be a region code.
fn locations(var: &impl Fn(&'static str) -> Option<String>) -> Result<Vec<String>, ConfigError> {
    let locations = list(var, "FLEETLIFT_LOCATIONS");
    for l in &locations {
        fleet_core::ids::Region::parse(l).map_err(|e| ConfigError {
            var: "FLEETLIFT_LOCATIONS",
            problem: format!("{l:?}: {e}"),
        })?;
    }
    Ok(locations)
}

/// `FLEETLIFT_PLAYER_GATEWAY_FLEETS`: each item must be a fleet id.
fn player_gateway_fleets(
    var: &impl Fn(&'static str) -> Option<String>,
) -> Result<Vec<FleetId>, ConfigError> {
    list(var, "FLEETLIFT_PLAYER_GATEWAY_FLEETS")
        .iter()
        .map(|f| FleetId::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ConfigError {
            var: "FLEETLIFT_PLAYER_GATEWAY_FLEETS",
            problem: e.to_string(),
        })
}

/// The key sources of the token check (see [`JwtKeys`] for the rules).
fn jwt_keys(
    var: &impl Fn(&'static str) -> Option<String>,
    issuer: &str,
) -> Result<JwtKeys, ConfigError> {
    let public_key_pem = var("FLEETLIFT_JWT_PUBLIC_KEY_PEM")
        .map(|raw| normalise_pem(&raw))
        .transpose()
        .map_err(|problem| ConfigError {
            var: "FLEETLIFT_JWT_PUBLIC_KEY_PEM",
            problem,
        })?;
    let hs256_secret = var("FLEETLIFT_JWT_HS256_SECRET").map(String::into_bytes);
    let mut jwks_url = var("FLEETLIFT_JWT_JWKS_URL");
    if let Some(url) = &jwks_url
        && !is_key_url(url)
    {
        return Err(ConfigError {
            var: "FLEETLIFT_JWT_JWKS_URL",
            problem: format!("must be an https:// URL (plain http only to 127.0.0.1), got {url:?}"),
        });
    }
    if public_key_pem.is_some() && jwks_url.is_some() {
        return Err(ConfigError {
            var: "FLEETLIFT_JWT_JWKS_URL",
            problem: "set either it or FLEETLIFT_JWT_PUBLIC_KEY_PEM, not both".into(),
        });
    }
    if public_key_pem.is_none() && hs256_secret.is_none() && jwks_url.is_none() {
        let url = default_jwks_url(issuer);
        if !is_key_url(&url) {
            return Err(ConfigError {
                var: "FLEETLIFT_JWT_JWKS_URL",
                problem: format!(
                    "is required: FLEETLIFT_JWT_ISSUER {issuer:?} is not an https:// URL to find \
                     its JWKS under (or set FLEETLIFT_JWT_PUBLIC_KEY_PEM)"
                ),
            });
        }
        jwks_url = Some(url);
    }
    Ok(JwtKeys {
        hs256_secret,
        public_key_pem,
        jwks_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const BASE: [(&str, &str); 2] = [
        ("FLEETLIFT_TABLE", "fleetlift"),
        ("FLEETLIFT_CURSOR_SECRET", "0123456789abcdef"),
    ];

    #[test]
    fn a_minimal_environment_gets_the_defaults() {
        let c = Config::from_lookup(env(&BASE)).unwrap();
        assert_eq!((c.placement_timeout_secs, c.sweep_budget), (600, 500));
        assert_eq!(c.require_queue().unwrap_err().var, "FLEETLIFT_QUEUE_NAME");
    }

    #[test]
    fn the_pending_cap_per_player_defaults_to_three_and_is_bounded() {
        assert_eq!(
            Config::from_lookup(env(&BASE))
                .unwrap()
                .max_pending_per_player,
            3
        );
        for (value, ok) in [
            ("1", true),
            ("100", true),
            ("0", false),
            ("101", false),
            ("x", false),
        ] {
            let mut vars = BASE.to_vec();
            vars.push(("FLEETLIFT_MAX_PENDING_PER_PLAYER", value));
            match Config::from_lookup(env(&vars)) {
                Ok(c) => assert!(
                    ok && c.max_pending_per_player.to_string() == value,
                    "{value}"
                ),
                Err(e) => assert!(
                    !ok && e.var == "FLEETLIFT_MAX_PENDING_PER_PLAYER",
                    "{value}"
                ),
            }
        }
    }

    #[test]
    fn missing_and_bad_variables_are_named() {
        assert_eq!(
            Config::from_lookup(env(&[])).unwrap_err().var,
            "FLEETLIFT_TABLE"
        );
        let short = [
            ("FLEETLIFT_TABLE", "t"),
            ("FLEETLIFT_CURSOR_SECRET", "short"),
        ];
        assert_eq!(
            Config::from_lookup(env(&short)).unwrap_err().var,
            "FLEETLIFT_CURSOR_SECRET"
        );
        // One bad variable added to a good environment, and the variable the error names.
        for (var, value, named) in [
            (
                "FLEETLIFT_PLACEMENT_TIMEOUT_SECS",
                "soon",
                "FLEETLIFT_PLACEMENT_TIMEOUT_SECS",
            ),
            (
                "FLEETLIFT_GAME_SERVER_FLEETS",
                "{\"arn\": [\"bad fleet\"]}",
                "FLEETLIFT_GAME_SERVER_FLEETS",
            ),
            // An issuer without its audience.
            (
                "FLEETLIFT_JWT_ISSUER",
                "https://issuer",
                "FLEETLIFT_JWT_AUDIENCE",
            ),
        ] {
            let mut bad = BASE.to_vec();
            bad.push((var, value));
            let error = Config::from_lookup(env(&bad)).unwrap_err();
            assert_eq!(error.var, named, "{var}={value}");
        }
    }

    #[test]
    fn the_cursor_secret_is_required_only_by_the_function_that_signs_cursors() {
        let without = Config::from_lookup(env(&[("FLEETLIFT_TABLE", "t")]))
            .expect("a function that lists nothing starts without a cursor secret");
        assert_eq!(
            without.require_cursor_secret().unwrap_err().var,
            "FLEETLIFT_CURSOR_SECRET"
        );
        let with = Config::from_lookup(env(&BASE)).unwrap();
        assert_eq!(with.require_cursor_secret().unwrap(), b"0123456789abcdef");
    }

    #[test]
    fn game_server_fleets_are_parsed() {
        let mut vars = BASE.to_vec();
        vars.push((
            "FLEETLIFT_GAME_SERVER_FLEETS",
            r#"{"arn:aws:iam::1:role/gs": ["fleet-1", "fleet-2"]}"#,
        ));
        let c = Config::from_lookup(env(&vars)).unwrap();
        assert_eq!(c.game_servers["arn:aws:iam::1:role/gs"].len(), 2);
    }
}
