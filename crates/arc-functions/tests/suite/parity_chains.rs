//! `arc.http` parity on real API Gateway events: middleware chains. A step that stops early
//! answers and writes its session, a step passes typed values to the next, an error or panic
//! in the middle is a generic 500 with the cause logged, and `csrf::require` is a step like
//! any other. Needs nothing outside the process.

use arc_functions::http::{self, Flow, Request, Response};
use lambda_http::http::header::LOCATION;
use serde_json::{Value, json};

use crate::support::http::{V2, app, header, invoke, session_pair, set_cookies};
use crate::support::{capture_logs, event, logged};

/// A v2 event carrying `cookie`.
fn with_cookie(cookie: &str) -> String {
    let cookie = cookie.to_owned();
    event(V2, move |e| e["cookies"] = json!([cookie]))
}

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
    session_pair(&invoke(&login, &event(V2, |_| {})).await)
}

#[tokio::test]
async fn a_chain_that_stops_early_answers_from_the_step_and_writes_its_session() {
    let chain = app(&[], http::chain((require_login, load_cart, must_not_run)));
    let r = invoke(&chain, &event(V2, |_| {})).await;
    assert_eq!(r.status(), 302, "{}", r.text());
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
    let r = invoke(&app(&[], read_flash), &with_cookie(&cookie)).await;
    assert_eq!(r.text(), "Log in first.");
}

#[tokio::test]
async fn a_step_passes_typed_values_to_the_next() {
    let chain = app(&[], http::chain((require_login, load_cart, show_cart)));
    let cookie = signed_in("ann").await;
    let r = invoke(&chain, &with_cookie(&cookie)).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let body: Value = serde_json::from_str(&r.text()).expect("JSON");
    assert_eq!(body, json!({ "user": "ann", "cart": ["ann's book"] }));
    // The session changed in a step comes back with the handler's response.
    async fn visits(req: Request) -> http::Result<Response> {
        let user = req.session.get::<String>("user")?.unwrap_or_default();
        let visits = req.session.get::<u64>("visits")?.unwrap_or(0);
        Ok(Response::text(format!("{user} {visits}")))
    }
    let next = session_pair(&r);
    let r = invoke(&app(&[], visits), &with_cookie(&next)).await;
    assert_eq!(r.text(), "ann 1");
}

#[tokio::test]
async fn an_error_in_the_middle_is_a_generic_500_with_the_cause_logged() {
    let chain = app(&[], http::chain((require_login, load_cart, must_not_run)));
    let cookie = signed_in("broken").await;
    let (logs, _guard) = capture_logs();
    let r = invoke(&chain, &with_cookie(&cookie)).await;
    assert_eq!(r.status(), 500);
    assert!(r.text().contains("500 Internal Server Error"));
    assert!(!r.text().contains("hunter2"), "the cause stays in the log");
    assert!(set_cookies(&r).is_empty(), "no session cookie on a 500");
    let log = logged(&logs);
    assert!(
        log.contains("the cart database password is hunter2"),
        "{log}"
    );

    // A panicking step: the same, and the chain serves the next request.
    let cookie = signed_in("panics").await;
    let r = invoke(&chain, &with_cookie(&cookie)).await;
    assert_eq!(r.status(), 500);
    assert!(!r.text().contains("hunter2"));
    assert!(set_cookies(&r).is_empty());
    let log = logged(&logs);
    assert!(log.contains("a step panicked with hunter2"), "{log}");
    let r = invoke(&chain, &event(V2, |_| {})).await;
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
    let r = invoke(
        &form,
        &event(V2, |e| e["requestContext"]["http"]["method"] = json!("GET")),
    )
    .await;
    let (cookie, token) = (session_pair(&r), r.text());
    let post = |body: String| {
        let cookie = cookie.clone();
        event(V2, move |e| {
            e["cookies"] = json!([cookie]);
            e["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
            e["body"] = json!(body);
        })
    };
    let r = invoke(&chain, &post("_csrf=wrong".into())).await;
    assert_eq!(r.status(), 403);
    let r = invoke(&chain, &post(format!("_csrf={token}"))).await;
    assert_eq!((r.status(), r.text()), (200, "done".into()));
}
