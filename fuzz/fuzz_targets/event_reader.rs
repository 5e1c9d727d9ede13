//! The one-pass readers of HTTP API events against the general path they stand in for: any
//! payload read by `testing::read_event` (which takes HTTP API events on in one pass and
//! leaves the rest to the general path) and by `testing::read_event_general` (every event
//! classified, read into lambda_http's type and converted by lambda_http, as before the
//! one-pass reader) must fail alike or give the same request: method, URI, version, headers,
//! body and every extension lambda_http's `RequestExt` reads. And `testing::read_request`,
//! the request `http::run` hands a handler (an HTTP API event's parts read in one pass, its
//! lambda_http request made from the text only when asked for), must fail alike with
//! `Request::from_lambda` of the general path's request, or give the same normalized request,
//! whose lambda_http request, once made, is the general path's too.
//!
//! Input that starts like a JSON object (`{`, after whitespace) is the payload as it is; the
//! corpus starts from the real events in `crates/arc-functions/tests/fixtures/`. Any other
//! input is a list of edits to one of those events (a field set to a string, `null`, a number,
//! an array...), so that most runs are near-valid events that reach the request building.
//!
//! lambda_http panics on some events while converting them (the readers catch that and
//! report the event unreadable); libfuzzer-sys's panic hook would abort on those first, so
//! panics inside the readers are printed once per place and left to the readers' own
//! `catch_unwind`. A panic that escapes a reader still aborts the run.

#![no_main]

use std::cell::Cell;
use std::collections::HashSet;
use std::sync::Mutex;

use arc_functions::http::Request;
use arc_functions::testing::{read_event, read_event_general, read_request};
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::{Corpus, fuzz_target};
use serde_json::{Value, json};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../crates/arc-functions/tests/fixtures/", $name))
    };
}

const BASES: [&str; 7] = [
    fixture!("apigw_v2_request.json"),
    fixture!("apigw_v2_minimal_request.json"),
    fixture!("apigw_v2_bare_cookies_request.json"),
    fixture!("apigw_v2_sam_local_request.json"),
    fixture!("function_url_request.json"),
    fixture!("apigw_v1_request.json"),
    fixture!("alb_request.json"),
];

thread_local! {
    static IN_READER: Cell<bool> = const { Cell::new(false) };
}

/// Wraps the hook libfuzzer-sys installed (print, then abort) so that panics raised while a
/// reader runs are reported once per place and then unwound into the reader's catch.
fn tolerate_caught_panics() {
    let abort = std::panic::take_hook();
    let seen = Mutex::new(HashSet::new());
    std::panic::set_hook(Box::new(move |info| {
        if !IN_READER.get() {
            return abort(info);
        }
        let place = info.location().map(ToString::to_string).unwrap_or_default();
        if seen.lock().is_ok_and(|mut seen| seen.insert(place)) {
            eprintln!("upstream panic (caught by the reader): {info}");
        }
    }));
}

/// A JSON value for a field.
#[derive(Arbitrary, Debug)]
enum Field {
    Text(String),
    Null,
    Number(i32),
    Bool(bool),
    Texts(Vec<String>),
    Object(Vec<(String, String)>),
}

impl Field {
    fn value(self) -> Value {
        match self {
            Field::Text(s) => json!(s),
            Field::Null => Value::Null,
            Field::Number(n) => json!(n),
            Field::Bool(b) => json!(b),
            Field::Texts(v) => json!(v),
            Field::Object(pairs) => Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ),
        }
    }
}

