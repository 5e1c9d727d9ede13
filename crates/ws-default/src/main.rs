//! `@ws default`: `{"action": "count"}` counts like the Count button, and every tab of the
//! session (this one included) hears the new count.

use arc_functions::ws::{self, Request, Response};
use serde_json::json;

async fn message(req: Request) -> ws::Result<Response> {
    if req.body.json().and_then(|b| b["action"].as_str()) != Some("count") {
        return Ok(Response::new()
            .status(400)
            .reply(json!({ "error": "send {\"action\": \"count\"}" })));
    }
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::new()
        .session(json!({ "count": count }))
        .push(json!({ "count": count })))
}

fn main() -> Result<(), lambda_http::Error> {
    ws::start(ws::async_handler(message))
}
