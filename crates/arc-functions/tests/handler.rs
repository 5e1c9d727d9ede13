//! The handler wrapper against real API Gateway v1, v2 and function URL events.
//!
//! Each test starts from an event JSON that AWS sends (tests/fixtures), changes only the field
//! under test, and runs it through lambda_http's own deserializer and `Handler::handle`.

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Body, Handler, Request, Response};
use base64::Engine;
use lambda_http::Body as LambdaBody;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::Arc;

const V2: &str = include_str!("fixtures/apigw_v2_request.json");
const V2_BARE_COOKIES: &str = include_str!("fixtures/apigw_v2_bare_cookies_request.json");
const V1: &str = include_str!("fixtures/apigw_v1_request.json");
const V1_MULTI: &str = include_str!("fixtures/apigw_v1_multi_value_request.json");
const FUNCTION_URL: &str = include_str!("fixtures/function_url_request.json");

const SECRET: &str = "integration-test secret of 32+ bytes";
const NO_CACHE: &str = "no-cache, no-store, must-revalidate, max-age=0, s-maxage=0";

fn store(vars: &[(&str, &str)]) -> Arc<SessionStore> {
    let config = Config::from_vars(
        [("ARC_ENV", "testing")]
            .into_iter()
            .chain(vars.iter().copied()),
    )
    .expect("valid config");
    Arc::new(SessionStore::new(&config))
}

fn default_store() -> Arc<SessionStore> {
    store(&[("ARC_APP_SECRET", SECRET)])
}

/// A real event, changed by `edit`, as lambda_http hands it to a handler.
fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let mut value: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    edit(&mut value);
    lambda_http::request::from_str(&value.to_string()).expect("lambda_http parses the event")
}

fn body_text(response: &lambda_http::Response<LambdaBody>) -> String {
    match response.body() {
        LambdaBody::Text(t) => t.clone(),
        LambdaBody::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        LambdaBody::Empty => String::new(),
        _ => unreachable!("no other body kinds"),
    }
}

fn header<'a>(response: &'a lambda_http::Response<LambdaBody>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn set_cookies(response: &lambda_http::Response<LambdaBody>) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect()
}

/// Echoes the normalized request back as JSON, so tests can see what a handler sees.
async fn echo(req: Request) -> http::Result<Response> {
    let body = match &req.body {
        Body::Empty => json!({"empty": true}),
        Body::Json(v) => json!({"json": v}),
        Body::Form(f) => json!({"form": f.iter().collect::<Vec<_>>()}),
        Body::Text(t) => json!({"text": t}),
        Body::Binary(b) => json!({"binary": b}),
        other => json!({"other": format!("{other:?}")}),
    };
    let context = match req.context() {
        Some(lambda_http::request::RequestContext::ApiGatewayV1(_)) => "v1",
        Some(lambda_http::request::RequestContext::ApiGatewayV2(_)) => "v2",
        Some(_) => "other",
        None => "none",
    };
    Ok(Response::json(&json!({
        "method": req.method.as_str(),
        "path": req.path,
        "pathParameters": req.path_parameters,
        "query": req.query.iter().collect::<Vec<_>>(),
        "header1": req.header("header1"),
        "cookies": [req.cookie("cookie1"), req.cookie("cookie2"), req.cookie("test")],
        "body": body,
        "session": req.session,
        "context": context,
    })))
}

async fn echoed(event: lambda_http::Request) -> Value {
    let response = Handler::with_store(default_store(), echo)
        .handle(event)
        .await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    serde_json::from_str(&body_text(&response)).expect("echo answers JSON")
}

#[tokio::test]
async fn apigw_v2_request_is_normalized() {
    let seen = echoed(event(V2, |_| {})).await;
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/my/path");
    assert_eq!(seen["pathParameters"], json!({"parameter1": "value1"}));
    assert_eq!(
        seen["query"],
        json!([
            ["parameter1", "value1"],
            ["parameter1", "value2"],
            ["parameter2", "value"]
        ])
    );
    assert_eq!(seen["header1"], "value1");
    assert_eq!(seen["cookies"], json!(["value1", "value2", null]));
    // No content type: a UTF-8 body is text.
    assert_eq!(seen["body"], json!({"text": "Hello from Lambda"}));
    assert_eq!(seen["session"], json!({}));
    assert_eq!(seen["context"], "v2");
}

