//! Waiting for the signal that ends a long-running command (`fleet-local up`, `fleet-bench`): Ctrl-C
//! or SIGTERM, so a `kill` or a CI timeout stops the stack as cleanly as Ctrl-C does (DynamoDB
//! Local's Java process is stopped, not orphaned).

/// Returns once Ctrl-C or (on Unix) SIGTERM arrives; a signal that cannot be watched is reported on
/// stderr under `program`'s name and the other still ends the wait.
pub async fn signal(program: &str) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{program}: cannot watch SIGTERM ({e}); Ctrl-C still works");
                ctrl_c(program).await;
                return;
            }
        };
        tokio::select! {
            () = ctrl_c(program) => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c(program).await;
}

async fn ctrl_c(program: &str) {
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("{program}: cannot watch Ctrl-C: {e}");
        // Nothing else ends the wait on this branch: wait for ever rather than stop at once.
        std::future::pending::<()>().await;
    }
}
