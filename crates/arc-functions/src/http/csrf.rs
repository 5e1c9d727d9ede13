//! Cross-site request forgery protection: a token bound to the session.
//!
//! A token is `<expiry>.<mac>`: the expiry in epoch seconds and
//! `BASE64URL(HMAC-SHA256(key, binding || 0 || expiry))`, where `key` is derived (HKDF-SHA256)
//! from `ARC_APP_SECRET` for this use alone and `binding` is a random value kept in the session
//! under `_csrf`. The expiry is inside the MAC, so it cannot be extended; the MAC is compared
//! in constant time. A token taken from one session is worthless in another, and tokens die
//! with their session: `regenerate()`, `destroy()` and `clear()` drop the binding. Keys from
//! `ARC_APP_SECRET_PREVIOUS` still verify.
//!
//! A form carries the token in a hidden field named [`FIELD`]; `fetch` calls send it in the
//! [`HEADER`] header:
//!
//! ```html
//! <form method=post action=/count>
//!   <input type=hidden name=_csrf value="{token}">
//!   <button>Count</button>
//! </form>
//! ```
//!
//! Issue a token with [`Request::csrf_token`] (it writes the binding into the session, so
//! return the session with the page) and require it with the [`require`] step of a
//! [chain](super::chain()), or [`protect`] around a single handler: an unsafe request (`POST`,
//! `PUT`, `PATCH`, `DELETE`) whose token is missing or wrong is answered 403.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use futures_util::future::BoxFuture;
use hmac::Mac;
use lambda_http::http::Method;

use super::chain::Endpoint;
use super::{Flow, Request, Response};
use crate::keys::{self, HmacSha256};
use crate::runtime::error_body;
use crate::session::{CSRF_BINDING_KEY, Session, SessionStore};

/// The form field that carries the token.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::{self, Handler, Request, Response, csrf};
/// use arc_functions::http::session::SessionStore;
/// use arc_functions::testing::TestRequest;
///
/// async fn notes(mut req: Request) -> http::Result<Response> {
///     if req.method == "GET" {
///         // Issuing binds the session, so the page returns it.
///         let token = req.csrf_token()?;
///         return Ok(Response::text(token).session(req.session));
///     }
///     Ok(Response::text("saved"))
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let handler = Handler::with_store(store, csrf::protect(notes));
/// let page = TestRequest::get("/notes").send(&handler).await?;
/// let (token, cookie) = (page.text(), page.session_cookie().expect("the bound session"));
/// let saved = TestRequest::post("/notes")
///     .cookie(&cookie)
///     .form(&[(csrf::FIELD, token.as_str()), ("text", "hi")])
///     .send(&handler)
///     .await?;
/// assert_eq!(saved.text(), "saved");
/// let refused = TestRequest::post("/notes").cookie(&cookie).form(&[("text", "hi")]).send(&handler).await?;
/// assert_eq!(refused.status(), 403);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub const FIELD: &str = "_csrf";
/// The header that carries the token for scripts.
///
/// # Examples
///
/// ```
/// # use std::sync::Arc;
/// # use arc_functions::config::Config;
/// # use arc_functions::http::{self, Handler, Request, Response, csrf};
/// # use arc_functions::http::session::SessionStore;
/// # use arc_functions::testing::TestRequest;
/// #
/// # async fn notes(mut req: Request) -> http::Result<Response> {
/// #     if req.method == "GET" {
/// #         // Issuing binds the session, so the page returns it.
/// #         let token = req.csrf_token()?;
/// #         return Ok(Response::text(token).session(req.session));
/// #     }
/// #     Ok(Response::text("saved"))
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// # let handler = Handler::with_store(store, csrf::protect(notes));
/// # let page = TestRequest::get("/notes").send(&handler).await?;
/// # let (token, cookie) = (page.text(), page.session_cookie().expect("the bound session"));
/// // The setup of FIELD's example: a GET to `handler` issued `token` for `cookie`'s session.
/// let saved = TestRequest::post("/notes")
///     .cookie(&cookie)
///     .header(csrf::HEADER, &token)
///     .json(&serde_json::json!({"text": "hi"}))
///     .send(&handler)
///     .await?;
/// assert_eq!(saved.text(), "saved");
/// let forged = TestRequest::post("/notes").cookie(&cookie).header(csrf::HEADER, "1.AAAA").send(&handler).await?;
/// assert_eq!(forged.status(), 403);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub const HEADER: &str = "x-csrf-token";

