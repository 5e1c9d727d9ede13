//! The WebSocket handler wrapper: [`async_handler`], and the session turn it takes around a
//! handler for each event, with the connection's ties to its session.

use std::future::Future;
use std::sync::{Arc, OnceLock};

use lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequestContext;

use super::origin::Origins;
use super::response::SocketReply;
use super::{CURRENT, Client, EventType, Request, Response};
use crate::config::Config;
use crate::deadline::Deadline;
use crate::gateway;
use crate::runtime::turn::{self, Finished, Turn, Via};
use crate::runtime::{self, Fault, Process};
use crate::session::{self, Session, SessionStore};

/// The WebSocket handler wrapper: what [`start`](super::start) serves. Build it with [`async_handler`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::session::SessionStore;
/// use arc_functions::ws::{self, Handler, Request, Response};
///
/// async fn connect(req: Request) -> ws::Result<Response> {
///     if req.session.is_empty() {
///         return Ok(Response::new().status(403));
///     }
///     Ok(Response::new())
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let handler = Handler::with_store(store, connect);
/// // A browser without a session cookie opens a socket.
/// let event = r#"{"requestContext": {"routeKey": "$connect", "eventType": "CONNECT",
///     "connectionId": "L0SM9cOFvHcCIhw=", "connectedAt": 1, "requestTimeEpoch": 2}}"#;
/// let reply: serde_json::Value = serde_json::from_str(&handler.invoke(event).await?)?;
/// assert_eq!(reply["statusCode"], 403);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
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

/// Wraps `handler` for [`start`](super::start) (or [`run`](super::run)): the WebSocket counterpart of
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
///         return Ok(Response::new().status(403));
///     }
///     Ok(Response::new())
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
    E: Into<runtime::Error>,
{
    runtime::build_or_exit(|| try_async_handler(handler))
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
///     Ok(Response::new())
/// }
/// let handler = ws::try_async_handler(default)?;
/// # Ok::<(), arc_functions::http::session::Error>(())
/// ```
pub fn try_async_handler<F, Fut, E>(handler: F) -> Result<Handler<F>, session::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<runtime::Error>,
{
    let (store, config) = Process::get().parts()?;
    Ok(Handler::with_store(store, handler).with_config(&config))
}

impl<F, Fut, E> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<runtime::Error>,
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
    ///     Ok(Response::new())
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
    ///     Ok(Response::new())
    /// }
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_WSS_URL", "ws://127.0.0.1:9001")])?;
    /// let handler = Handler::with_store(Arc::new(SessionStore::new(&config)), default).with_config(&config);
    /// assert!(format!("{handler:?}").contains("http://127.0.0.1:9001"));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn with_config(mut self, config: &Config) -> Self {
        self.client = Client::from_config(config);
        self.origins = Origins::new(&config.ws.origins);
        self
    }

    /// The store this handler reads and writes sessions with.
    pub(super) fn store(&self) -> &SessionStore {
        &self.store
    }

    /// The client for an event's API, reusing the first event's when it is the same API.
    fn client_for(&self, context: &ApiGatewayWebsocketProxyRequestContext) -> Client {
        let domain = context.domain_name.as_deref().unwrap_or_default();
        let stage = context.stage.as_deref().unwrap_or_default();
        self.event_client
            .get_or_init(|| self.client.for_api(domain, stage))
            .for_api(domain, stage)
    }

    /// Serves one event: the session turn around the handler.
    pub(super) async fn respond(&self, mut request: Request, deadline: Deadline) -> SocketReply {
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
            Err(e) => return SocketReply::fault(Fault::of(&e, "reading the session")),
        };
        let mut turn = Turn::begin(
            store,
            &session,
            false,
            Via::Socket {
                connection: &connection,
            },
            Some(client.clone()),
            deadline,
        );
        let before = turn.record().map(str::to_owned);
        request.attach(client.clone(), session);

        let handler = &*self.handler;
        let called = turn::call(
            "the WebSocket handler",
            CURRENT.scope(client.clone(), async move {
                handler(request).await.map_err(Into::into)
            }),
        );
        let Some(mut response) = called.await else {
            return SocketReply::fault(Fault::Internal);
        };
        let status = response.status_code();
        let accepted = (200..300).contains(&status);
        let push = response.take_push();
        let finished = match turn
            .finish((500..600).contains(&status), response.take_session())
            .await
        {
            Ok(Finished::Failed) => return response.into_reply(),
            Ok(finished) => finished,
            Err(fault) => return SocketReply::fault(fault),
        };
        // An accepted connection is tied to its session; a later event, only when the
        // handler moved the session to another record.
        let mut tie = (kind == EventType::Connect && accepted).then(|| before.clone());
        if let Finished::Written { record, .. } = &finished
            && *record != before
            && (kind == EventType::Message || accepted)
        {
            tie = Some(record.clone());
        }
        if let Some(session) = tie {
            match store.tie(&connection, session.as_deref()).await {
                Ok(oldest) if !oldest.is_empty() => {
                    tracing::info!(
                        closed = oldest.len(),
                        "the session is past ARC_WS_MAX_CONNECTIONS: closing its oldest connections"
                    );
                    gateway::close_all(store, &client, &oldest).await;
                }
                Ok(_) => {}
                Err(e) => return SocketReply::fault(Fault::of(&e, "recording the connection")),
            }
        }
        if let Some(payload) = push {
            // Not to a connection still in `$connect`: it cannot be sent to yet.
            let except = (kind == EventType::Connect).then_some(connection.as_str());
            turn.push(&finished, payload, except).await;
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
