//! The login example as a Lambda binary; `crates/get-auth-catchall` and
//! `crates/post-auth-catchall` serve the same app as the routes `app.arc` declares.
//!
//! Users live in the table `USERS_TABLE_NAME` names, and sign-in attempts are throttled in
//! DynamoDB, so this needs a table: `SESSION_TABLE_NAME` (DynamoDB sessions) or, with sessions
//! in the cookie, `ARC_THROTTLE_TABLE_NAME`. Without them it stops at start-up, saying so
//! (`tests/tests/startup.rs`).

fn main() -> Result<(), lambda_http::Error> {
    example_login::start()
}
