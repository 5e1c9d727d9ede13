//! A [`Response`] into the HTTP response it stands for: headers, cookies, caching and
//! compression.

use super::*;

impl Response {
    /// The HTTP response, without writing a session: only [`async_handler`] writes the one set
    /// with [`Response::session`], since writing needs its store.
    ///
    /// [`async_handler`]: crate::http::async_handler
    ///
    /// # Errors
    ///
    /// [`ResponseError`] when the response cannot be sent as built.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::text("ok").into_http()?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.body(), &lambda_http::Body::from("ok"));
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn into_http(self) -> Result<lambda_http::Response<LambdaBody>, ResponseError> {
        self.into_http_with(None, None)
    }

    /// Builds the HTTP response. `session_cookie` is the written session's `Set-Cookie` value;
    /// `accepted` is what the request accepts, `None` when compression is off.
    pub(crate) fn into_http_with(
        self,
        session_cookie: Option<&str>,
        accepted: Option<&Accepted>,
    ) -> Result<lambda_http::Response<LambdaBody>, ResponseError> {
        if let Some(e) = self.json_error {
            return Err(ResponseError::Json(e));
        }
        let status = match (self.status, &self.location) {
            (Some(code), _) => {
                StatusCode::from_u16(code).map_err(|_| ResponseError::Status(code))?
            }
            (None, Some(_)) => StatusCode::FOUND,
            (None, None) => StatusCode::OK,
        };
        let mut headers = HeaderMap::new();
        let value = |v: &str| HeaderValue::from_str(v).map_err(|_| ResponseError::Header(v.into()));
        let kind = self.kind.unwrap_or(Kind::Other);
        if let Some(ct) = self.content_type.as_deref().or(kind.content_type()) {
            headers.insert(CONTENT_TYPE, value(ct)?);
        }
        let no_cache = matches!(kind, Kind::Html | Kind::Json) || self.location.is_some();
        // A shared cache must never hand one visitor's session cookie to the next.
        let default = match (session_cookie, no_cache) {
            (Some(_), _) => PRIVATE,
            (None, true) => NO_CACHE,
            (None, false) => CACHE_A_DAY,
        };
        let cache = self.cache_control.as_deref().unwrap_or(default);
        headers.insert(CACHE_CONTROL, value(cache)?);
        if let Some(location) = &self.location {
            headers.insert(LOCATION, value(location)?);
        }
        if self.cors {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
        for (name, v) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ResponseError::Header(name.clone()))?;
            headers.insert(name, value(v)?);
        }
        for cookie in self
            .cookies
            .iter()
            .map(String::as_str)
            .chain(session_cookie)
        {
            headers.append(SET_COOKIE, value(cookie)?);
        }
        if session_cookie.is_some() {
            // Whatever the handler chose: a shared cache must never keep a session cookie.
            let chosen = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok());
            let private = private_cache_control(chosen);
            headers.insert(CACHE_CONTROL, value(&private)?);
        }
        let compressible = cfg!(feature = "compression")
            && !self.uncompressed
            && !self.body.is_empty()
            && !headers.contains_key(CONTENT_ENCODING)
            && !matches!(status, StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
        let accepted = accepted.filter(|_| compressible);
        let body = match accepted.and_then(|a| negotiate(a, &self.body, self.prefer, &mut headers))
        {
            // API Gateway wants bytes base64-encoded: lambda_http does that for a binary body.
            Some(compressed) => LambdaBody::Binary(compressed),
            None if self.body.is_empty() => LambdaBody::Empty,
            None => match String::from_utf8(self.body) {
                Ok(text) => LambdaBody::Text(text),
                Err(e) => LambdaBody::Binary(e.into_bytes()),
            },
        };
        let mut response = lambda_http::Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        Ok(response)
    }
}

