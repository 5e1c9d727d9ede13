//! The axum layer and extractors (feature `axum`), on events as API Gateway sends them: read,
//! write, an unchanged session that writes nothing, regenerate, destroy, CSRF, flash, handler
//! errors; in both session modes. And one session, two styles: a per-route handler and an axum
//! router of the same application share sessions.
//!
//! The DynamoDB cases (`dynamodb::`) need the local DynamoDB `scripts/test` starts, so they
//! are `#[ignore]`d: it sets `ARC_TEST_DYNAMODB=1` and runs them with `--include-ignored`;
//! without dynalite they fail.

#![cfg(feature = "axum")]

use std::sync::Arc;

use arc_functions::axum::{CsrfForm, CsrfHeader, CsrfToken, Error, Flash, Session, SessionLayer};
use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::{Format, TestRequest, TestResponse};
use axum::Router;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use serde_json::json;

use crate::support::dynamodb::require_dynamodb;

const SECRET: &str = "axum-suite secret: 32 bytes or more";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Cookie,
    DynamoDb,
}

async fn store(mode: Mode) -> Arc<SessionStore> {
    let mut vars = vec![
        ("ARC_ENV".to_owned(), "testing".to_owned()),
        ("ARC_APP_SECRET".to_owned(), SECRET.to_owned()),
    ];
    if mode == Mode::DynamoDb {
        require_dynamodb();
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let table = format!(
            "axum-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        );
        let shared = aws_config::load_from_env().await;
        let client = aws_sdk_dynamodb::Client::new(&shared);
        crate::support::dynamodb::create_session_table(&client, &table).await;
        vars.push(("SESSION_TABLE_NAME".to_owned(), table));
        let config = Config::from_vars(vars).expect("config");
        return Arc::new(
            SessionStore::with_dynamodb_client(&config, client).expect("DynamoDB mode"),
        );
    }
    let config = Config::from_vars(vars).expect("config");
    Arc::new(SessionStore::new(&config))
}

async fn home(session: Session, flash: Flash) -> Html<String> {
    let count = session.get::<u64>("count").ok().flatten().unwrap_or(0);
    let notice = flash.get::<String>("notice").unwrap_or_default();
    Html(format!("count={count} notice={notice}"))
}

async fn count(session: Session) -> Result<Redirect, Error> {
    let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
    session.insert("count", count)?;
    Ok(Redirect::to("/"))
}

async fn form(CsrfToken(token): CsrfToken) -> Html<String> {
    Html(token)
}

#[derive(serde::Deserialize)]
struct Login {
    user: String,
}

async fn login(session: Session, CsrfForm(form): CsrfForm<Login>) -> Result<Redirect, Error> {
    session.regenerate();
    session.insert("user", &form.user)?;
    session.flash("notice", format!("welcome {}", form.user))?;
    Ok(Redirect::to("/"))
}

async fn api(_: CsrfHeader) -> &'static str {
    "accepted"
}

async fn logout(session: Session) -> Redirect {
    session.destroy();
    Redirect::to("/")
}

async fn broken(session: Session) -> Result<String, Error> {
    session.insert("count", 1000)?;
    Err("the database is on fire".into())
}

async fn public(session: Session) -> Result<impl axum::response::IntoResponse, Error> {
    session.insert("count", 1)?;
    Ok((
        [("cache-control", "public, max-age=600, s-maxage=86400")],
        "cached?",
    ))
}

async fn forget(session: Session) -> String {
    format!("removed={:?}", session.remove("count"))
}

async fn clear(session: Session) -> &'static str {
    session.clear();
    "cleared"
}

async fn panics(session: Session) -> String {
    let _ = session.insert("count", 1000);
    panic!("a bug")
}

fn app(store: &Arc<SessionStore>) -> Router {
    let routes = Router::new()
        .route("/", get(home))
        .route("/page", get(home))
        .route("/count", post(count))
        .route("/form", get(form))
        .route("/login", post(login))
        .route("/api", post(api))
        .route("/logout", post(logout))
        .route("/broken", post(broken))
        .route("/panics", post(panics))
        .route("/public", post(public))
        .route("/forget", post(forget))
        .route("/clear", post(clear));
    // lambda_http puts a REST API's stage in the path (unless
    // AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH=true): the test events' stage is `prod`.
    Router::new()
        .merge(routes.clone())
        .nest("/prod", routes)
        .layer(SessionLayer::new(Arc::clone(store)))
}

