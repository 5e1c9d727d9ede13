//! The example counter app, served by `cargo lambda watch` and driven like a browser.
//!
//! Builds the three route binaries, starts `cargo lambda watch` on a free loopback port with the
//! workspace router, and checks that sessions count per client, reset, and treat a tampered
//! cookie as no session. Runs with sessions sealed in the cookie, and again with sessions in
//! DynamoDB, `#[ignore]`d: `scripts/test` starts dynalite, sets `ARC_TEST_DYNAMODB=1` and
//! `AWS_ENDPOINT_URL_DYNAMODB`, and runs it with `--include-ignored`; without them it fails.

mod common;

use ureq::{Agent, ResponseExt as _, http::Response};

use common::{App, agent, body};

/// The session table of `app.arc`, the name `scripts/test` creates in dynalite.
const SESSION_TABLE: &str = "bigsesh-session";

#[test]
fn counter_with_cookie_sessions() {
    let app = App::start("cookie", &[]);
    counter_scenario(&app);
}

#[test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
fn counter_with_dynamodb_sessions() {
    let endpoint = common::require_dynamodb();
    common::create_table(&endpoint, SESSION_TABLE);
    let app = App::start("dynamodb", &[("SESSION_TABLE_NAME", SESSION_TABLE)]);
    counter_scenario(&app);
}

/// The seed guide's counter, clicked through by two visitors and one forger.
fn counter_scenario(app: &App) {
    let alice = Browser::new(app);
    assert_eq!(alice.get("/"), 0, "a first visit has an empty session");
    for expected in 1..=3 {
        assert_eq!(
            alice.post("/count"),
            expected,
            "Count goes up by one per click"
        );
    }
    assert_eq!(alice.post("/reset"), 0, "Reset empties the session");
    alice.post("/count");
    assert_eq!(alice.post("/count"), 2);

    let bob = Browser::new(app);
    assert_eq!(
        bob.get("/"),
        0,
        "a client without cookies gets a session of its own"
    );
    assert_eq!(bob.post("/count"), 1);
    assert_eq!(
        alice.get("/"),
        2,
        "bob's clicks do not touch alice's session"
    );
    assert_eq!(alice.post("/count"), 3);

    let cookie = alice.session_cookie();
    let page = app.get_with_cookie(&format!("_idx={}", tamper(&cookie)));
    assert_eq!(
        page.status().as_u16(),
        200,
        "a tampered cookie is no session, not an error"
    );
    assert_eq!(
        count_on(&body(page)),
        0,
        "a tampered cookie must not open the session"
    );
    // The same request with the untouched value shows the count, so the zero above is the
    // tampering's doing and not the way the cookie was sent.
    let page = app.get_with_cookie(&format!("_idx={cookie}"));
    assert_eq!(count_on(&body(page)), 3);

    assert_session_cookie_attributes(app);

    // watch sets AWS_LAMBDA_MAX_CONCURRENCY; a route on lambda_http::run would say here that it
    // serves one request at a time.
    let log = app.log();
    assert!(
        !log.contains("running sequentially"),
        "a route runs without concurrency:\n{log}"
    );
}

/// What a browser is told on the redirect: the cookie attributes the design fixes for testing.
fn assert_session_cookie_attributes(app: &App) {
    let response = agent(0)
        .post(app.url("/count"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("")
        .expect("POST /count");
    assert_eq!(
        response.status().as_u16(),
        302,
        "a form post answers with a redirect"
    );
    assert_eq!(header(&response, "location"), Some("/"));
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("_idx="))
        .unwrap_or_else(|| panic!("no _idx cookie set: {:?}", response.headers()));
    let attributes: Vec<String> = session
        .split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_ascii_lowercase())
        .collect();
    for expected in ["httponly", "path=/", "samesite=lax", "max-age=604800"] {
        assert!(
            attributes.iter().any(|attribute| attribute == expected),
            "{expected} missing from {session}"
        );
    }
    assert!(
        !attributes.iter().any(|attribute| attribute == "secure"),
        "watch runs the routes in testing (the workspace's cargo-lambda configuration), where the cookie must work over plain http: {session}"
    );
}

/// A cookie-keeping client that follows redirects, as a browser submitting the page's forms.
struct Browser<'a> {
    app: &'a App,
    agent: Agent,
}

impl<'a> Browser<'a> {
    fn new(app: &'a App) -> Self {
        Self {
            app,
            agent: agent(10),
        }
    }

    /// Loads `path` and returns the count on the page.
    fn get(&self, path: &str) -> u64 {
        let response = self.agent.get(self.app.url(path)).call().expect("GET");
        self.count_on_page(response, path)
    }

    /// Submits the button's empty form to `path`, follows the redirect, returns the count.
    fn post(&self, path: &str) -> u64 {
        let response = self
            .agent
            .post(self.app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .send("")
            .expect("POST");
        assert_eq!(
            response.get_uri().path(),
            "/",
            "POST {path} should redirect to the counter page"
        );
        self.count_on_page(response, path)
    }

    fn count_on_page(&self, response: Response<ureq::Body>, path: &str) -> u64 {
        let status = response.status().as_u16();
        let page = body(response);
        assert_eq!(status, 200, "{path} on {}: {page}", self.app.base);
        count_on(&page)
    }

    /// The value of the `_idx` cookie this browser holds.
    fn session_cookie(&self) -> String {
        let jar = self.agent.cookie_jar_lock();
        let value = jar
            .iter()
            .find(|cookie| cookie.name() == "_idx")
            .map(|cookie| cookie.value().to_owned());
        value.expect("the browser holds an _idx cookie")
    }
}

fn header<'r>(response: &'r Response<ureq::Body>, name: &str) -> Option<&'r str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// The number in the page's `Count N` button.
fn count_on(page: &str) -> u64 {
    page.match_indices("Count ")
        .find_map(|(at, label)| {
            let digits: String = page[at + label.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no `Count N` on the page:\n{page}"))
}

/// `value` with one character near the middle changed. Separators and the character before one
/// are skipped: a segment's last base64 character may carry only padding bits, and changing
/// those would leave the decoded bytes, and so the cookie, as they were.
fn tamper(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let mut at = chars.len() / 2;
    while at + 1 < chars.len()
        && !(chars[at].is_ascii_alphanumeric() && chars[at + 1].is_ascii_alphanumeric())
    {
        at += 1;
    }
    assert!(at + 1 < chars.len(), "nothing to tamper with in {value:?}");
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

impl App {
    /// A cookie-less client's `GET /` with a `Cookie` header of our choosing.
    fn get_with_cookie(&self, cookie: &str) -> Response<ureq::Body> {
        agent(0)
            .get(self.url("/"))
            .header("cookie", cookie)
            .call()
            .expect("GET / with a cookie")
    }
}
