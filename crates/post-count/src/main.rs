//! `post /count`: adds one to the session's count, tells the session's other tabs, and goes
//! back home.

use arc_functions::http::{self, Request, Response};
use serde_json::json;

async fn counter(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::redirect(req.url("/"))
        .session(json!({ "count": count }))
        .push(json!({ "count": count })))
}

fn main() -> Result<(), lambda_http::Error> {
    http::start(http::async_handler(counter))
}
