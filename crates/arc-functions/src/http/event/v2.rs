//! An HTTP API (payload format 2.0) or function URL event, read in one pass from its text to
//! the `http::Request` lambda_http would make of it.
//!
//! lambda_http reads such an event into its owned `ApiGatewayV2httpRequest` (every field a
//! `String`, headers through an untagged enum that buffers each value), then converts that:
//! joins the cookies, parses the URL with the `url` crate and prints it again for `http::Uri`
//! to parse a third time, and copies the path parameters and stage variables from one map type
//! into another. Here serde borrows what it can from the payload, the fields no request
//! carries are checked but not kept, the header map, URI and parameter maps are built once,
//! and the request context, the one part a request keeps whole, is read by lambda_http's own
//! type from its slice of the payload, so it stays the same type with the same fields.
//!
//! The result is the same request, or nothing: [`read`] returns `None` for whatever it does
//! not take on, and the caller then reads the payload the general way. It takes on only
//! events the general way classifies as HTTP API events *and* reads without error or panic,
//! so being stricter is always safe, while being more lenient would not be: every check
//! below either mirrors a check lambda_http's types make or declines a case (a URL the `url`
//! crate would normalize, a base64 body it cannot decode) to the general path.
//! `fuzz/fuzz_targets/event_reader.rs` compares both on arbitrary input.
//!
//! [`read_parts`] reads the same fields the same way, but only the parts a handler reads
//! (method, path, query, headers, body, path parameters), for `http::run`, which makes the
//! rest of the request from the text only when asked for. The request context is then checked
//! rather than read ([`Checked`]), and so is what it reads: only what [`read`] takes on, and
//! of that only a context lambda_http's type certainly reads, so that making the rest later
//! cannot fail. The fuzz target compares it with the general path too.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::panic::catch_unwind;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::header::{COOKIE, HOST};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::Error as _};

use super::uri::uri;
use crate::runtime::Params;

/// The request lambda_http would make of `payload`, when it is an HTTP API event this reader
/// takes on; `None` otherwise (not such an event, or one to leave to the general path).
pub(super) fn read(payload: &str) -> Option<Request> {
    if !is_object(payload) {
        return None;
    }
    let event: Event<'_, Context, Lambda, Lambda> = serde_json::from_str(payload).ok()?;
    build(event)
}

/// What [`crate::http::Request`] keeps of an HTTP API event, read in one pass, when the event
/// is one [`read`] takes on and its request context one [`Checked`] vouches for; otherwise
/// which reader the event is for. The request context is checked, not kept: the rest of the
/// request lambda_http would make of the payload is [`read`]'s, when something asks for it.
pub(crate) fn read_parts(payload: &str) -> Result<Parts, Leave> {
    if !is_object(payload) {
        return Err(Leave::ToGeneral);
    }
    let event: Event<'_, Checked<'_>, HashMap<String, String>, ()> = serde_json::from_str(payload)
        .map_err(|e| {
            // Another kind's field fails `read`'s pass as it failed this one. Anything else
            // this stricter reader refused, `read` may take on.
            if e.to_string().starts_with(ANOTHER_KIND) {
                Leave::ToGeneral
            } else {
                Leave::ToOnePass
            }
        })?;
    let context = &event.request_context;
    let method = context.method.clone();
    let (stage, domain) = (context.stage.as_ref(), context.domain_name.as_ref());
    // `read` makes the URI and the body with the same functions from the same text.
    let uri =
        target(&event, stage.map(|s| &*s.0), domain.map(|d| &*d.0)).ok_or(Leave::ToGeneral)?;
    let path = match event.raw_path {
        Some(path) if !path.0.is_empty() => path.into_owned(),
        _ => uri.path().to_owned(),
    };
    let query = uri.query().map(Params::parse).unwrap_or_default();
    let found = Found {
        source_ip: Place::of(context.source_ip.as_ref(), payload),
        route_key: Place::of(context.route_key.as_ref(), payload),
    };
    let body = body(event.body, event.is_base64_encoded).ok_or(Leave::ToGeneral)?;
    let mut headers = event.headers.0;
    fold_cookies(&mut headers, event.cookies);
    Ok(Parts {
        method,
        path,
        query,
        headers,
        body,
        path_parameters: event.path_parameters.0,
        found,
    })
}

