//! A request's user: the device list of the signed-in user, and ending their other sessions,
//! whose open pages are told before their sockets close. Signing in and out is the session's
//! own ([`Session::sign_in`](crate::http::session::Session::sign_in),
//! [`Session::sign_out`](crate::http::session::Session::sign_out)); the wrapper notes the
//! `User-Agent` the device list shows when it reads the session.

use super::Request;
use crate::gateway::{self, Payload};
use crate::session::{self, Device, Which};

impl Request {
    /// The signed-in user's sessions, this one marked [`Device::current`]: see
    /// [`SessionStore::devices`](session::SessionStore::devices). Empty for a request the
    /// wrapper did not build, or a session not signed in.
    ///
    /// # Errors
    ///
    /// [`session::Error::CookieSessions`] in cookie mode; [`session::Error::DynamoDb`] when the
    /// table cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn account(req: Request) -> http::Result<Response> {
    ///     Ok(match req.devices().await {
    ///         Ok(devices) => Response::text(format!("{} devices", devices.len())),
    ///         Err(e) => Response::text(e.to_string()).status(501),
    ///     })
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let config = Config::from_vars([("ARC_ENV", "testing")])?;
    /// let handler = Handler::with_store(Arc::new(SessionStore::new(&config)), account);
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// assert_eq!(handler.handle(event).await.status(), 501, "cookie mode keeps no list");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn devices(&self) -> Result<Vec<Device>, session::Error> {
        match self.store() {
            Some(store) => store.devices(&self.session).await,
            None => Ok(Vec::new()),
        }
    }

    /// Signs out the user's session that `handle` (from [`Request::devices`]) names: its record
    /// is deleted, so its cookie opens nothing, it leaves the list, and its open sockets get
    /// `notice` (the page shows "signed out on another device") and are then closed. False when
    /// no other session of the user has that handle (this request's own is signed out with
    /// [`Session::sign_out`](crate::http::session::Session::sign_out)).
    ///
    /// # Errors
    ///
    /// As [`Request::devices`]. Telling and closing the sockets is best effort and logged.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// let notice = serde_json::json!({ "signedOut": true });
    /// assert!(!req.sign_out_device("no-such-handle", notice).await?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn sign_out_device(
        &self,
        handle: &str,
        notice: impl Into<Payload>,
    ) -> Result<bool, session::Error> {
        Ok(self.end(Which::One(handle), notice.into()).await? > 0)
    }

    /// Signs out every other session of the user, as [`Request::sign_out_device`] does each,
    /// and returns how many.
    ///
    /// # Errors
    ///
    /// As [`Request::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.sign_out_others(serde_json::json!({ "signedOut": true })).await?, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn sign_out_others(
        &self,
        notice: impl Into<Payload>,
    ) -> Result<usize, session::Error> {
        self.end(Which::Others, notice.into()).await
    }

    /// "Sign out everywhere": [`Request::sign_out_others`], then this session signed out too
    /// (return `req.session` with the response, so the write ends it and expires the cookie).
    /// Returns how many other sessions ended.
    ///
    /// # Errors
    ///
    /// As [`Request::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let mut req = arc_functions::http::Request::from_lambda(event)?;
    /// req.session.sign_in("ann", "stamp")?;
    /// req.sign_out_everywhere(serde_json::json!({ "signedOut": true })).await?;
    /// assert_eq!(req.session.user(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn sign_out_everywhere(
        &mut self,
        notice: impl Into<Payload>,
    ) -> Result<usize, session::Error> {
        let ended = self.end(Which::Others, notice.into()).await?;
        self.session.sign_out();
        Ok(ended)
    }

    async fn end(&self, which: Which<'_>, notice: Payload) -> Result<usize, session::Error> {
        let Some(attached) = &self.attached else {
            return Ok(0);
        };
        let records = attached.store.end(&self.session, which).await?;
        if attached.ws.endpoint().is_some() {
            gateway::end_sessions(
                &attached.store,
                &attached.ws,
                &records,
                notice,
                self.deadline(),
            )
            .await;
        }
        Ok(records.len())
    }
}