async fn send(store: &Arc<SessionStore>, request: TestRequest) -> TestResponse {
    request.send_to(app(store)).await.expect("a response")
}

async fn read_write_and_unchanged(mode: Mode) {
    let store = store(mode).await;
    let r = send(&store, TestRequest::get("/")).await;
    assert_eq!((r.status(), r.text().as_str()), (200, "count=0 notice="));
    assert_eq!(r.session_cookie(), None, "reading only writes nothing");

    let r = send(&store, TestRequest::post("/count")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.header("cache-control"), Some("private, no-store"));
    // A handler's own Cache-Control is kept within private, as async_handler keeps it.
    let r = send(&store, TestRequest::post("/public")).await;
    assert!(r.session_cookie().is_some());
    assert_eq!(r.header("cache-control"), Some("private, max-age=600"));
    let cookie = r.session_cookie().expect("written");
    assert_eq!(
        r.session(&store)
            .await
            .expect("read")
            .get::<u64>("count")
            .expect("n"),
        Some(1)
    );

    for format in [Format::HttpApi, Format::RestApi, Format::FunctionUrl] {
        let r = send(
            &store,
            TestRequest::get("/page").format(format).cookie(&cookie),
        )
        .await;
        assert_eq!(r.text(), "count=1 notice=", "{format:?}");
        assert_eq!(
            r.session_cookie(),
            None,
            "{format:?}: unchanged, not written"
        );
    }
    let r = send(&store, TestRequest::post("/count").cookie(&cookie)).await;
    let again = r.session_cookie().expect("rewritten");
    let r = send(&store, TestRequest::get("/").cookie(&again)).await;
    assert_eq!(r.text(), "count=2 notice=");
}

async fn csrf_flash_regenerate_destroy(mode: Mode) {
    let store = store(mode).await;
    let r = send(&store, TestRequest::get("/form")).await;
    let token = r.text();
    let cookie = r.session_cookie().expect("the binding is stored");
    // A second token in the same session writes nothing: the binding is there.
    let r = send(&store, TestRequest::get("/form").cookie(&cookie)).await;
    assert_eq!(r.session_cookie(), None);

    let refused = [
        TestRequest::post("/login")
            .cookie(&cookie)
            .form(&[("user", "ann")]),
        TestRequest::post("/login")
            .cookie(&cookie)
            .form(&[("user", "ann"), ("_csrf", "1.forged")]),
        TestRequest::post("/login").form(&[("user", "ann"), ("_csrf", &token)]),
        TestRequest::post("/api").cookie(&cookie),
    ];
    for request in refused {
        let r = send(&store, request).await;
        assert_eq!(r.status(), 403, "{}", r.text());
        assert_eq!(r.session_cookie(), None);
    }
    let r = send(
        &store,
        TestRequest::post("/api")
            .cookie(&cookie)
            .header("x-csrf-token", &token),
    )
    .await;
    assert_eq!((r.status(), r.text().as_str()), (200, "accepted"));

    let r = send(
        &store,
        TestRequest::post("/login")
            .cookie(&cookie)
            .form(&[("user", "ann"), ("_csrf", &token)]),
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text());
    let logged_in = r.session_cookie().expect("regenerated");
    assert_ne!(logged_in, cookie, "a new cookie after the login");
    let session = r.session(&store).await.expect("read");
    assert_eq!(
        session.get::<String>("user").expect("text").as_deref(),
        Some("ann")
    );
    if mode == Mode::DynamoDb {
        let old = send(&store, TestRequest::get("/").cookie(&cookie)).await;
        assert_eq!(old.text(), "count=0 notice=", "the old id is gone");
    }
    let r = send(&store, TestRequest::get("/").cookie(&logged_in)).await;
    assert_eq!(r.text(), "count=0 notice=welcome ann", "the flash, once");
    let after = r.session_cookie().expect("written back without the flash");
    let r = send(&store, TestRequest::get("/").cookie(&after)).await;
    assert_eq!(r.text(), "count=0 notice=", "and never again");
    assert_eq!(r.session_cookie(), None, "nothing left to clear");

    let r = send(&store, TestRequest::post("/logout").cookie(&after)).await;
    let ended = r.session_cookie().expect("expired");
    assert_eq!(ended, "_idx=");
    let set_cookie = r.header("set-cookie").expect("set-cookie");
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    if mode == Mode::DynamoDb {
        let r = send(&store, TestRequest::get("/").cookie(&after)).await;
        assert_eq!(r.text(), "count=0 notice=", "the item is deleted");
    }
}