/// Which reader an event [`read_parts`] leaves is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Leave {
    /// The general path only: not an HTTP API event (a REST API's, a load balancer's, a
    /// WebSocket event's, not an object), or one [`read`] refuses as well.
    ToGeneral,
    /// [`read`] first: an HTTP API event whose request context [`Checked`] would not vouch
    /// for (an IAM authorizer, a client certificate, a struct written as an array).
    ToOnePass,
}

/// What a field fails the read with when it makes the event another kind's.
const ANOTHER_KIND: &str = "another kind of event";

/// The request's parts a handler reads, as [`read_parts`] makes them: each what
/// [`crate::http::Request::from_lambda`] would take from [`read`]'s request.
pub(crate) struct Parts {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) query: Params,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) path_parameters: HashMap<String, String>,
    /// Where the request context's strings that a handler may ask for are.
    pub(crate) found: Found,
}

/// The request context's strings a handler may ask for, as [`read_parts`] passed them: where
/// each is in the payload, so that [`Request::source_ip`](crate::http::Request::source_ip) and
/// [`Request::resource`](crate::http::Request::resource) answer without making the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// `requestContext.http.sourceIp`.
    pub(crate) source_ip: Place,
    /// `requestContext.routeKey`.
    pub(crate) route_key: Place,
}

/// Where a string of the payload is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Place {
    /// Absent, or `null`.
    #[default]
    Absent,
    /// These bytes of the payload: the string, which had no escapes.
    At(Range<usize>),
    /// Written with escapes, so not as the payload has it: only the made request tells.
    Escaped,
}

impl Place {
    /// Where `found`, read from `payload`, is in it.
    fn of(found: Option<&Str<'_>>, payload: &str) -> Self {
        match found.map(|s| &s.0) {
            None => Self::Absent,
            Some(Cow::Borrowed(s)) => {
                let start = s.as_ptr().addr().wrapping_sub(payload.as_ptr().addr());
                Self::At(start..start.wrapping_add(s.len()))
            }
            Some(Cow::Owned(_)) => Self::Escaped,
        }
    }

    /// The string in `payload`: `Some(None)` when absent, `None` when only the made request
    /// can tell.
    pub(crate) fn read<'p>(&self, payload: &'p str) -> Option<Option<&'p str>> {
        match self {
            Self::Absent => Some(None),
            Self::At(range) => payload.get(range.clone()).map(Some),
            Self::Escaped => None,
        }
    }
}

/// Whether `payload` is a JSON object: an array would deserialize into the event struct too
/// (serde reads structs from sequences), and classify differently.
fn is_object(payload: &str) -> bool {
    payload
        .trim_start_matches([' ', '\n', '\t', '\r'])
        .starts_with('{')
}

/// The payload's fields that lambda_http's `ApiGatewayV2httpRequest` reads, with the same
/// types accepted (so the same payloads refused), borrowed where they can be. `C` reads the
/// request context, `P` and `S` keep the path parameters and the stage variables ([`Strings`]):
/// lambda_http's types for [`read`], [`Checked`] and the handler's map (stage variables not
/// kept) for [`read_parts`].
#[derive(Deserialize)]
#[serde(
    rename_all = "camelCase",
    bound(deserialize = "C: Deserialize<'de>, P: Strings, S: Strings")
)]
struct Event<'a, C, P, S> {
    // Read by lambda_http's type and dropped on the way to a request: checked, not kept.
    #[serde(rename = "type")]
    _kind: Option<Text>,
    #[serde(rename = "methodArn")]
    _method_arn: Option<Text>,
    #[serde(rename = "httpMethod", default)]
    _http_method: MethodText,
    #[serde(rename = "identitySource")]
    _identity_source: Option<Text>,
    #[serde(rename = "authorizationToken")]
    _authorization_token: Option<Text>,
    #[serde(rename = "resource")]
    _resource: Option<Text>,
    #[serde(rename = "version")]
    _version: Option<Text>,
    #[serde(rename = "routeKey")]
    _route_key: Option<Text>,
    #[serde(borrow, alias = "path")]
    raw_path: Option<Str<'a>>,
    #[serde(borrow)]
    raw_query_string: Option<Str<'a>>,
    cookies: Option<Cookies>,
    #[serde(default)]
    headers: Headers,
    #[serde(borrow, default)]
    query_string_parameters: QueryParameters<'a>,
    #[serde(default)]
    path_parameters: StringMap<P>,
    request_context: C,
    #[serde(default)]
    stage_variables: StringMap<S>,
    #[serde(borrow)]
    body: Option<Str<'a>>,
    #[serde(default)]
    is_base64_encoded: bool,
    // Fields of a REST API event, which the general path reads: stop at the first one.
    #[serde(rename = "multiValueHeaders")]
    _multi_value_headers: Option<AnotherKind>,
    #[serde(rename = "multiValueQueryStringParameters")]
    _multi_value_query: Option<AnotherKind>,
}

