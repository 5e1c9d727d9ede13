//! Any bytes as the `Cookie` header, read through `SessionStore::read`: the reader must answer
//! `Ok` with an empty session, never an error or a panic. The one cookie allowed to open is
//! the one this process sealed itself, which `ARC_FUZZ_SEED_DIR` puts in the corpus so the
//! fuzzer mutates real tokens rather than discovering the JWE layout from nothing.

#![no_main]

use std::sync::OnceLock;

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use lambda_http::http::HeaderValue;
use lambda_http::http::header::COOKIE;
use libfuzzer_sys::{Corpus, fuzz_target};

struct Fixture {
    store: SessionStore,
    runtime: tokio::runtime::Runtime,
    /// The `_idx` value of the one session this process sealed.
    token: String,
    session: Session,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        // A new secret per process, so that cookies sealed by earlier runs (and left in the
        // corpus) no longer open: then any session that opens must come from `token`.
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the OS random source");
        let config = Config::from_vars([
            ("ARC_ENV".to_owned(), "testing".to_owned()),
            ("ARC_APP_SECRET".to_owned(), B64.encode(secret)),
        ])
            .expect("a 43-byte secret is a valid configuration");
        let store = SessionStore::new(&config);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let session = Session::try_from(serde_json::json!({"user": "fuzz", "count": 1}))
            .expect("an object is a session");
        let set_cookie = runtime
            .block_on(store.write(&session))
            .expect("a small session seals");
        let token = set_cookie
            .split(';')
            .next()
            .and_then(|pair| pair.strip_prefix("_idx="))
            .expect("Set-Cookie starts with _idx=")
            .to_owned();
        Fixture {
            store,
            runtime,
            token,
            session,
        }
    })
}

/// Writes this process's sealed cookie, alone and among other cookies, into the corpus
/// directory named by `ARC_FUZZ_SEED_DIR`. libFuzzer calls this before it reads the corpus.
fn write_seeds() {
    let Some(dir) = std::env::var_os("ARC_FUZZ_SEED_DIR") else {
        return;
    };
    let dir = std::path::Path::new(&dir);
    std::fs::create_dir_all(dir).expect("the corpus directory");
    let token = &fixture().token;
    for (name, header) in [
        ("seed-sealed-cookie", format!("_idx={token}")),
        (
            "seed-sealed-cookie-among-others",
            format!("theme=dark; _idx={token}; a=1"),
        ),
    ] {
        std::fs::write(dir.join(name), header).expect("writing a seed");
    }
}

fuzz_target!(init: write_seeds(), |data: &[u8]| -> Corpus {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return Corpus::Reject;
    };
    let fixture = fixture();
    let request = lambda_http::http::Request::builder()
        .header(COOKIE, value)
        .body(lambda_http::Body::Empty)
        .expect("a valid header value makes a request");
    let session = fixture
        .runtime
        .block_on(fixture.store.read(&request))
        .expect("a cookie is never an error");
    if !session.is_empty() {
        let carries_token = data
            .windows(fixture.token.len())
            .any(|w| w == fixture.token.as_bytes());
        assert!(carries_token, "a cookie this process never sealed opened: {session:?}");
        assert_eq!(session, fixture.session, "the sealed cookie opened to other data");
    }
    Corpus::Keep
});
