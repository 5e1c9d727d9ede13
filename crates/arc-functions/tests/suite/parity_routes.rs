//! `arc.http` parity on real API Gateway events: the stage-aware `url()` (on the request and
//! free, after Architect's environment rule), the route key of every event type, and the raw
//! body beside the parsed one.
//!
//! The free `url()` reads the process environment, so its test runs each environment in a
//! child process of this test binary (`free_url_child`). Needs nothing outside the process.

use std::sync::Arc;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use base64::Engine;
use lambda_http::http::header::LOCATION;
use serde_json::{Value, json};

use crate::support::event;
use crate::support::http::{
    ALB, FUNCTION_URL, V1, V1_MULTI, V2, V2_SAM_LOCAL, app, header, invoke,
};

// ---------------------------------------------------------------------------------------------
// url()

async fn redirect_home(req: Request) -> http::Result<Response> {
    Ok(Response::redirect(req.url("/login")))
}

async fn location(vars: &[(&str, &str)], event: String) -> String {
    let r = invoke(&app(vars, redirect_home), &event).await;
    header(&r, LOCATION.as_str()).to_owned()
}

#[tokio::test]
async fn req_url_adds_the_rest_stage_only_on_the_execute_api_address_when_deployed() {
    let staging = [
        ("ARC_ENV", "staging"),
        ("ARC_APP_SECRET", "s".repeat(32).leak()),
    ];
    let production = [
        ("ARC_ENV", "production"),
        ("ARC_APP_SECRET", "s".repeat(32).leak()),
    ];
    // The REST fixture came through stage `test` of its execute-api address.
    assert_eq!(location(&staging, event(V1, |_| {})).await, "/test/login");
    assert_eq!(
        location(&production, event(V1, |_| {})).await,
        "/test/login"
    );
    // testing, local, or ARC_ENV unset: as the original, no stage.
    assert_eq!(location(&[], event(V1, |_| {})).await, "/login");
    let local = [&production[..], &[("ARC_LOCAL", "1")]].concat();
    assert_eq!(location(&local, event(V1, |_| {})).await, "/login");
    let unset = [("ARC_APP_SECRET", "s".repeat(32).leak() as &str)];
    let unset_vars = Config::from_vars(unset).expect("config");
    assert_eq!(unset_vars.http.stage, None);
    let r = invoke(
        &Handler::with_store(Arc::new(SessionStore::new(&unset_vars)), redirect_home)
            .with_config(&unset_vars),
        &event(V1, |_| {}),
    )
    .await;
    assert_eq!(header(&r, LOCATION.as_str()), "/login");
    // Deployed, but where the stage is not in the path: HTTP APIs, function URLs, ALBs and a
    // REST API behind a custom domain.
    for fixture in [V2, FUNCTION_URL, ALB] {
        assert_eq!(
            location(&production, event(fixture, |_| {})).await,
            "/login"
        );
    }
    let custom_domain = event(V1, |e| {
        e["headers"]["Host"] = json!("app.example.com");
        e["requestContext"]["domainName"] = json!("app.example.com");
    });
    assert_eq!(location(&production, custom_domain).await, "/login");
    // Only an execute-api address of AWS counts, the China regions' included.
    for (domain, expected) in [
        ("api.execute-api.example.com", "/login"),
        ("wt6mne2s9k.elb.amazonaws.com", "/login"),
        (
            "wt6mne2s9k.execute-api.cn-north-1.amazonaws.com.cn",
            "/test/login",
        ),
    ] {
        let at = event(V1, |e| e["requestContext"]["domainName"] = json!(domain));
        assert_eq!(location(&production, at).await, expected, "{domain}");
    }
    // No context domain: the Host header tells.
    let host_only = event(V1, |e| {
        e["requestContext"]
            .as_object_mut()
            .expect("context")
            .remove("domainName");
    });
    assert_eq!(location(&production, host_only).await, "/test/login");
}

async fn url_and_raw(req: Request) -> http::Result<Response> {
    let url = req.url("/login");
    let deferred = format!("{:?}", req.raw) == "Raw(deferred)";
    Ok(Response::text(format!("{url} deferred: {deferred}")))
}

#[tokio::test]
async fn req_url_answers_an_http_api_event_without_making_its_lambda_http_request() {
    let production = [
        ("ARC_ENV", "production"),
        ("ARC_APP_SECRET", "s".repeat(32).leak()),
    ];
    // Deployed, `url` would add a REST stage: for an HTTP API event it knows there is none
    // without reading the request context, which stays unread.
    let r = invoke(&app(&production, url_and_raw), &event(V2, |_| {})).await;
    assert_eq!(r.text(), "/login deferred: true");
    // A REST event is read whole, and its stage added.
    let r = invoke(&app(&production, url_and_raw), &event(V1, |_| {})).await;
    assert_eq!(r.text(), "/test/login deferred: false");
}

