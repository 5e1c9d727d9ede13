//! Any bytes as a Lambda event. lambda_http parses it (an input it refuses is skipped), then
//! `Request::from_lambda` must not panic: a body it refuses (`Err`) is a fine answer. The
//! corpus starts from the real events in `crates/arc-functions/tests/fixtures/`.
//!
//! lambda_http itself panics on some events while turning them into an `http::Request` (an
//! `X-Forwarded-Proto` that is not a URL scheme, a `body` that is not the base64 its
//! `isBase64Encoded` promises). Those panics are upstream, before this crate runs, and would
//! end every run within seconds, so they are caught, printed once per place and skipped; a
//! panic anywhere else still aborts the run as a crash.

#![no_main]

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Mutex;

use arc_functions::http::Request;
use libfuzzer_sys::{Corpus, fuzz_target};

thread_local! {
    static IN_LAMBDA_HTTP: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the hook libfuzzer-sys installed (print, then abort) so that panics raised while
/// lambda_http parses the event are reported once per place and then unwound and skipped.
fn skip_lambda_http_panics() {
    let abort = std::panic::take_hook();
    let seen = Mutex::new(HashSet::new());
    std::panic::set_hook(Box::new(move |info| {
        if !IN_LAMBDA_HTTP.get() {
            return abort(info);
        }
        let place = info.location().map(ToString::to_string).unwrap_or_default();
        if seen.lock().is_ok_and(|mut seen| seen.insert(place)) {
            eprintln!("upstream panic (skipped from now on): {info}");
        }
    }));
}

/// lambda_http's own parsing; `None` when it refuses the event or panics on it.
fn lambda_http_event(text: &str) -> Option<lambda_http::Request> {
    IN_LAMBDA_HTTP.set(true);
    let parsed = std::panic::catch_unwind(|| lambda_http::request::from_str(text));
    IN_LAMBDA_HTTP.set(false);
    parsed.ok()?.ok()
}

fuzz_target!(init: skip_lambda_http_panics(), |data: &[u8]| -> Corpus {
    let Ok(text) = std::str::from_utf8(data) else {
        return Corpus::Reject;
    };
    let Some(event) = lambda_http_event(text) else {
        return Corpus::Reject;
    };
    if let Ok(request) = Request::from_lambda(event) {
        // The accessors a handler calls first walk the normalized headers and query.
        let _ = request.cookie("_idx");
        let _ = request.header("content-type");
        let _ = request.query.iter().count();
    }
    Corpus::Keep
});
