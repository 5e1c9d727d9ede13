//! The WebSocket handler wrapper: [`async_handler`] and the runtime loop [`start`] ([`run`]
//! on a runtime of the caller's).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use futures_util::FutureExt;
use lambda_http::LambdaEvent;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayWebsocketProxyRequest, ApiGatewayWebsocketProxyRequestContext,
};
use serde_json::value::RawValue;

use super::origin::Origins;
use super::push;
use super::response::Reply;
use super::{CURRENT, Client, Error, EventType, Request, Response};
use crate::config::Config;
use crate::deadline::Deadline;
use crate::http::panic_text;
use crate::session::{self, Outcome, Session, SessionStore, record_id};

/// The WebSocket handler wrapper: what [`start`] serves. Build it with [`async_handler`].
pub struct Handler<F> {
    store: Arc<SessionStore>,
    /// The client the configuration names (`ARC_WSS_URL`, or the endpoint override).
    client: Client,
    /// The client of the API the events come from, built on the first event: one per process
    /// in practice, since a function serves one WebSocket API.
    event_client: Arc<OnceLock<Client>>,
    /// Whose pages may open a socket with the cookie (`ARC_WS_ORIGINS`).
    origins: Origins,
    handler: Arc<F>,
}

impl<F> Clone for Handler<F> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            client: self.client.clone(),
            event_client: Arc::clone(&self.event_client),
            origins: self.origins.clone(),
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<F> std::fmt::Debug for Handler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("store", &self.store)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// Wraps `handler` for [`start`] (or [`run`]): the WebSocket counterpart of
/// [`http::async_handler`](crate::http::async_handler).
///
/// Before calling `handler` it normalizes the event ([`Request`]) and reads the session. On
/// `$connect`: from the socket ticket in the query string (`?ticket=`, which
/// [`http::Request::socket_url`](crate::http::Request::socket_url) mints; redeemed once, from
/// the origin it was minted for, and taken out of [`Request::query`]), else from the cookie,
/// when the upgrade's `Origin` is the socket's own or one of `ARC_WS_ORIGINS`. A refused ticket
/// or an untrusted cookie gives the handler an empty session and logs why, never the ticket or
/// the cookie. On later events, in DynamoDB mode, the live session the connection was tied to
/// on `$connect` (cookie mode has none after `$connect`). After, it writes the session the
/// [`Response`] carries, ties an accepted connection to its session (closing the session's
/// oldest connections past `ARC_WS_MAX_CONNECTIONS`), closes the other connections of a
/// session the handler regenerated or destroyed, sends [`Response::push`] to the session's
/// connections, and on `$disconnect` forgets the connection. A 5xx answer does none of that:
/// a failed event changes no session and tells no socket. An `Err` or a panic is answered 500
/// without detail (on `$connect`, a refused connection); the cause goes to the log.
///
/// The configuration is read here, at cold start; when it is invalid this logs the reason and
/// exits with status 1. Use [`try_async_handler`] to handle that yourself.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::ws::{self, Request, Response};
///
/// async fn connect(req: Request) -> ws::Result<Response> {
///     // Only browsers with a session may connect.
///     if req.session.is_empty() {
///         return Ok(Response::status(403));
///     }
///     Ok(Response::ok())
/// }
///
/// fn main() -> Result<(), lambda_http::Error> {
///     ws::start(ws::async_handler(connect))
/// }
/// ```
pub fn async_handler<F, Fut, E>(handler: F) -> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<crate::http::Error>,
{
    crate::http::build_or_exit(|| try_async_handler(handler))
}

/// [`async_handler`], returning the configuration error instead of exiting.
///
/// # Errors
///
/// [`session::Error::Config`] when the environment holds an invalid configuration.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::ws::{self, Request, Response};
///
/// async fn default(_req: Request) -> ws::Result<Response> {
///     Ok(Response::ok())
/// }
/// let handler = ws::try_async_handler(default)?;
/// # Ok::<(), arc_functions::http::session::Error>(())
/// ```
pub fn try_async_handler<F, Fut, E>(handler: F) -> Result<Handler<F>, session::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<crate::http::Error>,
{
    let (store, config) = SessionStore::global_with_config()?;
    Ok(Handler::with_store(store, handler).with_config(&config))
}

