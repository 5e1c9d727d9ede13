//! The floor for any Rust Lambda function: `lambda_http` answering "hello", nothing else.
//! `bench/coldstart.py` measures its cold start beside the routes'. Like `cargo lambda new`'s
//! template and lambda_http's examples, it runs on `#[tokio::main]`'s multi-thread runtime.

use lambda_http::{Body, Error, Request, Response, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>(Response::new(Body::from("hello")))
    }))
    .await
}
