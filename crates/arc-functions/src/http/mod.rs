//! HTTP: the handler wrapper [`async_handler`], the normalized [`Request`] it hands your
//! function, the shorthand [`Response`] it turns back into an HTTP response (compressed when
//! the request allows), middleware [`chain()`]s, CSRF tokens, the stage-aware [`url()`], and the
//! sessions they carry.

mod body;
pub mod chain;
mod compress;
pub mod csrf;
mod event;
mod fault;
mod handler;
pub mod html;
mod request;
mod response;
mod run;
mod url;

pub use crate::session;
pub(crate) use body::Redacted;
#[cfg(feature = "axum")]
pub(crate) use body::parse_body;
pub use body::{Body, BodyError, Params};
pub use chain::{Flow, chain};
pub use compress::Encoding;
pub(crate) use event::panic_text;
#[cfg(feature = "axum")]
pub(crate) use fault::{GENERIC_400, GENERIC_500, conflict, error_page, failure, fault};
pub(crate) use fault::{error_body, fault_reply};
pub(crate) use handler::build_or_exit;
#[cfg(feature = "axum")]
pub(crate) use handler::renew;
pub use handler::{Handler, async_handler, try_async_handler};
pub use request::Request;
#[cfg(feature = "axum")]
pub(crate) use request::source_ip;
pub(crate) use response::NO_CACHE;
#[cfg(feature = "axum")]
pub(crate) use response::PRIVATE;
pub use response::{IntoSession, Response, ResponseError, private_cache_control};
pub(crate) use run::block_on;
#[cfg(feature = "axum")]
pub(crate) use run::serve;
pub use run::{run, start};
pub use url::url;

/// The error a handler may return: anything `?` can turn into a boxed error.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The result of a handler.
pub type Result<T, E = Error> = std::result::Result<T, E>;