/// The map type of lambda_http's path parameters and stage variables.
type Lambda = HashMap<String, Vec<String>>;

/// The request, as lambda_http's `into_api_gateway_v2_request` builds it.
fn build(event: Event<'_, Context, Lambda, Lambda>) -> Option<Request> {
    let context = &event.request_context.0;
    let uri = target(
        &event,
        context.stage.as_deref(),
        context.domain_name.as_deref(),
    )?;
    let query = match &event.raw_query_string {
        Some(query) => query.0.parse().unwrap_or_default(),
        None => event.query_string_parameters.into_map(),
    };
    let raw_path = event.raw_path.map(Str::into_owned).unwrap_or_default();
    let body = body(event.body, event.is_base64_encoded)?;
    let mut headers = event.headers.0;
    fold_cookies(&mut headers, event.cookies);
    let context = event.request_context.0;
    let method = context.http.method.clone();
    let mut request = Request::new(body)
        .with_raw_http_path(raw_path)
        .with_query_string_parameters(query)
        .with_path_parameters(QueryMap::from(event.path_parameters.0))
        .with_stage_variables(QueryMap::from(event.stage_variables.0))
        .with_request_context(RequestContext::ApiGatewayV2(context));
    *request.uri_mut() = uri;
    *request.method_mut() = method;
    *request.headers_mut() = headers;
    Some(request)
}

/// The request's URI: host and scheme from the headers (else the request context's domain),
/// the stage in front of the path as lambda_http puts it, the raw query string; `None` for
/// one the `url` crate would have normalized.
fn target<C, P, S>(
    event: &Event<'_, C, P, S>,
    stage: Option<&str>,
    domain: Option<&str>,
) -> Option<Uri> {
    let headers = &event.headers.0;
    let host = headers.get(HOST).and_then(|h| h.to_str().ok()).or(domain);
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|s| s.to_str().ok())
        .unwrap_or("https");
    let raw_path = event.raw_path.as_ref().map_or("", |p| &*p.0);
    let path = with_stage(stage, raw_path);
    let query = event.raw_query_string.as_ref().map(|q| &*q.0);
    uri(scheme, host, &path, query)
}

/// The body, decoded when the event says it is base64; `None` for what lambda_http cannot
/// decode.
fn body(body: Option<Str<'_>>, is_base64_encoded: bool) -> Option<Body> {
    Some(match body {
        None => Body::Empty,
        Some(body) if !is_base64_encoded => Body::Text(body.into_owned()),
        // lambda_http's own decoding, so the same bodies decode; it panics on the others,
        // which the general path then reports.
        Some(body) => catch_unwind(|| Body::from_maybe_encoded(true, &body.0)).ok()?,
    })
}

/// The `cookies` array into a `Cookie` header, as lambda_http folds it (when it is a valid
/// header value; otherwise left out, as lambda_http does).
fn fold_cookies(headers: &mut HeaderMap, cookies: Option<Cookies>) {
    if let Some(cookies) = cookies
        && let Ok(value) = HeaderValue::from_str(&cookies.0)
    {
        headers.insert(COOKIE, value);
    }
}

/// The path with the API Gateway stage in front, unless it is the default stage or already
/// there, as lambda_http's `apigw_path_with_stage` writes it (and, like it, reading
/// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` on each request: only for a named stage here,
/// with the same result).
fn with_stage<'p>(stage: Option<&str>, path: &'p str) -> Cow<'p, str> {
    match stage {
        None | Some("$default") => Cow::Borrowed(path),
        Some(_) if std::env::var("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_ok() => {
            Cow::Borrowed(path)
        }
        Some(stage)
            if path
                .strip_prefix('/')
                .and_then(|p| p.strip_prefix(stage))
                .is_some_and(|p| p.starts_with('/')) =>
        {
            Cow::Borrowed(path)
        }
        Some(stage) => Cow::Owned(format!("/{stage}{path}")),
    }
}

