use lambda_http::http::{Response as HttpResponse, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde_json::{Value, json};

use super::{Error, Leave, Parts, Sender, parse, parse_typed, read_parts, reply, v2};
use crate::runtime::Params;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/", $name))
    };
}

const HTTP_FIXTURES: [(&str, &str, Sender); 9] = [
    (
        "apigw_v1_request",
        fixture!("apigw_v1_request.json"),
        Sender::Rest,
    ),
    (
        "apigw_v1_multi_value_request",
        fixture!("apigw_v1_multi_value_request.json"),
        Sender::Rest,
    ),
    (
        "apigw_v2_request",
        fixture!("apigw_v2_request.json"),
        Sender::Http,
    ),
    (
        "apigw_v2_minimal_request",
        fixture!("apigw_v2_minimal_request.json"),
        Sender::Http,
    ),
    (
        "apigw_v2_bare_cookies_request",
        fixture!("apigw_v2_bare_cookies_request.json"),
        Sender::Http,
    ),
    (
        "apigw_v2_sam_local_request",
        fixture!("apigw_v2_sam_local_request.json"),
        Sender::Http,
    ),
    (
        "function_url_request",
        fixture!("function_url_request.json"),
        Sender::Http,
    ),
    ("alb_request", fixture!("alb_request.json"), Sender::Alb),
    (
        "alb_multi_value_request",
        fixture!("alb_multi_value_request.json"),
        Sender::Alb,
    ),
];

fn context_kind(request: &lambda_http::Request) -> &'static str {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(_)) => "rest",
        Some(RequestContext::ApiGatewayV2(_)) => "http",
        Some(RequestContext::Alb(_)) => "alb",
        _ => "other",
    }
}

/// Where two requests differ: method, URI, version, headers, body, and every extension
/// lambda_http's `RequestExt` reads. `full_uri: false` compares the URI without its query,
/// which lambda_http writes for a load balancer from a hash map, in no fixed order.
fn difference(
    ours: &lambda_http::Request,
    theirs: &lambda_http::Request,
    full_uri: bool,
) -> Option<String> {
    let uri = |r: &lambda_http::Request| match full_uri {
        true => r.uri().to_string(),
        false => format!(
            "{:?} {:?} {}",
            r.uri().scheme(),
            r.uri().authority(),
            r.uri().path()
        ),
    };
    let context = |r: &lambda_http::Request| {
        r.request_context_ref().map(|c| {
            (
                context_kind(r),
                serde_json::to_value(c).expect("serializable"),
            )
        })
    };
    let checks = [
        ("method", ours.method() == theirs.method()),
        ("uri", uri(ours) == uri(theirs)),
        ("version", ours.version() == theirs.version()),
        ("headers", ours.headers() == theirs.headers()),
        ("body", ours.body() == theirs.body()),
        ("raw path", ours.raw_http_path() == theirs.raw_http_path()),
        (
            "query",
            ours.query_string_parameters_ref() == theirs.query_string_parameters_ref(),
        ),
        (
            "path parameters",
            ours.path_parameters_ref() == theirs.path_parameters_ref(),
        ),
        (
            "stage variables",
            ours.stage_variables_ref() == theirs.stage_variables_ref(),
        ),
        ("request context", context(ours) == context(theirs)),
        (
            "extensions",
            ours.extensions().len() == theirs.extensions().len(),
        ),
    ];
    let differing: Vec<_> = checks
        .iter()
        .filter(|(_, same)| !same)
        .map(|(what, _)| *what)
        .collect();
    (!differing.is_empty()).then(|| format!("{differing:?}: {ours:?} against {theirs:?}"))
}

#[test]
fn every_http_fixture_is_read_as_lambda_http_reads_it() {
    for (name, payload, expected) in HTTP_FIXTURES {
        let (sender, ours) = parse(payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sender, expected, "{name}");
        let theirs = lambda_http::request::from_str(payload).expect(name);
        let full_uri = expected == Sender::Http;
        if let Some(difference) = difference(&ours, &theirs, full_uri) {
            panic!("{name}: {difference}");
        }
        let kind = match expected {
            Sender::Rest => "rest",
            Sender::Http => "http",
            Sender::Alb => "alb",
        };
        assert_eq!(context_kind(&ours), kind, "{name}");
    }
}