#[tokio::test]
async fn apigw_v1_request_is_normalized() {
    let seen = echoed(event(V1, |_| {})).await;
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/hello");
    assert_eq!(seen["pathParameters"], json!({"proxy": "hello"}));
    assert_eq!(seen["query"], json!([["name", "me"]]));
    assert_eq!(seen["body"], json!({"empty": true}));
    assert_eq!(seen["context"], "v1");
}

#[tokio::test]
async fn apigw_v1_multi_value_query_and_json_body() {
    let seen = echoed(event(V1_MULTI, |e| {
        e["multiValueHeaders"]["content-type"] = json!(["application/json"]);
    }))
    .await;
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/hello/world");
    let query = seen["query"].as_array().expect("query");
    assert!(
        query.contains(&json!(["multiValueName", "you"])),
        "{query:?}"
    );
    assert!(
        query.contains(&json!(["multiValueName", "me"])),
        "{query:?}"
    );
    assert_eq!(seen["body"], json!({"json": {"a": 1}}));
}

#[tokio::test]
async fn function_url_request_is_normalized() {
    let seen = echoed(event(FUNCTION_URL, |_| {})).await;
    assert_eq!(seen["path"], "/my/path");
    assert_eq!(seen["cookies"][2], "hi");
    assert_eq!(seen["context"], "v2");
}

fn with_body(content_type: &str, body: &str, base64: bool) -> impl FnOnce(&mut Value) + use<> {
    let (content_type, body) = (content_type.to_owned(), body.to_owned());
    move |e: &mut Value| {
        e["headers"]["content-type"] = json!(content_type);
        e["body"] = json!(body);
        e["isBase64Encoded"] = json!(base64);
    }
}

