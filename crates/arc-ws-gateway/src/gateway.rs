//! The server: WebSocket upgrades on any path, each connection's socket, and the management
//! API beside them on the same port.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri, header};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::clock::Timestamp;
use crate::connections::{Connection, Outbound, Registry};
use crate::event::{Disconnect, Event, Identity, Payload, Peer, Site, Upgrade};
use crate::ids::ConnectionId;
use crate::invoke::Invoker;
use crate::management;
use crate::policy::{MAX_FRAME, MAX_MESSAGE, Policy};
use crate::routes::{RouteKey, Routes};
use crate::shared::Shared;

/// How long a closing socket waits for the client's close frame before it is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// A local API Gateway WebSocket API: give it the routes and watch's invoke address, then
/// [`serve`](Gateway::serve) it.
///
/// # Examples
///
/// ```no_run
/// use arc_ws_gateway::{Gateway, Routes};
///
/// # async fn run() -> std::io::Result<()> {
/// let routes = Routes::new(&["chat".to_owned()]);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:9001").await?;
/// let gateway = Gateway::new(routes, "http://127.0.0.1:9000".parse().expect("a URL"));
/// gateway.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Gateway {
    routes: Routes,
    invoke_url: Uri,
    policy: Policy,
}

impl Gateway {
    /// A gateway for these routes, invoking their functions through watch at `invoke_url`
    /// (`http://host:port`), accepting sockets from pages of that same origin (watch serves
    /// the app's pages there), with API Gateway's timeouts.
    pub fn new(routes: Routes, invoke_url: Uri) -> Self {
        let policy = Policy::new(&invoke_url.to_string());
        Self {
            routes,
            invoke_url,
            policy,
        }
    }

    /// The web origins whose pages may open sockets (browsers send `Origin`); an upgrade with
    /// another `Origin` is refused with 403. Replaces the default, `invoke_url`'s origin.
    pub fn origins(mut self, origins: &[String]) -> Self {
        self.policy.origins = origins
            .iter()
            .map(|o| crate::config::normalize_origin(o))
            .collect();
        self
    }

    /// Closes a socket that has sent and received no data frame for `timeout` (1001, `Going
    /// away`): API Gateway's is 10 minutes.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.policy.idle_timeout = timeout;
        self
    }

    /// Closes every socket `lifetime` after it opened (1001, `Going away`): API Gateway's is 2
    /// hours.
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.policy.max_lifetime = lifetime;
        self
    }

    /// Serves WebSocket connections on any path of `listener`, and the management API at
    /// `/@connections/{id}` and `/{stage}/@connections/{id}`, until `shutdown` completes.
    ///
    /// Then it stops accepting, closes every connection with 1001 (Going away), and returns
    /// once each of their `$disconnect` invocations has ended.
    ///
    /// # Errors
    ///
    /// When the listener's address can't be read or the server fails.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> io::Result<()> {
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            routes: self.routes,
            invoker: Invoker::new(&self.invoke_url),
            registry: Registry::default(),
            site: Site {
                domain_name: address.to_string(),
                port: address.port(),
            },
            policy: self.policy,
            tasks: TaskTracker::new(),
        });
        let management = get(management::get)
            .post(management::post)
            .delete(management::delete);
        let app = Router::new()
            .route("/@connections/{id}", management.clone())
            .route("/{stage}/@connections/{id}", management)
            .fallback(upgrade)
            .with_state(Arc::clone(&shared));

        let stop = CancellationToken::new();
        let closer = tokio::spawn({
            let (shared, stop) = (Arc::clone(&shared), stop.clone());
            async move {
                tokio::select! {
                    () = shutdown => {}
                    () = stop.cancelled() => {}
                }
                stop.cancel();
                for connection in shared.registry.shut() {
                    connection.close(Disconnect::going_away()).await;
                }
            }
        });
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stop.clone().cancelled_owned())
        .await;
        // Also when the server failed: the connections still have to close.
        stop.cancel();
        if let Err(err) = closer.await {
            warn!("closing the connections failed: {err}");
        }
        shared.tasks.close();
        shared.tasks.wait().await;
        served
    }
}

