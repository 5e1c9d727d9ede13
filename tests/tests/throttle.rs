//! Sign-in throttling across Lambda instances: the login example served by two separate
//! `cargo lambda watch` processes (so two separate function processes) sharing one dynalite
//! table, invoked with API Gateway v2 events that carry the client's address, as API Gateway
//! writes it. A guessing loop spread over both is locked out after the limit; the owner,
//! from another address, still signs in.
//!
//! Needs dynalite, so it is `#[ignore]`d: `scripts/test` starts it, sets `ARC_TEST_DYNAMODB=1`
//! and `AWS_ENDPOINT_URL_DYNAMODB`, and runs it with `--include-ignored`; without them it fails.

mod common;

use std::thread;

use arc_functions::testing::TestRequest;

use common::Functions;
use common::answer::Answer;

const ATTACKER: &str = "198.51.100.7";
const OWNER: &str = "203.0.113.9";
/// The default rule's limit.
const LIMIT: usize = 5;
const GUESSES: usize = 12;

fn call(functions: &Functions, request: &TestRequest) -> Answer {
    Answer::of(&functions.invoke("login", &request.event()))
}

/// The login form's session cookie and CSRF token, as a browser at `address` gets them.
fn login_form(functions: &Functions, address: &str) -> (String, String) {
    let page = call(functions, &TestRequest::get("/login").source_ip(address));
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.body.find("name=_csrf value=\"").expect("a CSRF field") + 18;
    let token = page.body[start..].split('"').next().expect("quoted");
    (page.cookie.expect("a session"), token.to_owned())
}

fn sign_in(address: &str, cookie: &str, token: &str, password: &str) -> TestRequest {
    TestRequest::post("/login")
        .source_ip(address)
        .cookie(cookie)
        .form(&[("_csrf", token), ("user", "ann"), ("password", password)])
}

#[test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
fn guessing_over_two_function_processes_is_locked_out_and_the_owner_still_signs_in() {
    let endpoint = common::require_dynamodb();
    // A table of this run's own, so no count from an earlier run is in it.
    let table = format!("throttle-e2e-{}", std::process::id());
    common::create_table(&endpoint, &table);
    let users = format!("{table}-users");
    common::create_table_keyed(&endpoint, &users, "name");
    let route_env = [
        ("SESSION_TABLE_NAME", table.as_str()),
        ("USERS_TABLE_NAME", users.as_str()),
    ];
    let _one = common::one_app_at_a_time();
    let a = Functions::start("throttle-a", &route_env, &["login"]);
    let b = Functions::start("throttle-b", &route_env, &[]);
    let both = [&a, &b];

    // Ann signs up (the sign-up form is not throttled), then signs out.
    let form = call(&a, &TestRequest::get("/signup").source_ip(OWNER));
    let start = form.body.find("name=_csrf value=\"").expect("a CSRF field") + 18;
    let token = form.body[start..]
        .split('"')
        .next()
        .expect("quoted")
        .to_owned();
    let signed_up = call(
        &a,
        &TestRequest::post("/signup")
            .source_ip(OWNER)
            .cookie(form.cookie.as_deref().expect("a session"))
            .form(&[
                ("_csrf", token.as_str()),
                ("user", "ann"),
                ("password", "correct horse"),
            ]),
    );
    assert_eq!(
        (signed_up.status, signed_up.location.as_str()),
        (302, "/account"),
        "{}",
        signed_up.body
    );

    // Both processes started and warm, so the guesses race rather than queue behind a start.
    login_form(&b, OWNER);
    // The guesser: one session, one token, GUESSES wrong passwords at once, alternately sent
    // to each process, so the two race on one count.
    let (cookie, token) = login_form(&a, ATTACKER);
    let statuses: Vec<(u64, String)> = thread::scope(|scope| {
        let guesses: Vec<_> = (0..GUESSES)
            .map(|i| {
                let (cookie, token, functions) = (&cookie, &token, both[i % 2]);
                scope.spawn(move || {
                    let guess = format!("guess {i}");
                    let r = call(functions, &sign_in(ATTACKER, cookie, token, &guess));
                    (r.status, r.location)
                })
            })
            .collect();
        guesses
            .into_iter()
            .map(|g| g.join().expect("a guess"))
            .collect()
    });
    let checked = statuses
        .iter()
        .filter(|(status, location)| *status == 302 && location == "/login")
        .count();
    // A guess that passed the throttle may still lose its session write to another guess
    // on the same session (the versioned write answers 409); it was checked all the same.
    let conflicted = statuses.iter().filter(|(status, _)| *status == 409).count();
    let refused = statuses.iter().filter(|(status, _)| *status == 429).count();
    assert!(
        checked >= 1 && checked + conflicted == LIMIT && refused == GUESSES - LIMIT,
        "exactly the limit checked, the rest refused: {statuses:?}\n--- a ---\n{}\n--- b ---\n{}",
        a.log(),
        b.log()
    );

    for (name, functions) in [("a", &a), ("b", &b)] {
        assert!(
            // `target/debug/login`, or the same under a CARGO_TARGET_DIR of its own.
            functions.log().contains("debug/login`"),
            "watch {name} ran a login process of its own"
        );
    }

    // Locked at that address even with the right password: the lockout is on the pair.
    let r = call(&b, &sign_in(ATTACKER, &cookie, &token, "correct horse"));
    assert_eq!(r.status, 429, "{}", r.body);

    // The owner, from another address, signs in through either process.
    let (cookie, token) = login_form(&b, OWNER);
    let r = call(&a, &sign_in(OWNER, &cookie, &token, "correct horse"));
    assert_eq!(
        (r.status, r.location.as_str()),
        (302, "/account"),
        "{}",
        r.body
    );
    let signed_in = r.cookie.expect("a new session");
    let home = call(
        &b,
        &TestRequest::get("/").source_ip(OWNER).cookie(&signed_in),
    );
    assert!(home.body.contains("Hello, ann"), "{}", home.body);
}
