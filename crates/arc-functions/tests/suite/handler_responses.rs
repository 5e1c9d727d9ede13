//! What a handler answers: the body shorthands' content types and cache-control, status,
//! location, headers and CORS; bad responses, handler errors and panics as a generic 500 that
//! tells the client nothing; and `testing::TestResponse` reading every format's reply.
//!
//! Each test serves a real API Gateway v2 event (tests/fixtures) through `Handler::invoke`, as
//! `http::run` serves an invocation. Needs nothing outside the process.

use std::sync::Arc;

use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::TestResponse;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use serde_json::json;

use crate::support::event;
use crate::support::http::{V2, default_store, header, invoke, set_cookies};

const NO_CACHE: &str = "no-cache, no-store, must-revalidate, max-age=0, s-maxage=0";

async fn respond(response: fn() -> Response) -> TestResponse {
    // A closure can't be `async fn`, so the shorthand is built inside a tiny handler.
    let handler = Handler::with_store(default_store(), move |_req: Request| async move {
        Ok::<_, http::Error>(response())
    });
    invoke(&handler, &event(V2, |_| {})).await
}

#[tokio::test]
async fn body_shorthands_set_content_type_and_cache_control() {
    /// A response builder, then its expected content type, cache-control and body.
    type Case = (fn() -> Response, &'static str, &'static str, &'static str);
    let cases: [Case; 7] = [
        (
            || Response::html("<p>h</p>"),
            "text/html; charset=utf8",
            NO_CACHE,
            "<p>h</p>",
        ),
        (
            || Response::css("p{}"),
            "text/css; charset=utf8",
            "max-age=86400",
            "p{}",
        ),
        (
            || Response::js("1"),
            "text/javascript; charset=utf8",
            "max-age=86400",
            "1",
        ),
        (
            || Response::text("t"),
            "text/plain; charset=utf8",
            "max-age=86400",
            "t",
        ),
        (
            || Response::json(&json!({"a": 1})),
            "application/json; charset=utf8",
            NO_CACHE,
            r#"{"a":1}"#,
        ),
        (
            || Response::xml("<a/>"),
            "application/xml; charset=utf8",
            "max-age=86400",
            "<a/>",
        ),
        (
            || Response::bytes(vec![1, 2]).content_type("image/png"),
            "image/png",
            "max-age=86400",
            "\u{1}\u{2}",
        ),
    ];
    for (build, content_type, cache, body) in cases {
        let response = respond(build).await;
        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-type"), content_type);
        assert_eq!(header(&response, "cache-control"), cache);
        assert_eq!(response.text(), body);
        assert!(set_cookies(&response).is_empty(), "no session, no cookie");
    }
}

#[tokio::test]
async fn status_location_headers_cors_and_overrides() {
    let r = respond(|| Response::redirect("/")).await;
    assert_eq!(r.status(), 302);
    assert_eq!(header(&r, "location"), "/");
    assert_eq!(header(&r, "cache-control"), NO_CACHE);

    let r = respond(|| Response::new().location("/next").status(303)).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()[LOCATION], "/next");

    let r = respond(|| Response::text("gone").status(410)).await;
    assert_eq!(r.status(), 410);

    let r = respond(|| {
        Response::css("p{}")
            .header("x-custom", "1")
            .cache_control("max-age=5")
            .content_type("text/x-special")
            .cors()
    })
    .await;
    assert_eq!(header(&r, "x-custom"), "1");
    assert_eq!(r.headers()[CACHE_CONTROL], "max-age=5");
    assert_eq!(r.headers()[CONTENT_TYPE], "text/x-special");
    assert_eq!(header(&r, "access-control-allow-origin"), "*");

    let r = respond(|| Response::text("no cors")).await;
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn bad_responses_are_a_generic_500() {
    for build in [
        (|| Response::text("x").status(1000)) as fn() -> Response,
        || Response::text("x").header("bad header", "v"),
        || Response::redirect("/").session(json!(["not", "an", "object"])),
        // JSON cannot have a map with non-string keys: the body cannot be written.
        || {
            let map: std::collections::HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
            Response::json(&map)
        },
    ] {
        let r = respond(build).await;
        assert_eq!(r.status(), 500);
        assert!(set_cookies(&r).is_empty());
    }
}

#[tokio::test]
async fn handler_errors_are_a_generic_500_without_detail() {
    async fn fails(_: Request) -> http::Result<Response> {
        Err("database password is hunter2".into())
    }
    let r = invoke(
        &Handler::with_store(default_store(), fails),
        &event(V2, |_| {}),
    )
    .await;
    assert_eq!(r.status(), 500);
    let body = r.text();
    assert!(body.contains("500 Internal Server Error"), "{body}");
    assert!(
        !body.contains("hunter2"),
        "the cause must not reach the client"
    );
    assert_eq!(header(&r, "content-type"), "text/html; charset=utf8");
}

#[tokio::test]
async fn a_panicking_handler_is_a_generic_500_and_the_handler_lives_on() {
    async fn panics(req: Request) -> http::Result<Response> {
        if req.query.get("boom").is_some() {
            panic!("secret detail in a panic");
        }
        Ok(Response::text("fine"))
    }
    let handler = Handler::with_store(default_store(), panics);
    let r = invoke(
        &handler,
        &event(V2, |e| e["rawQueryString"] = json!("boom=1")),
    )
    .await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("secret detail"));
    let r = invoke(&handler, &event(V2, |e| e["rawQueryString"] = json!(""))).await;
    assert_eq!(r.text(), "fine", "the same handler serves the next request");
}

/// The response side: status, headers in whichever field the format uses, cookies, a binary
/// body decoded, and the session read back.
#[tokio::test]
async fn test_responses_read_every_formats_reply() {
    use arc_functions::testing::{Format, TestRequest};
    async fn bytes(_req: Request) -> http::Result<Response> {
        Ok(Response::bytes(vec![0_u8, 159, 146, 150])
            .status(201)
            .header("x-one", "1")
            .session(json!({ "n": 1 })))
    }
    let store = default_store();
    let handler = Handler::with_store(Arc::clone(&store), bytes);
    for format in [Format::HttpApi, Format::RestApi, Format::FunctionUrl] {
        let r = TestRequest::get("/")
            .format(format)
            .send(&handler)
            .await
            .expect("a reply");
        assert_eq!(r.status(), 201, "{format:?}");
        assert_eq!(r.body(), &[0_u8, 159, 146, 150], "{format:?}");
        assert_eq!(r.header("x-one"), Some("1"), "{format:?}");
        // Every header, the session's Set-Cookie among them, whatever field carried it.
        let headers = r.headers();
        assert_eq!(headers.get("x-one").map(|v| v.as_bytes()), Some(&b"1"[..]));
        assert_eq!(
            headers.get_all("set-cookie").iter().count(),
            1,
            "{format:?}"
        );
        let cookie = r.session_cookie().expect("a session cookie");
        assert!(cookie.starts_with("_idx="), "{format:?}: {cookie}");
        let session = r.session(&store).await.expect("read");
        assert_eq!(session.get::<u64>("n").expect("n"), Some(1), "{format:?}");
    }
    async fn plain(_req: Request) -> http::Result<Response> {
        Ok(Response::text("no session"))
    }
    let r = TestRequest::get("/")
        .send(&Handler::with_store(Arc::clone(&store), plain))
        .await
        .expect("a reply");
    assert_eq!(r.session_cookie(), None);
    assert!(r.session(&store).await.expect("empty").is_empty());
}
