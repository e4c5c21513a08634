//! JSON-line events on stdout, shared by the reference peers driven by the interop tests.

use std::io::Write;

/// Print one event as a JSON line and flush, so the test runner sees it at once.
pub fn event(line: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").ok();
    out.flush().ok();
}

/// Report an error event and exit with status 2.
pub fn fail(msg: &str) -> ! {
    event(serde_json::json!({ "event": "error", "error": msg }));
    std::process::exit(2)
}