/// `payload` read by [`parse`] and by the general path alone: both fail alike, or both give
/// the same request; and when [`read_parts`] reads it, the one-pass reader does too, and the
/// parts are what `Request::from_lambda` takes from that request. Returns whether the
/// one-pass reader took the event on.
fn same_as_the_general_path(payload: &str) -> bool {
    read_alike(payload).0
}

/// [`same_as_the_general_path`], returning whether the one-pass reader and whether the parts
/// reader took the event on.
fn read_alike(payload: &str) -> (bool, bool) {
    let taken = v2::read(payload).is_some();
    let left = read_parts(payload).err();
    assert!(
        !(taken && left == Some(Leave::ToGeneral)),
        "left to the general path, yet the one-pass reader takes it on: {payload}"
    );
    let parts = read_parts(payload).ok();
    match (parse(payload), parse_typed(payload)) {
        (Ok((sender, ours)), Ok((general_sender, theirs))) => {
            assert_eq!(sender, general_sender, "{payload}");
            let full_uri = sender == Sender::Http;
            if let Some(difference) = difference(&ours, &theirs, full_uri) {
                panic!("{payload}: {difference}");
            }
            if let Some(parts) = &parts {
                assert!(
                    taken,
                    "parts of an event the one-pass reader declines: {payload}"
                );
                if let Some(difference) = parts_difference(parts, &theirs) {
                    panic!("{payload}: {difference}");
                }
            }
        }
        (Err(ours), Err(theirs)) => assert_eq!(ours.to_string(), theirs.to_string()),
        (ours, theirs) => panic!("{payload}: {ours:?} against {theirs:?}"),
    }
    assert!(
        parts.is_none() || taken,
        "parts of an unreadable event: {payload}"
    );
    (taken, parts.is_some())
}

/// Where the parts differ from what `Request::from_lambda` takes from `theirs`.
fn parts_difference(parts: &Parts, theirs: &lambda_http::Request) -> Option<String> {
    let path = match theirs.raw_http_path() {
        "" => theirs.uri().path(),
        path => path,
    };
    let query = theirs.uri().query().map(Params::parse).unwrap_or_default();
    let path_parameters: std::collections::HashMap<String, String> = theirs
        .path_parameters()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let checks = [
        ("method", parts.method == theirs.method()),
        ("path", parts.path == path),
        ("query", parts.query == query),
        ("headers", parts.headers == *theirs.headers()),
        ("body", parts.body == *theirs.body()),
        ("path parameters", parts.path_parameters == path_parameters),
    ];
    let differing: Vec<_> = checks
        .iter()
        .filter(|(_, same)| !same)
        .map(|(what, _)| *what)
        .collect();
    (!differing.is_empty()).then(|| {
        format!(
            "{differing:?}: {} {} {:?} {:?} {:?} against {theirs:?}",
            parts.method, parts.path, parts.query, parts.headers, parts.body
        )
    })
}

#[test]
fn every_http_api_fixture_is_read_in_one_pass_as_the_general_path_reads_it() {
    for (name, payload, sender) in HTTP_FIXTURES {
        let (taken, parts) = read_alike(payload);
        assert_eq!(taken, sender == Sender::Http, "{name}");
        // A client certificate's description is left to lambda_http's type.
        let mtls = name == "apigw_v2_bare_cookies_request";
        assert_eq!(parts, sender == Sender::Http && !mtls, "{name}: parts");
    }
}