#[tokio::test]
async fn every_body_type_is_parsed() {
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let cases = [
        (
            with_body("application/json", r#"{"a":[1,2]}"#, false),
            json!({"json": {"a": [1, 2]}}),
        ),
        (
            with_body(
                "application/vnd.api+json; charset=utf-8",
                r#"{"b":true}"#,
                false,
            ),
            json!({"json": {"b": true}}),
        ),
        (
            with_body(
                "application/x-www-form-urlencoded",
                "tag=a&tag=b&name=J%C3%B6+D",
                false,
            ),
            json!({"form": [["tag", "a"], ["tag", "b"], ["name", "Jö D"]]}),
        ),
        (
            // cargo lambda watch and API Gateway send form posts base64-encoded.
            with_body("application/x-www-form-urlencoded", &b64(b"n=1&n=2"), true),
            json!({"form": [["n", "1"], ["n", "2"]]}),
        ),
        (
            with_body("text/plain", "hello", false),
            json!({"text": "hello"}),
        ),
        (
            with_body("application/json", &b64(br#"{"c":3}"#), true),
            json!({"json": {"c": 3}}),
        ),
        (
            with_body("application/octet-stream", &b64(&[0, 159, 255]), true),
            json!({"binary": [0, 159, 255]}),
        ),
    ];
    for (edit, expected) in cases {
        let seen = echoed(event(V2, edit)).await;
        assert_eq!(seen["body"], expected);
    }
}

#[tokio::test]
async fn malformed_json_or_form_is_a_400_without_calling_the_handler() {
    async fn must_not_run(_: Request) -> http::Result<Response> {
        panic!("the handler must not run for a malformed body");
    }
    let handler = Handler::with_store(default_store(), must_not_run);
    for edit in [
        with_body("application/json", "{\"a\":", false),
        with_body("application/x-www-form-urlencoded", "a=%FF%FE", false),
    ] {
        let response = handler.handle(event(V2, edit)).await;
        assert_eq!(response.status(), 400);
        let page = body_text(&response);
        assert!(page.contains("400 Bad Request"));
        assert!(page.contains("The request could not be read."), "{page}");
        // The parser's own words stay in the log.
        for detail in ["JSON", "EOF", "line", "form", "UTF"] {
            assert!(!page.contains(detail), "{detail:?} in {page}");
        }
        assert_eq!(header(&response, "content-type"), "text/html; charset=utf8");
    }
}

async fn respond(response: fn() -> Response) -> lambda_http::Response<LambdaBody> {
    // A closure can't be `async fn`, so the shorthand is built inside a tiny handler.
    let handler = Handler::with_store(default_store(), move |_req: Request| async move {
        Ok::<_, http::Error>(response())
    });
    handler.handle(event(V2, |_| {})).await
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
        assert_eq!(body_text(&response), body);
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
    let r = Handler::with_store(default_store(), fails)
        .handle(event(V2, |_| {}))
        .await;
    assert_eq!(r.status(), 500);
    let body = body_text(&r);
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
    let r = handler
        .handle(event(V2, |e| e["rawQueryString"] = json!("boom=1")))
        .await;
    assert_eq!(r.status(), 500);
    assert!(!body_text(&r).contains("secret detail"));
    let r = handler
        .handle(event(V2, |e| e["rawQueryString"] = json!("")))
        .await;
    assert_eq!(
        body_text(&r),
        "fine",
        "the same handler serves the next request"
    );
}

async fn count(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::text(count.to_string())
        .session(json!({ "count": count }))
        .cookie("theme=dark; Path=/"))
}

/// The `name=value` part of the session's `Set-Cookie`.
fn session_pair(response: &lambda_http::Response<LambdaBody>) -> String {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("_idx="))
        .and_then(|c| c.split(';').next().map(String::from))
        .expect("a session cookie")
}

#[tokio::test]
async fn session_round_trips_through_v2_cookies_v1_headers_and_function_urls() {
    let handler = Handler::with_store(default_store(), count);
    let first = handler.handle(event(V2, |_| {})).await;
    assert_eq!(body_text(&first), "1");
    let cookies = set_cookies(&first);
    assert_eq!(
        cookies.len(),
        2,
        "the extra cookie is kept beside the session's: {cookies:?}"
    );
    assert!(cookies.contains(&"theme=dark; Path=/".to_owned()));
    let idx = session_pair(&first);
    assert!(set_cookies(&first).iter().any(|c| c.contains("HttpOnly")));

    // v2: the browser's cookies arrive in the `cookies` array, with others around ours.
    let second = handler
        .handle(event(V2, |e| e["cookies"] = json!(["a=1", idx, "b=2"])))
        .await;
    assert_eq!(body_text(&second), "2");

    // v1: in a Cookie header.
    let idx = session_pair(&second);
    let third = handler
        .handle(event(V1, |e| {
            e["headers"]["Cookie"] = json!(format!("x=y; {idx}"))
        }))
        .await;
    assert_eq!(body_text(&third), "3");

    // Function URL.
    let idx = session_pair(&third);
    let fourth = handler
        .handle(event(FUNCTION_URL, |e| e["cookies"] = json!([idx])))
        .await;
    assert_eq!(body_text(&fourth), "4");
}

#[tokio::test]
async fn last_idx_cookie_wins_and_garbled_cookies_are_empty() {
    let handler = Handler::with_store(default_store(), count);
    let first = session_pair(&handler.handle(event(V2, |_| {})).await);
    let second = session_pair(
        &handler
            .handle(event(V2, |e| e["cookies"] = json!([first])))
            .await,
    );
    // Both sessions sent: the last one (count 2) wins.
    let r = handler
        .handle(event(V2, |e| e["cookies"] = json!([first, second])))
        .await;
    assert_eq!(body_text(&r), "3");
    let r = handler
        .handle(event(V2, |e| e["cookies"] = json!([second, first])))
        .await;
    assert_eq!(body_text(&r), "2");

    // Real bare cookie entries ("cookie1" with no '=') never break the request.
    let r = handler.handle(event(V2_BARE_COOKIES, |_| {})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(body_text(&r), "1");
}

#[tokio::test]
async fn one_odd_cookie_beside_the_session_cookie_drops_only_itself() {
    let handler = Handler::with_store(default_store(), count);
    let idx = session_pair(&handler.handle(event(V2, |_| {})).await);
    // A UTF-8 cookie another app of the domain set: not ASCII, so not a `str` header value.
    for cookies in [
        json!(["caf\u{e9}=cr\u{e8}me", idx]),
        json!([idx, "\u{1F36A}=\u{1F36A}"]),
    ] {
        let r = handler
            .handle(event(V2, |e| e["cookies"] = cookies.clone()))
            .await;
        assert_eq!(body_text(&r), "2", "{cookies}");
    }
    let r = handler
        .handle(event(V1, |e| {
            e["headers"]["Cookie"] = json!(format!("x=\u{e9}t\u{e9}; {idx}"))
        }))
        .await;
    assert_eq!(body_text(&r), "2");
}

#[tokio::test]
async fn a_response_that_sets_the_session_cookie_is_private() {
    async fn styled(req: Request) -> http::Result<Response> {
        Ok(match req.query.get("with") {
            Some("session") => Response::css("a{}").session(json!({ "a": 1 })),
            Some("own") => Response::css("a{}")
                .session(json!({ "a": 1 }))
                .cache_control("max-age=5"),
            Some("public") => Response::css("a{}")
                .session(json!({ "a": 1 }))
                .cache_control("public, max-age=600, s-maxage=86400"),
            Some("header") => Response::css("a{}")
                .session(json!({ "a": 1 }))
                .header("Cache-Control", "public, max-age=600"),
            _ => Response::css("a{}"),
        })
    }
    let handler = Handler::with_store(default_store(), styled);
    let ask = |with: &str| {
        let query = format!("with={with}");
        event(V2, move |e| e["rawQueryString"] = json!(query))
    };
    let r = handler.handle(ask("session")).await;
    assert_eq!(header(&r, "cache-control"), "private, no-store");
    assert_eq!(set_cookies(&r).len(), 1);
    let r = handler.handle(ask("own")).await;
    assert_eq!(
        header(&r, "cache-control"),
        "private, max-age=5",
        "the handler's own lifetime, kept within private"
    );
    for with in ["public", "header"] {
        let r = handler.handle(ask(with)).await;
        assert_eq!(
            header(&r, "cache-control"),
            "private, max-age=600",
            "{with}: a shared cache never keeps a session cookie"
        );
        assert_eq!(set_cookies(&r).len(), 1);
    }
    let r = handler.handle(ask("none")).await;
    assert_eq!(
        header(&r, "cache-control"),
        "max-age=86400",
        "no cookie, cacheable"
    );
    // HTML and redirects with a session are private too, not only uncached.
    let r = Handler::with_store(default_store(), count)
        .handle(event(V2, |_| {}))
        .await;
    assert_eq!(header(&r, "cache-control"), "private, no-store");
}

#[tokio::test]
async fn stores_with_the_same_secret_share_sessions_and_others_do_not() {
    let a = Handler::with_store(default_store(), count);
    let b = Handler::with_store(default_store(), count);
    let other = Handler::with_store(
        store(&[("ARC_APP_SECRET", "another secret: 32 bytes long!!!")]),
        count,
    );
    let idx = session_pair(&a.handle(event(V2, |_| {})).await);
    let r = b.handle(event(V2, |e| e["cookies"] = json!([idx]))).await;
    assert_eq!(body_text(&r), "2");
    let r = other
        .handle(event(V2, |e| e["cookies"] = json!([idx])))
        .await;
    assert_eq!(body_text(&r), "1", "a foreign cookie is an empty session");
}

#[tokio::test]
async fn reset_with_an_empty_object_empties_the_session() {
    async fn reset(_: Request) -> http::Result<Response> {
        Ok(Response::redirect("/").session(json!({})))
    }
    let counter = Handler::with_store(default_store(), count);
    let reset = Handler::with_store(default_store(), reset);
    let idx = session_pair(&counter.handle(event(V2, |_| {})).await);
    let r = reset
        .handle(event(V2, |e| e["cookies"] = json!([idx])))
        .await;
    assert_eq!(r.status(), 302);
    let idx = session_pair(&r);
    let r = counter
        .handle(event(V2, |e| e["cookies"] = json!([idx])))
        .await;
    assert_eq!(body_text(&r), "1");
}

#[tokio::test]
async fn cookie_attributes_follow_the_environment() {
    let prod = store(&[
        ("ARC_ENV", "production"),
        ("ARC_APP_SECRET", SECRET),
        ("ARC_SESSION_DOMAIN", "example.com"),
        ("ARC_SESSION_TTL", "3600"),
    ]);
    let r = Handler::with_store(prod, count)
        .handle(event(V2, |_| {}))
        .await;
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("_idx="))
        .expect("session cookie");
    for part in [
        "HttpOnly",
        "Path=/",
        "SameSite=Lax",
        "Secure",
        "Domain=example.com",
        "Max-Age=3600",
    ] {
        assert!(cookie.contains(part), "{part} missing from {cookie}");
    }
}

#[tokio::test]
async fn a_session_too_large_for_a_cookie_is_a_500_and_no_cookie() {
    async fn big(_: Request) -> http::Result<Response> {
        Ok(Response::text("x").session(json!({ "blob": "x".repeat(5000) })))
    }
    let r = Handler::with_store(default_store(), big)
        .handle(event(V2, |_| {}))
        .await;
    assert_eq!(r.status(), 500);
    assert!(set_cookies(&r).is_empty());
    assert!(
        !body_text(&r).contains("4096"),
        "the detail goes to the log only"
    );
}

/// Issues a CSRF token on GET (returning the session that binds it); counts on POST.
async fn form_page(mut req: Request) -> http::Result<Response> {
    if req.method == "GET" {
        let token = req.csrf_token()?;
        return Ok(Response::text(token).session(req.session));
    }
    Ok(Response::text("accepted"))
}

fn post_form(cookie: &str, form: &str) -> lambda_http::Request {
    let (cookie, form) = (cookie.to_owned(), form.to_owned());
    event(V2, move |e| {
        e["requestContext"]["http"]["method"] = json!("POST");
        e["cookies"] = json!([cookie]);
        e["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
        e["body"] = json!(form);
    })
}

#[tokio::test]
async fn csrf_protect_requires_the_sessions_token_on_unsafe_methods() {
    let handler = Handler::with_store(default_store(), http::csrf::protect(form_page));
    let get = |cookies: Value| {
        event(V2, move |e| {
            e["requestContext"]["http"]["method"] = json!("GET");
            e["cookies"] = cookies;
        })
    };
    let page = handler.handle(get(json!([]))).await;
    assert_eq!(page.status(), 200, "safe methods need no token");
    let token = body_text(&page);
    let cookie = session_pair(&page);

    let ok = handler
        .handle(post_form(&cookie, &format!("_csrf={token}&x=1")))
        .await;
    assert_eq!(
        (ok.status().as_u16(), body_text(&ok).as_str()),
        (200, "accepted")
    );

    let mut with_header = post_form(&cookie, "x=1");
    with_header
        .headers_mut()
        .insert("x-csrf-token", token.parse().expect("header value"));
    assert_eq!(handler.handle(with_header).await.status(), 200);

    let missing = handler.handle(post_form(&cookie, "x=1")).await;
    assert_eq!(missing.status(), 403);
    assert!(body_text(&missing).contains("403 Forbidden"));
    assert_ne!(body_text(&missing), "accepted", "the handler did not run");

    // A token from another session is refused.
    let other = handler.handle(get(json!([]))).await;
    let other_token = body_text(&other);
    let stolen = handler
        .handle(post_form(&cookie, &format!("_csrf={other_token}")))
        .await;
    assert_eq!(stolen.status(), 403);

    // A forged token, and a valid one with no session at all.
    let forged = handler
        .handle(post_form(
            &cookie,
            "_csrf=99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ))
        .await;
    assert_eq!(forged.status(), 403);
    let no_session = handler
        .handle(post_form("other=1", &format!("_csrf={token}")))
        .await;
    assert_eq!(no_session.status(), 403);
}

async fn flash_route(mut req: Request) -> http::Result<Response> {
    let seen = req
        .flash::<String>("notice")
        .unwrap_or_else(|| "none".into());
    if req.query.get("set").is_some() {
        req.session.flash("notice", "saved")?;
        return Ok(Response::text(seen).session(req.session));
    }
    // Reads only: returns no session.
    Ok(Response::text(seen))
}

#[tokio::test]
async fn a_flash_message_is_read_exactly_once() {
    let handler = Handler::with_store(default_store(), flash_route);
    let request = |cookie: Option<&str>, set: bool| {
        let cookie = cookie.map(str::to_owned);
        event(V2, move |e| {
            e["cookies"] = json!(cookie.into_iter().collect::<Vec<_>>());
            e["rawQueryString"] = json!(if set { "set=1" } else { "" });
        })
    };
    let first = handler.handle(request(None, true)).await;
    assert_eq!(body_text(&first), "none");
    let cookie = session_pair(&first);

    let second = handler.handle(request(Some(&cookie), false)).await;
    assert_eq!(body_text(&second), "saved", "read in the next request");
    assert_eq!(
        header(&second, "cache-control"),
        "private, no-store",
        "clearing the flash sets the session cookie"
    );
    let cleared = session_pair(&second);

    let third = handler.handle(request(Some(&cleared), false)).await;
    assert_eq!(body_text(&third), "none", "and gone after");
    assert!(set_cookies(&third).is_empty(), "nothing left to clear");
}

/// `testing::TestRequest` in every format: what the handler sees is what the request said.
#[tokio::test]
async fn test_requests_arrive_as_built_in_every_format() {
    use arc_functions::testing::{Format, TestRequest};
    let handler = Handler::with_store(default_store(), echo);
    for format in [Format::HttpApi, Format::RestApi, Format::FunctionUrl] {
        let seen = |r: arc_functions::testing::TestResponse| -> Value {
            assert_eq!(r.status(), 200, "{format:?}: {}", r.text());
            serde_json::from_slice(r.body()).expect("echo answers JSON")
        };
        let r = TestRequest::new("put", "/notes/7?tag=a&tag=b&x=1")
            .format(format)
            .header("Header1", "one")
            .header("header1", "two")
            .cookie("cookie1=c1")
            .cookie("test=t")
            .json(&json!({ "title": "hi" }))
            .send(&handler)
            .await
            .expect("a reply");
        let v = seen(r);
        assert_eq!(v["method"], "PUT", "{format:?}");
        assert_eq!(v["path"], "/notes/7", "{format:?}");
        // A REST API sends the query as a map: the order between names is lambda_http's.
        let mut query = v["query"].as_array().expect("pairs").clone();
        query.sort_by_key(|pair| pair[0].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            query,
            json!([["tag", "a"], ["tag", "b"], ["x", "1"]])
                .as_array()
                .cloned()
                .unwrap_or_default(),
            "{format:?}"
        );
        assert_eq!(
            v["header1"], "one,two",
            "{format:?}: repeated headers joined"
        );
        assert_eq!(v["cookies"], json!(["c1", null, "t"]), "{format:?}");
        assert_eq!(
            v["body"],
            json!({ "json": { "title": "hi" } }),
            "{format:?}"
        );
        let context = if format == Format::RestApi {
            "v1"
        } else {
            "v2"
        };
        assert_eq!(v["context"], context, "{format:?}");

        let r = TestRequest::post("/f")
            .format(format)
            .form(&[("a", "1"), ("a", "2")])
            .send(&handler)
            .await
            .expect("a reply");
        assert_eq!(
            seen(r)["body"],
            json!({ "form": [["a", "1"], ["a", "2"]] }),
            "{format:?}"
        );
        let r = TestRequest::get("/")
            .format(format)
            .header("content-type", "text/plain")
            .body("plain")
            .send(&handler)
            .await
            .expect("a reply");
        assert_eq!(seen(r)["body"], json!({ "text": "plain" }), "{format:?}");
    }
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

/// The accessors a handler reads its request with, each against what arrived (their doctests
/// say the same; these keep mutation testing honest when run without doctests).
#[test]
fn body_params_and_cookie_accessors_return_what_arrived() {
    use arc_functions::http::Params;
    let json = Body::Json(json!({ "a": 1 }));
    let text = Body::Text("hi".into());
    let binary = Body::Binary(vec![0, 1]);
    let form = Body::Form(Params::parse("a=1&a=2&b=3"));
    assert_eq!(json.json(), Some(&json!({ "a": 1 })));
    assert_eq!(
        (text.json(), binary.json(), form.json()),
        (None, None, None)
    );
    assert_eq!(text.text(), Some("hi"));
    assert_eq!(
        (json.text(), binary.text(), Body::Empty.text()),
        (None, None, None)
    );
    assert_eq!(text.bytes(), Some(&b"hi"[..]));
    assert_eq!(binary.bytes(), Some(&[0_u8, 1][..]));
    assert_eq!((json.bytes(), Body::Empty.bytes()), (None, None));

    let params = form.form().expect("a form");
    assert_eq!(params.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(params.get_all("b").collect::<Vec<_>>(), ["3"]);
    assert_eq!(params.get_all("c").count(), 0);
    assert!(!params.is_empty());
    assert!(Params::parse("").is_empty());

    let event = lambda_http::http::Request::builder()
        .header("cookie", "a=1; theme=dark")
        .body(LambdaBody::Empty)
        .expect("request");
    let req = Request::from_lambda(event).expect("request");
    assert_eq!(
        req.cookies(),
        [("a".into(), "1".into()), ("theme".into(), "dark".into())]
    );
    let handler = Handler::with_store(default_store(), echo);
    assert!(
        format!("{handler:?}").contains("sealed cookie"),
        "{handler:?}"
    );
}

/// A session given as a JSON map is the session written.
#[tokio::test]
async fn a_map_given_as_the_session_is_written() {
    async fn map(_req: Request) -> http::Result<Response> {
        let mut map = serde_json::Map::new();
        map.insert("count".into(), 3.into());
        Ok(Response::text("ok").session(map))
    }
    let store = default_store();
    let r = arc_functions::testing::TestRequest::get("/")
        .send(&Handler::with_store(Arc::clone(&store), map))
        .await
        .expect("a reply");
    let session = r.session(&store).await.expect("read");
    assert_eq!(session.get::<u64>("count").expect("a number"), Some(3));
}

#[tokio::test]
async fn a_server_error_writes_no_session_as_in_the_axum_layer() {
    async fn fails_softly(req: Request) -> http::Result<Response> {
        let count = req.session.get::<u64>("count")?.unwrap_or(0);
        let status = req
            .query
            .get("status")
            .and_then(|s| s.parse().ok())
            .unwrap_or(200);
        Ok(Response::text("half done")
            .status(status)
            .session(json!({ "count": count + 100 })))
    }
    let handler = Handler::with_store(default_store(), fails_softly);
    let ask = |status: &str, cookie: Option<String>| {
        let query = format!("status={status}");
        event(V2, move |e| {
            e["rawQueryString"] = json!(query);
            e["cookies"] = json!(cookie.into_iter().collect::<Vec<_>>());
        })
    };
    // The control: a 200 writes, and a 4xx too (the client's mistake, the session's state).
    let ok = handler.handle(ask("200", None)).await;
    assert_eq!(set_cookies(&ok).len(), 1);
    let cookie = session_pair(&ok);
    assert_eq!(
        set_cookies(&handler.handle(ask("404", Some(cookie.clone()))).await).len(),
        1
    );
    for status in ["500", "502", "503", "599"] {
        let failed = handler.handle(ask(status, Some(cookie.clone()))).await;
        assert_eq!(failed.status().as_u16().to_string(), status);
        assert!(set_cookies(&failed).is_empty(), "{status} wrote a session");
        assert_eq!(body_text(&failed), "half done", "the handler's own answer");
    }
}
