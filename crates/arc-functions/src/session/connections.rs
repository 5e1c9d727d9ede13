//! What WebSocket handlers need of the store: sessions tied to connections.
//!
//! API Gateway forwards the browser's cookie only on `$connect`, so in DynamoDB mode the
//! connection is tied to the session then, and every later event of the connection reads the
//! live session through that tie (see the DynamoDB provider for the records). A sealed cookie
//! keeps nothing server-side: there the session is readable on `$connect` only.

use super::provider::ConnectionRecords;
use super::store::Moved;
use super::ticket::Refusal;
use super::{Error, Lifecycle, Session, SessionStore};
use crate::keys;

impl SessionStore {
    /// Whether this store ties WebSocket connections to sessions: true in DynamoDB mode. In
    /// cookie mode a WebSocket handler sees the session on `$connect` only, and cannot write
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    ///
    /// let cookie = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// assert!(!cookie.keeps_connections());
    /// let table = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "s")])?;
    /// assert!(SessionStore::new(&table).keeps_connections());
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn keeps_connections(&self) -> bool {
        self.records().is_some()
    }

    /// The provider's connection records: none in cookie mode.
    fn records(&self) -> Option<&dyn ConnectionRecords> {
        self.provider().records()
    }

    /// The open WebSocket connections of `session`, sorted: the ones to push to. Empty for a
    /// session never written, and always in cookie mode, where nothing ties connections to
    /// sessions.
    ///
    /// # Errors
    ///
    /// [`Error::DynamoDb`] when the table cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Session, SessionStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// assert!(store.connections(&Session::new()).await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn connections(&self, session: &Session) -> Result<Vec<String>, Error> {
        match record_id(session) {
            Some(id) => self.connections_of_record(id).await,
            None => Ok(Vec::new()),
        }
    }

    /// The open connections of the session stored under `record`.
    pub(crate) async fn connections_of_record(&self, record: &str) -> Result<Vec<String>, Error> {
        match self.records() {
            Some(records) => records.open_connections(record, keys::now()).await,
            None => Ok(Vec::new()),
        }
    }

    /// Records an accepted connection, tied to the session record `session` (`None`: the
    /// browser has no session yet). Returns the session's oldest connections past its cap
    /// (`ARC_WS_MAX_CONNECTIONS`), already off its list, for the caller to close.
    pub(crate) async fn tie(
        &self,
        connection: &str,
        session: Option<&str>,
    ) -> Result<Vec<String>, Error> {
        match self.records() {
            Some(records) => {
                records
                    .tie(connection, session, keys::now(), self.max_connections)
                    .await
            }
            None => Ok(Vec::new()),
        }
    }

    /// A socket ticket for `session`, for a page served from `origin` (`https://host`): what
    /// the page puts in its WebSocket URL's query string as `ticket`, so that `$connect` finds
    /// the session on a socket that is on another host than the page (as API Gateway serves
    /// them), where the cookie does not go. It names the session and the origin, opens for
    /// [`TICKET_LIFETIME`](super::TICKET_LIFETIME) seconds, and only once.
    /// [`http::Request::socket_url`](crate::http::Request::socket_url) is the usual way to get
    /// one.
    ///
    /// `None` when there is nothing to follow: sessions sealed in the cookie (no record to
    /// name), a session never stored, or one this request regenerates or destroys.
    ///
    /// # Errors
    ///
    /// [`Error::Random`] when the OS random source fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Session, SessionStore};
    ///
    /// let cookie_mode = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// assert_eq!(cookie_mode.socket_ticket(&Session::new(), "https://app.example.com")?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn socket_ticket(&self, session: &Session, origin: &str) -> Result<Option<String>, Error> {
        let record = record_id(session)
            .filter(|_| self.keeps_connections() && session.lifecycle() == Lifecycle::Kept);
        match record {
            Some(record) => Ok(Some(self.tickets.mint(record, origin, keys::now())?)),
            None => Ok(None),
        }
    }

    /// Redeems a socket ticket presented on `$connect` from `origin` (the upgrade's `Origin`):
    /// the session it names, or why it gives none. Spends it (one conditional write), so a
    /// second use is [`Refusal::Replayed`].
    ///
    /// # Errors
    ///
    /// [`Error::DynamoDb`] when the table cannot be reached.
    pub(crate) async fn redeem_ticket(
        &self,
        ticket: &str,
        origin: Option<&str>,
    ) -> Result<Result<Session, Refusal>, Error> {
        let Some(records) = self.records() else {
            return Ok(Err(Refusal::CookieSessions));
        };
        let now = keys::now();
        let opened = match self.tickets.open(ticket, origin, now) {
            Ok(opened) => opened,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !records.spend_ticket(&opened.id, opened.expires).await? {
            return Ok(Err(Refusal::Replayed));
        }
        Ok(match records.load_record(&opened.record, now).await? {
            Some(loaded) => {
                let session = Session::loaded(loaded.data, loaded.origin, loaded.expiry);
                let session = self.admit(session).await?;
                // Signed in before a credential change: refused as an ended session.
                if session.is_new() {
                    Err(Refusal::SessionEnded)
                } else {
                    Ok(session)
                }
            }
            None => Err(Refusal::SessionEnded),
        })
    }

    /// The live session `connection` is tied to: empty when none (or in cookie mode).
    pub(crate) async fn read_connection(&self, connection: &str) -> Result<Session, Error> {
        let Some(records) = self.records() else {
            return Ok(Session::new());
        };
        Ok(
            match records.load_for_connection(connection, keys::now()).await? {
                Some(loaded) => {
                    self.admit(Session::loaded(loaded.data, loaded.origin, loaded.expiry))
                        .await?
                }
                None => Session::new(),
            },
        )
    }

    /// Writes a session from a WebSocket handler and says which record it now lives in
    /// (`None` once destroyed), for the connection to be tied to, and which it left.
    ///
    /// [`Error::CookieOverWebSocket`] in cookie mode.
    pub(crate) async fn save_from_websocket(&self, session: &Session) -> Result<Moved, Error> {
        if !self.keeps_connections() {
            return Err(Error::CookieOverWebSocket);
        }
        self.save_moved(session).await
    }

    /// Forgets `connection`'s records: on `$disconnect`, and when it is gone.
    pub(crate) async fn untie(&self, connection: &str) -> Result<(), Error> {
        match self.records() {
            Some(records) => records.untie(connection).await,
            None => Ok(()),
        }
    }
}

/// The id of the stored record a session was read from.
pub(crate) fn record_id(session: &Session) -> Option<&str> {
    session
        .origin()
        .and_then(|o| o.record.as_ref())
        .map(|r| r.id.as_str())
}
