//! The open connections, by id: what the management API and the routes reach a client through.
//!
//! A connection is in the registry from the moment `$connect` accepts it until it closes or is
//! deleted. Nothing here holds the registry's lock across an `.await`: lookups clone the
//! connection's `Arc` out, so a function may post to its own connection while its invocation is
//! still running.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ws::Message;
use tokio::sync::{mpsc, oneshot};

use crate::clock::Timestamp;
use crate::event::{Disconnect, Peer};
use crate::ids::ConnectionId;

/// How many frames may wait for one connection's socket before senders wait their turn.
pub(crate) const OUTBOX_CAPACITY: usize = 64;

/// What a connection's socket task is asked to do.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// Send this frame, then say so.
    Frame {
        message: Message,
        sent: oneshot::Sender<()>,
    },
    /// Close the socket with this code and reason.
    Close(Disconnect),
}

/// One open connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) peer: Peer,
    last_active: AtomicI64,
    outbox: mpsc::Sender<Outbound>,
}

/// A frame could not be sent: the connection is gone (API Gateway's `GoneException`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the connection is gone")]
pub(crate) struct Gone;

impl Connection {
    /// A connection and the receiving end of its outbox, for its socket task.
    pub(crate) fn new(peer: Peer) -> (Arc<Self>, mpsc::Receiver<Outbound>) {
        let (outbox, inbox) = mpsc::channel(OUTBOX_CAPACITY);
        let connection = Self {
            last_active: AtomicI64::new(peer.connected_at.millis()),
            peer,
            outbox,
        };
        (Arc::new(connection), inbox)
    }

    pub(crate) fn id(&self) -> &ConnectionId {
        &self.peer.connection_id
    }

    /// When a frame last went either way.
    pub(crate) fn last_active(&self) -> Timestamp {
        Timestamp::from_millis(self.last_active.load(Ordering::Relaxed))
    }

    pub(crate) fn touch(&self) {
        self.last_active
            .fetch_max(Timestamp::now().millis(), Ordering::Relaxed);
    }

    /// Sends a frame and waits until it is on the socket.
    ///
    /// # Errors
    ///
    /// [`Gone`] when the socket closed before the frame was sent.
    pub(crate) async fn send(&self, message: Message) -> Result<(), Gone> {
        let (sent, done) = oneshot::channel();
        self.outbox
            .send(Outbound::Frame { message, sent })
            .await
            .map_err(|_| Gone)?;
        done.await.map_err(|_| Gone)
    }

    /// Asks the socket task to close the socket; the close goes out after any frames already
    /// waiting.
    pub(crate) async fn close(&self, why: Disconnect) {
        // An error means the socket task already ended: the connection is closed either way.
        let _ = self.outbox.send(Outbound::Close(why)).await;
    }
}

/// The open connections.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    open: HashMap<ConnectionId, Arc<Connection>>,
    /// Set at shutdown: no connection may open after the last ones were told to close.
    shut: bool,
}

/// The registry refuses new connections: the gateway is shutting down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the gateway is shutting down")]
pub(crate) struct ShuttingDown;

impl Registry {
    fn state(&self) -> MutexGuard<'_, State> {
        // The lock is never held across code that can panic halfway through a change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a connection that `$connect` accepted.
    ///
    /// # Errors
    ///
    /// [`ShuttingDown`] after [`Registry::shut`].
    pub(crate) fn insert(&self, connection: Arc<Connection>) -> Result<(), ShuttingDown> {
        let mut state = self.state();
        if state.shut {
            return Err(ShuttingDown);
        }
        state.open.insert(connection.id().clone(), connection);
        Ok(())
    }

    /// The open connection with this id.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.state().open.get(id).cloned()
    }

    /// Forgets a connection; it is gone for the management API from now on.
    pub(crate) fn remove(&self, id: &str) -> Option<Arc<Connection>> {
        self.state().open.remove(id)
    }

    /// Refuses new connections from now on and forgets every open one, returning them so the
    /// caller can close them.
    pub(crate) fn shut(&self) -> Vec<Arc<Connection>> {
        let mut state = self.state();
        state.shut = true;
        state
            .open
            .drain()
            .map(|(_, connection)| connection)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Identity;

    fn connection() -> (Arc<Connection>, mpsc::Receiver<Outbound>) {
        Connection::new(Peer {
            connection_id: ConnectionId::random().unwrap_or_else(|err| panic!("{err}")),
            connected_at: Timestamp::from_millis(1_000),
            identity: Identity {
                source_ip: "127.0.0.1".into(),
                user_agent: None,
            },
        })
    }

    #[test]
    fn insert_get_remove() {
        let registry = Registry::default();
        let (connection, _inbox) = connection();
        let id = connection.id().to_string();
        assert!(registry.get(&id).is_none());
        assert_eq!(registry.insert(connection), Ok(()));
        assert!(registry.get(&id).is_some());
        assert!(registry.remove(&id).is_some());
        assert!(registry.get(&id).is_none());
        assert!(registry.remove(&id).is_none());
    }

    #[test]
    fn shut_hands_over_every_connection_and_refuses_new_ones() {
        let registry = Registry::default();
        let (one, _one) = connection();
        let (two, _two) = connection();
        let id = one.id().to_string();
        assert_eq!(registry.insert(one), Ok(()));
        assert_eq!(registry.shut().len(), 1);
        assert!(registry.get(&id).is_none());
        assert_eq!(registry.insert(two), Err(ShuttingDown));
    }

    #[test]
    fn touch_moves_last_active_forward_only() {
        let (connection, _inbox) = connection();
        assert_eq!(connection.last_active(), Timestamp::from_millis(1_000));
        connection.touch();
        assert!(connection.last_active() > Timestamp::from_millis(1_000));
    }

    #[tokio::test]
    async fn send_waits_for_the_socket_and_fails_once_it_is_gone() {
        let (connection, mut inbox) = connection();
        let socket = tokio::spawn(async move {
            match inbox.recv().await {
                Some(Outbound::Frame { message, sent }) => {
                    let _ = sent.send(());
                    message
                }
                other => panic!("expected a frame, got {other:?}"),
            }
            // The inbox is dropped here, as when the socket task ends.
        });
        assert_eq!(connection.send(Message::text("hi")).await, Ok(()));
        let message = socket.await.unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(message, Message::text("hi"));
        assert_eq!(connection.send(Message::text("late")).await, Err(Gone));
    }
}
