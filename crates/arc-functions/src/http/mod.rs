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
pub use request::Request;
#[cfg(all(feature = "axum", feature = "dynamodb"))]
pub(crate) use request::source_ip;
#[cfg(feature = "dynamodb")]
pub(crate) use response::NO_CACHE;
#[cfg(feature = "axum")]
pub(crate) use response::PRIVATE;
pub use response::{Response, ResponseError, private_cache_control};
#[cfg(feature = "axum")]
pub(crate) use run::serve;
pub use run::{run, start};
pub use url::url;

/// The result of a handler.
pub type Result<T, E = Error> = std::result::Result<T, E>;