/// Why a request's token was refused.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{Request, csrf};
///
/// let no_token = Request::from_lambda(
///     lambda_http::http::Request::builder().method("POST").body(lambda_http::Body::Empty)?,
/// )?;
/// let err = csrf::verify(&no_token).unwrap_err();
/// assert_eq!(err, csrf::Error::Missing);
/// assert_eq!(err.to_string(), "no CSRF token in the _csrf form field or the x-csrf-token header");
///
/// // A token, but a request the handler wrapper did not build: nothing to check it with.
/// let unwrapped = Request::from_lambda(
///     lambda_http::http::Request::builder()
///         .method("POST")
///         .header(csrf::HEADER, "1.AAAA")
///         .body(lambda_http::Body::Empty)?,
/// )?;
/// assert_eq!(csrf::verify(&unwrapped), Err(csrf::Error::NoKeys));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request carries no token, in neither the form field nor the header.
    #[error("no CSRF token in the {FIELD} form field or the {HEADER} header")]
    Missing,
    /// The session has no binding: it never issued a token (or was reset since).
    #[error("the session has no CSRF binding; issue a token with Request::csrf_token first")]
    NoBinding,
    /// The token is not `<expiry>.<mac>`.
    #[error("the CSRF token is malformed")]
    Malformed,
    /// The token's lifetime is over.
    #[error("the CSRF token has expired")]
    Expired,
    /// The MAC does not match this session under any current or previous key.
    #[error("the CSRF token does not belong to this session")]
    Invalid,
    /// The operating system's random source failed to draw a binding.
    #[error("the OS random source failed")]
    Random(#[from] getrandom::Error),
    /// The request was not built by the handler wrapper, so it has no keys to issue or check
    /// tokens with.
    #[error("the request was not built by async_handler, so it has no CSRF keys")]
    NoKeys,
}

fn mac(key: &[u8; 32], binding: &str, expiry: u64) -> HmacSha256 {
    keys::hmac(
        key,
        &[binding.as_bytes(), &[0], expiry.to_string().as_bytes()],
    )
}

/// The session's binding, when it has one.
fn binding(session: &Session) -> Option<String> {
    session
        .get::<String>(CSRF_BINDING_KEY)
        .ok()
        .flatten()
        .filter(|b| !b.is_empty())
}

/// A token for `session`, adding a binding to it when it has none. Tokens live as long as
/// sessions do (`ARC_SESSION_TTL`).
pub(crate) fn issue(
    store: &SessionStore,
    session: &mut Session,
    now: u64,
) -> Result<String, Error> {
    let binding = match binding(session) {
        Some(binding) => binding,
        None => {
            let binding = B64.encode(keys::random::<16>()?);
            // A string always converts to JSON.
            let _ = session.insert(CSRF_BINDING_KEY, &binding);
            binding
        }
    };
    let expiry = store.lifetime().expiry(now);
    let mac = mac(&store.keyring().current().csrf, &binding, expiry)
        .finalize()
        .into_bytes();
    Ok(format!("{expiry}.{}", B64.encode(mac)))
}

/// Checks `token` against `session`'s binding, under the current and the previous keys.
pub(crate) fn check(
    store: &SessionStore,
    session: &Session,
    token: &str,
    now: u64,
) -> Result<(), Error> {
    let binding = binding(session).ok_or(Error::NoBinding)?;
    let (expiry, given) = token.split_once('.').ok_or(Error::Malformed)?;
    let expiry: u64 = expiry.parse().map_err(|_| Error::Malformed)?;
    let given = B64.decode(given).map_err(|_| Error::Malformed)?;
    // Checked before the expiry, so an expired forgery says Invalid, not Expired.
    let position = store
        .keyring()
        .all()
        .iter()
        .position(|k| mac(&k.csrf, &binding, expiry).verify_slice(&given).is_ok())
        .ok_or(Error::Invalid)?;
    keys::note_previous_secret(position);
    if now >= expiry {
        return Err(Error::Expired);
    }
    Ok(())
}

