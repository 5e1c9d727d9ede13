//! `post /reset`: starts the session over, under a new id, and goes back home. The old
//! session's sockets are closed, so the session's other tabs reconnect and show the new count.

use arc_functions::http::{self, Request, Response};

async fn reset(mut req: Request) -> http::Result<Response> {
    req.session.clear();
    req.session.regenerate();
    Ok(Response::redirect(req.url("/")).session(req.session))
}

fn main() -> Result<(), lambda_http::Error> {
    http::start(http::async_handler(reset))
}