/// The request context, read by lambda_http's own type (so with every field it has, whatever
/// the version and features of `aws_lambda_events`) in the same pass as the rest, while its
/// keys are watched: one named `elb` or `connectionId` makes it a load balancer's or a
/// WebSocket event for the classification, which the general path then reads.
struct Context(ApiGatewayV2httpRequestContext);

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContextVisitor;
        impl<'de> Visitor<'de> for ContextVisitor {
            type Value = Context;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request context")
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                let watched = Watched { map };
                ApiGatewayV2httpRequestContext::deserialize(MapAccessDeserializer::new(watched))
                    .map(Context)
            }
        }
        // A map only: serde would read the struct from a sequence too, which the
        // classification reads differently.
        deserializer.deserialize_map(ContextVisitor)
    }
}

/// A request context vouched for without being kept: read only where every value is one
/// lambda_http's `ApiGatewayV2httpRequestContext` certainly accepts, so that the request
/// context can be read from the payload later, when asked for, and not fail then. The method,
/// stage and domain name are kept, the request's own parts that come from the context.
///
/// It is stricter than lambda_http's type, never more lenient: it reads strings (or `null`)
/// where that type reads an `Option<String>`, an integer where it reads an `i64`, the method
/// as that type's reader parses it, and refuses an `authentication` or IAM authorizer
/// description, anything in an unexpected shape (a struct written as an array), and a field
/// named twice (which serde refuses, flattened or not). Keys that type does not name are
/// skipped, as serde skips them (or keeps them as JSON values, with lambda_http's
/// `catch-all-fields`). `elb` and `connectionId` make it another kind of event, as for
/// [`Context`]. Whatever it refuses goes to [`read`], and from there to the general path.
struct Checked<'a> {
    method: Method,
    stage: Option<Str<'a>>,
    domain_name: Option<Str<'a>>,
    route_key: Option<Str<'a>>,
    source_ip: Option<Str<'a>>,
}

/// The fields of `ApiGatewayV2httpRequestContext` (aws_lambda_events 1.2) by their JSON
/// names, then the two that make a context another kind's ([`KeyVisitor`]).
const CONTEXT_FIELDS: [&str; 14] = [
    "routeKey",
    "accountId",
    "stage",
    "requestId",
    "authorizer",
    "apiId",
    "domainName",
    "domainPrefix",
    "time",
    "timeEpoch",
    "http",
    "authentication",
    "elb",
    "connectionId",
];

/// Reads the map's next value as a `T`: checked, not kept.
fn check<'de, T: Deserialize<'de>, M: MapAccess<'de>>(map: &mut M) -> Result<(), M::Error> {
    map.next_value::<T>().map(|_| ())
}

/// Walks a JSON object as serde reads a struct whose fields are `fields`: the value of each
/// named there is read by `read`, given the field's place, once (serde refuses a field named
/// twice); every other key's value is skipped, as serde skips it.
fn each_field<'de, M: MapAccess<'de>>(
    map: &mut M,
    fields: &[&str],
    mut read: impl FnMut(usize, &mut M) -> Result<(), M::Error>,
) -> Result<(), M::Error> {
    let mut seen = 0u32;
    while let Some(key) = map.next_key::<Str<'de>>()? {
        let Some(index) = fields.iter().position(|f| *f == key.0) else {
            map.next_value::<IgnoredAny>()?;
            continue;
        };
        if seen & (1 << index) != 0 {
            return Err(M::Error::custom("a field named twice"));
        }
        seen |= 1 << index;
        read(index, map)?;
    }
    Ok(())
}

impl<'de: 'a, 'a> Deserialize<'de> for Checked<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckedVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for CheckedVisitor<'a> {
            type Value = Checked<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request context")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let (mut http, mut stage, mut domain_name, mut route_key) =
                    (None, None, None, None);
                each_field(&mut map, &CONTEXT_FIELDS, |field, map| {
                    match field {
                        0 => route_key = map.next_value::<Option<Str<'de>>>()?,
                        2 => stage = map.next_value::<Option<Str<'de>>>()?,
                        6 => domain_name = map.next_value::<Option<Str<'de>>>()?,
                        4 => check::<Option<Authorizer>, _>(map)?,
                        9 => check::<i64, _>(map)?,
                        10 => http = Some(map.next_value::<HttpDescription<'de>>()?),
                        11 => check::<Option<Decline>, _>(map)?,
                        12.. => return Err(M::Error::custom(ANOTHER_KIND)),
                        _ => check::<Option<Text>, _>(map)?,
                    }
                    Ok(())
                })?;
                // Required by lambda_http's type too: a REST API's context, which has none.
                let http = http.ok_or_else(|| M::Error::custom(ANOTHER_KIND))?;
                Ok(Checked {
                    method: http.method,
                    stage,
                    domain_name,
                    route_key,
                    source_ip: http.source_ip,
                })
            }
        }
        deserializer.deserialize_map(CheckedVisitor(PhantomData))
    }
}

