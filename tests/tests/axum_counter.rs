//! `examples/axum-counter`, the guide's counter as one axum app in one Lambda, served by
//! `cargo lambda watch` beside the per-route app (at `/lambda-url/axum-counter/`), clicked
//! through by a cookie-keeping client in both session modes: Count, Reset, a refused form
//! without its CSRF token, a sign-in with its flash message, a sign-out; and one session
//! crossing both styles, counted by the per-route `post-count` and shown by the axum page.

mod common;

use common::{App, agent, body};
use ureq::{Agent, ResponseExt};

const BASE: &str = "/lambda-url/axum-counter/";

#[test]
fn axum_counter_with_cookie_sessions() {
    let app = App::start("axum-cookie", &[]);
    scenario(&app);
}

#[test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
fn axum_counter_with_dynamodb_sessions() {
    common::require_dynamodb();
    // counter.rs creates the table in the same dynalite; whichever runs first makes it.
    let app = App::start(
        "axum-dynamodb",
        &[("SESSION_TABLE_NAME", "bigsesh-session")],
    );
    scenario(&app);
}

struct Page {
    status: u16,
    path: String,
    html: String,
}

impl Page {
    fn count(&self) -> u64 {
        let at = self
            .html
            .find("Count ")
            .unwrap_or_else(|| panic!("no count: {}", self.html));
        self.html[at + 6..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .expect("a number")
    }

    fn token(&self) -> String {
        let marker = r#"name="_csrf" value=""#;
        let at = self
            .html
            .find(marker)
            .unwrap_or_else(|| panic!("no token: {}", self.html));
        self.html[at + marker.len()..]
            .split('"')
            .next()
            .expect("a value")
            .to_owned()
    }
}

fn get(agent: &Agent, app: &App, path: &str) -> Page {
    let response = agent.get(app.url(path)).call().expect("GET");
    let (status, path) = (
        response.status().as_u16(),
        response.get_uri().path().to_owned(),
    );
    Page {
        status,
        path,
        html: body(response),
    }
}

fn post(agent: &Agent, app: &App, path: &str, form: &[(&str, &str)]) -> Page {
    let response = agent
        .post(app.url(path))
        .send_form(form.iter().copied())
        .expect("POST");
    let (status, path) = (
        response.status().as_u16(),
        response.get_uri().path().to_owned(),
    );
    Page {
        status,
        path,
        html: body(response),
    }
}

fn scenario(app: &App) {
    let browser = agent(10);
    let page = get(&browser, app, BASE);
    assert_eq!((page.status, page.count()), (200, 0), "{}", page.html);

    let token = page.token();
    let page = post(&browser, app, &format!("{BASE}count"), &[("_csrf", &token)]);
    assert_eq!(
        (page.status, page.path.as_str()),
        (200, BASE),
        "the redirect stays in the app"
    );
    assert_eq!(page.count(), 1);
    let page = post(
        &browser,
        app,
        &format!("{BASE}count"),
        &[("_csrf", &page.token())],
    );
    assert_eq!(page.count(), 2);

    let refused = post(&browser, app, &format!("{BASE}count"), &[]);
    assert_eq!(refused.status, 403, "no token, no count: {}", refused.html);
    let forged = post(
        &browser,
        app,
        &format!("{BASE}count"),
        &[("_csrf", "1.forged")],
    );
    assert_eq!(forged.status, 403);
    assert_eq!(
        get(&browser, app, BASE).count(),
        2,
        "the refused forms changed nothing"
    );

    // The per-route app's post-count, same cookie: one session, two styles.
    let per_route = post(&browser, app, "/count", &[]);
    assert_eq!((per_route.status, per_route.path.as_str()), (200, "/"));
    assert_eq!(
        get(&browser, app, BASE).count(),
        3,
        "the axum page sees the per-route count"
    );

    let page = get(&browser, app, BASE);
    let page = post(
        &browser,
        app,
        &format!("{BASE}reset"),
        &[("_csrf", &page.token())],
    );
    assert_eq!(page.count(), 0);

    let form = get(&browser, app, &format!("{BASE}login"));
    let page = post(
        &browser,
        app,
        &format!("{BASE}login"),
        &[("user", "ann"), ("_csrf", &form.token())],
    );
    assert!(page.html.contains("Welcome, ann!"), "{}", page.html);
    assert!(page.html.contains("Signed in as ann"), "{}", page.html);
    let again = get(&browser, app, BASE);
    assert!(
        !again.html.contains("Welcome"),
        "a flash is shown once: {}",
        again.html
    );
    assert!(again.html.contains("Signed in as ann"));

    let page = post(
        &browser,
        app,
        &format!("{BASE}logout"),
        &[("_csrf", &again.token())],
    );
    assert!(page.html.contains("Sign in"), "{}", page.html);
    assert!(!page.html.contains("Signed in as"), "{}", page.html);
}
