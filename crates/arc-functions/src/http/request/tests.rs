use super::Request;

#[test]
fn debug_output_never_shows_credentials() {
    let event = lambda_http::http::Request::builder()
        .uri("/account?tab=keys")
        .header("cookie", "_idx=SESSION-COOKIE-VALUE; theme=dark")
        .header("authorization", "Bearer TOKEN-VALUE")
        .header("x-csrf-token", "CSRF-VALUE")
        .header("user-agent", "test-agent")
        .body(lambda_http::Body::Empty)
        .expect("a request");
    let shown = format!("{:?}", Request::from_lambda(event).expect("read"));
    for secret in [
        "SESSION-COOKIE-VALUE",
        "TOKEN-VALUE",
        "CSRF-VALUE",
        "theme=dark",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains(r#""cookie": "REDACTED""#), "{shown}");
    assert!(
        shown.contains("test-agent") && shown.contains("/account"),
        "{shown}"
    );
}

/// A v2 event with a trace id in its invocation's context, as `http::run` reads it.
fn read_deferred() -> Request {
    let payload = include_str!("../../../tests/fixtures/apigw_v2_request.json");
    let mut context = lambda_http::Context::default();
    context.xray_trace_id = Some("Root=1-abc".to_owned());
    context.deadline = 1_234;
    let (sender, request) = Request::read(payload.into(), context).expect("an HTTP event");
    assert_eq!(sender, crate::http::event::Sender::Http);
    request.expect("a readable body")
}

#[test]
fn an_http_api_event_makes_its_lambda_http_request_only_when_asked() {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;

    let req = read_deferred();
    assert_eq!(format!("{:?}", req.raw), "Raw(deferred)");
    // What a handler reads comes without the lambda_http request: the trace id too.
    assert_eq!(req.header("x-amzn-trace-id"), Some("Root=1-abc"));
    assert_eq!(req.raw_body(), b"Hello from Lambda");
    assert_eq!(req.deadline(), crate::deadline::Deadline(Some(1_234)));
    assert_eq!(format!("{:?}", req.raw), "Raw(deferred)");
    // Asked for, it is the request lambda_http makes of the event, with the invocation's
    // trace id and context.
    let Some(RequestContext::ApiGatewayV2(context)) = req.context() else {
        panic!("an HTTP API context: {:?}", req.context());
    };
    assert_eq!(context.http.source_ip.as_deref(), Some("IP"));
    assert_ne!(format!("{:?}", req.raw), "Raw(deferred)");
    assert_eq!(req.raw.headers()["x-amzn-trace-id"], "Root=1-abc");
    assert_eq!(
        req.raw.lambda_context_ref().map(|c| c.deadline),
        Some(1_234)
    );
    let general = crate::http::parse_event_typed(include_str!(
        "../../../tests/fixtures/apigw_v2_request.json"
    ))
    .expect("read")
    .1;
    assert_eq!(req.raw.uri(), general.uri());
    assert_eq!(req.raw.stage_variables(), general.stage_variables());
}

#[test]
fn a_deferred_request_can_be_changed_and_taken_whole() {
    let mut req = read_deferred();
    req.raw
        .headers_mut()
        .insert("x-added", lambda_http::http::HeaderValue::from_static("1"));
    assert_eq!(req.raw.headers()["x-added"], "1");
    // The normalized headers are the event's as it came.
    assert_eq!(req.header("x-added"), None);
    let raw = req.raw.into_inner();
    assert_eq!(raw.headers()["x-added"], "1");
    assert_eq!(raw.method(), "POST");
    // Taken whole before it was made, it is made then.
    let untouched = read_deferred().raw.into_inner();
    assert_eq!(untouched.uri().path(), "/my/path");
    assert_eq!(untouched.headers()["x-amzn-trace-id"], "Root=1-abc");
}

/// `payload` read as `http::run` reads it, with no invocation context to speak of.
fn read_text(payload: String) -> Request {
    let (_, request) =
        Request::read(payload.into(), lambda_http::Context::default()).expect("an HTTP event");
    request.expect("a readable body")
}

/// The v2 fixture with `edit` applied to its JSON.
fn v2_with(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut event: serde_json::Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/apigw_v2_request.json"
    ))
    .expect("JSON");
    edit(&mut event);
    event.to_string()
}