/// Any request that is not for the management API: a WebSocket upgrade, which `$connect`
/// accepts or refuses.
///
/// Refusals follow API Gateway (and Architect's sandbox): the status `$connect` answered when
/// it is not 2xx, and 502 when the invocation failed or its reply has no `statusCode`.
async fn upgrade(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // Before anything reaches a function: the app's pages on a loopback name only.
    if let Some(why) = shared.policy.refuse_upgrade(&headers, shared.site.port) {
        warn!("$connect: refused with 403: {why}");
        return StatusCode::FORBIDDEN.into_response();
    }
    // API Gateway's limits: a larger frame or message closes the socket (1009).
    let ws = ws.max_frame_size(MAX_FRAME).max_message_size(MAX_MESSAGE);
    let connection_id = match ConnectionId::random() {
        Ok(id) => id,
        Err(err) => {
            warn!("$connect refused with 500: no randomness for a connection id: {err}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let peer = Peer {
        connection_id,
        connected_at: Timestamp::now(),
        identity: Identity {
            source_ip: client.ip().to_string(),
            user_agent: headers
                .get(header::USER_AGENT)
                .map(|agent| String::from_utf8_lossy(agent.as_bytes()).into_owned()),
        },
    };
    let id = peer.connection_id.clone();
    let upgrade = Upgrade {
        headers: &headers,
        query: uri.query(),
        client_ip: client.ip(),
    };
    let event = match Event::connect(&shared.site, &peer, upgrade) {
        Ok(event) => event.to_json(),
        Err(err) => {
            warn!("$connect {id}: refused with 500: no randomness for a request id: {err}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let function = RouteKey::Connect.function();
    let reply = match shared.invoker.invoke(&function, event).await {
        Ok(reply) => reply,
        Err(err) => {
            warn!("$connect {id}: refused with 502: {err}");
            return StatusCode::BAD_GATEWAY.into_response();
        }
    };
    match reply.status_code.map(StatusCode::from_u16) {
        Some(Ok(status)) if status.is_success() => {}
        Some(Ok(status)) => {
            info!("$connect {id}: refused: {function} answered {status}");
            return status.into_response();
        }
        Some(Err(_)) | None => {
            warn!("$connect {id}: refused with 502: {function} replied without a valid statusCode");
            return StatusCode::BAD_GATEWAY.into_response();
        }
    }
    // API Gateway completes a subprotocol handshake only with the protocol $connect picked.
    let ws = match reply.header("Sec-WebSocket-Protocol") {
        Some(protocol) => ws.protocols([protocol.to_owned()]),
        None => ws,
    };

    let (connection, inbox) = Connection::new(peer);
    if shared.registry.insert(Arc::clone(&connection)).is_err() {
        info!("$connect {id}: refused with 503: shutting down");
        let shared = Arc::clone(&shared);
        shared.tasks.clone().spawn(async move {
            disconnect(&shared, &connection, &Disconnect::going_away()).await;
        });
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    info!("$connect {id}: accepted from {}", client.ip());

    // Held until the socket task ends, so shutdown waits for it; dropped with the closure
    // when the upgrade fails.
    let running = shared.tasks.token();
    let on_failed = {
        let (shared, connection) = (Arc::clone(&shared), Arc::clone(&connection));
        move |err: axum::Error| {
            shared.registry.remove(connection.id().as_str());
            warn!("$connect {}: the upgrade failed: {err}", connection.id());
            let tasks = shared.tasks.clone();
            tasks.spawn(async move {
                disconnect(&shared, &connection, &Disconnect::abnormal()).await;
            });
        }
    };
    ws.on_failed_upgrade(on_failed)
        .on_upgrade(move |socket| async move {
            run(&shared, &connection, inbox, socket).await;
            drop(running);
        })
}

/// One connection's socket, from the upgrade to `$disconnect`.
async fn run(
    shared: &Arc<Shared>,
    connection: &Arc<Connection>,
    mut inbox: mpsc::Receiver<Outbound>,
    mut socket: WebSocket,
) {
    let why = pump(shared, connection, &mut inbox, &mut socket).await;
    shared.registry.remove(connection.id().as_str());
    // Frames still waiting now fail with 410, as for a closed connection.
    drop(inbox);
    drop(socket);
    disconnect(shared, connection, &why).await;
}

/// Moves frames both ways until the socket closes, and says why it closed.
async fn pump(
    shared: &Arc<Shared>,
    connection: &Arc<Connection>,
    inbox: &mut mpsc::Receiver<Outbound>,
    socket: &mut WebSocket,
) -> Disconnect {
    // Set once the gateway sent a close frame: it, not the client's echo, says why.
    let mut closing: Option<(Disconnect, Instant)> = None;
    let policy = &shared.policy;
    let end_of_life = Instant::now() + policy.max_lifetime;
    loop {
        let deadline = closing.as_ref().map(|(_, deadline)| *deadline);
        // The earlier of the lifetime's end and the idle timeout from the last data frame.
        let limit = end_of_life.min(Instant::now() + idle_left(connection, policy.idle_timeout));
        tokio::select! {
            command = inbox.recv(), if closing.is_none() => match command {
                Some(Outbound::Frame { message, sent }) => {
                    if socket.send(message).await.is_err() {
                        return Disconnect::abnormal();
                    }
                    connection.touch();
                    // The sender may have stopped waiting; the frame went out all the same.
                    let _ = sent.send(());
                }
                Some(Outbound::Close(why)) => {
                    if send_close(socket, &why).await.is_err() {
                        return why;
                    }
                    closing = Some((why, Instant::now() + CLOSE_TIMEOUT));
                }
                // The connection holds a sender as long as it exists.
                None => return Disconnect::abnormal(),
            },
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    connection.touch();
                    on_message(shared, connection, Inbound::Text(text));
                }
                Some(Ok(Message::Binary(bytes))) => {
                    connection.touch();
                    on_message(shared, connection, Inbound::Binary(bytes));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                Some(Ok(Message::Close(frame))) => {
                    let why = match (closing, frame) {
                        (Some((why, _)), _) => why,
                        (None, Some(frame)) => Disconnect::new(frame.code, frame.reason.as_str()),
                        (None, None) => Disconnect::no_status(),
                    };
                    finish_close(socket).await;
                    return why;
                }
                Some(Err(err)) if closing.is_none() && too_big(&err) => {
                    let why = Disconnect::too_big();
                    info!("{} {}: closing: {err}", RouteKey::Disconnect, connection.id());
                    let _ = send_close(socket, &why).await;
                    return why;
                }
                Some(Err(_)) | None => {
                    return closing.map_or_else(Disconnect::abnormal, |(why, _)| why);
                }
            },
            () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                return closing.map_or_else(Disconnect::abnormal, |(why, _)| why);
            }
            // Woken at the limit: the idle time is measured again, since a frame may have
            // moved it.
            () = sleep_until(limit), if closing.is_none() => {
                let over = Instant::now() >= end_of_life;
                if over || idle_left(connection, policy.idle_timeout).is_zero() {
                    let why = Disconnect::going_away();
                    let what = if over { "its lifetime is over" } else { "idle" };
                    info!("{} {}: closing: {what}", RouteKey::Disconnect, connection.id());
                    if send_close(socket, &why).await.is_err() {
                        return why;
                    }
                    closing = Some((why, Instant::now() + CLOSE_TIMEOUT));
                }
            }
        }
    }
}

/// How long until `connection` has been idle for `timeout`, counted from its last data frame:
/// zero once it has.
fn idle_left(connection: &Connection, timeout: Duration) -> Duration {
    let idle_ms = Timestamp::now()
        .millis()
        .saturating_sub(connection.last_active().millis());
    let idle = Duration::from_millis(u64::try_from(idle_ms).unwrap_or(0));
    timeout.saturating_sub(idle)
}

/// Sends a close frame saying `why`.
async fn send_close(socket: &mut WebSocket, why: &Disconnect) -> Result<(), axum::Error> {
    let frame = CloseFrame {
        code: why.code,
        reason: Utf8Bytes::from(why.reason.clone()),
    };
    socket.send(Message::Close(Some(frame))).await
}

/// Whether a read failed on API Gateway's size limits.
fn too_big(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(tungstenite::Error::Capacity(_)) = e.downcast_ref::<tungstenite::Error>() {
            return true;
        }
        source = e.source();
    }
    false
}

/// Reads on until the socket ends, which sends tungstenite's reply to the client's close frame.
async fn finish_close(socket: &mut WebSocket) {
    let drain = async { while let Some(Ok(_)) = socket.recv().await {} };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, drain).await;
}

/// A message as the client framed it, owned by its invocation.
enum Inbound {
    Text(Utf8Bytes),
    Binary(Bytes),
}

/// Invokes the message's route in its own task: invocations of one connection overlap, as on
/// API Gateway, and the socket keeps moving frames (those the function posts included).
fn on_message(shared: &Arc<Shared>, connection: &Arc<Connection>, message: Inbound) {
    let (shared, connection) = (Arc::clone(shared), Arc::clone(connection));
    let tasks = shared.tasks.clone();
    tasks.spawn(async move {
        let (route, payload) = match &message {
            Inbound::Text(text) => (
                shared.routes.select(text.as_str()),
                Payload::Text(text.as_str()),
            ),
            Inbound::Binary(bytes) => (RouteKey::Default, Payload::Binary(bytes)),
        };
        let id = connection.id();
        let event = match Event::message(&shared.site, &connection.peer, &route, payload) {
            Ok(event) => event,
            Err(err) => {
                warn!("{route} {id}: dropped: no randomness for a request id: {err}");
                return;
            }
        };
        let function = route.function();
        match shared.invoker.invoke(&function, event.to_json()).await {
            // The route's response, as API Gateway sends it for a route with one.
            Ok(reply) => {
                if let Some(body) = reply.body.filter(|body| !body.is_empty()) {
                    // A closed connection drops the reply, as API Gateway does.
                    let _ = connection.send(Message::text(body)).await;
                }
            }
            // API Gateway tells the client so, in these words, and keeps the connection.
            Err(err) => {
                warn!("{route} {id}: {err}");
                let frame = serde_json::json!({
                    "message": "Internal server error",
                    "connectionId": id.as_str(),
                    "requestId": event.request_id(),
                });
                let _ = connection.send(Message::text(frame.to_string())).await;
            }
        }
    });
}

/// Invokes `$disconnect`; best effort, as on API Gateway.
async fn disconnect(shared: &Shared, connection: &Connection, why: &Disconnect) {
    let id = connection.id();
    info!("$disconnect {id}: {} {}", why.code, why.reason);
    let event = match Event::disconnect(&shared.site, &connection.peer, why) {
        Ok(event) => event,
        Err(err) => {
            warn!("$disconnect {id}: not sent: no randomness for a request id: {err}");
            return;
        }
    };
    if let Err(err) = shared
        .invoker
        .invoke(&RouteKey::Disconnect.function(), event.to_json())
        .await
    {
        warn!("$disconnect {id}: {err}");
    }
}
