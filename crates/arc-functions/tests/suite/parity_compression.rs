//! `arc.http` parity on real API Gateway events: response compression. Brotli or gzip as the
//! request's `Accept-Encoding` ranks them, for every event format; small, binary, opted-out
//! and incompressible bodies go as they are unless identity is refused; `Vary` is kept and
//! extended; `ARC_HTTP_COMPRESSION` is checked at cold start. Needs nothing outside the
//! process.

use std::io::Read;

use arc_functions::config::Config;
use arc_functions::http::{self, Encoding, Handler, Request, Response};
use arc_functions::testing::TestResponse;
use lambda_http::http::header::{CONTENT_ENCODING, VARY};
use serde_json::{Value, json};

use crate::support::event;
use crate::support::http::{ALB, FUNCTION_URL, V1, V1_MULTI, V2, app, header, invoke_raw};

/// 4 KB of HTML: text-like and above the threshold.
fn big_page() -> String {
    "<p>Architect functions, in Rust.</p>\n".repeat(110)
}

async fn page(_req: Request) -> http::Result<Response> {
    Ok(Response::html(big_page()))
}

fn accepting(fixture: &str, accept: &str) -> String {
    let accept = accept.to_owned();
    event(fixture, move |e| {
        let headers = e["headers"].as_object_mut().expect("headers");
        headers.retain(|k, _| !k.eq_ignore_ascii_case("accept-encoding"));
        headers.insert("accept-encoding".into(), json!(accept));
        if let Some(multi) = e["multiValueHeaders"].as_object_mut() {
            multi.retain(|k, _| !k.eq_ignore_ascii_case("accept-encoding"));
            multi.insert("accept-encoding".into(), json!([accept]));
        }
    })
}

/// What the function answered `payload` with, and whether the reply carried its body
/// base64-encoded (as every binary body goes, a compressed one included).
async fn serve<F, Fut>(handler: &Handler<F>, payload: &str) -> (TestResponse, bool)
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = http::Result<Response>>,
{
    let (reply, response) = invoke_raw(handler, payload).await;
    (response, reply["isBase64Encoded"] == Value::Bool(true))
}

/// The body of a response, decoded as its `content-encoding` says.
fn decoded(response: &TestResponse) -> String {
    let bytes = response.body();
    let mut out = String::new();
    match header(response, CONTENT_ENCODING.as_str()) {
        "" => return response.text(),
        "br" => brotli::Decompressor::new(bytes, 4096)
            .read_to_string(&mut out)
            .map(drop),
        "gzip" => flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut out)
            .map(drop),
        other => panic!("unexpected coding {other:?}"),
    }
    .expect("decodes");
    out
}

#[tokio::test]
async fn compression_is_negotiated_for_v1_v2_and_function_urls() {
    let handler = app(&[], page);
    for fixture in [V1, V1_MULTI, V2, FUNCTION_URL, ALB] {
        let (r, binary) = serve(&handler, &accepting(fixture, "gzip, deflate, br")).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
        assert_eq!(header(&r, VARY.as_str()), "accept-encoding");
        // A binary body: the reply carries it base64-encoded with isBase64Encoded set.
        assert!(binary, "a compressed body is binary");
        let bytes = r.body();
        assert!(bytes.len() * 10 < big_page().len(), "{} bytes", bytes.len());
        assert_eq!(decoded(&r), big_page());
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf8");

        let (r, _) = serve(&handler, &accepting(fixture, "gzip")).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
        assert_eq!(decoded(&r), big_page());
    }
}

