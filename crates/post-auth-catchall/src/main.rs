//! `post /auth/*`: the login example's pages (examples/login), which route on the path.

fn main() -> Result<(), lambda_http::Error> {
    example_login::start()
}
