//! The round trip of one message through the gateway: the client sends a frame, the gateway
//! invokes `$default` over HTTP, a stand-in for watch replies with the body at once, and the
//! gateway sends the body back to the client. The function's own run time is left out, so this
//! is what the gateway adds to every message.
//!
//! ```text
//! cargo run --release -p arc-ws-gateway --example round_trip [-- MESSAGES]
//! ```
//!
//! It also times the bare invoke (one HTTP POST to the stand-in, with the client the gateway
//! uses) to show how much of the round trip that is.

use std::error::Error;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use arc_ws_gateway::{Gateway, Routes};
use axum::Router;
use axum::routing::post;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const WARM_UP: usize = 100;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let messages: usize = match std::env::args().nth(1) {
        Some(count) => count.parse()?,
        None => 1000,
    };

    // Watch's stand-in: every function answers 200 with the message's body, if any.
    let lambda = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let lambda_url = format!("http://{}", lambda.local_addr()?);
    let app = Router::new().route(
        "/2015-03-31/functions/{function}/invocations",
        post(|body: Bytes| async move {
            let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            json!({ "statusCode": 200, "body": event["body"] }).to_string()
        }),
    );
    tokio::spawn(async move { axum::serve(lambda, app).await });

    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let address = listener.local_addr()?;
    let gateway = Gateway::new(Routes::new(&[]), lambda_url.parse()?);
    tokio::spawn(gateway.serve(listener, std::future::pending()));

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{address}/")).await?;
    let mut round_trips = Vec::with_capacity(messages);
    for i in 0..WARM_UP + messages {
        let body = format!(r#"{{"action":"none","n":{i}}}"#);
        let sent = Instant::now();
        socket.send(Message::text(body.clone())).await?;
        let reply = loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => break text,
                Some(Ok(_)) => {}
                other => return Err(format!("the socket ended: {other:?}").into()),
            }
        };
        let elapsed = sent.elapsed();
        if reply.as_str() != body {
            return Err(format!("expected {body}, got {reply}").into());
        }
        if i >= WARM_UP {
            round_trips.push(elapsed);
        }
    }
    report("round trip through the gateway", &mut round_trips);

    // The invoke alone: the HTTP POST the gateway makes for each message.
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let url = format!("{lambda_url}/2015-03-31/functions/ws-default/invocations");
    let event = Bytes::from(json!({ "body": "x", "requestContext": {} }).to_string());
    let mut invokes = Vec::with_capacity(messages);
    for i in 0..WARM_UP + messages {
        let request = http::Request::post(&url).body(Full::new(event.clone()))?;
        let sent = Instant::now();
        let response = client.request(request).await?;
        response.into_body().collect().await?;
        if i >= WARM_UP {
            invokes.push(sent.elapsed());
        }
    }
    report("invoke alone (HTTP POST to the stand-in)", &mut invokes);
    Ok(())
}

fn report(what: &str, samples: &mut [Duration]) {
    if samples.is_empty() {
        println!("{what}: no messages");
        return;
    }
    samples.sort();
    let at = |quantile: f64| {
        // Nearest rank: the smallest sample with at least this share at or below it.
        let rank = (quantile * samples.len() as f64).ceil() as usize;
        samples[rank.clamp(1, samples.len()) - 1]
    };
    let total: Duration = samples.iter().sum();
    println!(
        "{what}, {} messages: median {:?}, p90 {:?}, p99 {:?}, max {:?}, mean {:?}",
        samples.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        total / u32::try_from(samples.len()).unwrap_or(u32::MAX),
    );
}
