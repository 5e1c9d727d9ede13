//! Any bytes as the body of a real API Gateway v2 event, under each content type the
//! normalizer parses, sent as text or base64 (`isBase64Encoded`), through `Handler::handle`
//! with a handler that always answers 200. A body the normalizer refuses is a 400; text and
//! binary bodies are never refused; a JSON body is refused exactly when it is not JSON.

#![no_main]

use std::sync::Arc;
use std::sync::OnceLock;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const V2: &str = include_str!("../../crates/arc-functions/tests/fixtures/apigw_v2_request.json");

#[derive(Arbitrary, Clone, Copy, Debug)]
enum ContentType {
    Json,
    Form,
    Text,
    OctetStream,
}

impl ContentType {
    fn header(self) -> &'static str {
        match self {
            Self::Json => "application/json; charset=utf-8",
            Self::Form => "application/x-www-form-urlencoded",
            Self::Text => "text/plain",
            Self::OctetStream => "application/octet-stream",
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Case {
    content_type: ContentType,
    base64: bool,
    body: Vec<u8>,
}

struct Fixture {
    store: Arc<SessionStore>,
    runtime: tokio::runtime::Runtime,
    event: Value,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = Config::from_vars([
            ("ARC_ENV", "testing"),
            ("ARC_APP_SECRET", "request_body fuzz secret: 32+ bytes"),
        ])
            .expect("a valid configuration");
        Fixture {
            store: Arc::new(SessionStore::new(&config)),
            runtime: tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a current-thread runtime"),
            event: serde_json::from_str(V2).expect("the fixture is JSON"),
        }
    })
}

async fn ok(_request: Request) -> http::Result<Response> {
    Ok(Response::text("ok"))
}

fuzz_target!(|case: Case| {
    let fixture = fixture();
    // What the normalizer receives: text bodies reach it as UTF-8, base64 ones as sent.
    let (sent, received) = if case.base64 {
        (B64.encode(&case.body), case.body)
    } else {
        let text = String::from_utf8_lossy(&case.body).into_owned();
        (text.clone(), text.into_bytes())
    };
    let mut event = fixture.event.clone();
    event["headers"]["content-type"] = case.content_type.header().into();
    event["body"] = sent.into();
    event["isBase64Encoded"] = case.base64.into();
    let event = lambda_http::request::from_str(&event.to_string())
        .expect("lambda_http parses the fixture with any body");

    let response = fixture
        .runtime
        .block_on(Handler::with_store(Arc::clone(&fixture.store), ok).handle(event));
    let status = response.status().as_u16();
    match case.content_type {
        ContentType::Text | ContentType::OctetStream => assert_eq!(status, 200),
        ContentType::Form => assert!(status == 200 || status == 400, "status {status}"),
        ContentType::Json => {
            let valid = received.is_empty() || serde_json::from_slice::<Value>(&received).is_ok();
            assert_eq!(status, if valid { 200 } else { 400 }, "body {received:?}");
        }
    }
});