async fn errors(mode: Mode) {
    let store = store(mode).await;
    for path in ["/broken", "/panics"] {
        let r = send(&store, TestRequest::post(path)).await;
        assert_eq!(r.status(), 500, "{path}");
        assert!(
            r.text().contains("something went wrong"),
            "{path}: {}",
            r.text()
        );
        assert!(
            !r.text().contains("fire"),
            "{path}: no detail to the client"
        );
        assert_eq!(
            r.session_cookie(),
            None,
            "{path}: a failed request writes no session"
        );
    }
    // The router lives on after a panic.
    let r = send(&store, TestRequest::get("/")).await;
    assert_eq!(r.status(), 200);
}

async fn remove_and_clear(mode: Mode) {
    let store = store(mode).await;
    let counted = send(&store, TestRequest::post("/count")).await;
    let cookie = counted.session_cookie().expect("counted");
    let r = send(&store, TestRequest::post("/forget").cookie(&cookie)).await;
    assert_eq!(r.text(), "removed=Some(Number(1))");
    let forgotten = r
        .session_cookie()
        .expect("a removal is a change, written back");
    let r = send(&store, TestRequest::get("/").cookie(&forgotten)).await;
    assert_eq!(r.text(), "count=0 notice=", "the removal was saved");
    // Removing what is not there changes nothing, so nothing is written.
    let r = send(&store, TestRequest::post("/forget").cookie(&forgotten)).await;
    assert_eq!(r.text(), "removed=None");
    assert_eq!(r.session_cookie(), None);

    let r = send(&store, TestRequest::post("/clear").cookie(&cookie)).await;
    assert_eq!(r.text(), "cleared");
    let cleared = r
        .session_cookie()
        .expect("clearing is a change, written back");
    let session = send(&store, TestRequest::get("/").cookie(&cleared)).await;
    assert_eq!(session.text(), "count=0 notice=", "the clearing was saved");
}

/// The same application in two styles: per-route handlers and one router, one store config.
async fn two_styles(mode: Mode) {
    let store = store(mode).await;
    async fn per_route_count(req: Request) -> http::Result<Response> {
        let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
        Ok(Response::redirect("/").session(json!({ "count": count })))
    }
    let handler = Handler::with_store(Arc::clone(&store), per_route_count);

    let r = TestRequest::post("/count")
        .send(&handler)
        .await
        .expect("reply");
    let cookie = r
        .session_cookie()
        .expect("written by the per-route handler");
    let r = send(&store, TestRequest::post("/count").cookie(&cookie)).await;
    let cookie = r.session_cookie().expect("written by the router");
    let r = TestRequest::post("/count")
        .cookie(&cookie)
        .send(&handler)
        .await
        .expect("reply");
    let cookie = r
        .session_cookie()
        .expect("written by the per-route handler");
    let r = send(&store, TestRequest::get("/").cookie(&cookie)).await;
    assert_eq!(
        r.text(),
        "count=3 notice=",
        "three counts, alternating styles"
    );
}

