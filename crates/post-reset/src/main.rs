//! `post /reset`: empties the session and goes back home.

use arc_functions::http::{self, Request, Response};
use serde_json::json;

async fn reset(req: Request) -> http::Result<Response> {
    Ok(Response::redirect(req.url("/")).session(json!({})))
}

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::run(http::async_handler(reset)).await
}