/// Where an edit puts its value.
#[derive(Arbitrary, Debug)]
enum Place {
    /// A top-level field: one of the known names, or any.
    Top(Known, Option<String>),
    /// A header (name, then value).
    Header(String),
    /// A field of the request context, or of its `http`.
    Context(ContextField),
    /// Remove a top-level field.
    Remove(Known),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Known {
    RawPath,
    Path,
    RawQueryString,
    Cookies,
    Headers,
    QueryStringParameters,
    PathParameters,
    StageVariables,
    Body,
    IsBase64Encoded,
    HttpMethod,
    Version,
    MultiValueHeaders,
    RequestContext,
}

impl Known {
    fn name(self) -> &'static str {
        match self {
            Known::RawPath => "rawPath",
            Known::Path => "path",
            Known::RawQueryString => "rawQueryString",
            Known::Cookies => "cookies",
            Known::Headers => "headers",
            Known::QueryStringParameters => "queryStringParameters",
            Known::PathParameters => "pathParameters",
            Known::StageVariables => "stageVariables",
            Known::Body => "body",
            Known::IsBase64Encoded => "isBase64Encoded",
            Known::HttpMethod => "httpMethod",
            Known::Version => "version",
            Known::MultiValueHeaders => "multiValueHeaders",
            Known::RequestContext => "requestContext",
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum ContextField {
    Stage,
    DomainName,
    Http,
    HttpMethod,
    ConnectionId,
    Elb,
    Authorizer,
    TimeEpoch,
    RouteKey,
    HttpSourceIp,
}

#[derive(Arbitrary, Debug)]
struct Edits {
    base: u8,
    edits: Vec<(Place, Field)>,
}

impl Edits {
    fn payload(self) -> String {
        let mut event: Value =
            serde_json::from_str(BASES[usize::from(self.base) % BASES.len()]).expect("a fixture");
        for (place, field) in self.edits {
            let value = field.value();
            let Some(event) = event.as_object_mut() else {
                break;
            };
            match place {
                Place::Top(known, other) => {
                    let name = other.unwrap_or_else(|| known.name().to_owned());
                    event.insert(name, value);
                }
                Place::Remove(known) => {
                    event.remove(known.name());
                }
                Place::Header(name) => {
                    if let Some(headers) = event
                        .entry("headers")
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                    {
                        headers.insert(name, value);
                    }
                }
                Place::Context(field) => {
                    let Some(context) = event
                        .entry("requestContext")
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                    else {
                        continue;
                    };
                    let name = match field {
                        ContextField::Stage => "stage",
                        ContextField::DomainName => "domainName",
                        ContextField::Http => "http",
                        ContextField::ConnectionId => "connectionId",
                        ContextField::Elb => "elb",
                        ContextField::Authorizer => "authorizer",
                        ContextField::TimeEpoch => "timeEpoch",
                        ContextField::RouteKey => "routeKey",
                        ContextField::HttpMethod | ContextField::HttpSourceIp => {
                            let name = match field {
                                ContextField::HttpMethod => "method",
                                _ => "sourceIp",
                            };
                            if let Some(http) = context
                                .entry("http")
                                .or_insert_with(|| json!({}))
                                .as_object_mut()
                            {
                                http.insert(name.to_owned(), value);
                            }
                            continue;
                        }
                    };
                    context.insert(name.to_owned(), value);
                }
            }
        }
        event.to_string()
    }
}

fn context_of(request: &lambda_http::Request) -> Option<(&'static str, Value)> {
    let context = request.request_context_ref()?;
    let kind = match context {
        RequestContext::ApiGatewayV1(_) => "rest",
        RequestContext::ApiGatewayV2(_) => "http",
        RequestContext::Alb(_) => "alb",
        _ => "other",
    };
    Some((kind, serde_json::to_value(context).expect("serializable")))
}

/// Panics, naming what differs, unless both requests are the same.
fn assert_same(payload: &str, ours: &lambda_http::Request, theirs: &lambda_http::Request) {
    // lambda_http decodes a load balancer's query by printing its map (a hash map, in no fixed
    // order) and parsing that again, so a key holding `&` or `=` once decoded splits
    // differently from one run to the next: compared for the other kinds only.
    let alb = matches!(context_of(theirs), Some(("alb", _)));
    let checks = [
        ("method", ours.method() == theirs.method()),
        ("version", ours.version() == theirs.version()),
        ("headers", ours.headers() == theirs.headers()),
        ("body", ours.body() == theirs.body()),
        ("raw path", ours.raw_http_path() == theirs.raw_http_path()),
        (
            "query",
            alb || ours.query_string_parameters_ref() == theirs.query_string_parameters_ref(),
        ),
        (
            "path parameters",
            ours.path_parameters_ref() == theirs.path_parameters_ref(),
        ),
        (
            "stage variables",
            ours.stage_variables_ref() == theirs.stage_variables_ref(),
        ),
        ("request context", context_of(ours) == context_of(theirs)),
        (
            "extensions",
            ours.extensions().len() == theirs.extensions().len(),
        ),
    ];
    // lambda_http writes a REST API's or a load balancer's query from a hash map, in no fixed
    // order; an HTTP API's is the event's `rawQueryString`.
    let http_api = matches!(context_of(theirs), Some(("http", _)));
    let uri_same = if http_api {
        ours.uri() == theirs.uri()
    } else {
        let (a, b) = (ours.uri(), theirs.uri());
        (a.scheme(), a.authority(), a.path()) == (b.scheme(), b.authority(), b.path())
    };
    let differing: Vec<_> = checks
        .iter()
        .chain([("uri", uri_same)].iter())
        .filter(|(_, same)| !same)
        .map(|(what, _)| *what)
        .collect();
    assert!(
        differing.is_empty(),
        "{differing:?} differ for {payload}:\n{ours:?}\nagainst\n{theirs:?}"
    );
}

/// Panics, naming what differs, unless `ours` (as `http::run` reads the payload) is
/// `Request::from_lambda` of `theirs`, the general path's request.
fn assert_same_normalized(payload: &str, ours: Request, theirs: lambda_http::Request) {
    let theirs_raw = theirs.clone();
    let Ok(theirs) = Request::from_lambda(theirs) else {
        panic!("only the general path's body is refused for {payload}");
    };
    // lambda_http writes a REST API's or a load balancer's URI query from a hash map, in no
    // fixed order (and, for a path holding `?`, split differently from one read to the next):
    // those events are read the general way on both sides, so only an HTTP API event's query
    // is compared.
    let http_api = matches!(context_of(&theirs_raw), Some(("http", _)));
    let same_query = !http_api || ours.query == theirs.query;
    let checks = [
        ("method", ours.method == theirs.method),
        ("path", ours.path == theirs.path),
        ("query", same_query),
        ("path parameters", ours.path_parameters == theirs.path_parameters),
        ("body", ours.body == theirs.body),
        ("raw body", ours.raw_body() == theirs.raw_body()),
        ("headers", ours.headers() == theirs.headers()),
        // Read before `raw` is made: from what the parts reader found, for an HTTP API event.
        ("source ip", ours.source_ip() == theirs.source_ip()),
        ("resource", ours.resource() == theirs.resource()),
    ];
    let differing: Vec<_> = checks.iter().filter(|(_, same)| !same).map(|(what, _)| *what).collect();
    assert!(differing.is_empty(), "{differing:?} differ for {payload}:\n{ours:?}\nagainst\n{theirs:?}");
    // `http::run` hands it on with the invocation's context, which the general path's lacks.
    let mut ours = ours.raw.into_inner();
    let context = ours.extensions_mut().remove::<lambda_http::Context>();
    assert!(context.is_some(), "the invocation's context is missing for {payload}");
    assert_same(payload, &ours, &theirs_raw);
}

fuzz_target!(init: tolerate_caught_panics(), |data: &[u8]| -> Corpus {
    let starts_like_an_object = data
        .iter()
        .find(|b| !b" \n\t\r".contains(b))
        .is_some_and(|&b| b == b'{');
    let payload = if starts_like_an_object {
        let Ok(text) = std::str::from_utf8(data) else {
            return Corpus::Reject;
        };
        text.to_owned()
    } else {
        let Ok(edits) = Edits::arbitrary(&mut arbitrary::Unstructured::new(data)) else {
            return Corpus::Reject;
        };
        edits.payload()
    };
    IN_READER.set(true);
    let ours = read_event(&payload);
    let theirs = read_event_general(&payload);
    let normalized = read_request(payload.as_str());
    IN_READER.set(false);
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            assert_same(&payload, &ours, &theirs);
            match normalized {
                Ok(normalized) => assert_same_normalized(&payload, normalized, theirs),
                // A body its content type refuses: `from_lambda` refuses it alike.
                Err(e) => assert!(Request::from_lambda(theirs).is_err(), "{e} for {payload}"),
            }
        }
        (Err(ours), Err(theirs)) => {
            assert_eq!(ours.to_string(), theirs.to_string(), "{payload}");
            let normalized = normalized.err().map(|e| e.to_string());
            assert_eq!(normalized, Some(theirs.to_string()), "{payload}");
        }
        (ours, theirs) => panic!("one reader failed for {payload}:\n{ours:?}\nagainst\n{theirs:?}"),
    }
    Corpus::Keep
});
