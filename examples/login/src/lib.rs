//! Users on arc-functions, in one Lambda that routes on the last segment of the path, so the
//! same code serves `/login` (the `login` binary alone) and `/auth/login` (the app's
//! `get /auth/*` and `post /auth/*` routes in `app.arc`):
//!
//! - `signup` and `login`: forms with a CSRF token and the last error as a flash message;
//!   users live in the app's `@tables users` table with Argon2id password hashes ([`Users`]);
//!   signing in is [`Session::sign_in`](arc_functions::http::session::Session::sign_in) (a new
//!   id, the user and their credential stamp), for 30 days with "remember me" and until the
//!   browser closes without; attempts are throttled (`main` puts
//!   [`Throttle::step`](arc_functions::throttle::Throttle::step) before `login`), and a sign-in
//!   clears the count;
//! - `account`, for signed-in users only ([`require_login`]): the device list (DynamoDB
//!   sessions), a button per other device and "Sign out everywhere", whose other pages show
//!   at once that they were signed out (their sockets get [`pages::SIGNED_OUT`], then close),
//!   and a password change, which ends every other session;
//! - `logout` signs out.
//!
//! `main` chains the steps: the CSRF check ([`arc_functions::http::csrf::require`]), the
//! users table ([`with_users`]), the sign-in throttle, [`require_login`], then [`app`]; and it
//! registers [`Users::stamp`] with the store, so a password change ends the sessions signed in
//! before it, in either session mode.

pub mod pages;
mod users;

use std::time::Duration;

use arc_functions::http::html::escape;
use arc_functions::http::session::{self, Expiry};
use arc_functions::http::{self, Flow, Request, Response};
use arc_functions::throttle::Attempt;
use serde_json::json;

pub use users::{TABLE_VARIABLE, User, Users};

/// Serves the example: the chain of steps and [`app`], with [`Users::stamp`] checked on every
/// read of a signed-in session. What the `login` binary and the app's `/auth/*` routes run.
///
/// # Errors
///
/// When the runtime fails. A missing table stops the process at start-up, saying what to set.
///
/// # Examples
///
/// ```no_run
/// fn main() -> Result<(), lambda_http::Error> {
///     example_login::start()
/// }
/// ```
pub fn start() -> Result<(), lambda_http::Error> {
    use arc_functions::http::csrf;
    use arc_functions::throttle::Throttle;

    let throttle = Throttle::from_env_or_exit();
    let users = match Users::from_env() {
        Ok(users) => users,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let stamps = users.clone();
    let handler = http::async_handler(http::chain((
        csrf::require,
        with_users(users),
        // The `login` binary alone, and the app's `/auth/*` routes.
        throttle.step("/login", "user"),
        throttle.step("/auth/login", "user"),
        require_login,
        app,
    )))
    .check_stamps(move |name: String| {
        let users = stamps.clone();
        async move { users.stamp(&name).await }
    });
    http::start(handler)
}

/// How long "remember me" keeps a user signed in without a visit.
const REMEMBER: Duration = Duration::from_secs(30 * 86_400);

/// The shortest password a sign-up takes.
const MIN_PASSWORD: usize = 8;

/// The signed-in user, put in the request by [`require_login`] for the routes after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedIn(pub String);

/// Pages anyone may see; every other one needs a signed-in user.
const PUBLIC: &[&str] = &["", "login", "signup"];

/// The last segment of the request's path: what the app routes on.
fn segment(req: &Request) -> &str {
    req.path.rsplit('/').next().unwrap_or_default()
}

/// The URL of the page `name` beside this one (`/auth/login` → `/auth/account`), stage
/// included.
fn sibling(req: &Request, name: &str) -> String {
    let dir = req.path.rsplit_once('/').map_or("", |(dir, _)| dir);
    req.url(&format!("{dir}/{name}"))
}

/// A chain step that hands the users table to the steps after it, in the request's
/// extensions.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{self, csrf};
///
/// let users = example_login::Users::new("bigsesh-users", None)?;
/// let app = http::chain((
///     csrf::require,
///     example_login::with_users(users),
///     example_login::require_login,
///     example_login::app,
/// ));
/// # drop(app);
/// # Ok::<(), arc_functions::http::session::BoxError>(())
/// ```
pub fn with_users(
    users: Users,
) -> impl Fn(Request) -> std::future::Ready<http::Result<Flow>> + Send + Sync + 'static {
    move |mut req: Request| {
        req.extensions.insert(users.clone());
        std::future::ready(Ok(Flow::Continue(req)))
    }
}

