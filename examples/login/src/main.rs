//! The login example as a Lambda binary.
//!
//! Sign-in attempts are throttled in DynamoDB, so this needs a table: `SESSION_TABLE_NAME`
//! (DynamoDB sessions) or, with sessions in the cookie, `ARC_THROTTLE_TABLE_NAME`. Without one
//! it stops at start-up, saying so (`tests/tests/startup.rs`).

use arc_functions::http::{self, csrf};
use arc_functions::throttle::Throttle;
use example_login::{app, require_login};

fn main() -> Result<(), lambda_http::Error> {
    let throttle = Throttle::from_env_or_exit();
    http::start(http::async_handler(http::chain((
        csrf::require,
        throttle.step("/login", "user"),
        require_login,
        app,
    ))))
}
