//! `arc.http` parity on real API Gateway events: middleware chains, response compression,
//! the stage-aware `url()`, the route key and the raw body.

use std::io::Read;
use std::sync::Arc;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Encoding, Flow, Handler, Request, Response};
use base64::Engine;
use lambda_http::Body as LambdaBody;
use lambda_http::http::header::{CONTENT_ENCODING, LOCATION, SET_COOKIE, VARY};
use serde_json::{Value, json};

mod support;

use support::{capture_logs, logged};

const V2: &str = include_str!("fixtures/apigw_v2_request.json");
const V2_SAM_LOCAL: &str = include_str!("fixtures/apigw_v2_sam_local_request.json");
const V1: &str = include_str!("fixtures/apigw_v1_request.json");
const V1_MULTI: &str = include_str!("fixtures/apigw_v1_multi_value_request.json");
const FUNCTION_URL: &str = include_str!("fixtures/function_url_request.json");
const ALB: &str = include_str!("fixtures/alb_request.json");

fn config(vars: &[(&str, &str)]) -> Config {
    let defaults = [
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", "parity-test secret of 32 bytes or more"),
    ];
    let vars = defaults
        .into_iter()
        .filter(|(k, _)| !vars.iter().any(|(name, _)| name == k))
        .chain(vars.iter().copied());
    Config::from_vars(vars).expect("valid config")
}

/// A handler for `f` configured by `vars` (over `ARC_ENV=testing` and a secret).
fn app<F, Fut, E>(vars: &[(&str, &str)], f: F) -> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    let config = config(vars);
    Handler::with_store(Arc::new(SessionStore::new(&config)), f).with_config(&config)
}

/// A real event, changed by `edit`, as lambda_http hands it to a handler.
fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let mut value: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    edit(&mut value);
    lambda_http::request::from_str(&value.to_string()).expect("lambda_http parses the event")
}

