//! Middleware chains: Architect's `arc.http.async(auth, loadUser, handler)`, typed.
//!
//! [`chain`] takes a tuple of steps ending in a handler and returns one handler function for
//! [`async_handler`](super::async_handler). Each step is an `async fn(Request) -> Result<Flow,
//! E>`: [`Flow::Continue`] passes the (possibly changed) request on, [`Flow::Break`] answers
//! with a response and skips the rest. The last function is an ordinary handler,
//! `async fn(Request) -> Result<Response, E>`, so a chain cannot end without a response (the
//! original throws at run time when every function passed the request on).
//!
//! Steps hand values to later ones by type, in [`Request::extensions`], not under string keys
//! on the request object as JavaScript middleware does.
//!
//! The session is read once before the first step and written once after the chain, from the
//! response that ended it. An `Err` or a panic in any step is what it is in a handler: a generic
//! 500 page, the cause in the log, no session cookie.

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::{Error, Request, Response};

/// What a step returns: `Continue(request)` to go on, `Break(response)` to answer now.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{self, Flow, Request, Response};
///
/// async fn require_login(req: Request) -> http::Result<Flow> {
///     if req.session.get::<String>("user")?.is_some() {
///         Ok(Flow::Continue(req))
///     } else {
///         Ok(Flow::Break(Response::redirect("/login")))
///     }
/// }
/// # let _ = require_login;
/// ```
pub type Flow = ControlFlow<Response, Request>;

/// A function that can run in a chain before the handler: `async fn(Request) -> Result<Flow,
/// E>` where `E` converts into [`Error`]. Implemented for every such function; `M` only tells
/// the implementations apart.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{self, Flow, Request, chain::Step};
///
/// async fn pass(req: Request) -> http::Result<Flow> {
///     Ok(Flow::Continue(req))
/// }
/// fn is_step<M>(_: impl Step<M>) {}
/// is_step(pass);
/// ```
pub trait Step<M>: Send + Sync + 'static {
    /// Runs the step on `req`.
    fn run(&self, req: Request) -> impl Future<Output = Result<Flow, Error>> + Send;
}

impl<F, Fut, E> Step<(Fut, E)> for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, E>> + Send + 'static,
    E: Into<Error> + 'static,
{
    fn run(&self, req: Request) -> impl Future<Output = Result<Flow, Error>> + Send {
        let future = self(req);
        async move { future.await.map_err(Into::into) }
    }
}

/// The function that ends a chain: a handler, `async fn(Request) -> Result<Response, E>`.
/// Implemented for every such function.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{self, Request, Response, chain::Endpoint};
///
/// async fn show(_req: Request) -> http::Result<Response> {
///     Ok(Response::text("hi"))
/// }
/// fn is_endpoint<M>(_: impl Endpoint<M>) {}
/// is_endpoint(show);
/// ```
pub trait Endpoint<M>: Send + Sync + 'static {
    /// Answers `req`.
    fn call(&self, req: Request) -> impl Future<Output = Result<Response, Error>> + Send;
}

impl<F, Fut, E> Endpoint<(Fut, E)> for F
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<Error> + 'static,
{
    fn call(&self, req: Request) -> impl Future<Output = Result<Response, Error>> + Send {
        let future = self(req);
        async move { future.await.map_err(Into::into) }
    }
}

/// A tuple of one to eight [`Step`]s followed by an [`Endpoint`]: what [`chain`] takes.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{self, Flow, Request, Response, chain::Chain};
///
/// async fn step(req: Request) -> http::Result<Flow> { Ok(Flow::Continue(req)) }
/// async fn show(_req: Request) -> http::Result<Response> { Ok(Response::text("hi")) }
/// fn is_chain<M>(_: impl Chain<M>) {}
/// is_chain((step, step, show));
/// ```
pub trait Chain<M> {
    /// The chain as one handler function.
    fn into_handler(
        self,
    ) -> impl Fn(Request) -> BoxFuture<'static, Result<Response, Error>> + Send + Sync + 'static;
}

/// Runs `steps` in order, then the handler at the end of the tuple: Architect's
/// `arc.http.async(step1, step2, handler)`. Wrap the result in
/// [`async_handler`](super::async_handler) like a single handler.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::{self, Flow, Handler, Request, Response, session::SessionStore};
///
/// /// Who is asking; put there by `require_login`, read by `show`.
/// #[derive(Clone)]
/// struct User(String);
///
/// async fn require_login(mut req: Request) -> http::Result<Flow> {
///     match req.session.get::<String>("user")? {
///         Some(name) => {
///             req.extensions.insert(User(name));
///             Ok(Flow::Continue(req))
///         }
///         None => Ok(Flow::Break(Response::redirect("/login"))),
///     }
/// }
///
/// async fn show(req: Request) -> http::Result<Response> {
///     let User(name) = req.extensions.get::<User>().ok_or("require_login runs first")?;
///     Ok(Response::text(format!("hello, {name}")))
/// }
///
/// // In main: http::start(http::async_handler(http::chain((require_login, show))))
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let app = Handler::with_store(store, http::chain((require_login, show)));
/// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
/// let response = app.handle(event).await;
/// assert_eq!(response.status(), 302, "no user in the session: the chain stops at the step");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn chain<M>(
    steps: impl Chain<M>,
) -> impl Fn(Request) -> BoxFuture<'static, Result<Response, Error>> + Send + Sync + 'static {
    steps.into_handler()
}

macro_rules! chain_impl {
    ($($step:ident $var:ident $marker:ident),+ ; $end:ident $end_marker:ident) => {
        impl<$($step, $marker,)+ $end, $end_marker> Chain<($($marker,)+ $end_marker)>
            for ($($step,)+ $end)
        where
            $($step: Step<$marker>,)+
            $end: Endpoint<$end_marker>,
        {
            fn into_handler(
                self,
            ) -> impl Fn(Request) -> BoxFuture<'static, Result<Response, Error>>
                   + Send + Sync + 'static {
                // One Arc for the whole chain: a request costs one clone and one boxed future.
                let steps = Arc::new(self);
                move |req: Request| -> BoxFuture<'static, Result<Response, Error>> {
                    let steps = Arc::clone(&steps);
                    Box::pin(async move {
                        let ($($var,)+ end) = &*steps;
                        $(
                            let req = match $var.run(req).await? {
                                ControlFlow::Continue(req) => req,
                                ControlFlow::Break(response) => return Ok(response),
                            };
                        )+
                        end.call(req).await
                    })
                }
            }
        }
    };
}

chain_impl!(S1 s1 M1; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2, S3 s3 M3; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2, S3 s3 M3, S4 s4 M4; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2, S3 s3 M3, S4 s4 M4, S5 s5 M5; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2, S3 s3 M3, S4 s4 M4, S5 s5 M5, S6 s6 M6; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2, S3 s3 M3, S4 s4 M4, S5 s5 M5, S6 s6 M6, S7 s7 M7; H MH);
chain_impl!(S1 s1 M1, S2 s2 M2, S3 s3 M3, S4 s4 M4, S5 s5 M5, S6 s6 M6, S7 s7 M7, S8 s8 M8; H MH);
