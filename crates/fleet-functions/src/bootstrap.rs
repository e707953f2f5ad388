//! What every Lambda binary does once per container before serving: JSON logs, the configuration
//! (a misconfigured function fails its cold start with one line naming the variable), and the clients
//! it reuses across invocations.

use aws_config::SdkConfig;
use fleet_aws::clients;
use fleet_aws::dynamo::DynamoStore;

use crate::config::{Config, ConfigError};
use crate::observability;

/// Installs the logs, reads the configuration and checks what this function needs with `need`; on any
/// configuration error prints it and exits 1, so the function never serves half-configured.
pub fn config_or_exit<T>(need: impl FnOnce(&Config) -> Result<T, ConfigError>) -> (Config, T) {
    observability::init_logs();
    match Config::from_env().and_then(|c| need(&c).map(|t| (c, t))) {
        Ok(ready) => ready,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }
}

/// The shared SDK configuration (honours `AWS_ENDPOINT_URL_*`) and the table store.
pub async fn aws_and_store(config: &Config) -> (SdkConfig, DynamoStore) {
    let aws = clients::aws_config().await;
    // Functions without the cursor secret list nothing; should one ever list, a key of its own that
    // nobody knows keeps its cursors unforgeable (an empty key would not).
    let cursor_secret = if config.cursor_secret.is_empty() {
        format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        )
        .into_bytes()
    } else {
        config.cursor_secret.clone()
    };
    let store = DynamoStore::new(clients::dynamodb(&aws), config.table.clone(), cursor_secret);
    (aws, store)
}
