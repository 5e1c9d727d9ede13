//! The signer against `aws-sigv4`, the SDK's: the same headers, byte for byte, for every call
//! shape the library makes, at any time, with and without a session token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials as Keys;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use proptest::prelude::*;

use super::*;

/// One request as the library sends it: method, URL, headers beyond `host`, body.
struct Shape {
    method: &'static str,
    url: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    service: &'static str,
}

const SHAPES: &[Shape] = &[
    Shape {
        method: "POST",
        url: "https://dynamodb.us-east-1.amazonaws.com/",
        headers: &[
            ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.GetItem"),
        ],
        body: br#"{"ConsistentRead":true,"Key":{"_idx":{"S":"abc"}},"TableName":"t"}"#,
        service: "dynamodb",
    },
    Shape {
        method: "POST",
        url: "http://127.0.0.1:8000/",
        headers: &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "secretsmanager.GetSecretValue"),
        ],
        body: br#"{"SecretId":"app/secret"}"#,
        service: "secretsmanager",
    },
    Shape {
        method: "POST",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/@connections/SOqGjdZioAMCEeg%3D",
        headers: &[],
        body: b"{\"count\":3}",
        service: "execute-api",
    },
    Shape {
        method: "GET",
        url: "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/@connections/a%2Bb%2Fc",
        headers: &[],
        body: b"",
        service: "execute-api",
    },
    Shape {
        method: "DELETE",
        url: "http://localhost:3333/@connections/x_y-z.~",
        headers: &[("content-type", "  spaced   out  ")],
        body: b"",
        service: "execute-api",
    },
];

/// What `aws-sigv4` adds to `shape`, signed at `now`.
fn reference(
    shape: &Shape,
    region: &str,
    token: Option<&str>,
    now: SystemTime,
) -> Vec<(String, String)> {
    let uri: lambda_http::http::Uri = shape.url.parse().expect("a URL");
    let host = uri.authority().expect("a host").as_str().to_owned();
    let headers = std::iter::once(("host", host.as_str())).chain(shape.headers.iter().copied());
    let identity: Identity = Keys::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG",
        token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(shape.service)
        .time(now)
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        shape.method,
        shape.url,
        headers,
        SignableBody::Bytes(shape.body),
    )
    .expect("signable");
    let (instructions, _) = aws_sigv4::http_request::sign(signable, &params)
        .expect("signed")
        .into_parts();
    let (headers, _) = instructions.into_parts();
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|h| (h.name().to_owned(), h.value().to_owned()))
        .collect();
    headers.sort();
    headers
}

/// What this signer adds to `shape`, signed at `now` through `cache`.
fn ours(
    shape: &Shape,
    region: &str,
    token: Option<&str>,
    now: SystemTime,
    cache: &KeyCache,
) -> Vec<(String, String)> {
    let uri: lambda_http::http::Uri = shape.url.parse().expect("a URL");
    let signed = sign(
        &Signable {
            method: shape.method,
            path: uri.path(),
            host: uri.authority().expect("a host").as_str(),
            headers: shape.headers,
            body: shape.body,
            service: shape.service,
            region,
        },
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG",
        token,
        now,
        cache,
    );
    let mut headers: Vec<(String, String)> = signed
        .headers
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    headers.sort();
    headers
}

#[test]
fn every_call_shape_is_signed_as_aws_sigv4_signs_it() {
    // 2024-02-29 23:59:59 UTC, a leap day's last second.
    let now = UNIX_EPOCH + Duration::from_secs(1_709_251_199);
    for shape in SHAPES {
        for token in [None, Some("IQoJb3JpZ2luX2VjE/token+=")] {
            let expected = reference(shape, "eu-west-1", token, now);
            assert_eq!(
                ours(shape, "eu-west-1", token, now, &KeyCache::default()),
                expected,
                "{} {}",
                shape.method,
                shape.url
            );
            let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
            let with_token = token.is_some();
            assert_eq!(names.contains(&"x-amz-security-token"), with_token);
            assert!(names.contains(&"authorization") && names.contains(&"x-amz-date"));
        }
    }
}

#[test]
fn the_days_key_is_kept_for_the_day_and_replaced_the_next() {
    let cache = KeyCache::default();
    let shape = &SHAPES[0];
    let day = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    for now in [
        day,
        day + Duration::from_secs(60),
        // Another day, then another region and another service on it: each a new key.
        day + Duration::from_secs(86_400),
    ] {
        assert_eq!(
            ours(shape, "us-east-1", None, now, &cache),
            reference(shape, "us-east-1", None, now)
        );
    }
    let next_day = day + Duration::from_secs(86_400);
    assert_eq!(
        ours(shape, "ap-south-2", None, next_day, &cache),
        reference(shape, "ap-south-2", None, next_day)
    );
    assert_eq!(
        ours(&SHAPES[1], "ap-south-2", None, next_day, &cache),
        reference(&SHAPES[1], "ap-south-2", None, next_day)
    );
}

proptest! {
    /// Any second from 1970 to 2106, any shape and region: the same headers.
    #[test]
    fn any_time_and_region_is_signed_as_aws_sigv4_signs_it(
        seconds in 0u64..4_300_000_000,
        shape in 0..SHAPES.len(),
        region in "[a-z]{2}-[a-z]{4,9}-[1-9]",
        token in proptest::option::of("[A-Za-z0-9+/=]{1,40}"),
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(seconds);
        let shape = &SHAPES[shape];
        prop_assert_eq!(
            ours(shape, &region, token.as_deref(), now, &KeyCache::default()),
            reference(shape, &region, token.as_deref(), now)
        );
    }
}

#[test]
fn the_days_at_the_edges_of_the_calendar_are_dated_as_aws_sigv4_dates_them() {
    // 2000-02-29 (the last day of a 400-year cycle, which the proptest would rarely draw),
    // 2000-03-01, 2100-02-28 and 2100-03-01 (no leap day in 2100), 1970-01-01, 2038-01-19.
    for seconds in [
        951_782_400 + 43_200,
        951_868_800,
        4_107_456_000 + 86_399,
        4_107_542_400,
        0,
        2_147_483_647,
    ] {
        let now = UNIX_EPOCH + Duration::from_secs(seconds);
        assert_eq!(
            ours(&SHAPES[0], "us-east-1", None, now, &KeyCache::default()),
            reference(&SHAPES[0], "us-east-1", None, now),
            "at {seconds}"
        );
    }
    assert_eq!(
        amz_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
        "20000229T000000Z"
    );
    assert_eq!(
        amz_date(UNIX_EPOCH + Duration::from_secs(4_107_542_400)),
        "21000301T000000Z"
    );
}