#[tokio::test]
async fn q_values_rank_codings_and_the_response_may_prefer_one() {
    let handler = app(&[], page);
    let coding = |accept: &'static str| {
        let handler = handler.clone();
        async move {
            let (r, _) = serve(&handler, &accepting(V2, accept)).await;
            header(&r, CONTENT_ENCODING.as_str()).to_owned()
        }
    };
    assert_eq!(coding("br;q=0.5, gzip").await, "gzip");
    assert_eq!(coding("br, gzip;q=0.9").await, "br");
    assert_eq!(coding("br;q=0, *").await, "gzip");
    assert_eq!(
        coding("gzip;q=0.4, identity;q=0.5").await,
        "",
        "identity ranks higher"
    );

    async fn prefers_gzip(_req: Request) -> http::Result<Response> {
        Ok(Response::html(big_page()).prefer_encoding(Encoding::Gzip))
    }
    let gzip = app(&[], prefers_gzip);
    let (r, _) = serve(&gzip, &accepting(V2, "br, gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert_eq!(decoded(&r), big_page());
    let (r, _) = serve(&gzip, &accepting(V2, "br")).await;
    assert_eq!(
        header(&r, CONTENT_ENCODING.as_str()),
        "br",
        "only if accepted"
    );
}

#[tokio::test]
async fn small_and_binary_bodies_go_uncompressed_unless_identity_is_refused() {
    async fn small(_req: Request) -> http::Result<Response> {
        Ok(Response::html("<p>small</p>".repeat(80))) // 960 bytes
    }
    async fn png(_req: Request) -> http::Result<Response> {
        Ok(Response::bytes(vec![0x89; 4096]).content_type("image/png"))
    }
    let (r, binary) = serve(&app(&[], small), &accepting(V2, "br, gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(r.text(), "<p>small</p>".repeat(80));
    assert!(!binary, "sent as text");
    assert_eq!(
        header(&r, VARY.as_str()),
        "accept-encoding",
        "another request may get it compressed"
    );
    let (r, binary) = serve(&app(&[], png), &accepting(V2, "br, gzip")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!((r.body(), binary), (&[0x89; 4096][..], true));

    // identity;q=0: the client cannot take it as is, so even these go compressed.
    let (r, _) = serve(&app(&[], small), &accepting(V2, "gzip, identity;q=0")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert_eq!(decoded(&r), "<p>small</p>".repeat(80));
    let (r, binary) = serve(&app(&[], png), &accepting(V2, "br, identity;q=0")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
    assert!(binary);
    let mut out = Vec::new();
    brotli::Decompressor::new(r.body(), 4096)
        .read_to_end(&mut out)
        .expect("brotli");
    assert_eq!(out, vec![0x89; 4096]);
}

#[tokio::test]
async fn refused_or_opted_out_responses_go_uncompressed() {
    let handler = app(&[], page);
    for accept in ["", "identity", "deflate", "br;q=0, gzip;q=0", "*;q=0"] {
        let (r, _) = serve(&handler, &accepting(V2, accept)).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "", "{accept:?}");
        assert_eq!(r.text(), big_page());
    }
    let (r, _) = serve(&handler, &event(V2, |_| {})).await;
    assert_eq!(
        header(&r, CONTENT_ENCODING.as_str()),
        "",
        "no header, no coding"
    );

    async fn opted_out(_req: Request) -> http::Result<Response> {
        Ok(Response::html(big_page()).no_compression())
    }
    let (r, _) = serve(&app(&[], opted_out), &accepting(V2, "br")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(header(&r, VARY.as_str()), "", "it never varies");
    assert_eq!(r.text(), big_page());

    let off = app(&[("ARC_HTTP_COMPRESSION", "off")], page);
    let (r, _) = serve(&off, &accepting(V2, "br")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "");
    assert_eq!(header(&r, VARY.as_str()), "");
    assert_eq!(r.text(), big_page());

    // A body the handler encoded itself is left alone; its Vary is kept and extended.
    async fn encoded(_req: Request) -> http::Result<Response> {
        Ok(Response::bytes(vec![0x8b; 2048])
            .content_type("text/plain")
            .header("content-encoding", "gzip"))
    }
    let (r, binary) = serve(&app(&[], encoded), &accepting(V2, "br")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert_eq!((r.body(), binary), (&[0x8b; 2048][..], true));
    async fn varies(_req: Request) -> http::Result<Response> {
        Ok(Response::html(big_page()).header("vary", "cookie"))
    }
    let (r, _) = serve(&app(&[], varies), &accepting(V2, "br")).await;
    assert_eq!(header(&r, VARY.as_str()), "cookie, accept-encoding");
}

/// `len` bytes no codec can shrink (a xorshift stream).
fn incompressible(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn a_body_that_would_grow_goes_as_it_is_unless_identity_is_refused() {
    async fn noise(req: Request) -> http::Result<Response> {
        let len = req
            .query
            .get("len")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        Ok(Response::bytes(incompressible(len)).content_type("text/plain"))
    }
    let at = |len: usize, accept: &str| {
        let accept = accept.to_owned();
        event(V2, move |e| {
            e["rawQueryString"] = json!(format!("len={len}"));
            e["headers"]["accept-encoding"] = json!(accept);
        })
    };
    let handler = app(&[], noise);
    // Text-like and large, but brotli and gzip would only add their framing.
    for accept in ["br", "gzip"] {
        let (r, binary) = serve(&handler, &at(4096, accept)).await;
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "", "{accept}");
        assert_eq!((r.body(), binary), (&incompressible(4096)[..], true));
    }
    // The client refuses identity: compressed though it grows.
    let (r, binary) = serve(&handler, &at(100, "gzip, identity;q=0")).await;
    assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "gzip");
    assert!(binary);
    let bytes = r.body();
    assert!(bytes.len() > 100, "{} bytes", bytes.len());
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    assert_eq!(out, incompressible(100));
}

#[tokio::test]
async fn a_vary_that_already_covers_the_coding_is_kept() {
    async fn varies(req: Request) -> http::Result<Response> {
        let vary = req.query.get("vary").unwrap_or_default().to_owned();
        Ok(Response::html(big_page()).header("vary", vary))
    }
    let handler = app(&[], varies);
    for (given, sent) in [
        ("*", "*"),
        ("Accept-Encoding", "Accept-Encoding"),
        ("cookie, accept-encoding", "cookie, accept-encoding"),
        ("cookie", "cookie, accept-encoding"),
    ] {
        let ask = event(V2, |e| {
            let given = given.replace(',', "%2C").replace(' ', "%20");
            e["rawQueryString"] = json!(format!("vary={given}"));
            e["headers"]["accept-encoding"] = json!("br");
        });
        let (r, _) = serve(&handler, &ask).await;
        assert_eq!(header(&r, VARY.as_str()), sent, "{given}");
        assert_eq!(header(&r, CONTENT_ENCODING.as_str()), "br");
    }
}

#[test]
fn compression_configuration_is_checked_at_cold_start() {
    let base = [("ARC_ENV", "testing")];
    let read = |value: &str| {
        Config::from_vars(base.into_iter().chain([("ARC_HTTP_COMPRESSION", value)]))
            .map(|c| c.http.compression)
    };
    assert_eq!(read("off"), Ok(false));
    assert_eq!(read("FALSE"), Ok(false));
    assert_eq!(read("0"), Ok(false));
    assert_eq!(read("on"), Ok(true));
    assert_eq!(read("true"), Ok(true));
    assert_eq!(read("1"), Ok(true));
    let err = read("gzip please").expect_err("refused");
    assert!(
        err.to_string().starts_with("ARC_HTTP_COMPRESSION is"),
        "{err}"
    );
    assert!(
        Config::from_vars(base).expect("config").http.compression,
        "on by default"
    );
}