fn text(response: &lambda_http::Response<LambdaBody>) -> String {
    match response.body() {
        LambdaBody::Text(t) => t.clone(),
        LambdaBody::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

fn header<'a>(response: &'a lambda_http::Response<LambdaBody>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The `_idx=…` pair a response sets.
fn session_pair(response: &lambda_http::Response<LambdaBody>) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("_idx="))
        .and_then(|c| c.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

/// A v2 event carrying `cookie`.
fn with_cookie(cookie: &str) -> lambda_http::Request {
    let cookie = cookie.to_owned();
    event(V2, move |e| e["cookies"] = json!([cookie]))
}

// ---------------------------------------------------------------------------------------------
// Chains

/// Who is signed in: put in the request by `require_login`.
#[derive(Clone, Debug, PartialEq)]
struct User(String);

/// The user's cart, loaded for `User` by `load_cart`.
#[derive(Clone, Debug, PartialEq)]
struct Cart(Vec<String>);

async fn require_login(mut req: Request) -> http::Result<Flow> {
    match req.session.get::<String>("user")? {
        Some(name) => {
            req.extensions.insert(User(name));
            Ok(Flow::Continue(req))
        }
        None => {
            req.session.flash("error", "Log in first.")?;
            Ok(Flow::Break(
                Response::redirect("/login").session(req.session),
            ))
        }
    }
}

async fn load_cart(mut req: Request) -> http::Result<Flow> {
    let User(name) = req.extensions.get::<User>().cloned().ok_or("no user")?;
    if name == "broken" {
        return Err("the cart database password is hunter2".into());
    }
    if name == "panics" {
        panic!("a step panicked with hunter2");
    }
    req.extensions.insert(Cart(vec![format!("{name}'s book")]));
    // A step may change the session too; the handler's response writes it.
    req.session.insert("visits", 1)?;
    Ok(Flow::Continue(req))
}

async fn show_cart(req: Request) -> http::Result<Response> {
    let user = req.extensions.get::<User>().ok_or("no user")?;
    let cart = req.extensions.get::<Cart>().ok_or("no cart")?;
    let body = json!({ "user": user.0, "cart": cart.0 });
    Ok(Response::json(&body).session(req.session))
}

async fn must_not_run(_req: Request) -> http::Result<Response> {
    panic!("the chain should have stopped before the handler")
}

/// A session cookie for `user`, written by the same store configuration.
async fn signed_in(user: &str) -> String {
    let user = user.to_owned();
    let login = app(&[], move |mut req: Request| {
        let user = user.clone();
        async move {
            req.session.insert("user", user)?;
            Ok::<_, http::Error>(Response::text("in").session(req.session))
        }
    });
    session_pair(&login.handle(event(V2, |_| {})).await)
}

#[tokio::test]
async fn a_chain_that_stops_early_answers_from_the_step_and_writes_its_session() {
    let chain = app(&[], http::chain((require_login, load_cart, must_not_run)));
    let r = chain.handle(event(V2, |_| {})).await;
    assert_eq!(r.status(), 302, "{}", text(&r));
    assert_eq!(header(&r, LOCATION.as_str()), "/login");
    // The step's session, written once after the chain: the flash arrives on the next request.
    let cookie = session_pair(&r);
    assert!(
        cookie.len() > "_idx=".len(),
        "the step's session is written"
    );
    async fn read_flash(req: Request) -> http::Result<Response> {
        Ok(Response::text(
            req.flash::<String>("error").unwrap_or_default(),
        ))
    }
    let r = app(&[], read_flash).handle(with_cookie(&cookie)).await;
    assert_eq!(text(&r), "Log in first.");
}

#[tokio::test]
async fn a_step_passes_typed_values_to_the_next() {
    let chain = app(&[], http::chain((require_login, load_cart, show_cart)));
    let cookie = signed_in("ann").await;
    let r = chain.handle(with_cookie(&cookie)).await;
    assert_eq!(r.status(), 200, "{}", text(&r));
    let body: Value = serde_json::from_str(&text(&r)).expect("JSON");
    assert_eq!(body, json!({ "user": "ann", "cart": ["ann's book"] }));
    // The session changed in a step comes back with the handler's response.
    async fn visits(req: Request) -> http::Result<Response> {
        let user = req.session.get::<String>("user")?.unwrap_or_default();
        let visits = req.session.get::<u64>("visits")?.unwrap_or(0);
        Ok(Response::text(format!("{user} {visits}")))
    }
    let next = session_pair(&r);
    let r = app(&[], visits).handle(with_cookie(&next)).await;
    assert_eq!(text(&r), "ann 1");
}

#[tokio::test]
async fn an_error_in_the_middle_is_a_generic_500_with_the_cause_logged() {
    let chain = app(&[], http::chain((require_login, load_cart, must_not_run)));
    let cookie = signed_in("broken").await;
    let (logs, _guard) = capture_logs();
    let r = chain.handle(with_cookie(&cookie)).await;
    assert_eq!(r.status(), 500);
    assert!(text(&r).contains("500 Internal Server Error"));
    assert!(!text(&r).contains("hunter2"), "the cause stays in the log");
    assert!(session_pair(&r).is_empty(), "no session cookie on a 500");
    let log = logged(&logs);
    assert!(
        log.contains("the cart database password is hunter2"),
        "{log}"
    );

    // A panicking step: the same, and the chain serves the next request.
    let cookie = signed_in("panics").await;
    let r = chain.handle(with_cookie(&cookie)).await;
    assert_eq!(r.status(), 500);
    assert!(!text(&r).contains("hunter2"));
    assert!(session_pair(&r).is_empty());
    let log = logged(&logs);
    assert!(log.contains("a step panicked with hunter2"), "{log}");
    let r = chain.handle(event(V2, |_| {})).await;
    assert_eq!(r.status(), 302, "the chain lives on");
}

#[tokio::test]
async fn csrf_require_is_a_step_like_any_other() {
    async fn page(mut req: Request) -> http::Result<Response> {
        let token = req.csrf_token()?;
        Ok(Response::text(token).session(req.session))
    }
    async fn done(_req: Request) -> http::Result<Response> {
        Ok(Response::text("done"))
    }
    let form = app(&[], page);
    let chain = app(&[], http::chain((http::csrf::require, done)));
    let r = form
        .handle(event(V2, |e| {
            e["requestContext"]["http"]["method"] = json!("GET")
        }))
        .await;
    let (cookie, token) = (session_pair(&r), text(&r));
    let post = |body: String| {
        let cookie = cookie.clone();
        event(V2, move |e| {
            e["cookies"] = json!([cookie]);
            e["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
            e["body"] = json!(body);
        })
    };
    let r = chain.handle(post("_csrf=wrong".into())).await;
    assert_eq!(r.status(), 403);
    let r = chain.handle(post(format!("_csrf={token}"))).await;
    assert_eq!((r.status().as_u16(), text(&r)), (200, "done".into()));
}

// ---------------------------------------------------------------------------------------------
// Compression

/// 4 KB of HTML: text-like and above the threshold.
fn big_page() -> String {
    "<p>Architect functions, in Rust.</p>\n".repeat(110)
}

async fn page(_req: Request) -> http::Result<Response> {
    Ok(Response::html(big_page()))
}

fn accepting(fixture: &str, accept: &str) -> lambda_http::Request {
    let accept = accept.to_owned();
    event(fixture, move |e| {
        let headers = e["headers"].as_object_mut().expect("headers");
        headers.retain(|k, _| !k.eq_ignore_ascii_case("accept-encoding"));
        headers.insert("accept-encoding".into(), json!(accept));
        if let Some(multi) = e["multiValueHeaders"].as_object_mut() {
            multi.retain(|k, _| !k.eq_ignore_ascii_case("accept-encoding"));
            multi.insert("accept-encoding".into(), json!([accept]));
        }
    })
}

/// The body of a response, decoded as its `content-encoding` says.
fn decoded(response: &lambda_http::Response<LambdaBody>) -> String {
    let LambdaBody::Binary(bytes) = response.body() else {
        return text(response);
    };
    let mut out = String::new();
    match header(response, CONTENT_ENCODING.as_str()) {
        "br" => brotli::Decompressor::new(&bytes[..], 4096)
            .read_to_string(&mut out)
            .map(drop),
        "gzip" => flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut out)
            .map(drop),
        other => panic!("unexpected coding {other:?}"),
    }
    .expect("decodes");
    out
}

#[tokio::test]
async fn compression_is_negotiated_for_v1_v2_and_function_urls() {
    let handler = app(&[], page);
    for fixture in [V1, V1_MULTI, V2, FUNCTION_URL, ALB] {
        let r = handler
            .handle(accepting(fixture, "gzip, deflate, br"))
            .await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
        assert_eq!(header(&r, VARY.as_str()), "accept-encoding");
        // A binary body: lambda_http sends it base64-encoded with isBase64Encoded set.
        let LambdaBody::Binary(bytes) = r.body() else {
            panic!("a compressed body is binary")
        };
        assert!(bytes.len() * 10 < big_page().len(), "{} bytes", bytes.len());
        assert_eq!(decoded(&r), big_page());
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf8");

        let r = handler.handle(accepting(fixture, "gzip")).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
        assert_eq!(decoded(&r), big_page());
    }
}

#[tokio::test]
async fn q_values_rank_codings_and_the_response_may_prefer_one() {
    let handler = app(&[], page);
    let coding = |accept: &'static str| {
        let handler = handler.clone();
        async move {
            let r = handler.handle(accepting(V2, accept)).await;
            header(&r, CONTENT_ENCODING.as_str()).to_owned()
        }
    };
    assert_eq!(coding("br;q=0.5, gzip").await, "gzip");
    assert_eq!(coding("br, gzip;q=0.9").await, "br");
    assert_eq!(coding("br;q=0, *").await, "gzip");
    assert_eq!(
        coding("gzip;q=0.4, identity;q=0.5").await,
        "",
        "identity ranks higher"
    );

    async fn prefers_gzip(_req: Request) -> http::Result<Response> {
        Ok(Response::html(big_page()).prefer_encoding(Encoding::Gzip))
    }
    let gzip = app(&[], prefers_gzip);
    let r = gzip.handle(accepting(V2, "br, gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert_eq!(decoded(&r), big_page());
    let r = gzip.handle(accepting(V2, "br")).await;
    assert_eq!(
        header(&r, CONTENT_ENCODING.as_str()),
        "br",
        "only if accepted"
    );
}

#[tokio::test]
async fn small_and_binary_bodies_go_uncompressed_unless_identity_is_refused() {
    async fn small(_req: Request) -> http::Result<Response> {
        Ok(Response::html("<p>small</p>".repeat(80))) // 960 bytes
    }
    async fn png(_req: Request) -> http::Result<Response> {
        Ok(Response::bytes(vec![0x89; 4096]).content_type("image/png"))
    }
    let r = app(&[], small).handle(accepting(V2, "br, gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(text(&r), "<p>small</p>".repeat(80));
    assert!(matches!(r.body(), LambdaBody::Text(_)));
    assert_eq!(
        header(&r, VARY.as_str()),
        "accept-encoding",
        "another request may get it compressed"
    );
    let r = app(&[], png).handle(accepting(V2, "br, gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(r.body(), &LambdaBody::Binary(vec![0x89; 4096]));

    // identity;q=0: the client cannot take it as is, so even these go compressed.
    let r = app(&[], small)
        .handle(accepting(V2, "gzip, identity;q=0"))
        .await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert_eq!(decoded(&r), "<p>small</p>".repeat(80));
    let r = app(&[], png)
        .handle(accepting(V2, "br, identity;q=0"))
        .await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
    let LambdaBody::Binary(bytes) = r.body() else {
        panic!("binary")
    };
    let mut out = Vec::new();
    brotli::Decompressor::new(&bytes[..], 4096)
        .read_to_end(&mut out)
        .expect("brotli");
    assert_eq!(out, vec![0x89; 4096]);
}

#[tokio::test]
async fn refused_or_opted_out_responses_go_uncompressed() {
    let handler = app(&[], page);
    for accept in ["", "identity", "deflate", "br;q=0, gzip;q=0", "*;q=0"] {
        let r = handler.handle(accepting(V2, accept)).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "", "{accept:?}");
        assert_eq!(text(&r), big_page());
    }
    let r = handler.handle(event(V2, |_| {})).await;
    assert_eq!(
        header(&r, CONTENT_ENCODING.as_str()),
        "",
        "no header, no coding"
    );

    async fn opted_out(_req: Request) -> http::Result<Response> {
        Ok(Response::html(big_page()).no_compression())
    }
    let r = app(&[], opted_out).handle(accepting(V2, "br")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(header(&r, VARY.as_str()), "", "it never varies");
    assert_eq!(text(&r), big_page());

    let off = app(&[("ARC_HTTP_COMPRESSION", "off")], page);
    let r = off.handle(accepting(V2, "br")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(header(&r, VARY.as_str()), "");
    assert_eq!(text(&r), big_page());

    // A body the handler encoded itself is left alone; its Vary is kept and extended.
    async fn encoded(_req: Request) -> http::Result<Response> {
        Ok(Response::bytes(vec![0x8b; 2048])
            .content_type("text/plain")
            .header("content-encoding", "gzip"))
    }
    let r = app(&[], encoded).handle(accepting(V2, "br")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert_eq!(r.body(), &LambdaBody::Binary(vec![0x8b; 2048]));
    async fn varies(_req: Request) -> http::Result<Response> {
        Ok(Response::html(big_page()).header("vary", "cookie"))
    }
    let r = app(&[], varies).handle(accepting(V2, "br")).await;
    assert_eq!(header(&r, VARY.as_str()), "cookie, accept-encoding");
}

/// `len` bytes no codec can shrink (a xorshift stream).
fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn a_body_that_would_grow_goes_as_it_is_unless_identity_is_refused() {
    async fn noise(req: Request) -> http::Result<Response> {
        let len = req
            .query
            .get("len")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        Ok(Response::bytes(incompressible(len)).content_type("text/plain"))
    }
    let at = |len: usize, accept: &str| {
        let accept = accept.to_owned();
        event(V2, move |e| {
            e["rawQueryString"] = json!(format!("len={len}"));
            e["headers"]["accept-encoding"] = json!(accept);
        })
    };
    let handler = app(&[], noise);
    // Text-like and large, but brotli and gzip would only add their framing.
    for accept in ["br", "gzip"] {
        let r = handler.handle(at(4096, accept)).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "", "{accept}");
        assert_eq!(r.body(), &LambdaBody::Binary(incompressible(4096)));
    }
    // The client refuses identity: compressed though it grows.
    let r = handler.handle(at(100, "gzip, identity;q=0")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    let LambdaBody::Binary(bytes) = r.body() else {
        panic!("binary")
    };
    assert!(bytes.len() > 100, "{} bytes", bytes.len());
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut out)
        .expect("gzip");
    assert_eq!(out, incompressible(100));
}

#[tokio::test]
async fn a_vary_that_already_covers_the_coding_is_kept() {
    async fn varies(req: Request) -> http::Result<Response> {
        let vary = req.query.get("vary").unwrap_or_default().to_owned();
        Ok(Response::html(big_page()).header("vary", vary))
    }
    let handler = app(&[], varies);
    for (given, sent) in [
        ("*", "*"),
        ("Accept-Encoding", "Accept-Encoding"),
        ("cookie, accept-encoding", "cookie, accept-encoding"),
        ("cookie", "cookie, accept-encoding"),
    ] {
        let r = handler
            .handle(event(V2, |e| {
                let given = given.replace(',', "%2C").replace(' ', "%20");
                e["rawQueryString"] = json!(format!("vary={given}"));
                e["headers"]["accept-encoding"] = json!("br");
            }))
            .await;
        assert_eq!(header(&r, VARY.as_str()), sent, "{given}");
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
    }
}

#[test]
fn compression_configuration_is_checked_at_cold_start() {
    let base = [("ARC_ENV", "testing")];
    let read = |value: &str| {
        Config::from_vars(base.into_iter().chain([("ARC_HTTP_COMPRESSION", value)]))
            .map(|c| c.compression)
    };
    assert_eq!(read("off"), Ok(false));
    assert_eq!(read("FALSE"), Ok(false));
    assert_eq!(read("0"), Ok(false));
    assert_eq!(read("on"), Ok(true));
    assert_eq!(read("true"), Ok(true));
    assert_eq!(read("1"), Ok(true));
    let err = read("gzip please").expect_err("refused");
    assert!(
        err.to_string().starts_with("ARC_HTTP_COMPRESSION is"),
        "{err}"
    );
    assert!(
        Config::from_vars(base).expect("config").compression,
        "on by default"
    );
}

// ---------------------------------------------------------------------------------------------
// url()

async fn redirect_home(req: Request) -> http::Result<Response> {
    Ok(Response::redirect(req.url("/login")))
}

async fn location(vars: &[(&str, &str)], event: lambda_http::Request) -> String {
    let r = app(vars, redirect_home).handle(event).await;
    header(&r, LOCATION.as_str()).to_owned()
}

#[tokio::test]
async fn req_url_adds_the_rest_stage_only_on_the_execute_api_address_when_deployed() {
    let staging = [
        ("ARC_ENV", "staging"),
        ("ARC_APP_SECRET", "s".repeat(32).leak()),
    ];
    let production = [
        ("ARC_ENV", "production"),
        ("ARC_APP_SECRET", "s".repeat(32).leak()),
    ];
    // The REST fixture came through stage `test` of its execute-api address.
    assert_eq!(location(&staging, event(V1, |_| {})).await, "/test/login");
    assert_eq!(
        location(&production, event(V1, |_| {})).await,
        "/test/login"
    );
    // testing, local, or ARC_ENV unset: as the original, no stage.
    assert_eq!(location(&[], event(V1, |_| {})).await, "/login");
    let local = [&production[..], &[("ARC_LOCAL", "1")]].concat();
    assert_eq!(location(&local, event(V1, |_| {})).await, "/login");
    let unset = [("ARC_APP_SECRET", "s".repeat(32).leak() as &str)];
    let unset_vars = Config::from_vars(unset).expect("config");
    assert_eq!(unset_vars.stage, None);
    let r = Handler::with_store(Arc::new(SessionStore::new(&unset_vars)), redirect_home)
        .with_config(&unset_vars)
        .handle(event(V1, |_| {}))
        .await;
    assert_eq!(header(&r, LOCATION.as_str()), "/login");
    // Deployed, but where the stage is not in the path: HTTP APIs, function URLs, ALBs and a
    // REST API behind a custom domain.
    for fixture in [V2, FUNCTION_URL, ALB] {
        assert_eq!(
            location(&production, event(fixture, |_| {})).await,
            "/login"
        );
    }
    let custom_domain = event(V1, |e| {
        e["headers"]["Host"] = json!("app.example.com");
        e["requestContext"]["domainName"] = json!("app.example.com");
    });
    assert_eq!(location(&production, custom_domain).await, "/login");
    // Only an execute-api address of AWS counts, the China regions' included.
    for (domain, expected) in [
        ("api.execute-api.example.com", "/login"),
        ("wt6mne2s9k.elb.amazonaws.com", "/login"),
        (
            "wt6mne2s9k.execute-api.cn-north-1.amazonaws.com.cn",
            "/test/login",
        ),
    ] {
        let at = event(V1, |e| e["requestContext"]["domainName"] = json!(domain));
        assert_eq!(location(&production, at).await, expected, "{domain}");
    }
    // No context domain: the Host header tells.
    let host_only = event(V1, |e| {
        e["requestContext"]
            .as_object_mut()
            .expect("context")
            .remove("domainName");
    });
    assert_eq!(location(&production, host_only).await, "/test/login");
}

#[test]
fn the_url_stage_follows_architects_environment_rule() {
    let secret = ("ARC_APP_SECRET", "0123456789abcdef0123456789abcdef");
    let stage = |vars: &[(&str, &str)]| {
        Config::from_vars(vars.iter().copied().chain([secret]))
            .expect("config")
            .stage
    };
    assert_eq!(stage(&[("ARC_ENV", "staging")]).as_deref(), Some("staging"));
    assert_eq!(
        stage(&[("ARC_ENV", "production")]).as_deref(),
        Some("production")
    );
    assert_eq!(stage(&[("ARC_ENV", "testing")]), None);
    assert_eq!(
        stage(&[]),
        None,
        "unset is strict for secrets, but adds no stage"
    );
    assert_eq!(
        stage(&[("ARC_ENV", "production"), ("ARC_LOCAL", "1")]),
        None
    );
    assert_eq!(
        stage(&[("ARC_ENV", "staging"), ("ARC_LOCAL", "false")]),
        None,
        "any value is local, as in JavaScript"
    );
    assert_eq!(
        stage(&[("ARC_ENV", "staging"), ("ARC_LOCAL", "")]).as_deref(),
        Some("staging")
    );
}

/// The free `url()` reads the process environment once; each environment runs in a child
/// process of this test binary (below), since a test cannot change its own environment safely.
#[test]
fn the_free_url_follows_architect_in_each_environment() {
    let cases = [
        (&[("ARC_ENV", "staging")][..], "/staging/a?b=1"),
        (&[("ARC_ENV", "production")][..], "/production/a?b=1"),
        (&[("ARC_ENV", "testing")][..], "/a?b=1"),
        (&[][..], "/a?b=1"),
        (
            &[("ARC_ENV", "production"), ("ARC_LOCAL", "true")][..],
            "/a?b=1",
        ),
    ];
    for (vars, expected) in cases {
        let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                "free_url_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env_remove("ARC_ENV")
            .env_remove("ARC_LOCAL")
            .envs(vars.iter().copied())
            .env("PARITY_URL_CHILD", "1")
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{vars:?}: {stdout}");
        assert!(
            stdout.contains(&format!("url=<{expected}>")),
            "{vars:?}: {stdout}"
        );
    }
}

/// Run by the test above in a child process; prints what `url()` answers there.
#[test]
fn free_url_child() {
    if std::env::var_os("PARITY_URL_CHILD").is_some() {
        println!("url=<{}>", http::url("/a?b=1"));
    }
}

// ---------------------------------------------------------------------------------------------
// The route key and the raw body

async fn route(req: Request) -> http::Result<Response> {
    Ok(Response::json(&json!({
        "resource": req.resource(),
        "raw": base64::engine::general_purpose::STANDARD.encode(req.raw_body()),
        "parsed": format!("{:?}", req.body),
    })))
}

async fn routed(event: lambda_http::Request) -> Value {
    let r = app(&[], route).handle(event).await;
    serde_json::from_str(&text(&r)).expect("JSON")
}

#[tokio::test]
async fn the_route_key_of_every_event_type() {
    assert_eq!(routed(event(V1, |_| {})).await["resource"], "/{proxy+}");
    assert_eq!(routed(event(V2, |_| {})).await["resource"], "$default");
    assert_eq!(
        routed(event(V2_SAM_LOCAL, |_| {})).await["resource"],
        "/hello"
    );
    let notes = event(V2, |e| {
        e["routeKey"] = json!("GET /notes/{id}");
        e["requestContext"]["routeKey"] = json!("GET /notes/{id}");
        e["rawPath"] = json!("/notes/42");
    });
    assert_eq!(routed(notes).await["resource"], "/notes/{id}");
    let notes = event(V1, |e| {
        e["resource"] = json!("/notes/{id}");
        e["requestContext"]["resourcePath"] = json!("/notes/{id}");
    });
    assert_eq!(routed(notes).await["resource"], "/notes/{id}");
    assert_eq!(
        routed(event(FUNCTION_URL, |_| {})).await["resource"],
        "$default"
    );
    assert_eq!(routed(event(ALB, |_| {})).await["resource"], Value::Null);
}

#[tokio::test]
async fn the_raw_body_is_kept_beside_the_parsed_one() {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    // v1 JSON, with the whitespace the client sent.
    let v = routed(event(V1_MULTI, |_| {})).await;
    assert_eq!(v["raw"], b64(b"{\r\n\t\"a\": 1\r\n}"));
    assert!(
        v["parsed"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Json(")
    );
    // A base64 form body (as API Gateway sends forms): raw is the decoded bytes.
    let form = event(V2, |e| {
        e["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
        e["body"] = json!(b64(b"a=1&a=%C3%A9"));
        e["isBase64Encoded"] = json!(true);
    });
    let v = routed(form).await;
    assert_eq!(v["raw"], b64(b"a=1&a=%C3%A9"));
    assert!(
        v["parsed"]
            .as_str()
            .unwrap_or_default()
            .contains("\"\u{e9}\""),
        "{v}"
    );
    // Text and no body.
    assert_eq!(
        routed(event(V2, |_| {})).await["raw"],
        b64(b"Hello from Lambda")
    );
    assert_eq!(routed(event(V1, |_| {})).await["raw"], "");
}
