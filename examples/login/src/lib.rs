//! A login flow on arc-functions, in one Lambda that routes on the path:
//!
//! - `GET /` greets the signed-in user, or links to the login page;
//! - `GET /login` shows the form, with a CSRF token and the last error as a flash message;
//! - `POST /login` checks the password, then regenerates the session (no fixation) and
//!   remembers the user, for 30 days when "remember me" is ticked and until the browser closes
//!   when not, or flashes an error and shows the form again; attempts are throttled (`main`
//!   puts [`Throttle::step`](arc_functions::throttle::Throttle::step) before it), and a
//!   sign-in clears the count;
//! - `GET /account` is for signed-in users only ([`require_login`] sends others to the login
//!   page);
//! - `POST /logout` destroys the session.
//!
//! `main` chains the steps: the CSRF check ([`arc_functions::http::csrf::require`]), the
//! sign-in throttle, then [`require_login`], then [`app`]. Links, forms and redirects go through `req.url`, so they
//! keep the stage when the app is served from a REST API's execute-api address.

use std::time::Duration;

use arc_functions::http::html::escape;
use arc_functions::http::session::Expiry;
use arc_functions::http::{self, Flow, Request, Response};
use arc_functions::throttle::Attempt;

/// How long "remember me" keeps a user signed in without a visit.
const REMEMBER: Duration = Duration::from_secs(30 * 86_400);

/// Stands in for a user database: name, password, credential stamp (drawn anew with every
/// password change, which ends the sessions signed in before it).
const USERS: &[(&str, &str, &str)] = &[("ann", "correct horse", "ann-stamp-1")];

/// The signed-in user, put in the request by [`require_login`] for the routes after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User(pub String);

/// Paths anyone may see; every other one needs a signed-in user.
const PUBLIC: &[&str] = &["/", "/login"];

/// A chain step: lets requests for the public paths (`/`, `/login`) through, and others only with a user in
/// the session, whom it hands on as a [`User`]; anyone else is sent to the login page with a
/// flash message.
///
/// # Errors
///
/// When the flash message cannot be stored (it always can).
///
/// # Examples
///
/// ```
/// use arc_functions::http::{self, Flow, Request, Response};
///
/// async fn account(req: Request) -> http::Result<Response> {
///     let user = req.extensions.get::<example_login::User>().ok_or("require_login first")?;
///     Ok(Response::text(user.0.clone()))
/// }
/// let only_users = http::chain((example_login::require_login, account));
/// # drop(only_users);
/// ```
pub async fn require_login(mut req: Request) -> http::Result<Flow> {
    if let Some(user) = req.session.user() {
        req.extensions.insert(User(user.to_owned()));
    } else if !PUBLIC.contains(&req.path.as_str()) {
        req.session.flash("error", "Log in to see that page.")?;
        let login = req.url("/login");
        return Ok(Flow::Break(Response::redirect(login).session(req.session)));
    }
    Ok(Flow::Continue(req))
}

/// Every route of the example; put the CSRF check and [`require_login`] before it.
///
/// # Errors
///
/// When the session cannot hold a value (it always can here).
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, csrf};
///
/// # async fn run() -> Result<(), lambda_http::Error> {
/// let app = http::chain((csrf::require, example_login::require_login, example_login::app));
/// http::run(http::async_handler(app)).await
/// # }
/// ```
pub async fn app(mut req: Request) -> http::Result<Response> {
    let user = req.extensions.get::<User>().cloned();
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => Ok(match user {
            Some(User(user)) => Response::html(page(&format!(
                "<p>Hello, {}. <a href={}>Your account</a></p><form method=post action={}><input type=hidden name=_csrf value=\"{}\"><button>Log out</button></form>",
                escape(&user),
                req.url("/account"),
                req.url("/logout"),
                req.csrf_token()?
            )))
            .session(req.session),
            None => Response::html(page(&format!(
                "<p><a href={}>Log in</a></p>",
                req.url("/login")
            ))),
        }),
        // Only signed-in users get here: require_login put the user in.
        ("GET", "/account") => {
            let User(user) = user.ok_or("require_login runs before app")?;
            Ok(Response::html(page(&format!(
                "<p>Signed in as {}.</p><p><a href={}>Home</a></p>",
                escape(&user),
                req.url("/")
            ))))
        }
        ("GET", "/login") => {
            let error = req.flash::<String>("error").unwrap_or_default();
            let token = req.csrf_token()?;
            Ok(Response::html(page(&format!(
                "<p class=error>{}</p><form method=post action={}><input type=hidden name=_csrf value=\"{token}\"><input name=user><input name=password type=password><label><input type=checkbox name=remember value=1> Remember me</label><button>Log in</button></form>",
                escape(&error),
                req.url("/login")
            )))
            .session(req.session))
        }
        ("POST", "/login") => {
            let form = req.body.form();
            let user = form.and_then(|f| f.get("user")).unwrap_or_default();
            let password = form.and_then(|f| f.get("password")).unwrap_or_default();
            if let Some((user, _, stamp)) = USERS.iter().find(|(u, p, _)| (*u, *p) == (user, password)) {
                let remember = form.and_then(|f| f.get("remember")).is_some();
                // A right password starts the throttle's count afresh.
                if let Some(attempt) = req.extensions.get::<Attempt>() {
                    attempt.succeeded().await?;
                }
                // A new id after login: an id planted before it is now worthless.
                req.session.sign_in(user, stamp)?;
                req.session.set_expiry(if remember {
                    Expiry::Idle(REMEMBER)
                } else {
                    Expiry::BrowserSession
                });
                Ok(Response::redirect(req.url("/")).session(req.session))
            } else {
                req.session.flash("error", "Wrong user or password.")?;
                Ok(Response::redirect(req.url("/login")).session(req.session))
            }
        }
        ("POST", "/logout") => {
            req.session.sign_out();
            Ok(Response::redirect(req.url("/login")).session(req.session))
        }
        _ => Ok(Response::html(page("<p>Not found.</p>")).status(404)),
    }
}

fn page(body: &str) -> String {
    format!("<!doctype html>\n<html>\n<body>\n{body}\n</body>\n</html>\n")
}
