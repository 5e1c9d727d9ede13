//! What a handler sees: the handler wrapper against real API Gateway v1, v2 and function URL
//! events, normalized into one request; every kind of body parsed, and a malformed one refused
//! before the handler runs; `testing::TestRequest` in every format; the request accessors.
//!
//! Each test starts from an event JSON that AWS sends (tests/fixtures), changes only the field
//! under test, and serves it through `Handler::invoke`, as `http::run` serves an invocation.
//! Needs nothing outside the process.

use arc_functions::http::{self, Body, Handler, Request, Response};
use base64::Engine;
use lambda_http::Body as LambdaBody;
use serde_json::{Value, json};

use crate::support::event;
use crate::support::http::{FUNCTION_URL, V1, V1_MULTI, V2, default_store, header, invoke};

/// Echoes the normalized request back as JSON, so tests can see what a handler sees.
async fn echo(req: Request) -> http::Result<Response> {
    let body = match &req.body {
        Body::Empty => json!({"empty": true}),
        Body::Json(v) => json!({"json": v}),
        Body::Form(f) => json!({"form": f.iter().collect::<Vec<_>>()}),
        Body::Text(t) => json!({"text": t}),
        Body::Binary(b) => json!({"binary": b}),
        other => json!({"other": format!("{other:?}")}),
    };
    let context = match req.context() {
        Some(lambda_http::request::RequestContext::ApiGatewayV1(_)) => "v1",
        Some(lambda_http::request::RequestContext::ApiGatewayV2(_)) => "v2",
        Some(_) => "other",
        None => "none",
    };
    Ok(Response::json(&json!({
        "method": req.method.as_str(),
        "path": req.path,
        "pathParameters": req.path_parameters,
        "query": req.query.iter().collect::<Vec<_>>(),
        "header1": req.header("header1"),
        "cookies": [req.cookie("cookie1"), req.cookie("cookie2"), req.cookie("test")],
        "body": body,
        "session": req.session,
        "context": context,
    })))
}

async fn echoed(event: String) -> Value {
    let response = invoke(&Handler::with_store(default_store(), echo), &event).await;
    assert_eq!(response.status(), 200, "{}", response.text());
    serde_json::from_slice(response.body()).expect("echo answers JSON")
}

#[tokio::test]
async fn apigw_v2_request_is_normalized() {
    let seen = echoed(event(V2, |_| {})).await;
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/my/path");
    assert_eq!(seen["pathParameters"], json!({"parameter1": "value1"}));
    assert_eq!(
        seen["query"],
        json!([
            ["parameter1", "value1"],
            ["parameter1", "value2"],
            ["parameter2", "value"]
        ])
    );
    assert_eq!(seen["header1"], "value1");
    assert_eq!(seen["cookies"], json!(["value1", "value2", null]));
    // No content type: a UTF-8 body is text.
    assert_eq!(seen["body"], json!({"text": "Hello from Lambda"}));
    assert_eq!(seen["session"], json!({}));
    assert_eq!(seen["context"], "v2");
}

#[tokio::test]
async fn apigw_v1_request_is_normalized() {
    let seen = echoed(event(V1, |_| {})).await;
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/hello");
    assert_eq!(seen["pathParameters"], json!({"proxy": "hello"}));
    assert_eq!(seen["query"], json!([["name", "me"]]));
    assert_eq!(seen["body"], json!({"empty": true}));
    assert_eq!(seen["context"], "v1");
}

#[tokio::test]
async fn apigw_v1_multi_value_query_and_json_body() {
    let seen = echoed(event(V1_MULTI, |e| {
        e["multiValueHeaders"]["content-type"] = json!(["application/json"]);
    }))
    .await;
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/hello/world");
    let query = seen["query"].as_array().expect("query");
    assert!(
        query.contains(&json!(["multiValueName", "you"])),
        "{query:?}"
    );
    assert!(
        query.contains(&json!(["multiValueName", "me"])),
        "{query:?}"
    );
    assert_eq!(seen["body"], json!({"json": {"a": 1}}));
}

#[tokio::test]
async fn function_url_request_is_normalized() {
    let seen = echoed(event(FUNCTION_URL, |_| {})).await;
    assert_eq!(seen["path"], "/my/path");
    assert_eq!(seen["cookies"][2], "hi");
    assert_eq!(seen["context"], "v2");
}

fn with_body(content_type: &str, body: &str, base64: bool) -> impl FnOnce(&mut Value) + use<> {
    let (content_type, body) = (content_type.to_owned(), body.to_owned());
    move |e: &mut Value| {
        e["headers"]["content-type"] = json!(content_type);
        e["body"] = json!(body);
        e["isBase64Encoded"] = json!(base64);
    }
}