macro_rules! suite {
    ($name:ident, $mode:expr $(, #[$needs:meta])?) => {
        mod $name {
            use super::*;

            #[tokio::test]
            $(#[$needs])?
            async fn read_write_and_an_unchanged_session_writes_nothing() {
                read_write_and_unchanged($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn csrf_flash_regenerate_and_destroy() {
                csrf_flash_regenerate_destroy($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn handler_errors_and_panics_are_a_generic_500_without_a_session() {
                errors($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn a_removal_or_a_clearing_is_written_back() {
                remove_and_clear($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn a_per_route_handler_and_a_router_share_sessions() {
                two_styles($mode).await;
            }
        }
    };
}

suite!(cookie, Mode::Cookie);

// `store` checks for the server first, so that without it these fail saying so.
suite!(
    dynamodb,
    Mode::DynamoDb,
    #[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
);

/// A handler can print its session to see what it holds.
#[tokio::test]
async fn a_session_shows_its_data_in_debug_output_and_copies() {
    async fn show(session: Session) -> String {
        format!("{session:?}")
    }
    async fn snapshot(session: Session) -> String {
        let copy = session.snapshot();
        session.insert("count", 100).expect("a number");
        let count = copy.get::<u64>("count").ok().flatten();
        format!("a copy: {count:?}")
    }
    let store = store(Mode::Cookie).await;
    let app = Router::new()
        .route("/show", get(show))
        .route("/snapshot", get(snapshot))
        .route("/count", post(count))
        .layer(SessionLayer::new(Arc::clone(&store)));
    let counted = TestRequest::post("/count")
        .send_to(app.clone())
        .await
        .expect("a response");
    let cookie = counted.session_cookie().expect("counted");
    let shown = TestRequest::get("/show")
        .cookie(&cookie)
        .send_to(app.clone())
        .await
        .expect("a response")
        .text();
    assert!(shown.starts_with("Session(Session {"), "{shown}");
    assert!(shown.contains(r#""count": Number(1)"#), "{shown}");
    // A snapshot is the session as it was, apart from later changes.
    let copied = TestRequest::get("/snapshot")
        .cookie(&cookie)
        .send_to(app)
        .await
        .expect("a response");
    assert_eq!(copied.text(), "a copy: Some(1)");
}

#[test]
fn a_handlers_error_shows_its_cause_in_debug_output() {
    let error = Error::from("the database is on fire");
    assert_eq!(format!("{error:?}"), r#"Error("the database is on fire")"#);
}

#[tokio::test]
async fn a_route_without_the_layer_is_a_500_saying_so_in_the_log() {
    let app: Router = Router::new().route("/", get(home));
    let r = TestRequest::get("/")
        .send_to(app)
        .await
        .expect("a response");
    assert_eq!(r.status(), 500);
}

/// The layer asks the service it wraps whether it is ready before each call, as tower
/// services with a limit or a queue need.
#[tokio::test]
async fn the_layer_readies_what_it_wraps_before_calling_it() {
    use tower_layer::Layer;
    let store = store(Mode::Cookie).await;
    let routes = crate::support::MustBeReady::new(Router::new().route("/count", post(count)));
    let service = SessionLayer::new(Arc::clone(&store)).layer(routes);
    for _ in 0..2 {
        let r = TestRequest::post("/count")
            .send_to(service.clone())
            .await
            .expect("a response");
        assert_eq!(r.status(), 303, "{}", r.text());
    }
}

/// The layer needs no Lambda: the same router under a plain `axum::serve`, as on a developer's
/// machine, over real HTTP/1.1.
#[tokio::test]
async fn the_layer_serves_under_a_plain_axum_serve() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let store = store(Mode::Cookie).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(axum::serve(listener, app(&store)).into_future());
    let exchange = |request: String| async move {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        stream.write_all(request.as_bytes()).await.expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("receive");
        response
    };
    let posted = exchange(
        "POST /count HTTP/1.1\r\nHost: local\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .into(),
    )
    .await;
    assert!(posted.starts_with("HTTP/1.1 303"), "{posted}");
    let cookie = posted
        .lines()
        .find_map(|line| line.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let page = exchange(format!(
        "GET / HTTP/1.1\r\nHost: local\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    ))
    .await;
    assert!(page.ends_with("count=1 notice="), "{page}");
    server.abort();
}