/// `requestContext.http`, vouched for as [`Checked`] does: its method and source address kept.
struct HttpDescription<'a> {
    method: Method,
    source_ip: Option<Str<'a>>,
}

const HTTP_FIELDS: [&str; 5] = ["method", "path", "protocol", "sourceIp", "userAgent"];

impl<'de: 'a, 'a> Deserialize<'de> for HttpDescription<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HttpVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for HttpVisitor<'a> {
            type Value = HttpDescription<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HTTP description")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let (mut method, mut source_ip) = (None, None);
                each_field(&mut map, &HTTP_FIELDS, |field, map| {
                    match field {
                        0 => method = Some(map.next_value::<ContextMethod>()?.0),
                        3 => source_ip = map.next_value::<Option<Str<'de>>>()?,
                        _ => check::<Option<Text>, _>(map)?,
                    }
                    Ok(())
                })?;
                let method = method.ok_or_else(|| M::Error::missing_field("method"))?;
                Ok(HttpDescription { method, source_ip })
            }
        }
        deserializer.deserialize_map(HttpVisitor(PhantomData))
    }
}

/// The request context's method as aws_lambda_events' `http_method` reads it: `GET` when
/// empty, else the name parsed.
struct ContextMethod(Method);

impl<'de> Deserialize<'de> for ContextMethod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MethodVisitor;
        impl Visitor<'_> for MethodVisitor {
            type Value = ContextMethod;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("valid method name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.is_empty() {
                    return Ok(ContextMethod(Method::GET));
                }
                v.parse()
                    .map(ContextMethod)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_str(MethodVisitor)
    }
}

/// `requestContext.authorizer`, vouched for as [`Checked`] does: a JWT authorizer's claims
/// (strings) and scopes, or a Lambda authorizer's context (any object); an IAM description
/// is left to [`read`].
struct Authorizer;

const AUTHORIZER_FIELDS: [&str; 3] = ["jwt", "lambda", "iam"];

impl<'de> Deserialize<'de> for Authorizer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AuthorizerVisitor;
        impl<'de> Visitor<'de> for AuthorizerVisitor {
            type Value = Authorizer;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an authorizer description")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                each_field(&mut map, &AUTHORIZER_FIELDS, |field, map| {
                    match field {
                        0 => check::<Option<Jwt>, _>(map)?,
                        1 => check::<Option<Object>, _>(map)?,
                        _ => check::<Option<Decline>, _>(map)?,
                    }
                    Ok(())
                })?;
                Ok(Authorizer)
            }
        }
        deserializer.deserialize_map(AuthorizerVisitor)
    }
}

/// A JWT authorizer's description: `claims`, an object of strings, and `scopes`, an array of
/// strings, either of them `null` or missing.
struct Jwt;

const JWT_FIELDS: [&str; 2] = ["claims", "scopes"];

impl<'de> Deserialize<'de> for Jwt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JwtVisitor;
        impl<'de> Visitor<'de> for JwtVisitor {
            type Value = Jwt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWT description")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                each_field(&mut map, &JWT_FIELDS, |field, map| {
                    match field {
                        0 => check::<Option<TextMap>, _>(map)?,
                        _ => check::<Option<TextSeq>, _>(map)?,
                    }
                    Ok(())
                })?;
                Ok(Jwt)
            }
        }
        deserializer.deserialize_map(JwtVisitor)
    }
}

/// An object whose values are all strings: checked, not kept.
struct TextMap;

impl<'de> Deserialize<'de> for TextMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextMapVisitor;
        impl<'de> Visitor<'de> for TextMapVisitor {
            type Value = TextMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                while map.next_entry::<Text, Text>()?.is_some() {}
                Ok(TextMap)
            }
        }
        deserializer.deserialize_map(TextMapVisitor)
    }
}

/// An array of strings: checked, not kept.
struct TextSeq;