#[test]
fn the_url_stage_follows_architects_environment_rule() {
    let secret = ("ARC_APP_SECRET", "0123456789abcdef0123456789abcdef");
    let stage = |vars: &[(&str, &str)]| {
        Config::from_vars(vars.iter().copied().chain([secret]))
            .expect("config")
            .http
            .stage
    };
    assert_eq!(stage(&[("ARC_ENV", "staging")]).as_deref(), Some("staging"));
    assert_eq!(
        stage(&[("ARC_ENV", "production")]).as_deref(),
        Some("production")
    );
    assert_eq!(stage(&[("ARC_ENV", "testing")]), None);
    assert_eq!(
        stage(&[]),
        None,
        "unset is strict for secrets, but adds no stage"
    );
    assert_eq!(
        stage(&[("ARC_ENV", "production"), ("ARC_LOCAL", "1")]),
        None
    );
    assert_eq!(
        stage(&[("ARC_ENV", "staging"), ("ARC_LOCAL", "false")]),
        None,
        "any value is local, as in JavaScript"
    );
    assert_eq!(
        stage(&[("ARC_ENV", "staging"), ("ARC_LOCAL", "")]).as_deref(),
        Some("staging")
    );
}

/// The free `url()` reads the process environment once; each environment runs in a child
/// process of this test binary (below), since a test cannot change its own environment safely.
#[test]
fn the_free_url_follows_architect_in_each_environment() {
    let cases = [
        (&[("ARC_ENV", "staging")][..], "/staging/a?b=1"),
        (&[("ARC_ENV", "production")][..], "/production/a?b=1"),
        (&[("ARC_ENV", "testing")][..], "/a?b=1"),
        (&[][..], "/a?b=1"),
        (
            &[("ARC_ENV", "production"), ("ARC_LOCAL", "true")][..],
            "/a?b=1",
        ),
    ];
    for (vars, expected) in cases {
        let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--exact",
                &crate::support::test_name(module_path!(), "free_url_child"),
                "--nocapture",
                "--test-threads=1",
            ])
            .env_remove("ARC_ENV")
            .env_remove("ARC_LOCAL")
            .envs(vars.iter().copied())
            .env("PARITY_URL_CHILD", "1")
            .output()
            .expect("the child runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{vars:?}: {stdout}");
        assert!(
            stdout.contains(&format!("url=<{expected}>")),
            "{vars:?}: {stdout}"
        );
    }
}

/// Run by the test above in a child process; prints what `url()` answers there.
#[test]
fn free_url_child() {
    if std::env::var_os("PARITY_URL_CHILD").is_some() {
        println!("url=<{}>", http::url("/a?b=1"));
    }
}

// ---------------------------------------------------------------------------------------------
// The route key and the raw body

async fn route(req: Request) -> http::Result<Response> {
    Ok(Response::json(&json!({
        "resource": req.resource(),
        "raw": base64::engine::general_purpose::STANDARD.encode(req.raw_body()),
        "parsed": format!("{:?}", req.body),
    })))
}

async fn routed(event: String) -> Value {
    let r = invoke(&app(&[], route), &event).await;
    serde_json::from_str(&r.text()).expect("JSON")
}

#[tokio::test]
async fn the_route_key_of_every_event_type() {
    assert_eq!(routed(event(V1, |_| {})).await["resource"], "/{proxy+}");
    assert_eq!(routed(event(V2, |_| {})).await["resource"], "$default");
    assert_eq!(
        routed(event(V2_SAM_LOCAL, |_| {})).await["resource"],
        "/hello"
    );
    let notes = event(V2, |e| {
        e["routeKey"] = json!("GET /notes/{id}");
        e["requestContext"]["routeKey"] = json!("GET /notes/{id}");
        e["rawPath"] = json!("/notes/42");
    });
    assert_eq!(routed(notes).await["resource"], "/notes/{id}");
    let notes = event(V1, |e| {
        e["resource"] = json!("/notes/{id}");
        e["requestContext"]["resourcePath"] = json!("/notes/{id}");
    });
    assert_eq!(routed(notes).await["resource"], "/notes/{id}");
    assert_eq!(
        routed(event(FUNCTION_URL, |_| {})).await["resource"],
        "$default"
    );
    assert_eq!(routed(event(ALB, |_| {})).await["resource"], Value::Null);
}

#[tokio::test]
async fn the_raw_body_is_kept_beside_the_parsed_one() {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    // v1 JSON, with the whitespace the client sent.
    let v = routed(event(V1_MULTI, |_| {})).await;
    assert_eq!(v["raw"], b64(b"{\r\n\t\"a\": 1\r\n}"));
    assert!(
        v["parsed"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Json(")
    );
    // A base64 form body (as API Gateway sends forms): raw is the decoded bytes.
    let form = event(V2, |e| {
        e["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
        e["body"] = json!(b64(b"a=1&a=%C3%A9"));
        e["isBase64Encoded"] = json!(true);
    });
    let v = routed(form).await;
    assert_eq!(v["raw"], b64(b"a=1&a=%C3%A9"));
    assert!(
        v["parsed"]
            .as_str()
            .unwrap_or_default()
            .contains("\"\u{e9}\""),
        "{v}"
    );
    // Text and no body.
    assert_eq!(
        routed(event(V2, |_| {})).await["raw"],
        b64(b"Hello from Lambda")
    );
    assert_eq!(routed(event(V1, |_| {})).await["raw"], "");
}
