//! Sessions through the handler wrapper, in sealed cookies: the round trip through v2
//! cookies, v1 headers and function URLs; which cookie wins and what odd cookies do; a
//! response that sets the session cookie is private; stores share sessions by secret; reset,
//! the cookie's attributes, a session too large for a cookie, a map as the session, and a
//! server error that writes none; CSRF protection and flash messages.
//!
//! Each test starts from an event JSON that AWS sends (tests/fixtures) and serves it through
//! `Handler::invoke`, as `http::run` serves an invocation. Needs nothing outside the process.

use std::sync::Arc;

use arc_functions::http::{self, Handler, Request, Response};
use serde_json::{Value, json};

use crate::support::event;
use crate::support::http::{
    FUNCTION_URL, SECRET, V1, V2, V2_BARE_COOKIES, default_store, header, invoke, session_pair,
    set_cookies, store,
};

async fn count(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::text(count.to_string())
        .session(json!({ "count": count }))
        .cookie("theme=dark; Path=/"))
}

#[tokio::test]
async fn session_round_trips_through_v2_cookies_v1_headers_and_function_urls() {
    let handler = Handler::with_store(default_store(), count);
    let first = invoke(&handler, &event(V2, |_| {})).await;
    assert_eq!(first.text(), "1");
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
    let second = invoke(
        &handler,
        &event(V2, |e| e["cookies"] = json!(["a=1", idx, "b=2"])),
    )
    .await;
    assert_eq!(second.text(), "2");

    // v1: in a Cookie header.
    let idx = session_pair(&second);
    let third = invoke(
        &handler,
        &event(V1, |e| {
            e["headers"]["Cookie"] = json!(format!("x=y; {idx}"))
        }),
    )
    .await;
    assert_eq!(third.text(), "3");

    // Function URL.
    let idx = session_pair(&third);
    let fourth = invoke(
        &handler,
        &event(FUNCTION_URL, |e| e["cookies"] = json!([idx])),
    )
    .await;
    assert_eq!(fourth.text(), "4");
}

#[tokio::test]
async fn last_idx_cookie_wins_and_garbled_cookies_are_empty() {
    let handler = Handler::with_store(default_store(), count);
    let first = session_pair(&invoke(&handler, &event(V2, |_| {})).await);
    let second =
        session_pair(&invoke(&handler, &event(V2, |e| e["cookies"] = json!([first]))).await);
    // Both sessions sent: the last one (count 2) wins.
    let r = invoke(
        &handler,
        &event(V2, |e| e["cookies"] = json!([first, second])),
    )
    .await;
    assert_eq!(r.text(), "3");
    let r = invoke(
        &handler,
        &event(V2, |e| e["cookies"] = json!([second, first])),
    )
    .await;
    assert_eq!(r.text(), "2");

    // Real bare cookie entries ("cookie1" with no '=') never break the request.
    let r = invoke(&handler, &event(V2_BARE_COOKIES, |_| {})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), "1");
}

#[tokio::test]
async fn one_odd_cookie_beside_the_session_cookie_drops_only_itself() {
    let handler = Handler::with_store(default_store(), count);
    let idx = session_pair(&invoke(&handler, &event(V2, |_| {})).await);
    // A UTF-8 cookie another app of the domain set: not ASCII, so not a `str` header value.
    for cookies in [
        json!(["caf\u{e9}=cr\u{e8}me", idx]),
        json!([idx, "\u{1F36A}=\u{1F36A}"]),
    ] {
        let r = invoke(&handler, &event(V2, |e| e["cookies"] = cookies.clone())).await;
        assert_eq!(r.text(), "2", "{cookies}");
    }
    let r = invoke(
        &handler,
        &event(V1, |e| {
            e["headers"]["Cookie"] = json!(format!("x=\u{e9}t\u{e9}; {idx}"))
        }),
    )
    .await;
    assert_eq!(r.text(), "2");
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
    let r = invoke(&handler, &ask("session")).await;
    assert_eq!(header(&r, "cache-control"), "private, no-store");
    assert_eq!(set_cookies(&r).len(), 1);
    let r = invoke(&handler, &ask("own")).await;
    assert_eq!(
        header(&r, "cache-control"),
        "private, max-age=5",
        "the handler's own lifetime, kept within private"
    );
    for with in ["public", "header"] {
        let r = invoke(&handler, &ask(with)).await;
        assert_eq!(
            header(&r, "cache-control"),
            "private, max-age=600",
            "{with}: a shared cache never keeps a session cookie"
        );
        assert_eq!(set_cookies(&r).len(), 1);
    }
    let r = invoke(&handler, &ask("none")).await;
    assert_eq!(
        header(&r, "cache-control"),
        "max-age=86400",
        "no cookie, cacheable"
    );
    // HTML and redirects with a session are private too, not only uncached.
    let r = invoke(
        &Handler::with_store(default_store(), count),
        &event(V2, |_| {}),
    )
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
    let idx = session_pair(&invoke(&a, &event(V2, |_| {})).await);
    let r = invoke(&b, &event(V2, |e| e["cookies"] = json!([idx]))).await;
    assert_eq!(r.text(), "2");
    let r = invoke(&other, &event(V2, |e| e["cookies"] = json!([idx]))).await;
    assert_eq!(r.text(), "1", "a foreign cookie is an empty session");
}

