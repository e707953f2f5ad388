//! Where fleet-local keeps what it installs and writes (DynamoDB Local, its logs): the user's cache
//! directory, never a path inside the checkout, so an installed or copied binary runs from anywhere and
//! shares one DynamoDB Local install with `scripts/dynamodb-local.sh` (which picks the same directory).

use std::ffi::OsString;
use std::path::PathBuf;

/// `$FLEETLIFT_CACHE`, else `$XDG_CACHE_HOME/fleetlift`, else `$HOME/.cache/fleetlift`, else a
/// `fleetlift` directory in the system's temporary directory.
pub fn cache_dir() -> PathBuf {
    cache_dir_from(|name| std::env::var_os(name))
}

/// [`cache_dir`] from an environment lookup (tests pass their own).
pub fn cache_dir_from(var: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set("FLEETLIFT_CACHE") {
        return dir;
    }
    // The XDG base directory spec ignores a relative XDG_CACHE_HOME; so does the script.
    if let Some(xdg) = set("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return xdg.join("fleetlift");
    }
    if let Some(home) = set("HOME") {
        return home.join(".cache").join("fleetlift");
    }
    std::env::temp_dir().join("fleetlift")
}

/// A log file of the text format in the cache directory (`fleet-local.log` for `up`,
/// `fleet-local-demo.log` for the demo, so a demo run against a running stack leaves that stack's log
/// alone).
pub fn log_file(name: &str) -> PathBuf {
    cache_dir().join(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn dir(vars: &[(&str, &str)]) -> PathBuf {
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        cache_dir_from(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_cache_follows_fleetlift_cache_then_xdg_then_home() {
        let all = [
            ("FLEETLIFT_CACHE", "/c"),
            ("XDG_CACHE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir(&all), PathBuf::from("/c"));
        assert_eq!(dir(&all[1..]), PathBuf::from("/x/fleetlift"));
        assert_eq!(dir(&all[2..]), PathBuf::from("/h/.cache/fleetlift"));
        assert_eq!(dir(&[]), std::env::temp_dir().join("fleetlift"));
    }

    #[test]
    fn an_empty_variable_or_a_relative_xdg_cache_home_is_ignored() {
        assert_eq!(
            dir(&[
                ("FLEETLIFT_CACHE", ""),
                ("XDG_CACHE_HOME", "rel/ative"),
                ("HOME", "/h")
            ]),
            PathBuf::from("/h/.cache/fleetlift")
        );
    }
}