/// `cache-control` for a response that carries the session cookie: `private` always, keeping
/// what the handler chose that still holds for the browser's own cache (`no-store`,
/// `max-age`, `no-cache`, ...) and dropping what only a shared cache reads (`public`,
/// `s-maxage`, `proxy-revalidate`). Nothing chosen: `private, no-store`.
///
/// # Examples
///
/// ```
/// use arc_functions::http::private_cache_control;
/// assert_eq!(private_cache_control(None), "private, no-store");
/// assert_eq!(private_cache_control(Some("public, max-age=3600, s-maxage=86400")), "private, max-age=3600");
/// assert_eq!(private_cache_control(Some("no-store")), "private, no-store");
/// ```
pub fn private_cache_control(chosen: Option<&str>) -> String {
    let Some(chosen) = chosen else {
        return PRIVATE.to_owned();
    };
    // Written as it is read, without a list or a lowercased copy of each name: it runs on
    // every response that carries the session cookie.
    let mut private = String::with_capacity("private, ".len() + chosen.len());
    private.push_str("private");
    for directive in chosen.split(',').map(str::trim) {
        let name = directive.split('=').next().unwrap_or_default().trim();
        let shared = ["public", "private", "s-maxage", "proxy-revalidate"]
            .iter()
            .any(|shared| name.eq_ignore_ascii_case(shared));
        if !directive.is_empty() && !shared {
            private.push_str(", ");
            private.push_str(directive);
        }
    }
    if private.len() == "private".len() {
        return PRIVATE.to_owned();
    }
    private
}

/// `body` compressed when `accepted` and the body's type and size call for it, with
/// `content-encoding` set; in any case `vary` says that the coding depends on the request.
fn negotiate(
    accepted: &Accepted,
    body: &[u8],
    prefer: Option<Encoding>,
    headers: &mut HeaderMap,
) -> Option<Vec<u8>> {
    // Any response that may be compressed varies with the header, sent compressed or not:
    // a shared cache must not give one client's coding to another.
    let vary = match headers.get(VARY).and_then(|v| v.to_str().ok()) {
        None => Some("accept-encoding".to_owned()),
        Some(v) if v.trim() == "*" || v.to_ascii_lowercase().contains("accept-encoding") => None,
        Some(v) => Some(format!("{v}, accept-encoding")),
    };
    if let Some(vary) = vary.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(VARY, vary);
    }
    let text_like = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(compress::is_text_like);
    let worth_it = text_like && body.len() >= compress::MIN_SIZE;
    let encoding = accepted.choose(prefer.unwrap_or(Encoding::Br), worth_it)?;
    // Chosen though not worth it means identity is refused: send it compressed all the same.
    let compressed =
        compress::compress(encoding, body).filter(|c| c.len() < body.len() || !worth_it)?;
    headers.insert(
        CONTENT_ENCODING,
        HeaderValue::from_static(encoding.as_str()),
    );
    Some(compressed)
}

impl Response {
    /// The HTTP response, or a generic 500 page with the cause in the log.
    pub(crate) fn into_http_or_500(
        self,
        session_cookie: Option<&str>,
        accepted: Option<&Accepted>,
    ) -> lambda_http::Response<LambdaBody> {
        self.into_http_with(session_cookie, accepted)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "the response could not be built");
                error_page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500)
            })
    }
}

/// For a `Response` returned outside [`async_handler`](crate::http::async_handler), say from a
/// plain `lambda_http::service_fn`: the same HTTP response, a generic 500 when it cannot be
/// built. A session set on it is not written (that needs the wrapper's store); write it with
/// [`session::write`](crate::http::session::write) and add the cookie with [`Response::cookie`].
///
/// # Examples
///
/// ```
/// use lambda_http::IntoResponse;
///
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// let response = arc_functions::http::Response::text("ok").into_response().await;
/// assert_eq!(response.status(), 200);
/// let broken = arc_functions::http::Response::new().status(1000).into_response().await;
/// assert_eq!(broken.status(), 500);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
impl IntoResponse for Response {
    fn into_response(
        self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = lambda_http::Response<LambdaBody>> + Send>,
    > {
        if self.session.is_some() {
            tracing::warn!(
                "a Response with a session was returned outside async_handler: the session is not written"
            );
        }
        Box::pin(std::future::ready(self.into_http_or_500(None, None)))
    }
}