impl<F, Fut, E> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<crate::http::Error>,
{
    /// A handler using `store` instead of the one built from the environment, and no
    /// configured endpoint (events still bring their own): for tests.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::ws::{self, Handler, Request, Response};
    ///
    /// async fn default(_req: Request) -> ws::Result<Response> {
    ///     Ok(Response::ok())
    /// }
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, default);
    /// assert!(format!("{handler:?}").contains("sealed cookie"));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn with_store(store: Arc<SessionStore>, handler: F) -> Self {
        Self {
            store,
            client: Client::unset(),
            event_client: Arc::default(),
            origins: Origins::default(),
            handler: Arc::new(handler),
        }
    }

    /// Takes the management API endpoint settings of `config` (`ARC_WSS_URL`,
    /// `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`) and the origins it trusts with the cookie
    /// (`ARC_WS_ORIGINS`); [`async_handler`] reads them from the environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::ws::{self, Handler, Request, Response};
    ///
    /// async fn default(_req: Request) -> ws::Result<Response> {
    ///     Ok(Response::ok())
    /// }
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_WSS_URL", "ws://127.0.0.1:9001")])?;
    /// let handler = Handler::with_store(Arc::new(SessionStore::new(&config)), default).with_config(&config);
    /// assert!(format!("{handler:?}").contains("http://127.0.0.1:9001"));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn with_config(mut self, config: &Config) -> Self {
        self.client = Client::from_config(config);
        self.origins = Origins::new(&config.ws_origins);
        self
    }

    /// The client for an event's API, reusing the first event's when it is the same API.
    fn client_for(&self, context: &ApiGatewayWebsocketProxyRequestContext) -> Client {
        let domain = context.domain_name.as_deref().unwrap_or_default();
        let stage = context.stage.as_deref().unwrap_or_default();
        self.event_client
            .get_or_init(|| self.client.for_api(domain, stage))
            .for_api(domain, stage)
    }

    /// Serves one Lambda payload, the event's JSON text, exactly as [`run`] does, and returns
    /// the JSON text [`run`] would send back: to test a handler on a real event.
    ///
    /// # Errors
    ///
    /// [`Error::NotWebSocket`] when the payload is not an API Gateway WebSocket event (as
    /// [`run`] fails such an invocation).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::ws::{self, Handler, Request, Response};
    ///
    /// async fn default(req: Request) -> ws::Result<Response> {
    ///     Ok(Response::ok().reply(format!("{} on {}", req.route_key, req.connection_id)))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, default);
    /// let event = r#"{"requestContext": {"routeKey": "$default", "eventType": "MESSAGE",
    ///     "connectionId": "L0SM9cOFvHcCIhw=", "connectedAt": 1, "requestTimeEpoch": 2},
    ///     "body": "hi"}"#;
    /// let reply: serde_json::Value = serde_json::from_str(&handler.invoke(event).await?)?;
    /// assert_eq!(reply["statusCode"], 200);
    /// assert_eq!(reply["body"], "$default on L0SM9cOFvHcCIhw=");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn invoke(&self, payload: &str) -> Result<String, Error> {
        let reply = self.reply(payload, Deadline::default()).await?;
        serde_json::to_string(&reply).map_err(Error::Json)
    }

    async fn reply(&self, payload: &str, deadline: Deadline) -> Result<Reply, Error> {
        // Most fields of every event type are optional, so an HTTP event would parse as a
        // WebSocket one: the connection id, which only WebSocket events carry, decides.
        let probe: Probe = serde_json::from_str(payload)
            .map_err(|_| Error::NotWebSocket("not a JSON object".into()))?;
        if probe
            .request_context
            .is_none_or(|c| c.connection_id.is_none())
        {
            return Err(Error::NotWebSocket(
                "no requestContext.connectionId: an HTTP or other event".into(),
            ));
        }
        let event: ApiGatewayWebsocketProxyRequest =
            serde_json::from_str(payload).map_err(|e| Error::NotWebSocket(e.to_string()))?;
        let request = Request::from_event(event)?;
        let connection = request.connection_id.clone();
        let disconnect = request.event_type == EventType::Disconnect;
        // Every AWS call of the turn is bounded by the invocation's deadline.
        let reply = deadline.scope(self.respond(request, deadline)).await;
        // Whatever the handler did: the connection is closed.
        if disconnect && let Err(e) = deadline.scope(self.store.untie(&connection)).await {
            tracing::warn!(error = %e, "forgetting a closed connection failed; its records expire on their own");
        }
        Ok(reply)
    }

    async fn respond(&self, mut request: Request, deadline: Deadline) -> Reply {
        let store = &self.store;
        let kind = request.event_type;
        let connection = request.connection_id.clone();
        let client = self.client_for(&request.context);
        let session = match kind {
            EventType::Connect => self.connect_session(&mut request).await,
            _ => store.read_connection(&connection).await,
        };
        let session = match session {
            Ok(session) => session,
            Err(e) => return fault(&e, "reading the session"),
        };
        let origin = session.origin().cloned();
        let expiry = session.expiry();
        let before = record_id(&session).map(str::to_owned);
        request.attach(client.clone(), session);

        let handler = &*self.handler;
        let call = CURRENT.scope(client.clone(), async move {
            handler(request).await.map_err(Into::into)
        });
        let mut response = match AssertUnwindSafe(call).catch_unwind().await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                tracing::error!(error = %e, detail = ?e, "the WebSocket handler returned an error");
                return Reply::failure(500);
            }
            Err(panic) => {
                let message = panic_text(&*panic);
                tracing::error!(panic = %message, "the WebSocket handler panicked");
                return Reply::failure(500);
            }
        };
        // A failed event changes no session and tells no socket, as over HTTP.
        if (500..600).contains(&response.status_code()) {
            return response.into_reply();
        }
        let accepted = (200..300).contains(&response.status_code());
        // An accepted connection is tied to its session; a later event, only when the
        // handler moved the session to another record.
        let mut tie = (kind == EventType::Connect && accepted).then(|| before.clone());
        // Pushed to the session the response leaves behind: after a regenerate(), the new one.
        let mut session_now = before.clone();
        match response.take_session() {
            None => {}
            Some(Err(e)) => return fault(&e, "the response's session"),
            Some(Ok(mut session)) => {
                session.adopt(origin, expiry);
                let saved = store.save_from_websocket(&session).await;
                match Outcome::of(saved, "writing the session") {
                    Outcome::Written(moved) => {
                        let open = kind == EventType::Message || accepted;
                        if moved.record != before && open {
                            tie = Some(moved.record.clone());
                        }
                        if let Some(left) = &moved.left {
                            push::close_session(store, &client, left, Some(&connection), deadline)
                                .await;
                        }
                        session_now = moved.record;
                    }
                    Outcome::Ended => session_now = None,
                    Outcome::Conflict => return Reply::failure(409),
                    Outcome::Failed { unavailable } => return failure(unavailable),
                }
            }
        }
        if let Some(session) = tie {
            match store.tie(&connection, session.as_deref()).await {
                Ok(oldest) if !oldest.is_empty() => {
                    tracing::info!(
                        closed = oldest.len(),
                        "the session is past ARC_WS_MAX_CONNECTIONS: closing its oldest connections"
                    );
                    push::close_all(store, &client, &oldest).await;
                }
                Ok(_) => {}
                Err(e) => return fault(&e, "recording the connection"),
            }
        }
        if let Some(payload) = response.take_push() {
            // Not to a connection still in `$connect`: it cannot be sent to yet.
            let except = (kind == EventType::Connect).then_some(connection.as_str());
            push::push_logged(
                store,
                &client,
                session_now.as_deref(),
                except,
                payload,
                deadline,
            )
            .await;
        }
        response.into_reply()
    }

    /// The session of a `$connect`: the ticket's, else the cookie's when the page's origin may
    /// use it. A refusal is an empty session and a log line that says why.
    async fn connect_session(&self, request: &mut Request) -> Result<Session, session::Error> {
        let origin = request.header("origin").map(str::to_owned);
        if let Some(ticket) = request.query.take("ticket") {
            return Ok(
                match self.store.redeem_ticket(&ticket, origin.as_deref()).await? {
                    Ok(session) => session,
                    Err(refusal) => {
                        tracing::info!(connection = %request.connection_id, "$connect has no session: {refusal}");
                        Session::new()
                    }
                },
            );
        }
        if !self.store.has_session_cookie(&request.headers) {
            return Ok(Session::new());
        }
        match self
            .origins
            .check(origin.as_deref(), request.header("host"))
        {
            Ok(()) => self.store.read_headers(&request.headers).await,
            Err(foreign) => {
                tracing::warn!(connection = %request.connection_id, "$connect has no session: its cookie is not trusted: {foreign}");
                Ok(Session::new())
            }
        }
    }
}

