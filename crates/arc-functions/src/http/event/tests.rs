use lambda_http::http::{Response as HttpResponse, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use serde_json::{Value, json};

use super::{Error, Sender, parse, reply};

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

#[test]
fn every_http_fixture_is_read_as_lambda_http_reads_it() {
    for (name, payload, expected) in HTTP_FIXTURES {
        let (sender, ours) = parse(payload).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(sender, expected, "{name}");
        let theirs = lambda_http::request::from_str(payload).expect(name);
        assert_eq!(ours.method(), theirs.method(), "{name}");
        // Not the whole URI: lambda_http writes an ALB query from a hash map, in no fixed order.
        assert_eq!(ours.uri().scheme(), theirs.uri().scheme(), "{name}");
        assert_eq!(ours.uri().authority(), theirs.uri().authority(), "{name}");
        assert_eq!(ours.uri().path(), theirs.uri().path(), "{name}");
        assert_eq!(ours.headers(), theirs.headers(), "{name}");
        assert_eq!(ours.body(), theirs.body(), "{name}");
        assert_eq!(
            ours.query_string_parameters_ref(),
            theirs.query_string_parameters_ref(),
            "{name}"
        );
        assert_eq!(context_kind(&ours), context_kind(&theirs), "{name}");
        let kind = match expected {
            Sender::Rest => "rest",
            Sender::Http => "http",
            Sender::Alb => "alb",
        };
        assert_eq!(context_kind(&ours), kind, "{name}");
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