/// A chain step: lets requests for the public pages (the home page, `login`, `signup`)
/// through, and others only with a signed-in user, whom it hands on as [`SignedIn`]; anyone
/// else is sent to the login page with a flash message.
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
///     let user = req.extensions.get::<example_login::SignedIn>().ok_or("require_login first")?;
///     Ok(Response::text(user.0.clone()))
/// }
/// let only_users = http::chain((example_login::require_login, account));
/// # drop(only_users);
/// ```
pub async fn require_login(mut req: Request) -> http::Result<Flow> {
    if let Some(user) = req.session.user() {
        req.extensions.insert(SignedIn(user.to_owned()));
    } else if !PUBLIC.contains(&segment(&req)) {
        req.session.flash("error", "Log in to see that page.")?;
        let login = sibling(&req, "login");
        return Ok(Flow::Break(Response::redirect(login).session(req.session)));
    }
    Ok(Flow::Continue(req))
}

/// Every page of the example; put the CSRF check, [`with_users`] and [`require_login`] before
/// it.
///
/// # Errors
///
/// When the users table or the session table fails, or [`with_users`] did not run.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, csrf};
///
/// # fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let users = example_login::Users::from_env()?;
/// let app = http::chain((csrf::require, example_login::with_users(users), example_login::require_login, example_login::app));
/// http::start(http::async_handler(app))?;
/// # Ok(())
/// # }
/// ```
pub async fn app(mut req: Request) -> http::Result<Response> {
    let user = req.extensions.get::<SignedIn>().cloned();
    let users = req
        .extensions
        .get::<Users>()
        .cloned()
        .ok_or("with_users runs before app")?;
    let notice = json!({ "signedOut": pages::SIGNED_OUT });
    let get = req.method == "GET";
    match (get, segment(&req).to_owned().as_str(), user) {
        (true, "", Some(SignedIn(user))) => Ok(Response::html(pages::page(
            &format!(
                "<p>Hello, {}. <a href={}>Your account</a></p><form method=post action={}>{}<button>Log out</button></form>",
                escape(&user),
                sibling(&req, "account"),
                sibling(&req, "logout"),
                pages::csrf(&req.csrf_token()?)
            ),
            req.socket_url().as_deref(),
        ))
        .session(req.session)),
        (true, "", None) => Ok(Response::html(pages::page(
            &format!(
                "<p><a href={}>Log in</a> or <a href={}>sign up</a></p>",
                sibling(&req, "login"),
                sibling(&req, "signup")
            ),
            None,
        ))),
        (true, page @ ("login" | "signup"), _) => {
            let error = req.flash::<String>("error").unwrap_or_default();
            let token = req.csrf_token()?;
            let (button, other, remember) = if page == "login" {
                (
                    "Log in",
                    format!("<a href={}>Sign up</a>", sibling(&req, "signup")),
                    "<label><input type=checkbox name=remember value=1> Remember me</label>",
                )
            } else {
                (
                    "Sign up",
                    format!("<a href={}>Log in</a>", sibling(&req, "login")),
                    "",
                )
            };
            Ok(Response::html(pages::page(
                &format!(
                    "<p class=error>{}</p><form method=post action={}>{}<input name=user autocomplete=username><input name=password type=password>{remember}<button>{button}</button></form><p>{other}</p>",
                    escape(&error),
                    sibling(&req, page),
                    pages::csrf(&token)
                ),
                None,
            ))
            .session(req.session))
        }
        (false, "login", _) => {
            let form = req.body.form();
            let name = form.and_then(|f| f.get("user")).unwrap_or_default().to_owned();
            let password = form.and_then(|f| f.get("password")).unwrap_or_default().to_owned();
            let remember = form.and_then(|f| f.get("remember")).is_some();
            let Some(user) = users.verify(&name, &password).await? else {
                req.session.flash("error", "Wrong user or password.")?;
                return Ok(Response::redirect(sibling(&req, "login")).session(req.session));
            };
            // A right password starts the throttle's count afresh.
            if let Some(attempt) = req.extensions.get::<Attempt>() {
                attempt.succeeded().await?;
            }
            // A new id: an id planted before the sign-in is worthless after it.
            req.session.sign_in(&user.name, &user.stamp)?;
            req.session.set_expiry(if remember {
                Expiry::Idle(REMEMBER)
            } else {
                Expiry::BrowserSession
            });
            Ok(Response::redirect(sibling(&req, "account")).session(req.session))
        }
        (false, "signup", _) => {
            let form = req.body.form();
            let name = form.and_then(|f| f.get("user")).unwrap_or_default().trim().to_owned();
            let password = form.and_then(|f| f.get("password")).unwrap_or_default().to_owned();
            let refusal = if name.is_empty() || name.len() > 64 {
                Some("Choose a name of 1 to 64 characters.")
            } else if password.chars().count() < MIN_PASSWORD {
                Some("Choose a password of 8 characters or more.")
            } else {
                None
            };
            let created = match refusal {
                Some(_) => None,
                None => users.sign_up(&name, &password).await?,
            };
            let Some(user) = created else {
                req.session
                    .flash("error", refusal.unwrap_or("That name is taken."))?;
                return Ok(Response::redirect(sibling(&req, "signup")).session(req.session));
            };
            req.session.sign_in(&user.name, &user.stamp)?;
            req.session.set_expiry(Expiry::BrowserSession);
            Ok(Response::redirect(sibling(&req, "account")).session(req.session))
        }
        // Only signed-in users get past here: require_login put the user in.
        (true, "account", Some(SignedIn(user))) => {
            let token = req.csrf_token()?;
            let flash = req.flash::<String>("notice").unwrap_or_default();
            let devices = match req.devices().await {
                Ok(devices) => pages::devices(&devices, &sibling(&req, "end"), &token),
                Err(session::Error::CookieSessions) => {
                    "<p>Sessions are sealed in the cookie: no device list (keep sessions in DynamoDB to have one).</p>".to_owned()
                }
                Err(e) => return Err(e.into()),
            };
            let form = |page: &str, fields: &str, button: &str| {
                format!(
                    "<form method=post action={}>{}{fields}<button>{button}</button></form>",
                    sibling(&req, page),
                    pages::csrf(&token)
                )
            };
            let body = format!(
                "<p role=status>{}</p><p>Signed in as {}.</p><h2>Devices</h2>{devices}{}<h2>Password</h2>{}{}",
                escape(&flash),
                escape(&user),
                form("everywhere", "", "Sign out everywhere"),
                form("password", "<input name=password type=password autocomplete=new-password>", "Change password"),
                form("logout", "", "Log out"),
            );
            Ok(Response::html(pages::page(&body, req.socket_url().as_deref())).session(req.session))
        }
        (false, "end", Some(_)) => {
            let handle = req
                .body
                .form()
                .and_then(|f| f.get("handle"))
                .unwrap_or_default()
                .to_owned();
            if req.sign_out_device(&handle, notice).await? {
                req.session.flash("notice", "That device is signed out.")?;
            }
            Ok(Response::redirect(sibling(&req, "account")).session(req.session))
        }
        (false, "everywhere", Some(_)) => {
            req.sign_out_everywhere(notice).await?;
            Ok(Response::redirect(sibling(&req, "login")).session(req.session))
        }
        (false, "password", Some(SignedIn(user))) => {
            let password = req
                .body
                .form()
                .and_then(|f| f.get("password"))
                .unwrap_or_default()
                .to_owned();
            if password.chars().count() < MIN_PASSWORD {
                req.session
                    .flash("notice", "Choose a password of 8 characters or more.")?;
                return Ok(Response::redirect(sibling(&req, "account")).session(req.session));
            }
            // The new stamp ends every session signed in before at its next request; the
            // others' pages are told now, and this one signs in afresh under the new stamp.
            let stamp = users.change_password(&user, &password).await?;
            match req.sign_out_others(notice).await {
                Ok(_) | Err(session::Error::CookieSessions) => {}
                Err(e) => return Err(e.into()),
            }
            req.session.sign_in(&user, &stamp)?;
            req.session.flash("notice", "Password changed; every other device is signed out.")?;
            Ok(Response::redirect(sibling(&req, "account")).session(req.session))
        }
        (false, "logout", _) => {
            req.session.sign_out();
            Ok(Response::redirect(sibling(&req, "login")).session(req.session))
        }
        _ => Ok(Response::html(pages::page("<p>Not found.</p>", None)).status(404)),
    }
}