#[test]
fn the_parts_reader_takes_on_only_contexts_it_can_vouch_for() {
    let v2 = fixture!("apigw_v2_request.json");
    let minimal = fixture!("apigw_v2_minimal_request.json");
    let vouched: &[Edit] = &[
        ("no authorizer", |e| {
            e["requestContext"]["authorizer"] = Value::Null;
        }),
        ("a JWT authorizer without claims or scopes", |e| {
            e["requestContext"]["authorizer"] = json!({"jwt": {"claims": null}});
        }),
        ("a Lambda authorizer's context, of any values", |e| {
            e["requestContext"]["authorizer"] = json!({"lambda": {"n": 1, "o": {"a": [true]}}});
        }),
        ("an IAM authorizer given as null", |e| {
            e["requestContext"]["authorizer"] = json!({"iam": null, "jwt": null});
        }),
        ("keys the context type does not name, of any value", |e| {
            e["requestContext"]["newField"] = json!({"a": [1, 2.5, null]});
            e["requestContext"]["http"]["newField"] = json!(7);
            e["requestContext"]["authorizer"]["jwt"]["newField"] = json!([{}]);
        }),
        ("null strings and no epoch", |e| {
            let context = &mut e["requestContext"];
            context["accountId"] = Value::Null;
            context["http"]["sourceIp"] = Value::Null;
            context.as_object_mut().map(|c| c.remove("timeEpoch"));
        }),
        ("an empty method, which is GET", |e| {
            e["requestContext"]["http"]["method"] = json!("");
        }),
        ("a method of the application's own", |e| {
            e["requestContext"]["http"]["method"] = json!("PURGE");
        }),
        ("a named stage and the domain name for a host", |e| {
            e["requestContext"]["stage"] = json!("prod");
            e["requestContext"]["domainName"] = json!("ab.example");
            e["headers"].as_object_mut().map(|h| h.remove("host"));
        }),
        ("a base64 body of bytes", |e| {
            e["isBase64Encoded"] = json!(true);
            e["body"] = json!("AP8=");
        }),
        ("an empty rawPath: the URI's path", |e| {
            e["rawPath"] = json!("");
        }),
        ("path parameters with escapes", |e| {
            e["pathParameters"] = json!({"id": "a\"b", "x": ""});
        }),
    ];
    // Accepted by lambda_http's type (so read by the one-pass reader), but not vouched for.
    let read_later: &[Edit] = &[
        ("an IAM authorizer", |e| {
            e["requestContext"]["authorizer"] = json!({"iam": {"accessKey": "a"}});
        }),
        ("client certificate authentication", |e| {
            e["requestContext"]["authentication"] =
                json!({"clientCert": {"clientCertPem": "p", "validity": {}}});
        }),
        ("the HTTP description as an array", |e| {
            e["requestContext"]["http"] = json!(["GET", "/", "HTTP/1.1", "ip", "agent"]);
        }),
    ];
    // Refused by lambda_http's type: by both readers, and then answered alike.
    let refused: &[Edit] = &[
        ("a field named twice", |e| {
            e["requestContext"]["newField"] = json!("x");
        }),
        ("a claim that is a number", |e| {
            e["requestContext"]["authorizer"]["jwt"]["claims"]["n"] = json!(1);
        }),
        ("scopes that are an object", |e| {
            e["requestContext"]["authorizer"]["jwt"]["scopes"] = json!({"a": "b"});
        }),
        ("an epoch that is a string", |e| {
            e["requestContext"]["timeEpoch"] = json!("1583348638390");
        }),
        ("an epoch that is a fraction", |e| {
            e["requestContext"]["timeEpoch"] = json!(1.5);
        }),
        ("a stage that is a number", |e| {
            e["requestContext"]["stage"] = json!(1);
        }),
        ("a method that is no method", |e| {
            e["requestContext"]["http"]["method"] = json!("NOT ONE");
        }),
        ("no method", |e| {
            e["requestContext"]["http"]
                .as_object_mut()
                .map(|h| h.remove("method"));
        }),
        ("a source address that is a number", |e| {
            e["requestContext"]["http"]["sourceIp"] = json!(1);
        }),
        ("a Lambda authorizer's context that is a list", |e| {
            e["requestContext"]["authorizer"]["lambda"] = json!([1]);
        }),
        ("an authentication that is a string", |e| {
            e["requestContext"]["authentication"] = json!("mtls");
        }),
        ("a route key that is a number", |e| {
            e["requestContext"]["routeKey"] = json!(1);
        }),
    ];
    for (why, edit) in vouched {
        for base in [v2, minimal] {
            let payload = edited(base, edit);
            assert_eq!(read_alike(&payload), (true, true), "vouched for: {why}");
        }
    }
    for (why, edit) in read_later {
        let payload = edited(v2, edit);
        assert_eq!(read_alike(&payload), (true, false), "read later: {why}");
        assert_eq!(read_parts(&payload).err(), Some(Leave::ToOnePass), "{why}");
    }
    for (why, edit) in refused {
        // `newField` becomes a second `stage`, which a JSON object of serde_json's cannot hold.
        let payload = edited(v2, edit).replace("\"newField\"", "\"stage\"");
        assert_eq!(read_alike(&payload), (false, false), "refused: {why}");
        assert!(parse(&payload).is_err(), "{why}");
    }
}