/// Only the field that tells a WebSocket event from the others.
#[derive(serde::Deserialize)]
struct Probe {
    #[serde(rename = "requestContext")]
    request_context: Option<ProbeContext>,
}

#[derive(serde::Deserialize)]
struct ProbeContext {
    #[serde(rename = "connectionId")]
    connection_id: Option<serde::de::IgnoredAny>,
}

/// Logs a session fault and answers it without detail: 503 when retrying may help.
fn fault(e: &session::Error, what: &str) -> Reply {
    tracing::error!(error = %e, "{what} failed");
    failure(e.is_unavailable())
}

/// A fault already logged: 503 when retrying may help, else 500.
fn failure(unavailable: bool) -> Reply {
    Reply::failure(if unavailable { 503 } else { 500 })
}

/// Serves `handler` on the Lambda Runtime API until the process ends, on a Tokio runtime
/// built for how Lambda calls the function (one thread when invocations come one at a time,
/// a worker per core when `AWS_LAMBDA_MAX_CONCURRENCY` is above 1): what a WebSocket route's
/// `main` runs. The WebSocket counterpart of [`http::start`](crate::http::start), which says
/// why.
///
/// # Errors
///
/// When the Runtime API cannot be reached, or the runtime cannot be built.
///
/// # Panics
///
/// When called on a Tokio runtime's thread (inside `#[tokio::main]`): await [`run`] there.
///
/// # Examples
///
/// See [`async_handler`].
pub fn start<F, Fut, E>(handler: Handler<F>) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<crate::http::Error> + 'static,
{
    crate::http::block_on(run(handler))
}

