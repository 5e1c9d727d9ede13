//! The guide's counter as one axum app: `GET /` shows the count, `POST /count` and
//! `POST /reset` change it, `GET /login` and `POST /login` sign in (CSRF-checked, with a
//! flash message), `POST /logout` ends the session.
//!
//! Links, forms and redirects are relative (`count`, `./`), so the same app works at the
//! root of a deployed function and under `cargo lambda watch`'s `/lambda-url/axum-counter/`.

use arc_functions::axum::{CsrfForm, CsrfToken, Error, Flash, Session, SessionLayer};
use arc_functions::http::html::escape;
use axum::Router;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};

/// The app, its sessions kept by `layer`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::{axum::SessionLayer, config::Config, http::session::SessionStore};
///
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let app = example_axum_counter::app(SessionLayer::new(store));
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
pub fn app(layer: SessionLayer) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/count", post(count))
        .route("/reset", post(reset))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .layer(layer)
}

fn hidden(token: &str) -> String {
    format!(
        r#"<input type="hidden" name="_csrf" value="{}">"#,
        escape(token)
    )
}

async fn home(
    session: Session,
    flash: Flash,
    CsrfToken(token): CsrfToken,
) -> Result<Html<String>, Error> {
    let count = session.get::<u64>("count")?.unwrap_or(0);
    let user = session.user();
    let notice = flash
        .get::<String>("notice")
        .map(|n| format!(r#"<p role="status">{}</p>"#, escape(&n)))
        .unwrap_or_default();
    let who = match user {
        Some(user) => format!(
            r#"<p>Signed in as {}</p><form method="post" action="logout">{}<button>Sign out</button></form>"#,
            escape(&user),
            hidden(&token)
        ),
        None => r#"<p><a href="login">Sign in</a></p>"#.to_owned(),
    };
    let csrf = hidden(&token);
    Ok(Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Counter (axum)</title></head>
<body>
{notice}
<form method="post" action="count">{csrf}<button>Count {count}</button></form>
<form method="post" action="reset">{csrf}<button>Reset</button></form>
{who}
</body></html>
"#
    )))
}

#[derive(serde::Deserialize)]
struct Empty {}

async fn count(session: Session, _: CsrfForm<Empty>) -> Result<Redirect, Error> {
    let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
    session.insert("count", count)?;
    Ok(Redirect::to("./"))
}

async fn reset(session: Session, _: CsrfForm<Empty>) -> Redirect {
    session.remove("count");
    Redirect::to("./")
}

async fn login_form(CsrfToken(token): CsrfToken) -> Html<String> {
    Html(format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body><form method="post" action="login">{}<label>Name <input name="user" required></label><button>Sign in</button></form></body></html>
"#,
        hidden(&token)
    ))
}

#[derive(serde::Deserialize)]
struct Login {
    user: String,
}

async fn login(session: Session, CsrfForm(form): CsrfForm<Login>) -> Result<Redirect, Error> {
    // A new id on sign-in, so a session fixed before it is worth nothing after. A name is all
    // this demo asks, so there is no credential whose change a stamp would track.
    session.sign_in(&form.user, "")?;
    session.flash("notice", format!("Welcome, {}!", form.user))?;
    Ok(Redirect::to("./"))
}

async fn logout(session: Session, _: CsrfForm<Empty>) -> Redirect {
    session.sign_out();
    Redirect::to("./")
}