#[test]
fn the_source_address_and_route_of_an_http_api_event_are_read_without_making_the_request() {
    let deferred = |req: &Request| format!("{:?}", req.raw) == "Raw(deferred)";
    let req = read_text(v2_with(|e| {
        e["requestContext"]["http"]["sourceIp"] = "203.0.113.9".into();
        e["requestContext"]["routeKey"] = "GET /notes/{id}".into();
    }));
    assert_eq!(req.source_ip(), Some("203.0.113.9"));
    assert_eq!(req.resource(), Some("/notes/{id}"));
    assert!(deferred(&req));
    // The request context, once made, says the same.
    assert_eq!(
        super::source_ip(req.context().expect("a context")),
        Some("203.0.113.9")
    );
    assert!(!deferred(&req));
    assert_eq!(req.resource(), Some("/notes/{id}"));

    // Absent or null: none, and still nothing made.
    let req = read_text(v2_with(|e| {
        let context = e["requestContext"].as_object_mut().expect("context");
        context.remove("routeKey");
        context["http"]["sourceIp"] = serde_json::Value::Null;
    }));
    assert_eq!((req.source_ip(), req.resource()), (None, None));
    assert!(deferred(&req));
    // An empty address is none, as the made context's; an empty route key is the key.
    let req = read_text(v2_with(|e| {
        e["requestContext"]["http"]["sourceIp"] = "".into();
        e["requestContext"]["routeKey"] = "".into();
    }));
    assert_eq!((req.source_ip(), req.resource()), (None, Some("")));
    assert!(deferred(&req));

    // Written with escapes the payload does not hold the text itself: the request is made
    // to answer.
    let req = read_text(
        v2_with(|e| e["requestContext"]["routeKey"] = "$default".into())
            .replace(
                r#""routeKey":"$default","stage""#,
                r#""routeKey":"GET \/a","stage""#,
            )
            .replace(r#""sourceIp":"IP""#, r#""sourceIp":"\u0031.2.3.4""#),
    );
    assert_eq!(req.source_ip(), Some("1.2.3.4"));
    assert!(!deferred(&req));
    assert_eq!(req.resource(), Some("/a"));
}

#[test]
fn once_made_and_changed_the_request_context_is_the_one_read() {
    use lambda_http::request::RequestContext;

    let mut req = read_deferred();
    assert_eq!(req.source_ip(), Some("IP"));
    if let Some(RequestContext::ApiGatewayV2(context)) =
        req.raw.extensions_mut().get_mut::<RequestContext>()
    {
        context.http.source_ip = Some("198.51.100.1".to_owned());
        context.route_key = Some("POST /changed".to_owned());
    }
    assert_eq!(req.source_ip(), Some("198.51.100.1"));
    assert_eq!(req.resource(), Some("/changed"));
}

#[test]
fn a_request_made_by_hand_reads_its_parts_from_it() {
    let event = lambda_http::http::Request::builder()
        .uri("/x")
        .header("accept", "text/html")
        .body(lambda_http::Body::from("hi"))
        .expect("a request");
    let mut req = Request::from_lambda(event).expect("read");
    assert_eq!(req.raw_body(), b"hi");
    assert_eq!(req.header("accept"), Some("text/html"));
    req.raw.headers_mut().insert(
        "accept",
        lambda_http::http::HeaderValue::from_static("text/plain"),
    );
    // Nothing was copied: the headers are the lambda_http request's own.
    assert_eq!(req.header("accept"), Some("text/plain"));
    assert_eq!(req.deadline(), crate::deadline::Deadline(None));
}
