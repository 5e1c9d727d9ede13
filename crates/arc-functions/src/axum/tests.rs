use http_body_util::BodyExt;
use lambda_http::http::HeaderValue;

use super::*;

#[tokio::test]
async fn every_body_of_the_http_wrapper_crosses_into_axum_as_it_is() {
    let bytes = vec![0, 159, 146, 150, 255];
    for (body, sent) in [
        (lambda_http::Body::Text("a page".into()), b"a page".to_vec()),
        // Not UTF-8: a compressed page, an image.
        (lambda_http::Body::Binary(bytes.clone()), bytes),
        (lambda_http::Body::Empty, Vec::new()),
    ] {
        let mut response = lambda_http::Response::new(body);
        *response.status_mut() = StatusCode::NOT_FOUND;
        response
            .headers_mut()
            .insert("content-type", HeaderValue::from_static("image/png"));
        let crossed = into_axum(response);
        assert_eq!(crossed.status(), StatusCode::NOT_FOUND);
        assert_eq!(crossed.headers()["content-type"], "image/png");
        let received = crossed
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        assert_eq!(received.as_ref(), sent.as_slice());
    }
}
