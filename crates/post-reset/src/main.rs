//! `post /reset`: empties the session, tells the session's other tabs, and goes back home.

use arc_functions::http::{self, Request, Response};
use serde_json::json;

async fn reset(req: Request) -> http::Result<Response> {
    Ok(Response::redirect(req.url("/"))
        .session(json!({}))
        .push(json!({ "count": 0 })))
}

fn main() -> Result<(), lambda_http::Error> {
    http::start(http::async_handler(reset))
}
