//! `@ws disconnect`: the socket closed; the wrapper forgets it.

use arc_functions::ws::{self, Request, Response};

async fn disconnect(_req: Request) -> ws::Result<Response> {
    Ok(Response::new())
}

fn main() -> Result<(), lambda_http::Error> {
    ws::start(ws::async_handler(disconnect))
}
