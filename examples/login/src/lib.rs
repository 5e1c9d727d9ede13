//! A login flow on arc-functions, in one Lambda that routes on the path:
//!
//! - `GET /` greets the signed-in user, or links to the login page;
//! - `GET /login` shows the form, with a CSRF token and the last error as a flash message;
//! - `POST /login` checks the password, then regenerates the session (no fixation) and
//!   remembers the user, or flashes an error and shows the form again;
//! - `POST /logout` destroys the session.
//!
//! Unsafe methods need the form's CSRF token ([`arc_functions::http::csrf::protect`]).

use arc_functions::http::html::escape;
use arc_functions::http::{self, Request, Response};

/// Stands in for a user database.
const USERS: &[(&str, &str)] = &[("ann", "correct horse")];

/// Every route of the example; wrap it in `csrf::protect` and `async_handler`.
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
/// http::run(http::async_handler(csrf::protect(example_login::app))).await
/// # }
/// ```
pub async fn app(mut req: Request) -> http::Result<Response> {
    match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/") => Ok(match req.session.get::<String>("user")? {
            Some(user) => Response::html(page(&format!(
                "<p>Hello, {}.</p><form method=post action=/logout><input type=hidden name=_csrf value=\"{}\"><button>Log out</button></form>",
                escape(&user),
                req.csrf_token()?
            )))
            .session(req.session),
            None => Response::html(page("<p><a href=/login>Log in</a></p>")),
        }),
        ("GET", "/login") => {
            let error = req.flash::<String>("error").unwrap_or_default();
            let token = req.csrf_token()?;
            Ok(Response::html(page(&format!(
                "<p class=error>{}</p><form method=post action=/login><input type=hidden name=_csrf value=\"{token}\"><input name=user><input name=password type=password><button>Log in</button></form>",
                escape(&error)
            )))
            .session(req.session))
        }
        ("POST", "/login") => {
            let form = req.body.form();
            let user = form.and_then(|f| f.get("user")).unwrap_or_default();
            let password = form.and_then(|f| f.get("password")).unwrap_or_default();
            if USERS.contains(&(user, password)) {
                let user = user.to_owned();
                // A new id after login: an id planted before it is now worthless.
                req.session.regenerate();
                req.session.insert("user", user)?;
                Ok(Response::redirect("/").session(req.session))
            } else {
                req.session.flash("error", "Wrong user or password.")?;
                Ok(Response::redirect("/login").session(req.session))
            }
        }
        ("POST", "/logout") => {
            req.session.destroy();
            Ok(Response::redirect("/login").session(req.session))
        }
        _ => Ok(Response::html(page("<p>Not found.</p>")).status(404)),
    }
}

fn page(body: &str) -> String {
    format!("<!doctype html>\n<html>\n<body>\n{body}\n</body>\n</html>\n")
}