#[test]
fn the_parts_reader_leaves_other_kinds_of_event_to_the_general_path_alone() {
    for (name, payload) in [
        ("REST", fixture!("apigw_v1_request.json")),
        (
            "REST, multi-value",
            fixture!("apigw_v1_multi_value_request.json"),
        ),
        ("load balancer", fixture!("alb_request.json")),
        ("WebSocket", fixture!("websocket_message_request.json")),
        ("an array", "[1]"),
    ] {
        assert_eq!(read_parts(payload).err(), Some(Leave::ToGeneral), "{name}");
        assert!(v2::read(payload).is_none(), "{name}");
    }
    // A REST event is given away at its first `multiValue…` field, whatever comes after.
    let early = r#"{"multiValueHeaders": {}, "requestContext": {"http": {"method": "GET"}}}"#;
    assert_eq!(read_parts(early).err(), Some(Leave::ToGeneral));
    // An HTTP API event that only the parts reader refuses is the one-pass reader's.
    let v2 = fixture!("apigw_v2_request.json");
    let iam = edited(v2, |e| {
        e["requestContext"]["authorizer"] = json!({"iam": {"accessKey": "a"}});
    });
    assert_eq!(read_parts(&iam).err(), Some(Leave::ToOnePass));
    assert!(v2::read(&iam).is_some());
}

