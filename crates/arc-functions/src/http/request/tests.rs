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
