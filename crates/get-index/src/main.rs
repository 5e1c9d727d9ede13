//! `get /`: the counter page, showing the count kept in the session. Asked for JSON (as the
//! page does to reconnect its socket), the count and a fresh socket URL.

mod render;

use arc_functions::http::{self, Request, Response};
use serde_json::json;

async fn home(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0);
    let socket = req.socket_url();
    if req.accepts_json() {
        return Ok(Response::json(&json!({ "count": count, "socket": socket })));
    }
    Ok(Response::html(render::render(
        count,
        &req.url("/count"),
        &req.url("/reset"),
        socket.as_deref(),
    )))
}

fn main() -> Result<(), lambda_http::Error> {
    http::start(http::async_handler(home))
}
