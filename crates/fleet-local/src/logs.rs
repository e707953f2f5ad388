//! Where fleet-local's logs and the handlers' metrics go. In the text format (the default) the JSON log
//! lines and the EMF metric lines go to a log file, so the terminal is left to the [`term`] lines a
//! person reads; in the JSON format they go to stdout, as a Lambda's reach CloudWatch, so the metrics can
//! still be checked locally.
//!
//! [`term`]: crate::term

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::filter::{EnvFilter, LevelFilter};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{Layer as _, fmt};

/// How logs and metrics are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people on the terminal; JSON logs and EMF metrics in the log file.
    #[default]
    Text,
    /// JSON logs and EMF metrics on stdout, as a Lambda writes them.
    Json,
}

/// The log file: JSON log lines and EMF lines, one per line, from every thread. Clones share it.
#[derive(Debug, Clone)]
pub struct LogFile {
    path: PathBuf,
    file: Arc<Mutex<File>>,
}

impl LogFile {
    /// Creates (or empties) the file at `path`, and its directory, for this run.
    pub fn create(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        File::create(path)?;
        // Appending: the DynamoDB Local installer may write into the same file from its own process.
        let file = File::options().append(true).open(path)?;
        Ok(Self {
            path: path.to_owned(),
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line.
    pub fn write_line(&self, line: &str) {
        let mut writer = self.make_writer();
        let written = writer
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| writer.flush());
        // A full disk must not stop the stack: the line is lost, the stack keeps serving.
        written.ok();
    }
}

/// One write to the log file, under its lock so lines from two threads never interleave.
#[derive(Debug)]
pub struct LogWriter(Arc<Mutex<File>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_all(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .flush()
    }
}

impl<'a> MakeWriter<'a> for LogFile {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> Self::Writer {
        LogWriter(self.file.clone())
    }
}

/// `RUST_LOG`, else `info` (the handlers' request logs, as in CloudWatch).
fn env_filter() -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Installs the process's log subscriber and EMF sink.
///
/// - [`LogFormat::Text`] with `file`: JSON logs (`RUST_LOG`, default `info`) and EMF lines to the file;
///   warnings and errors also to stderr, in short text, when `warnings_on_stderr` (not during the demo,
///   whose stderr is its progress bar).
/// - [`LogFormat::Json`], or no file: JSON logs to stdout, EMF lines to stdout (the default sink), the
///   terminal lines among them as events.
pub fn init(format: LogFormat, file: Option<&LogFile>, warnings_on_stderr: bool) {
    let installed = match (format, file) {
        (LogFormat::Text, Some(file)) => {
            let sink = file.clone();
            fleet_functions::observability::set_emf_sink(move |line| sink.write_line(line));
            let to_file = fmt::layer()
                .json()
                .with_current_span(true)
                .with_writer(file.clone())
                .with_filter(env_filter());
            let to_stderr = warnings_on_stderr.then(|| {
                fmt::layer()
                    .compact()
                    .with_writer(std::io::stderr)
                    .with_filter(LevelFilter::WARN)
            });
            tracing_subscriber::registry()
                .with(to_file)
                .with(to_stderr)
                .try_init()
        }
        _ => {
            // The terminal lines are part of this format: keep them even when RUST_LOG is quieter.
            let mut filter = env_filter();
            if let Ok(directive) = format!("{}=info", crate::term::TARGET).parse() {
                filter = filter.add_directive(directive);
            }
            tracing_subscriber::registry()
                .with(
                    fmt::layer()
                        .json()
                        .with_current_span(true)
                        .with_writer(std::io::stdout)
                        .with_filter(filter),
                )
                .try_init()
        }
    };
    if installed.is_err() {
        tracing::debug!("a log subscriber was already installed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_file_is_emptied_at_start_and_takes_whole_lines() {
        let dir = std::env::temp_dir().join(format!("fleet-local-logs-{}", uuid::Uuid::new_v4()));
        let path = dir.join("nested").join("fleet-local.log");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "an older run\n").unwrap();
        let log = LogFile::create(&path).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        log.write_line(&format!("{{\"thread\":{t},\"line\":{i}}}"));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = std::fs::read_to_string(log.path()).unwrap();
        assert!(!text.contains("an older run"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 200);
        assert!(
            lines
                .iter()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
            "no two lines interleave"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
