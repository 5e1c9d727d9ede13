//! The login example as a Lambda binary.

use arc_functions::http::{self, csrf};
use example_login::{app, require_login};

fn main() -> Result<(), lambda_http::Error> {
    http::start(http::async_handler(http::chain((
        csrf::require,
        require_login,
        app,
    ))))
}
