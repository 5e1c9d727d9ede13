//! `@ws connect`: accepts the page's socket when the browser has a session, which the wrapper
//! then ties the socket to. Without one there is nothing to follow: its first Count gives it
//! one, and the page reloads with a socket that has.

use arc_functions::ws::{self, Request, Response};

async fn connect(req: Request) -> ws::Result<Response> {
    if req.session.is_new() {
        return Ok(Response::new().status(403));
    }
    Ok(Response::new())
}

fn main() -> Result<(), lambda_http::Error> {
    ws::start(ws::async_handler(connect))
}
