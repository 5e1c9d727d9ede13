//! The floor on a one-thread Tokio runtime, as `http::start` runs a route that gets one
//! invocation at a time: the best a Rust function could do. `bench/coldstart.py` measures it
//! beside the floor, so the routes' ratio to either can be read.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
