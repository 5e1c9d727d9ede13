//! The floor under [`http`](crate::http) and [`ws`](crate::ws): what every wrapper does
//! whatever its events. The runtime loop and start-up ([`run`]), which kind of event a payload
//! is ([`event`]), the pages a failed request is answered with ([`fault`]), request bodies
//! ([`body`]), and the session turn every wrapper takes around its handler ([`turn`]).
//! Neither `http` nor `ws` imports the other: what both need is here, or in
//! [`gateway`](crate::gateway) for reaching connections.

pub(crate) mod body;
pub(crate) mod event;
pub(crate) mod fault;
pub(crate) mod global;
pub mod html;
mod log;
pub(crate) mod run;
pub(crate) mod turn;

pub use body::{Body, BodyError, Params};
pub(crate) use body::{Redacted, parse_body};
pub(crate) use event::panic_text;
pub(crate) use fault::{Fault, GENERIC_400, GENERIC_500, error_body, error_page};
pub(crate) use global::Process;
#[cfg(feature = "axum")]
pub(crate) use run::serve;
pub(crate) use run::{block_on, build_or_exit, serve_prepared};

/// The error a handler may return: anything `?` can turn into a boxed error.
///
/// # Examples
///
/// ```
/// use arc_functions::http;
///
/// fn port(text: &str) -> Result<u16, http::Error> {
///     let port: u16 = text.parse()?;
///     if port == 0 {
///         return Err("port 0 is reserved".into());
///     }
///     Ok(port)
/// }
/// assert_eq!(port("8080")?, 8080);
/// assert_eq!(port("99999").unwrap_err().to_string(), "number too large to fit in target type");
/// assert_eq!(port("0").unwrap_err().to_string(), "port 0 is reserved");
/// # Ok::<(), http::Error>(())
/// ```
pub type Error = Box<dyn std::error::Error + Send + Sync>;