/// What an edit does to an event, and the edit.
type Edit = (&'static str, fn(&mut Value));

#[test]
fn the_one_pass_reader_agrees_with_the_general_path_on_edited_events() {
    let v2 = fixture!("apigw_v2_request.json");
    let minimal = fixture!("apigw_v2_minimal_request.json");
    let taken: &[Edit] = &[
        ("a named stage goes in front of the path", |e| {
            e["requestContext"]["stage"] = json!("prod");
        }),
        ("a stage already in the path stays once", |e| {
            e["requestContext"]["stage"] = json!("prod");
            e["rawPath"] = json!("/prod/notes");
        }),
        ("a base64 body is decoded", |e| {
            e["isBase64Encoded"] = json!(true);
            e["body"] = json!("aGk9dGhlcmU=");
        }),
        ("escapes are read", |e| {
            e["headers"]["x-quoted"] = json!("a \"b\" \u{e9}");
            e["cookies"] = json!(["a=\"1\"", "b=2"]);
            e["body"] = json!("line\nline \u{2603}");
            e["pathParameters"] = json!({"id": "\u{1}"});
        }),
        (
            "an array of header values is appended, a string replaces",
            |e| {
                e["headers"] = json!({"accept": ["a", "b"], "Header1": "x", "header1": "y"});
            },
        ),
        (
            "no rawQueryString: queryStringParameters, split at commas",
            |e| {
                e.as_object_mut().map(|o| o.remove("rawQueryString"));
                e["queryStringParameters"] = json!({"a": "1,2", "b": ["3", "4"]});
            },
        ),
        ("an empty cookies array is an empty Cookie header", |e| {
            e["cookies"] = json!([]);
        }),
        ("null where lambda_http allows it", |e| {
            for field in [
                "cookies",
                "headers",
                "queryStringParameters",
                "pathParameters",
            ] {
                e[field] = Value::Null;
            }
            e["stageVariables"] = Value::Null;
            e["body"] = Value::Null;
        }),
        ("a local host, port and scheme", |e| {
            e["headers"]["host"] = json!("127.0.0.1:9000");
            e["headers"]["x-forwarded-proto"] = json!("http");
        }),
        ("a host with a port", |e| {
            e["headers"]["host"] = json!("localhost:9000");
        }),
        ("no host header: the domain name", |e| {
            e["headers"] = json!({"x-forwarded-proto": "http"});
        }),
        ("no host at all: the path alone", |e| {
            e["headers"] = json!({});
            e["requestContext"]
                .as_object_mut()
                .map(|c| c.remove("domainName"));
        }),
        ("no path at all", |e| {
            e.as_object_mut().map(|o| o.remove("rawPath"));
        }),
        ("`path` for `rawPath`", |e| {
            let path = e["rawPath"].take();
            e.as_object_mut().map(|o| o.remove("rawPath"));
            e["path"] = path;
        }),
        ("an empty query", |e| {
            e["rawQueryString"] = json!("");
        }),
        (
            "a custom authorizer's fields and a top-level httpMethod",
            |e| {
                e["httpMethod"] = json!("");
                e["requestContext"]["authorizer"] = json!({"lambda": {"user": {"id": 7}}});
            },
        ),
    ];
    let declined: &[Edit] = &[
        ("an upper-case host", |e| {
            e["headers"]["host"] = json!("Example.COM");
        }),
        ("an IPv4 host in a short form", |e| {
            e["headers"]["host"] = json!("127.1");
        }),
        ("a host with the scheme's default port", |e| {
            e["headers"]["host"] = json!("example.com:443");
        }),
        ("a port with a leading zero", |e| {
            e["headers"]["host"] = json!("example.com:08080");
        }),
        ("a punycode host", |e| {
            e["headers"]["host"] = json!("xn--bcher-kva.example");
        }),
        ("an upper-case scheme", |e| {
            e["headers"]["x-forwarded-proto"] = json!("HTTPS");
        }),
        ("dot segments", |e| {
            e["rawPath"] = json!("/a/../b/./c");
        }),
        ("an encoded dot segment", |e| {
            e["rawPath"] = json!("/a/%2E%2e/b");
        }),
        ("a path the URL parser percent-encodes", |e| {
            e["rawPath"] = json!("/caf\u{e9} au lait");
        }),
        ("a path without a leading slash", |e| {
            e["rawPath"] = json!("relative");
        }),
        ("a body that is not the base64 it says", |e| {
            e["isBase64Encoded"] = json!(true);
            e["body"] = json!("not base64!");
        }),
        ("a query that is no URI", |e| {
            e["rawQueryString"] = json!("a b");
        }),
        ("a field of the wrong type", |e| {
            e["cookies"] = json!(5);
        }),
        ("an invalid top-level httpMethod", |e| {
            e["httpMethod"] = json!("NOT A METHOD");
        }),
        ("a header value that cannot be one", |e| {
            e["headers"]["x-bad"] = json!("a\u{0}b");
        }),
        ("a header given as a number", |e| {
            e["headers"]["x-number"] = json!(5);
        }),
        ("REST API fields", |e| {
            e["multiValueHeaders"] = json!({"accept": ["a"]});
        }),
        ("a WebSocket context", |e| {
            e["requestContext"]["connectionId"] = json!("abc");
        }),
        ("a load balancer context", |e| {
            e["requestContext"]["elb"] = json!({"targetGroupArn": "arn"});
        }),
        ("no http in the context", |e| {
            e["requestContext"]
                .as_object_mut()
                .map(|c| c.remove("http"));
        }),
    ];
    for (why, edit) in taken {
        for base in [v2, minimal] {
            let payload = edited(base, edit);
            assert!(same_as_the_general_path(&payload), "taken on: {why}");
        }
    }
    for (why, edit) in declined {
        let payload = edited(v2, edit);
        assert!(
            !same_as_the_general_path(&payload),
            "left to the general path: {why}"
        );
    }
    // Keys spelled with escapes: `\u0065lb` is `elb`, `r\u0061wPath` is `rawPath`.
    let escaped_elb =
        edited(v2, |e| e["requestContext"]["ELB"] = json!({})).replace("\"ELB\"", r#""\u0065lb""#);
    assert!(!same_as_the_general_path(&escaped_elb), "{escaped_elb}");
    let escaped_key = v2.replace("\"rawPath\"", r#""r\u0061wPath""#);
    assert!(same_as_the_general_path(&escaped_key), "{escaped_key}");
    let escaped_connection = v2.replace("\"domainPrefix\"", r#""c\u006fnnectionId""#);
    assert!(
        !same_as_the_general_path(&escaped_connection),
        "{escaped_connection}"
    );
    let escaped_context = v2.replace("\"agent\"", r#""ag\u0065nt \"quoted\"""#);
    assert!(
        same_as_the_general_path(&escaped_context),
        "{escaped_context}"
    );
    // Not objects, or not JSON: both refuse alike.
    for payload in [
        "[]",
        "",
        "{",
        "nul",
        "[{\"requestContext\": {\"http\": {}}}]",
        // Every field of the event in its order, which serde would read a struct from.
        r#"[null, null, "", null, null, null, null, null, "/p", null, null, null, null, null,
            {"http": {"method": "GET"}}, null, null, false, null, null]"#,
    ] {
        assert!(!same_as_the_general_path(payload), "{payload}");
    }
}

#[test]
fn websocket_and_other_events_are_never_taken_for_http() {
    for (name, payload) in [
        (
            "websocket_connect_request",
            fixture!("websocket_connect_request.json"),
        ),
        (
            "websocket_connect_without_method_request",
            fixture!("websocket_connect_without_method_request.json"),
        ),
        (
            "websocket_disconnect_request",
            fixture!("websocket_disconnect_request.json"),
        ),
    ] {
        match parse(payload) {
            Err(Error::NotHttp(why)) => assert_eq!(why, "a WebSocket event", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    for payload in [fixture!("sqs_event.json"), "{}", r#"{"requestContext":{}}"#] {
        assert!(
            matches!(parse(payload), Err(Error::NotHttp(why)) if why.starts_with("no requestContext")),
            "{payload}"
        );
    }
    for payload in ["[]", "3", "\"text\""] {
        assert!(
            matches!(parse(payload), Err(Error::NotHttp("not a JSON object"))),
            "{payload}"
        );
    }
}

fn edited(payload: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut event: Value = serde_json::from_str(payload).expect("fixture");
    edit(&mut event);
    event.to_string()
}

#[test]
fn events_lambda_http_would_panic_on_are_unreadable_in_their_origin() {
    // Each of these makes lambda_http's conversion panic: a query that is no URI (`expect`), a
    // forwarded protocol that is no URL scheme (`unwrap`), a body that is not the base64 its
    // flag promises.
    let v2 = edited(fixture!("apigw_v2_request.json"), |e| {
        e["rawQueryString"] = json!("a b");
    });
    let v1 = edited(fixture!("apigw_v1_request.json"), |e| {
        e["headers"]["X-Forwarded-Proto"] = json!("no scheme");
        e["multiValueHeaders"]["X-Forwarded-Proto"] = json!(["no scheme"]);
    });
    let alb = edited(fixture!("alb_request.json"), |e| {
        e["isBase64Encoded"] = json!(true);
        e["body"] = json!("not base64!");
    });
    for (payload, expected, why) in [
        (v2, Sender::Http, "failed to build request"),
        (v1, Sender::Rest, "unwrap"),
        (alb, Sender::Alb, "base64"),
    ] {
        // Proof that lambda_http's own reading panics on each.
        let theirs = std::panic::catch_unwind(|| lambda_http::request::from_str(&payload));
        assert!(
            theirs.is_err(),
            "{expected:?}: lambda_http no longer panics"
        );
        match parse(&payload) {
            Err(Error::Unreadable { sender, reason }) => {
                assert_eq!(sender, expected);
                assert!(reason.contains(why), "{reason}");
            }
            other => panic!("{expected:?}: {other:?}"),
        }
    }
}

#[test]
fn an_event_of_a_known_origin_with_a_field_of_the_wrong_type_is_unreadable() {
    let payload = edited(fixture!("apigw_v2_request.json"), |e| {
        e["cookies"] = json!(5)
    });
    match parse(&payload) {
        Err(Error::Unreadable { sender, reason }) => {
            assert_eq!(sender, Sender::Http);
            assert!(reason.contains("invalid type"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

fn response(status: u16, body: Body) -> HttpResponse<Body> {
    HttpResponse::builder()
        .status(status)
        .header("content-type", "text/html")
        .header("set-cookie", "a=1; Path=/")
        .header("set-cookie", "b=2; Path=/")
        .body(body)
        .expect("response")
}

fn json_of(sender: Sender, response: HttpResponse<Body>) -> Value {
    serde_json::to_value(reply(sender, response)).expect("serializable")
}

#[test]
fn http_api_replies_carry_cookies_apart_from_headers() {
    let v = json_of(Sender::Http, response(201, Body::from("hi")));
    assert_eq!(v["statusCode"], 201);
    assert_eq!(v["cookies"], json!(["a=1; Path=/", "b=2; Path=/"]));
    assert_eq!(v["headers"], json!({"content-type": "text/html"}));
    assert_eq!(v["body"], "hi");
    assert_eq!(v["isBase64Encoded"], false);
}

#[test]
fn rest_replies_carry_every_header_as_multi_value_only() {
    let v = json_of(Sender::Rest, response(200, Body::from("hi")));
    assert_eq!(v["statusCode"], 200);
    assert_eq!(v["headers"], json!({}));
    assert_eq!(
        v["multiValueHeaders"],
        json!({"content-type": ["text/html"], "set-cookie": ["a=1; Path=/", "b=2; Path=/"]})
    );
    assert!(v.get("cookies").is_none());
}

#[test]
fn load_balancer_replies_carry_both_header_fields_and_a_status_line() {
    let v = json_of(Sender::Alb, response(404, Body::Empty));
    assert_eq!(v["statusCode"], 404);
    assert_eq!(v["statusDescription"], "404 Not Found");
    assert_eq!(v["headers"]["content-type"], "text/html");
    assert_eq!(
        v["multiValueHeaders"]["set-cookie"],
        json!(["a=1; Path=/", "b=2; Path=/"])
    );
    assert!(v.get("body").is_none());
}

#[test]
fn binary_bodies_are_sent_base64_and_empty_ones_not_at_all() {
    for sender in [Sender::Rest, Sender::Http, Sender::Alb] {
        let v = json_of(sender, response(200, Body::from(vec![0_u8, 159, 146, 150])));
        assert_eq!(v["isBase64Encoded"], true, "{sender:?}");
        assert_eq!(v["body"], "AJ+Slg==", "{sender:?}");
        let v = json_of(sender, response(204, Body::Empty));
        assert_eq!(v["isBase64Encoded"], false, "{sender:?}");
        assert!(v.get("body").is_none(), "{sender:?}");
    }
    assert_eq!(
        format!("{:?}", reply(Sender::Alb, response(302, Body::Empty))),
        "EventReply::Alb(302)"
    );
    let status = StatusCode::IM_A_TEAPOT.as_u16();
    assert_eq!(
        format!("{:?}", reply(Sender::Rest, response(status, Body::Empty))),
        "EventReply::Rest(418)"
    );
    assert_eq!(
        format!("{:?}", reply(Sender::Http, response(200, Body::Empty))),
        "EventReply::Http(200)"
    );
}