#[tokio::test]
async fn every_body_type_is_parsed() {
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let cases = [
        (
            with_body("application/json", r#"{"a":[1,2]}"#, false),
            json!({"json": {"a": [1, 2]}}),
        ),
        (
            with_body(
                "application/vnd.api+json; charset=utf-8",
                r#"{"b":true}"#,
                false,
            ),
            json!({"json": {"b": true}}),
        ),
        (
            with_body(
                "application/x-www-form-urlencoded",
                "tag=a&tag=b&name=J%C3%B6+D",
                false,
            ),
            json!({"form": [["tag", "a"], ["tag", "b"], ["name", "Jö D"]]}),
        ),
        (
            // cargo lambda watch and API Gateway send form posts base64-encoded.
            with_body("application/x-www-form-urlencoded", &b64(b"n=1&n=2"), true),
            json!({"form": [["n", "1"], ["n", "2"]]}),
        ),
        (
            with_body("text/plain", "hello", false),
            json!({"text": "hello"}),
        ),
        (
            with_body("application/json", &b64(br#"{"c":3}"#), true),
            json!({"json": {"c": 3}}),
        ),
        (
            with_body("application/octet-stream", &b64(&[0, 159, 255]), true),
            json!({"binary": [0, 159, 255]}),
        ),
    ];
    for (edit, expected) in cases {
        let seen = echoed(event(V2, edit)).await;
        assert_eq!(seen["body"], expected);
    }
}

#[tokio::test]
async fn malformed_json_or_form_is_a_400_without_calling_the_handler() {
    async fn must_not_run(_: Request) -> http::Result<Response> {
        panic!("the handler must not run for a malformed body");
    }
    let handler = Handler::with_store(default_store(), must_not_run);
    for edit in [
        with_body("application/json", "{\"a\":", false),
        with_body("application/x-www-form-urlencoded", "a=%FF%FE", false),
    ] {
        let response = invoke(&handler, &event(V2, edit)).await;
        assert_eq!(response.status(), 400);
        let page = response.text();
        assert!(page.contains("400 Bad Request"));
        assert!(page.contains("The request could not be read."), "{page}");
        // The parser's own words stay in the log.
        for detail in ["JSON", "EOF", "line", "form", "UTF"] {
            assert!(!page.contains(detail), "{detail:?} in {page}");
        }
        assert_eq!(header(&response, "content-type"), "text/html; charset=utf8");
    }
}

/// `testing::TestRequest` in every format: what the handler sees is what the request said.
#[tokio::test]
async fn test_requests_arrive_as_built_in_every_format() {
    use arc_functions::testing::{Format, TestRequest};
    let handler = Handler::with_store(default_store(), echo);
    for format in [Format::HttpApi, Format::RestApi, Format::FunctionUrl] {
        let seen = |r: arc_functions::testing::TestResponse| -> Value {
            assert_eq!(r.status(), 200, "{format:?}: {}", r.text());
            serde_json::from_slice(r.body()).expect("echo answers JSON")
        };
        let r = TestRequest::new("put", "/notes/7?tag=a&tag=b&x=1")
            .format(format)
            .header("Header1", "one")
            .header("header1", "two")
            .cookie("cookie1=c1")
            .cookie("test=t")
            .json(&json!({ "title": "hi" }))
            .send(&handler)
            .await
            .expect("a reply");
        let v = seen(r);
        assert_eq!(v["method"], "PUT", "{format:?}");
        assert_eq!(v["path"], "/notes/7", "{format:?}");
        // A REST API sends the query as a map: the order between names is lambda_http's.
        let mut query = v["query"].as_array().expect("pairs").clone();
        query.sort_by_key(|pair| pair[0].as_str().unwrap_or_default().to_owned());
        assert_eq!(
            query,
            json!([["tag", "a"], ["tag", "b"], ["x", "1"]])
                .as_array()
                .cloned()
                .unwrap_or_default(),
            "{format:?}"
        );
        assert_eq!(
            v["header1"], "one,two",
            "{format:?}: repeated headers joined"
        );
        assert_eq!(v["cookies"], json!(["c1", null, "t"]), "{format:?}");
        assert_eq!(
            v["body"],
            json!({ "json": { "title": "hi" } }),
            "{format:?}"
        );
        let context = if format == Format::RestApi {
            "v1"
        } else {
            "v2"
        };
        assert_eq!(v["context"], context, "{format:?}");

        let r = TestRequest::post("/f")
            .format(format)
            .form(&[("a", "1"), ("a", "2")])
            .send(&handler)
            .await
            .expect("a reply");
        assert_eq!(
            seen(r)["body"],
            json!({ "form": [["a", "1"], ["a", "2"]] }),
            "{format:?}"
        );
        let r = TestRequest::get("/")
            .format(format)
            .header("content-type", "text/plain")
            .body("plain")
            .send(&handler)
            .await
            .expect("a reply");
        assert_eq!(seen(r)["body"], json!({ "text": "plain" }), "{format:?}");
    }
}

/// The accessors a handler reads its request with, each against what arrived (their doctests
/// say the same; these keep mutation testing honest when run without doctests).
#[test]
fn body_params_and_cookie_accessors_return_what_arrived() {
    use arc_functions::http::Params;
    let json = Body::Json(json!({ "a": 1 }));
    let text = Body::Text("hi".into());
    let binary = Body::Binary(vec![0, 1]);
    let form = Body::Form(Params::parse("a=1&a=2&b=3"));
    assert_eq!(json.json(), Some(&json!({ "a": 1 })));
    assert_eq!(
        (text.json(), binary.json(), form.json()),
        (None, None, None)
    );
    assert_eq!(text.text(), Some("hi"));
    assert_eq!(
        (json.text(), binary.text(), Body::Empty.text()),
        (None, None, None)
    );
    assert_eq!(text.bytes(), Some(&b"hi"[..]));
    assert_eq!(binary.bytes(), Some(&[0_u8, 1][..]));
    assert_eq!((json.bytes(), Body::Empty.bytes()), (None, None));

    let params = form.form().expect("a form");
    assert_eq!(params.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
    assert_eq!(params.get_all("b").collect::<Vec<_>>(), ["3"]);
    assert_eq!(params.get_all("c").count(), 0);
    assert!(!params.is_empty());
    assert!(Params::parse("").is_empty());

    let event = lambda_http::http::Request::builder()
        .header("cookie", "a=1; theme=dark")
        .body(LambdaBody::Empty)
        .expect("request");
    let req = Request::from_lambda(event).expect("request");
    assert_eq!(
        req.cookies(),
        [("a".into(), "1".into()), ("theme".into(), "dark".into())]
    );
    let handler = Handler::with_store(default_store(), echo);
    assert!(
        format!("{handler:?}").contains("sealed cookie"),
        "{handler:?}"
    );
}
