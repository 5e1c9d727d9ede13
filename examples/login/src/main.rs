//! The login example as a Lambda binary.

use arc_functions::http::{self, csrf};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    http::run(http::async_handler(csrf::protect(example_login::app))).await
}