#[tokio::test]
async fn reset_with_an_empty_object_empties_the_session() {
    async fn reset(_: Request) -> http::Result<Response> {
        Ok(Response::redirect("/").session(json!({})))
    }
    let counter = Handler::with_store(default_store(), count);
    let reset = Handler::with_store(default_store(), reset);
    let idx = session_pair(&invoke(&counter, &event(V2, |_| {})).await);
    let r = invoke(&reset, &event(V2, |e| e["cookies"] = json!([idx]))).await;
    assert_eq!(r.status(), 302);
    let idx = session_pair(&r);
    let r = invoke(&counter, &event(V2, |e| e["cookies"] = json!([idx]))).await;
    assert_eq!(r.text(), "1");
}

#[tokio::test]
async fn cookie_attributes_follow_the_environment() {
    let prod = store(&[
        ("ARC_ENV", "production"),
        ("ARC_APP_SECRET", SECRET),
        ("ARC_SESSION_DOMAIN", "example.com"),
        ("ARC_SESSION_TTL", "3600"),
    ]);
    let r = invoke(&Handler::with_store(prod, count), &event(V2, |_| {})).await;
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
    let r = invoke(
        &Handler::with_store(default_store(), big),
        &event(V2, |_| {}),
    )
    .await;
    assert_eq!(r.status(), 500);
    assert!(set_cookies(&r).is_empty());
    assert!(
        !r.text().contains("4096"),
        "the detail goes to the log only"
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
    let ok = invoke(&handler, &ask("200", None)).await;
    assert_eq!(set_cookies(&ok).len(), 1);
    let cookie = session_pair(&ok);
    assert_eq!(
        set_cookies(&invoke(&handler, &ask("404", Some(cookie.clone()))).await).len(),
        1
    );
    for status in ["500", "502", "503", "599"] {
        let failed = invoke(&handler, &ask(status, Some(cookie.clone()))).await;
        assert_eq!(failed.status().to_string(), status);
        assert!(set_cookies(&failed).is_empty(), "{status} wrote a session");
        assert_eq!(failed.text(), "half done", "the handler's own answer");
    }
}

// ---------------------------------------------------------------------------------------------
// CSRF and flash

/// Issues a CSRF token on GET (returning the session that binds it); counts on POST.
async fn form_page(mut req: Request) -> http::Result<Response> {
    if req.method == "GET" {
        let token = req.csrf_token()?;
        return Ok(Response::text(token).session(req.session));
    }
    Ok(Response::text("accepted"))
}

fn post_form(cookie: &str, form: &str) -> String {
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
    let page = invoke(&handler, &get(json!([]))).await;
    assert_eq!(page.status(), 200, "safe methods need no token");
    let token = page.text();
    let cookie = session_pair(&page);

    let ok = invoke(&handler, &post_form(&cookie, &format!("_csrf={token}&x=1"))).await;
    assert_eq!((ok.status(), ok.text().as_str()), (200, "accepted"));

    let with_header = event(&post_form(&cookie, "x=1"), |e| {
        e["headers"]["x-csrf-token"] = json!(token);
    });
    assert_eq!(invoke(&handler, &with_header).await.status(), 200);

    let missing = invoke(&handler, &post_form(&cookie, "x=1")).await;
    assert_eq!(missing.status(), 403);
    assert!(missing.text().contains("403 Forbidden"));
    assert_ne!(missing.text(), "accepted", "the handler did not run");

    // A token from another session is refused.
    let other = invoke(&handler, &get(json!([]))).await;
    let other_token = other.text();
    let stolen = invoke(
        &handler,
        &post_form(&cookie, &format!("_csrf={other_token}")),
    )
    .await;
    assert_eq!(stolen.status(), 403);

    // A forged token, and a valid one with no session at all.
    let forged = invoke(
        &handler,
        &post_form(
            &cookie,
            "_csrf=99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ),
    )
    .await;
    assert_eq!(forged.status(), 403);
    let no_session = invoke(&handler, &post_form("other=1", &format!("_csrf={token}"))).await;
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
    let first = invoke(&handler, &request(None, true)).await;
    assert_eq!(first.text(), "none");
    let cookie = session_pair(&first);

    let second = invoke(&handler, &request(Some(&cookie), false)).await;
    assert_eq!(second.text(), "saved", "read in the next request");
    assert_eq!(
        header(&second, "cache-control"),
        "private, no-store",
        "clearing the flash sets the session cookie"
    );
    let cleared = session_pair(&second);

    let third = invoke(&handler, &request(Some(&cleared), false)).await;
    assert_eq!(third.text(), "none", "and gone after");
    assert!(set_cookies(&third).is_empty(), "nothing left to clear");
}
