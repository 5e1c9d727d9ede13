//! The management API, `/@connections/{id}`: what `aws-sdk-apigatewaymanagement` calls.
//!
//! API Gateway serves it on the API's own host, under the stage
//! (`https://{api}.execute-api.{region}.amazonaws.com/{stage}/@connections/{id}`); here it is
//! served with or without a stage, and any stage name is accepted. Requests are not signed
//! locally, so signatures are not checked.

use std::sync::Arc;

use axum::extract::ws::Message;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};

use crate::event::{Disconnect, Identity};
use crate::policy::{MAX_MESSAGE, is_loopback_host};
use crate::shared::Shared;

/// The header the SDK reads an error's type from (before the body's `__type` or `code`).
const ERROR_TYPE: &str = "x-amzn-ErrorType";

/// The path's parameters: `id`, percent-decoded (the SDK sends `=` as `%3D`), and perhaps a
/// stage, which is ignored.
#[derive(Debug, Deserialize)]
pub(crate) struct ConnectionPath {
    id: String,
}

/// `GetConnection`'s output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionInfo<'a> {
    connected_at: String,
    identity: &'a Identity,
    last_active_at: String,
}

/// `POST`: sends the body to the client, as a text frame when it is UTF-8, else binary; 200
/// once the frame is on the socket.
pub(crate) async fn post(
    State(shared): State<Arc<Shared>>,
    Path(ConnectionPath { id }): Path<ConnectionPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = foreign_host(&shared, &headers) {
        return refused;
    }
    if body.len() > MAX_MESSAGE {
        tracing::info!(
            "POST @connections/{id}: refused with 413: {} bytes, over API Gateway's {MAX_MESSAGE}",
            body.len()
        );
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            "Message too long",
        );
    }
    let Some(connection) = shared.registry.get(&id) else {
        return gone();
    };
    let message = match std::str::from_utf8(&body) {
        Ok(text) => Message::text(text),
        Err(_) => Message::Binary(body),
    };
    match connection.send(message).await {
        Ok(()) => {
            connection.touch();
            StatusCode::OK.into_response()
        }
        Err(_) => gone(),
    }
}

/// `GET`: when the connection opened and was last active, and who it is.
pub(crate) async fn get(
    State(shared): State<Arc<Shared>>,
    Path(ConnectionPath { id }): Path<ConnectionPath>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = foreign_host(&shared, &headers) {
        return refused;
    }
    let Some(connection) = shared.registry.get(&id) else {
        return gone();
    };
    let info = ConnectionInfo {
        connected_at: connection.peer.connected_at.iso8601(),
        identity: &connection.peer.identity,
        last_active_at: connection.last_active().iso8601(),
    };
    json(
        StatusCode::OK,
        serde_json::to_vec(&info).unwrap_or_default(),
    )
}

/// `DELETE`: closes the connection (1000, as API Gateway does); the close then brings
/// `$disconnect`. The connection is gone for this API at once.
pub(crate) async fn delete(
    State(shared): State<Arc<Shared>>,
    Path(ConnectionPath { id }): Path<ConnectionPath>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = foreign_host(&shared, &headers) {
        return refused;
    }
    let Some(connection) = shared.registry.remove(&id) else {
        return gone();
    };
    tracing::info!("DELETE @connections/{id}: closing it");
    connection.close(Disconnect::deleted()).await;
    StatusCode::NO_CONTENT.into_response()
}

/// API Gateway's answer for an unknown or closed connection, which the SDK reads as
/// `GoneException`.
fn gone() -> Response {
    let mut response = json(StatusCode::GONE, br#"{"message":null}"#.to_vec());
    response
        .headers_mut()
        .insert(ERROR_TYPE, HeaderValue::from_static("GoneException"));
    response
}

/// A 403 for a request whose `Host` is not a loopback name with the gateway's port: the
/// management API is unauthenticated, so a page must not reach it by DNS rebinding.
fn foreign_host(shared: &Shared, headers: &HeaderMap) -> Option<Response> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    if is_loopback_host(host, shared.site.port) {
        return None;
    }
    tracing::warn!(
        "@connections: refused with 403: Host {} is not a loopback name",
        host.unwrap_or("(none)")
    );
    Some(error(
        StatusCode::FORBIDDEN,
        "ForbiddenException",
        "Forbidden",
    ))
}

/// An error as API Gateway answers it: its type in `x-amzn-ErrorType`, a message in the body.
fn error(status: StatusCode, kind: &'static str, message: &str) -> Response {
    let body = serde_json::to_vec(&serde_json::json!({ "message": message })).unwrap_or_default();
    let mut response = json(status, body);
    response
        .headers_mut()
        .insert(ERROR_TYPE, HeaderValue::from_static(kind));
    response
}

fn json(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
