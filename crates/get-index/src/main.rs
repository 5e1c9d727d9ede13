//! `get /`: the counter page, showing the count kept in the session.

mod render;

use arc_functions::http::{self, Request, Response};

async fn home(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0);
    Ok(Response::html(render::render(
        count,
        &req.url("/count"),
        &req.url("/reset"),
        req.session_socket_url(),
    )))
}

fn main() -> Result<(), lambda_http::Error> {
    http::start(http::async_handler(home))
}