/// Serves `handler` on the Lambda Runtime API until the process ends, on the Tokio runtime it
/// is awaited on ([`start`] builds one that suits Lambda). Like
/// [`http::run`](crate::http::run): invocations run concurrently up to
/// `AWS_LAMBDA_MAX_CONCURRENCY`, DynamoDB is made ready before the first event, and a payload
/// that is not a WebSocket event (an HTTP one included) fails the invocation.
///
/// # Errors
///
/// When the Runtime API cannot be reached.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::ws::{self, Request, Response};
///
/// async fn connect(_req: Request) -> ws::Result<Response> {
///     Ok(Response::ok())
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_http::Error> {
///     // ...something else of the program's on this runtime first...
///     ws::run(ws::async_handler(connect)).await
/// }
/// ```
pub async fn run<F, Fut, E>(handler: Handler<F>) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<crate::http::Error> + 'static,
{
    handler.store.prepare().await;
    let service =
        lambda_http::lambda_runtime::service_fn(move |event: LambdaEvent<Box<RawValue>>| {
            let handler = handler.clone();
            async move {
                handler
                    .reply(event.payload.get(), Deadline(Some(event.context.deadline)))
                    .await
                    .map_err(lambda_http::Error::from)
            }
        });
    lambda_http::lambda_runtime::run_concurrent(service).await
}
