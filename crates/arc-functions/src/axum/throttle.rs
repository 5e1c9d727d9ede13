//! [`ThrottleLayer`]: sign-in throttling for an axum route, as
//! [`Throttle::step`](crate::throttle::Throttle::step) is for a chain.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum_core::body::Body;
use axum_core::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use lambda_http::Body as LambdaBody;
use lambda_http::http::{Request, StatusCode};
use lambda_http::request::RequestContext;

use super::{into_axum, page};
use crate::runtime::{Fault, GENERIC_500, parse_body};
use crate::throttle::{Admission, Throttle, user_of};

/// The largest sign-in body read to find the user name; a larger one is refused with 413.
const MAX_BODY: usize = 64 * 1024;

/// A tower layer that counts each request to the route it wraps as a sign-in attempt, keyed by
/// the form or JSON field it names and API Gateway's client address: a locked count is
/// answered `429` with `Retry-After` and the handler never runs; an attempt let through
/// reaches the handler with its [`Attempt`](crate::throttle::Attempt) as an extension, for
/// [`succeeded`](crate::throttle::Attempt::succeeded) when the password is right. Put it on the
/// sign-in route alone, with `route_layer`.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::ThrottleLayer;
/// use arc_functions::config::Config;
/// use arc_functions::throttle::{Attempt, Throttle};
/// use axum::{Extension, Form, Router, response::Redirect, routing::post};
///
/// #[derive(serde::Deserialize)]
/// struct Login { user: String, password: String }
///
/// async fn login(
///     Extension(attempt): Extension<Attempt>,
///     Form(login): Form<Login>,
/// ) -> Result<Redirect, arc_functions::axum::Error> {
///     if login.user == "ann" && login.password == "correct horse" {
///         attempt.succeeded().await?;
///         return Ok(Redirect::to("/"));
///     }
///     Ok(Redirect::to("/login"))
/// }
///
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "s")])?;
/// let throttle = Throttle::new(&config)?;
/// let app: Router = Router::new()
///     .route("/login", post(login).route_layer(ThrottleLayer::new(throttle, "user")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ThrottleLayer {
    throttle: Throttle,
    user_field: String,
}

impl ThrottleLayer {
    /// Counts attempts with `throttle`, keyed by the body's field `user_field`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::axum::ThrottleLayer;
    /// use arc_functions::config::Config;
    /// use arc_functions::throttle::{Rule, Throttle};
    ///
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "sessions")])?;
    /// let throttle = Throttle::new(&config)?.rule(Rule::default().attempts(3));
    /// let layer = ThrottleLayer::new(throttle, "email");
    /// let shown = format!("{layer:?}");
    /// assert!(shown.contains(r#"user_field: "email""#), "{shown}");
    /// assert!(shown.contains("attempts: 3"), "{shown}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(throttle: Throttle, user_field: &str) -> Self {
        Self {
            throttle,
            user_field: user_field.to_owned(),
        }
    }
}

impl<S> tower_layer::Layer<S> for ThrottleLayer {
    type Service = ThrottleService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ThrottleService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ThrottleLayer`] wraps around a route.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::{ThrottleLayer, ThrottleService};
/// use arc_functions::config::Config;
/// use arc_functions::throttle::Throttle;
/// use axum::{Router, routing::post};
/// use tower::Layer;
///
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_THROTTLE_TABLE_NAME", "sign-ins")])?;
/// let routes: Router = Router::new().route("/login", post(|| async { "welcome" }));
/// // What `route_layer` builds, made by hand.
/// let service: ThrottleService<Router> = ThrottleLayer::new(Throttle::new(&config)?, "user").layer(routes);
/// assert!(format!("{service:?}").contains(r#"table: "sign-ins""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ThrottleService<S> {
    inner: S,
    layer: ThrottleLayer,
}

impl<S> tower_service::Service<Request<Body>> for ThrottleService<S>
where
    S: tower_service::Service<Request<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let (mut parts, body) = request.into_parts();
            let bytes = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return Ok(page(StatusCode::PAYLOAD_TOO_LARGE, GENERIC_500)),
            };
            // Read as a handler reads it, by its content type; a body that does not parse
            // names no user.
            let parsed = parse_body(&parts.headers, &LambdaBody::Binary(bytes.to_vec()))
                .unwrap_or(crate::runtime::Body::Empty);
            let user = user_of(&parsed, &layer.user_field);
            let address = parts
                .extensions
                .get::<RequestContext>()
                .and_then(crate::http::source_ip)
                .map(str::to_owned);
            match layer.throttle.attempt(&user, address.as_deref()).await {
                Ok(Admission::Allowed(attempt)) => {
                    parts.extensions.insert(attempt);
                    let request = Request::from_parts(parts, Body::from(bytes));
                    let Ok(response) = inner.call(request).await;
                    Ok(response.into_response())
                }
                Ok(Admission::Locked(locked)) => Ok(match locked.response().into_http() {
                    Ok(response) => into_axum(response),
                    Err(_) => page(StatusCode::TOO_MANY_REQUESTS, GENERIC_500),
                }),
                Err(e) => {
                    tracing::error!(error = %e, "counting a sign-in attempt failed");
                    let (status, message) = Fault::unavailable_if(e.is_unavailable()).reply();
                    Ok(page(status, message))
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::http::header::CONTENT_TYPE;
    use lambda_http::http::{HeaderMap, HeaderValue};

    use crate::runtime::parse_body;
    use crate::throttle::user_of;

    /// The user the layer finds in `body` sent as `content_type`.
    fn user_in(body: &[u8], content_type: &'static str, field: &str) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        let body = lambda_http::Body::Binary(body.to_vec());
        user_of(
            &parse_body(&headers, &body).unwrap_or(crate::runtime::Body::Empty),
            field,
        )
    }

    const FORM: &str = "application/x-www-form-urlencoded";
    const JSON: &str = "application/json; charset=utf-8";

    #[test]
    fn the_user_comes_from_the_form_or_the_json_body() {
        assert_eq!(user_in(b"user=ann&password=x", FORM, "user"), "ann");
        assert_eq!(user_in(b"user=a%20b", FORM, "user"), "a b");
        assert_eq!(user_in(b"password=x", FORM, "user"), "");
        assert_eq!(user_in(br#"{"user":"ann"}"#, JSON, "user"), "ann");
        assert_eq!(user_in(br#"{"user":1}"#, JSON, "user"), "");
        assert_eq!(user_in(b"user=ann", JSON, "user"), "", "not JSON");
    }
}