impl<'de> Deserialize<'de> for TextSeq {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextSeqVisitor;
        impl<'de> Visitor<'de> for TextSeqVisitor {
            type Value = TextSeq;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<Text>()?.is_some() {}
                Ok(TextSeq)
            }
        }
        deserializer.deserialize_seq(TextSeqVisitor)
    }
}

/// An object, whatever its values: checked, not kept.
struct Object;

impl<'de> Deserialize<'de> for Object {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Object;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Object)
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A map whose keys are checked on the way to the visitor that reads it.
struct Watched<M> {
    map: M,
}

impl<'de, M: MapAccess<'de>> MapAccess<'de> for Watched<M> {
    type Error = M::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, M::Error> {
        self.map.next_key_seed(WatchedKey(seed))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, M::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A key of a [`Watched`] map: its seed, handed a deserializer that checks the name.
struct WatchedKey<K>(K);

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for WatchedKey<K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        self.0.deserialize(KeyDeserializer(deserializer))
    }
}

struct KeyDeserializer<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for KeyDeserializer<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(KeyVisitor(visitor))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_identifier(KeyVisitor(visitor))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        ignored_any
    }
}

/// Refuses the keys that classify a context as another kind's, and passes the rest on. A JSON
/// key is always a string, so the other `visit_` methods are never called.
struct KeyVisitor<V>(V);

impl<V> KeyVisitor<V> {
    fn check<E: de::Error>(name: &str) -> Result<(), E> {
        match name {
            "elb" | "connectionId" => Err(E::custom(ANOTHER_KIND)),
            _ => Ok(()),
        }
    }
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<V::Value, E> {
        Self::check(v)?;
        self.0.visit_borrowed_str(v)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<V::Value, E> {
        Self::check(v)?;
        self.0.visit_str(v)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<V::Value, E> {
        Self::check(&v)?;
        self.0.visit_string(v)
    }
}

/// A JSON string, borrowed from the payload unless it had escapes.
struct Str<'a>(Cow<'a, str>);

impl Str<'_> {
    fn into_owned(self) -> String {
        self.0.into_owned()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
            type Value = Str<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_string(StrVisitor(PhantomData))
    }
}

/// A JSON string that is checked and not kept: what `Option<String>` accepts, without the copy.
struct Text;

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl Visitor<'_> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Text)
            }
        }
        deserializer.deserialize_string(TextVisitor)
    }
}

/// A method name as `aws_lambda_events`' `http_method` reads one (empty for `GET`), checked
/// and not kept: the request's method is the request context's.
#[derive(Default)]
struct MethodText;

impl<'de> Deserialize<'de> for MethodText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MethodVisitor;
        impl Visitor<'_> for MethodVisitor {
            type Value = MethodText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("valid method name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.is_empty() || v.parse::<Method>().is_ok() {
                    Ok(MethodText)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
        }
        deserializer.deserialize_str(MethodVisitor)
    }
}

/// A field this reader leaves to the general path: any value fails the read.
struct Decline;

impl<'de> Deserialize<'de> for Decline {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(D::Error::custom("left to the general path"))
    }
}

/// A field only another kind of event has: any value fails the read, as [`ANOTHER_KIND`].
struct AnotherKind;

impl<'de> Deserialize<'de> for AnotherKind {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Err(D::Error::custom(ANOTHER_KIND))
    }
}

/// The `cookies` array, joined with `; ` as lambda_http folds it into one `Cookie` header.
struct Cookies(String);

impl<'de> Deserialize<'de> for Cookies {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CookiesVisitor;
        impl<'de> Visitor<'de> for CookiesVisitor {
            type Value = Cookies;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                // Borrowed first, then joined into a string of its final size: a session cookie
                // is most of the text, and growing the string would copy it again.
                let mut cookies = Vec::with_capacity(seq.size_hint().unwrap_or(4));
                while let Some(cookie) = seq.next_element::<Str<'de>>()? {
                    cookies.push(cookie.0);
                }
                Ok(Cookies(cookies.join("; ")))
            }
        }
        deserializer.deserialize_seq(CookiesVisitor)
    }
}

