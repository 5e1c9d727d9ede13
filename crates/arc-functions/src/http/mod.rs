//! HTTP: the handler wrapper [`async_handler`], the normalized [`Request`] it hands your
//! function, the shorthand [`Response`] it turns back into an HTTP response (compressed when
//! the request allows), middleware [`chain()`]s, CSRF tokens, the stage-aware [`url()`], and the
//! sessions they carry.

pub mod chain;
mod compress;
pub mod csrf;
mod event;
mod handler;
mod request;
mod response;
mod run;
pub mod session;
mod url;

pub use crate::runtime::html;
pub use crate::runtime::{Body, BodyError, Error, Params};
pub use chain::{Flow, chain};
pub use compress::Encoding;
pub(crate) use event::{parse as parse_event, parse_typed as parse_event_typed};
pub use handler::{Handler, async_handler, try_async_handler};
#[cfg(all(feature = "axum", feature = "dynamodb"))]
pub(crate) use request::source_ip;
pub use request::{Raw, Request};
#[cfg(feature = "dynamodb")]
pub(crate) use response::NO_CACHE;
#[cfg(feature = "axum")]
pub(crate) use response::PRIVATE;
pub use response::{Response, ResponseError, private_cache_control};
#[cfg(feature = "axum")]
#[cfg(feature = "axum")]
pub(crate) use run::serve;
pub use run::{run, start};
pub use url::url;

/// The result of a handler.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
/// use arc_functions::testing::TestRequest;
///
/// async fn page(req: Request) -> http::Result<Response> {
///     // Any error `?` can box; the wrapper answers it with a 500 and logs the cause.
///     let number: u32 = req.query.get("page").unwrap_or("1").parse()?;
///     Ok(Response::text(format!("page {number}")))
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let handler = Handler::with_store(store, page);
/// assert_eq!(TestRequest::get("/notes?page=2").send(&handler).await?.text(), "page 2");
/// assert_eq!(TestRequest::get("/notes?page=two").send(&handler).await?.status(), 500);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;
