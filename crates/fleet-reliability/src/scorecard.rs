//! The scorecard: one line per row, `scorecard: <row> tried=<N> violations=<M> (<detail>)`, printed to
//! stdout and appended to a file that `scripts/test.sh` prints after the run (test runners capture
//! stdout of passing tests).

use std::io::Write as _;
use std::path::PathBuf;

/// Where the lines are appended: `$FLEETLIFT_SCORECARD`, else `$CARGO_TARGET_DIR/scorecard.txt`, else
/// `<workspace>/target/scorecard.txt`.
pub fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("FLEETLIFT_SCORECARD") {
        return PathBuf::from(p);
    }
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("scorecard.txt");
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/scorecard.txt")
}

/// The line of a row.
pub fn line(row: &str, tried: u64, violations: u64, detail: &str) -> String {
    if detail.is_empty() {
        format!("scorecard: {row} tried={tried} violations={violations}")
    } else {
        format!("scorecard: {row} tried={tried} violations={violations} ({detail})")
    }
}

/// Prints a row's line and appends it to [`path`]. A file that cannot be written is reported on
/// stderr, never a test failure (the line is on stdout anyway).
pub fn record(row: &str, tried: u64, violations: u64, detail: &str) {
    let text = line(row, tried, violations, detail);
    println!("{text}");
    let file = path();
    if let Some(dir) = file.parent()
        && let Err(e) = std::fs::create_dir_all(dir)
    {
        eprintln!("scorecard: cannot create {}: {e}", dir.display());
        return;
    }
    match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
    {
        Ok(mut f) => {
            if let Err(e) = writeln!(f, "{text}") {
                eprintln!("scorecard: cannot write {}: {e}", file.display());
            }
        }
        Err(e) => eprintln!("scorecard: cannot open {}: {e}", file.display()),
    }
}

/// Whether the bigger runs were asked for (`FLEETLIFT_RELIABILITY_BIG=1`): each row multiplies its
/// volume by [`scale`].
pub fn big() -> bool {
    std::env::var("FLEETLIFT_RELIABILITY_BIG").is_ok_and(|v| v == "1" || v == "true")
}

/// The volume multiplier: 10 with [`big`], else 1.
pub fn scale() -> u64 {
    if big() { 10 } else { 1 }
}

/// Records a row's line, then fails the test with its violations, one a line (the first 20 and how
/// many more: a broken invariant tends to break it everywhere at once): how every row ends.
///
/// # Panics
/// When `violations` is not empty.
pub fn finish(row: &str, tried: u64, violations: &[String], detail: &str) {
    record(row, tried, violations.len() as u64, detail);
    const SHOWN: usize = 20;
    let more = violations.len().saturating_sub(SHOWN);
    let rest = if more > 0 {
        format!("\n(+{more} more)")
    } else {
        String::new()
    };
    assert!(
        violations.is_empty(),
        "{}{rest}",
        violations[..violations.len().min(SHOWN)].join("\n")
    );
}

/// Counted answers as the scorecard shows them: `answer×count`, space-separated.
pub fn tally<'a, K, N>(counts: impl IntoIterator<Item = (&'a K, &'a N)>) -> String
where
    K: std::fmt::Display + 'a + ?Sized,
    N: std::fmt::Display + 'a,
{
    counts
        .into_iter()
        .map(|(k, n)| format!("{k}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}