/// Whether a method changes state and so needs a token.
fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Checks the token a request carries (form field [`FIELD`], else header [`HEADER`]) against
/// its session.
///
/// # Errors
///
/// [`Error`] saying why the token was refused.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{csrf, Request};
///
/// let event = lambda_http::http::Request::builder()
///     .method("POST")
///     .body(lambda_http::Body::Empty)?;
/// let req = Request::from_lambda(event)?;
/// assert_eq!(csrf::verify(&req), Err(csrf::Error::Missing));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify(req: &Request) -> Result<(), Error> {
    let token = req
        .body
        .form()
        .and_then(|form| form.get(FIELD))
        .or_else(|| req.header(HEADER))
        .ok_or(Error::Missing)?;
    check(
        req.store().ok_or(Error::NoKeys)?,
        &req.session,
        token,
        keys::now(),
    )
}

/// The CSRF check as a [chain](super::chain()) step: an unsafe request without a valid token
/// is answered 403 and goes no further; anything else continues unchanged.
///
/// # Errors
///
/// Never: a refused token is a 403 response, not an error.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, csrf, Flow, Request, Response};
///
/// async fn require_login(req: Request) -> http::Result<Flow> {
///     if req.session.get::<String>("user")?.is_some() {
///         Ok(Flow::Continue(req))
///     } else {
///         Ok(Flow::Break(Response::redirect("/login")))
///     }
/// }
///
/// async fn delete_note(_req: Request) -> http::Result<Response> {
///     Ok(Response::redirect("/notes"))
/// }
///
/// fn main() -> Result<(), lambda_http::Error> {
///     let app = http::chain((csrf::require, require_login, delete_note));
///     http::start(http::async_handler(app))
/// }
/// ```
pub async fn require(req: Request) -> super::Result<Flow> {
    if let Some(Err(e)) = is_unsafe(&req.method).then(|| verify(&req)) {
        tracing::warn!(error = %e, method = %req.method, path = %req.path, "CSRF check failed");
        return Ok(Flow::Break(
            Response::html(error_body(
                lambda_http::http::StatusCode::FORBIDDEN,
                "The form has expired or did not come from this site. Reload the page and try again.",
            ))
            .status(403),
        ));
    }
    Ok(Flow::Continue(req))
}