/// The `headers` object, read into a `HeaderMap` as `aws_lambda_events`' `deserialize_headers`
/// reads it: `null` for none, a string value replacing earlier ones of that name, an array's
/// strings appended.
#[derive(Default)]
struct Headers(HeaderMap);

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeadersVisitor;
        impl<'de> Visitor<'de> for HeadersVisitor {
            type Value = Headers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of header names to strings or arrays of strings")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Headers::default())
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(Headers::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut headers = HeaderMap::new();
                while let Some(name) = map.next_key::<Str<'de>>()? {
                    let name =
                        HeaderName::from_bytes(name.0.as_bytes()).map_err(M::Error::custom)?;
                    match map.next_value::<OneOrMore<'de>>()? {
                        OneOrMore::One(value) => {
                            headers.insert(name, header_value::<M::Error>(&value.0)?);
                        }
                        OneOrMore::More(values) => {
                            for value in values {
                                headers.append(&name, header_value::<M::Error>(&value.0)?);
                            }
                        }
                    }
                }
                Ok(Headers(headers))
            }
        }
        deserializer.deserialize_option(HeadersVisitor)
    }
}

fn header_value<E: de::Error>(text: &str) -> Result<HeaderValue, E> {
    HeaderValue::from_str(text).map_err(E::custom)
}

/// A string, or an array of strings: a header's or a query parameter's value.
enum OneOrMore<'a> {
    One(Str<'a>),
    More(Vec<Str<'a>>),
}

impl<'de: 'a, 'a> Deserialize<'de> for OneOrMore<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrMoreVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for OneOrMoreVisitor<'a> {
            type Value = OneOrMore<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(OneOrMore::One(Str(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OneOrMore::One(Str(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(OneOrMore::One(Str(Cow::Owned(v))))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element()? {
                    values.push(value);
                }
                Ok(OneOrMore::More(values))
            }
        }
        deserializer.deserialize_any(OneOrMoreVisitor(PhantomData))
    }
}

/// `queryStringParameters`, kept borrowed: lambda_http reads the query from `rawQueryString`
/// whenever there is one (always, from API Gateway), so this is only checked, and made a map
/// when `rawQueryString` is missing.
#[derive(Default)]
struct QueryParameters<'a>(Vec<(Str<'a>, OneOrMore<'a>)>);

impl QueryParameters<'_> {
    /// As `query_map::serde::aws_api_gateway_v2` reads them: a string value split at commas.
    fn into_map(self) -> QueryMap {
        let mut map: HashMap<String, Vec<String>> = HashMap::with_capacity(self.0.len());
        for (name, value) in self.0 {
            let values = match value {
                OneOrMore::One(value) => value.0.split(',').map(String::from).collect(),
                OneOrMore::More(values) => values.into_iter().map(Str::into_owned).collect(),
            };
            map.insert(name.into_owned(), values);
        }
        QueryMap::from(map)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for QueryParameters<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct QueryVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for QueryVisitor<'a> {
            type Value = QueryParameters<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a QueryMap")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(QueryParameters::default())
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(QueryParameters::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(QueryParameters(entries))
            }
        }
        deserializer.deserialize_option(QueryVisitor(PhantomData))
    }
}

/// `pathParameters` or `stageVariables`: `null` or an object of strings, put in `T` one name
/// and value at a time, as lambda_http reads them into a `HashMap<String, String>` (a later
/// duplicate name wins).
#[derive(Default)]
struct StringMap<T>(T);

/// Where a [`StringMap`]'s names and values go.
trait Strings: Default {
    fn put(&mut self, name: Str<'_>, value: Str<'_>);
}

/// The map type lambda_http's extensions hold.
impl Strings for HashMap<String, Vec<String>> {
    fn put(&mut self, name: Str<'_>, value: Str<'_>) {
        self.insert(name.into_owned(), vec![value.into_owned()]);
    }
}

/// The map a handler reads (`Request::path_parameters`).
impl Strings for HashMap<String, String> {
    fn put(&mut self, name: Str<'_>, value: Str<'_>) {
        self.insert(name.into_owned(), value.into_owned());
    }
}

/// Checked, not kept.
impl Strings for () {
    fn put(&mut self, _: Str<'_>, _: Str<'_>) {}
}

impl<'de, T: Strings> Deserialize<'de> for StringMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor<T>(PhantomData<T>);
        impl<'de, T: Strings> Visitor<'de> for MapVisitor<T> {
            type Value = StringMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(StringMap::default())
            }
            fn visit_none<E>(self) -> Result<Self::Value, E> {
                Ok(StringMap::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(self)
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut strings = T::default();
                while let Some((name, value)) = map.next_entry::<Str<'de>, Str<'de>>()? {
                    strings.put(name, value);
                }
                Ok(StringMap(strings))
            }
        }
        deserializer.deserialize_option(MapVisitor(PhantomData))
    }
}
