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

/// How the `$connect` authorizer checks player tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtConfig {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// The verification key.
    pub key: JwtKey,
}

/// A JWT verification key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtKey {
    /// A shared HS256 secret (the local stack's dev key).
    Hs256(Vec<u8>),
    /// An RS256 public key in PEM (an OIDC provider's signing key).
    Rs256Pem(String),
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
    /// `FLEETLIFT_JWT_ISSUER`, `FLEETLIFT_JWT_AUDIENCE`, and `FLEETLIFT_JWT_HS256_SECRET` or
    /// `FLEETLIFT_JWT_PUBLIC_KEY_PEM`: the `$connect` authorizer's token check.
    pub jwt: Option<JwtConfig>,
    /// `FLEETLIFT_SWEEP_BUDGET`: GameLift calls one sweeper run may make (default 500).
    pub sweep_budget: u32,
    /// `FLEETLIFT_MAX_PENDING_PER_PLAYER`: PENDING placements one player may hold at once (default 3,
    /// 1–100); a create past it is 429. Services are not capped.
    pub max_pending_per_player: u32,
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
        let cursor_secret = var("FLEETLIFT_CURSOR_SECRET")
            .map(String::into_bytes)
            .unwrap_or_default();
        if !cursor_secret.is_empty() && cursor_secret.len() < 16 {
            return Err(ConfigError {
                var: "FLEETLIFT_CURSOR_SECRET",
                problem: "must be at least 16 bytes".into(),
            });
        }
        let number =
            |name: &'static str, default: i64, min: i64, max: i64| -> Result<i64, ConfigError> {
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
            };
        let game_servers = match var("FLEETLIFT_GAME_SERVER_FLEETS") {
            None => BTreeMap::new(),
            Some(json) => {
                let raw: BTreeMap<String, Vec<String>> =
                    serde_json::from_str(&json).map_err(|e| ConfigError {
                        var: "FLEETLIFT_GAME_SERVER_FLEETS",
                        problem: format!(
                            "must be a JSON object of principal ARN to fleet ids: {e}"
                        ),
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
                map
            }
        };
        let jwt = match (var("FLEETLIFT_JWT_ISSUER"), var("FLEETLIFT_JWT_AUDIENCE")) {
            (None, None) => None,
            (Some(issuer), Some(audience)) => {
                let key = match (
                    var("FLEETLIFT_JWT_HS256_SECRET"),
                    var("FLEETLIFT_JWT_PUBLIC_KEY_PEM"),
                ) {
                    (Some(secret), None) => JwtKey::Hs256(secret.into_bytes()),
                    (None, Some(pem)) => JwtKey::Rs256Pem(pem),
                    _ => {
                        return Err(ConfigError {
                            var: "FLEETLIFT_JWT_HS256_SECRET",
                            problem: "exactly one of FLEETLIFT_JWT_HS256_SECRET and FLEETLIFT_JWT_PUBLIC_KEY_PEM is required".into(),
                        });
                    }
                };
                Some(JwtConfig {
                    issuer,
                    audience,
                    key,
                })
            }
            (None, Some(_)) => {
                return Err(ConfigError {
                    var: "FLEETLIFT_JWT_ISSUER",
                    problem: "is required with FLEETLIFT_JWT_AUDIENCE".into(),
                });
            }
            (Some(_), None) => {
                return Err(ConfigError {
                    var: "FLEETLIFT_JWT_AUDIENCE",
                    problem: "is required with FLEETLIFT_JWT_ISSUER".into(),
                });
            }
        };
        Ok(Self {
            table,
            cursor_secret,
            queue_name: var("FLEETLIFT_QUEUE_NAME"),
            placement_timeout_secs: number("FLEETLIFT_PLACEMENT_TIMEOUT_SECS", 600, 10, 43_200)?,
            sweep_margin_secs: number("FLEETLIFT_SWEEP_MARGIN_SECS", 60, 0, 3_600)?,
            service_principals: var("FLEETLIFT_SERVICE_PRINCIPALS")
                .map(|v| {
                    v.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            game_servers,
            ws_endpoint: var("FLEETLIFT_WS_ENDPOINT"),
            jwt,
            sweep_budget: number("FLEETLIFT_SWEEP_BUDGET", 500, 1, 100_000)? as u32,
            max_pending_per_player: number("FLEETLIFT_MAX_PENDING_PER_PLAYER", 3, 1, 100)? as u32,
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
        let mut bad = BASE.to_vec();
        bad.push(("FLEETLIFT_PLACEMENT_TIMEOUT_SECS", "soon"));
        assert_eq!(
            Config::from_lookup(env(&bad)).unwrap_err().var,
            "FLEETLIFT_PLACEMENT_TIMEOUT_SECS"
        );
        let mut bad = BASE.to_vec();
        bad.push(("FLEETLIFT_GAME_SERVER_FLEETS", "{\"arn\": [\"bad fleet\"]}"));
        assert_eq!(
            Config::from_lookup(env(&bad)).unwrap_err().var,
            "FLEETLIFT_GAME_SERVER_FLEETS"
        );
        let mut bad = BASE.to_vec();
        bad.push(("FLEETLIFT_JWT_ISSUER", "https://issuer"));
        assert_eq!(
            Config::from_lookup(env(&bad)).unwrap_err().var,
            "FLEETLIFT_JWT_AUDIENCE"
        );
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