/// Wraps a handler so that unsafe requests without a valid token get a 403 and never reach it:
/// the chain of [`require`] and `handler`.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, csrf, Request, Response};
///
/// async fn counter(req: Request) -> http::Result<Response> {
///     let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
///     let mut session = req.session;
///     session.insert("count", count)?;
///     Ok(Response::redirect("/").session(session))
/// }
///
/// fn main() -> Result<(), lambda_http::Error> {
///     http::start(http::async_handler(csrf::protect(counter)))
/// }
/// ```
pub fn protect<M>(
    handler: impl Endpoint<M>,
) -> impl Fn(Request) -> BoxFuture<'static, super::Result<Response>> + Send + Sync + 'static {
    super::chain((require, handler))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const NOW: u64 = 1_790_000_000;

    /// Issues and checks tokens with the keys of a store configured by `vars`.
    struct Keys(SessionStore);

    impl Keys {
        fn issue(&self, session: &mut Session, now: u64) -> Result<String, Error> {
            issue(&self.0, session, now)
        }

        fn verify(&self, session: &Session, token: &str, now: u64) -> Result<(), Error> {
            check(&self.0, session, token, now)
        }
    }

    fn keys(vars: &[(&str, &str)]) -> Keys {
        let vars = vars.iter().copied().chain([("ARC_ENV", "testing")]);
        Keys(SessionStore::new(&Config::from_vars(vars).expect("config")))
    }

    #[test]
    fn a_token_verifies_for_its_session_only() {
        let k = keys(&[("ARC_APP_SECRET", "csrf test secret of 32 bytes or more")]);
        let mut mine = Session::new();
        let token = k.issue(&mut mine, NOW).expect("issue");
        assert!(
            mine.get::<String>(CSRF_BINDING_KEY)
                .expect("string")
                .is_some()
        );
        assert_eq!(k.verify(&mine, &token, NOW + 1), Ok(()));
        let mut other = Session::new();
        k.issue(&mut other, NOW).expect("issue");
        assert_eq!(k.verify(&other, &token, NOW), Err(Error::Invalid));
        assert_eq!(
            k.verify(&Session::new(), &token, NOW),
            Err(Error::NoBinding)
        );
    }

    #[test]
    fn the_expiry_is_inside_the_mac() {
        let k = keys(&[("ARC_APP_SECRET", "s"), ("ARC_SESSION_TTL", "100")]);
        let mut s = Session::new();
        let token = k.issue(&mut s, NOW).expect("issue");
        assert_eq!(k.verify(&s, &token, NOW + 99), Ok(()));
        assert_eq!(k.verify(&s, &token, NOW + 100), Err(Error::Expired));
        let (_, mac) = token.split_once('.').expect("dot");
        let extended = format!("{}.{mac}", NOW + 10_000);
        assert_eq!(k.verify(&s, &extended, NOW + 100), Err(Error::Invalid));
        assert_eq!(k.verify(&s, "nonsense", NOW), Err(Error::Malformed));
        assert_eq!(k.verify(&s, "1.!!", NOW), Err(Error::Malformed));
    }

    #[test]
    fn previous_secrets_verify_and_other_secrets_do_not() {
        let old = keys(&[("ARC_APP_SECRET", "old-secret")]);
        let rotated = keys(&[
            ("ARC_APP_SECRET", "new-secret"),
            ("ARC_APP_SECRET_PREVIOUS", "old-secret"),
        ]);
        let stranger = keys(&[("ARC_APP_SECRET", "another")]);
        let mut s = Session::new();
        let token = old.issue(&mut s, NOW).expect("issue");
        assert_eq!(rotated.verify(&s, &token, NOW), Ok(()));
        assert_eq!(stranger.verify(&s, &token, NOW), Err(Error::Invalid));
    }

    #[test]
    fn tokens_die_when_the_session_is_regenerated_destroyed_or_cleared() {
        let k = keys(&[("ARC_APP_SECRET", "s")]);
        let end: [fn(&mut Session); 3] = [Session::regenerate, Session::destroy, Session::clear];
        for end in end {
            let mut s = Session::new();
            s.insert("user", "ann").expect("insert");
            let token = k.issue(&mut s, NOW).expect("issue");
            assert_eq!(k.verify(&s, &token, NOW), Ok(()));
            end(&mut s);
            assert_eq!(k.verify(&s, &token, NOW), Err(Error::NoBinding));
            // A new token binds afresh; the old one stays refused.
            let fresh = k.issue(&mut s, NOW).expect("issue");
            assert_eq!(k.verify(&s, &fresh, NOW), Ok(()));
            assert_eq!(k.verify(&s, &token, NOW), Err(Error::Invalid));
        }
    }

    #[test]
    fn an_empty_binding_is_no_binding() {
        let k = keys(&[("ARC_APP_SECRET", "s")]);
        let mut s = Session::new();
        s.insert(CSRF_BINDING_KEY, "").expect("insert");
        // A token forged for the empty binding, with the real key: still refused.
        let expiry = NOW + 100;
        let forged = mac(&k.0.keyring().current().csrf, "", expiry)
            .finalize()
            .into_bytes();
        let forged = format!("{expiry}.{}", B64.encode(forged));
        assert_eq!(k.verify(&s, &forged, NOW), Err(Error::NoBinding));
        // Issuing replaces it with a real one.
        let token = k.issue(&mut s, NOW).expect("issue");
        let binding = s
            .get::<String>(CSRF_BINDING_KEY)
            .expect("string")
            .unwrap_or_default();
        assert_eq!(binding.len(), 22, "16 random bytes, base64: {binding:?}");
        assert_eq!(k.verify(&s, &token, NOW), Ok(()));
    }

    #[test]
    fn issuing_again_keeps_the_binding() {
        let k = keys(&[("ARC_APP_SECRET", "s")]);
        let mut s = Session::new();
        let first = k.issue(&mut s, NOW).expect("issue");
        let binding = s.get::<String>(CSRF_BINDING_KEY).expect("string");
        k.issue(&mut s, NOW + 5).expect("issue");
        assert_eq!(s.get::<String>(CSRF_BINDING_KEY).expect("string"), binding);
        assert_eq!(
            k.verify(&s, &first, NOW + 5),
            Ok(()),
            "earlier tokens stay valid"
        );
    }
}
