//! The console's page, script and styles, compiled into the binary so that a copied or installed
//! `fleet-local` serves them from anywhere, offline, with no build step.

/// The page.
pub const INDEX_HTML: &str = include_str!("../../console/index.html");
/// The console's script (plain JavaScript, no bundler).
pub const APP_JS: &str = include_str!("../../console/app.js");
/// The console's styles.
pub const APP_CSS: &str = include_str!("../../console/app.css");
/// uPlot, vendored (see `console/vendor/README.md` for its version and licence).
pub const UPLOT_JS: &str = include_str!("../../console/vendor/uPlot.iife.min.js");
/// uPlot's styles.
pub const UPLOT_CSS: &str = include_str!("../../console/vendor/uPlot.min.css");

/// An asset by its path under `/console/`: its body and content type.
pub fn asset(path: &str) -> Option<(&'static str, &'static str)> {
    match path {
        "" | "index.html" => Some((INDEX_HTML, "text/html; charset=utf-8")),
        "app.js" => Some((APP_JS, "text/javascript; charset=utf-8")),
        "app.css" => Some((APP_CSS, "text/css; charset=utf-8")),
        "vendor/uPlot.iife.min.js" => Some((UPLOT_JS, "text/javascript; charset=utf-8")),
        "vendor/uPlot.min.css" => Some((UPLOT_CSS, "text/css; charset=utf-8")),
        _ => None,
    }
}
