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

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::panic::catch_unwind;

use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::aws_lambda_events::query_map::QueryMap;
use lambda_http::http::header::{COOKIE, HOST};
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, de::Error as _};

use super::uri::uri;

/// The request lambda_http would make of `payload`, when it is an HTTP API event this reader
/// takes on; `None` otherwise (not such an event, or one to leave to the general path).
pub(super) fn read(payload: &str) -> Option<Request> {
    // An array would deserialize into the struct too (serde reads structs from sequences),
    // and classify differently; only an object is an event.
    if !payload
        .trim_start_matches([' ', '\n', '\t', '\r'])
        .starts_with('{')
    {
        return None;
    }
    let event: Event<'_> = serde_json::from_str(payload).ok()?;
    build(event)
}

/// The payload's fields that lambda_http's `ApiGatewayV2httpRequest` reads, with the same
/// types accepted (so the same payloads refused), borrowed where they can be.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
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
    path_parameters: StringMap,
    request_context: Context,
    #[serde(default)]
    stage_variables: StringMap,
    #[serde(borrow)]
    body: Option<Str<'a>>,
    #[serde(default)]
    is_base64_encoded: bool,
    // Fields of a REST API event, which the general path reads: stop at the first one.
    #[serde(rename = "multiValueHeaders")]
    _multi_value_headers: Option<Decline>,
    #[serde(rename = "multiValueQueryStringParameters")]
    _multi_value_query: Option<Decline>,
}

/// The request, as lambda_http's `into_api_gateway_v2_request` builds it.
fn build(event: Event<'_>) -> Option<Request> {
    let context = event.request_context.0;
    let mut headers = event.headers.0;
    let raw_path = event.raw_path.map(Str::into_owned).unwrap_or_default();
    let uri = {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or(context.domain_name.as_deref());
        let scheme = headers
            .get("x-forwarded-proto")
            .and_then(|s| s.to_str().ok())
            .unwrap_or("https");
        let path = with_stage(context.stage.as_deref(), &raw_path);
        let query = event.raw_query_string.as_ref().map(|q| &*q.0);
        uri(scheme, host, &path, query)?
    };
    let query = match &event.raw_query_string {
        Some(query) => query.0.parse().unwrap_or_default(),
        None => event.query_string_parameters.into_map(),
    };
    let body = match event.body {
        None => Body::Empty,
        Some(body) if !event.is_base64_encoded => Body::Text(body.into_owned()),
        // lambda_http's own decoding, so the same bodies decode; it panics on the others,
        // which the general path then reports.
        Some(body) => catch_unwind(|| Body::from_maybe_encoded(true, &body.0)).ok()?,
    };
    if let Some(cookies) = event.cookies
        && let Ok(value) = HeaderValue::from_str(&cookies.0)
    {
        headers.insert(COOKIE, value);
    }
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
            "elb" | "connectionId" => Err(E::custom("another kind of event")),
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
                let mut joined = String::new();
                let mut first = true;
                while let Some(cookie) = seq.next_element::<Str<'de>>()? {
                    if !first {
                        joined.push_str("; ");
                    }
                    first = false;
                    joined.push_str(&cookie.0);
                }
                Ok(Cookies(joined))
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

/// `pathParameters` or `stageVariables`: `null` or an object of strings, read straight into
/// the map type lambda_http's extensions hold (a later duplicate name wins, as in a
/// `HashMap<String, String>`).
#[derive(Default)]
struct StringMap(HashMap<String, Vec<String>>);

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = StringMap;
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
                let mut strings = HashMap::new();
                while let Some((name, value)) = map.next_entry::<String, String>()? {
                    strings.insert(name, vec![value]);
                }
                Ok(StringMap(strings))
            }
        }
        deserializer.deserialize_option(MapVisitor)
    }
}
