//! Properties over generated inputs: sessions survive sealing, no byte of a seal can change
//! unnoticed, and no input panics the cookie reader or the body parser.

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use base64::Engine;
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::sync::Arc;

fn store() -> Arc<SessionStore> {
    static STORE: std::sync::OnceLock<Arc<SessionStore>> = std::sync::OnceLock::new();
    STORE
        .get_or_init(|| {
            let config = Config::from_vars([
                ("ARC_ENV", "testing"),
                ("ARC_APP_SECRET", "property-test secret: 32+ bytes"),
            ])
            .expect("config");
            Arc::new(SessionStore::new(&config))
        })
        .clone()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

fn request_with_cookie(cookie: &str) -> Option<lambda_http::Request> {
    lambda_http::http::Request::builder()
        .header("cookie", cookie)
        .body(lambda_http::Body::Empty)
        .ok()
}

/// Any JSON value, a few levels deep.
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        // Finite floats only: JSON has no NaN or infinity.
        (-1e300f64..1e300).prop_map(Value::from),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn session_map() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(".{0,16}", json(), 0..8).prop_map(|m| m.into_iter().collect())
}

fn cookie_of(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_session_survives_seal_and_open(map in session_map()) {
        let session = Session::from(map.clone());
        let written = block_on(store().write(&session));
        // Sessions too large for a cookie are refused by design, not lost silently.
        prop_assume!(written.is_ok());
        let cookie = cookie_of(&written.expect("checked"));
        let request = request_with_cookie(&cookie).expect("our cookie is a valid header");
        let read = block_on(store().read(&request)).expect("read");
        prop_assert_eq!(read.as_map(), &map);
    }

    #[test]
    fn any_single_byte_change_opens_empty(
        map in session_map(),
        index in any::<prop::sample::Index>(),
        byte in 0x21u8..0x7f,
    ) {
        let written = block_on(store().write(&Session::from(map)));
        prop_assume!(written.is_ok());
        let cookie = cookie_of(&written.expect("checked"));
        let value_start = "_idx=".len();
        let at = value_start + index.index(cookie.len() - value_start);
        prop_assume!(cookie.as_bytes()[at] != byte && byte != b';');
        let mut changed = cookie.into_bytes();
        changed[at] = byte;
        let changed = String::from_utf8(changed).expect("ascii");
        let request = request_with_cookie(&changed).expect("printable ASCII is a valid header");
        let read = block_on(store().read(&request)).expect("a bad cookie is never an error");
        prop_assert!(read.is_empty(), "{} opened", changed);
    }

    #[test]
    fn random_cookie_bytes_never_panic_or_open(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut header = b"_idx=".to_vec();
        header.extend_from_slice(&bytes);
        if let Ok(value) = lambda_http::http::HeaderValue::from_bytes(&header) {
            let mut request = lambda_http::http::Request::new(lambda_http::Body::Empty);
            request.headers_mut().insert("cookie", value);
            let read = block_on(store().read(&request)).expect("never an error");
            prop_assert!(read.is_empty());
        }
    }

    #[test]
    fn random_bodies_never_panic_the_parser(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        content_type in prop_oneof![
            Just("application/json"),
            Just("application/x-www-form-urlencoded"),
            Just("text/plain"),
            Just("application/octet-stream"),
            Just("application/vnd.x+json; charset=utf-8"),
        ],
    ) {
        async fn ok(_: Request) -> http::Result<Response> {
            Ok(Response::text("ok"))
        }
        // As API Gateway sends a body of any bytes: base64-encoded.
        let event = crate::support::event(crate::support::http::V2, |e| {
            e["headers"]["content-type"] = content_type.into();
            e["body"] = base64::engine::general_purpose::STANDARD.encode(&bytes).into();
            e["isBase64Encoded"] = true.into();
        });
        let handler = Handler::with_store(store(), ok);
        let response = block_on(crate::support::http::invoke(&handler, &event));
        prop_assert!(matches!(response.status(), 200 | 400), "{}", response.status());
    }
}
