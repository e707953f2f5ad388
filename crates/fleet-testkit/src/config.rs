//! A typed builder of the handlers' [`Config`], read through the same `Config::from_lookup` the
//! Lambda binaries read their environment with, so a test configuration is valid exactly when a
//! deployed one would be.

use std::collections::BTreeMap;

use fleet_functions::config::{Config, ConfigError};
use serde_json::json;

use crate::principals::{F1, F2, GS_F1_ROLE, GS_F2_ROLE, SERVICE_ROLE};

/// The environment of a test function, one setting at a time.
#[derive(Debug, Clone)]
pub struct TestConfig {
    vars: BTreeMap<&'static str, String>,
}

impl Default for TestConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl TestConfig {
    /// What every function needs: a table and a cursor secret.
    pub fn minimal() -> Self {
        let vars = BTreeMap::from([
            ("FLEETLIFT_TABLE", "fleetlift".to_owned()),
            ("FLEETLIFT_CURSOR_SECRET", "0123456789abcdef0123".to_owned()),
        ]);
        Self { vars }
    }

    /// The configuration the API tests run with: [`TestConfig::minimal`], a queue, the backend
    /// service's role, and one game-server role for each of fleets F1 and F2.
    pub fn new() -> Self {
        Self::minimal()
            .queue("fleetlift-queue")
            .service_role(SERVICE_ROLE)
            .game_server_fleets(&[(GS_F1_ROLE, &[F1]), (GS_F2_ROLE, &[F2])])
    }

    /// The table's name.
    pub fn table(self, name: &str) -> Self {
        self.set("FLEETLIFT_TABLE", name)
    }

    /// The secret list cursors are sealed with.
    pub fn cursor_secret(self, secret: &str) -> Self {
        self.set("FLEETLIFT_CURSOR_SECRET", secret)
    }

    /// The GameLift queue creates place sessions through.
    pub fn queue(self, name: &str) -> Self {
        self.set("FLEETLIFT_QUEUE_NAME", name)
    }

    /// The IAM role of the backend service.
    pub fn service_role(self, role_arn: &str) -> Self {
        self.set("FLEETLIFT_SERVICE_PRINCIPALS", role_arn)
    }

    /// The game-server roles and the fleets each may report for.
    pub fn game_server_fleets(self, roles: &[(&str, &[&str])]) -> Self {
        let map: serde_json::Map<String, serde_json::Value> = roles
            .iter()
            .map(|(role, fleets)| ((*role).to_owned(), json!(fleets)))
            .collect();
        self.set(
            "FLEETLIFT_GAME_SERVER_FLEETS",
            &serde_json::Value::Object(map).to_string(),
        )
    }

    /// The JWT issuer, audience and HS256 secret players' tokens are checked against.
    pub fn jwt(self, issuer: &str, audience: &str, hs256_secret: &str) -> Self {
        self.set("FLEETLIFT_JWT_ISSUER", issuer)
            .set("FLEETLIFT_JWT_AUDIENCE", audience)
            .set("FLEETLIFT_JWT_HS256_SECRET", hs256_secret)
    }

    /// How many sessions one sweeper run may look at.
    pub fn sweep_budget(self, sessions: u32) -> Self {
        self.set("FLEETLIFT_SWEEP_BUDGET", &sessions.to_string())
    }

    /// Any other variable, by the name the functions read it under.
    pub fn set(mut self, name: &'static str, value: &str) -> Self {
        self.vars.insert(name, value.to_owned());
        self
    }

    /// Leaves a variable unset.
    pub fn unset(mut self, name: &str) -> Self {
        self.vars.remove(name);
        self
    }

    /// The configuration, or the error a function would exit with.
    ///
    /// # Errors
    /// The [`ConfigError`] of the first setting `Config::from_lookup` refuses.
    pub fn try_build(&self) -> Result<Config, ConfigError> {
        Config::from_lookup(|k| self.vars.get(k).cloned())
    }

    /// The configuration.
    ///
    /// # Panics
    /// When a test configured something `Config::from_lookup` refuses.
    pub fn build(&self) -> Config {
        self.try_build()
            .unwrap_or_else(|e| panic!("the test configuration is invalid: {e}"))
    }
}
