use super::*;

#[test]
fn lockouts_double_past_the_limit_up_to_the_cap() {
    let rule = Rule::default();
    assert_eq!(
        (1..=10).map(|n| rule.lockout_after(n)).collect::<Vec<_>>(),
        [0, 0, 0, 0, 60, 120, 240, 480, 960, 1920]
    );
    assert_eq!(rule.lockout_after(11), 3600, "capped at an hour");
    assert_eq!(rule.lockout_after(u32::MAX), 3600, "no overflow");
    let short = Rule::default()
        .attempts(1)
        .lockout(Duration::from_secs(10))
        .max_lockout(Duration::from_secs(25));
    assert_eq!(
        (1..=4).map(|n| short.lockout_after(n)).collect::<Vec<_>>(),
        [10, 20, 25, 25],
        "capped at the chosen maximum"
    );
    assert_eq!(Rule::default().attempts_allowed(), 5);
    let one = Rule::default().attempts(0).lockout(Duration::ZERO);
    assert_eq!(one.attempts_allowed(), 1);
    assert_eq!(one.lockout_after(1), 1);
}

#[test]
fn ipv6_counts_per_64_and_ipv4_per_address() {
    assert_eq!(network("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
    assert_eq!(network("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64");
    assert_ne!(network("2001:db8:1:3::1"), network("2001:db8:1:2::1"));
    assert_eq!(network("::ffff:192.0.2.1"), "192.0.2.1");
    assert_eq!(network(" 192.0.2.1 "), "192.0.2.1");
    assert_eq!(network("not an address"), "not an address");
}

fn throttle(key: Key) -> Throttle {
    let config =
        Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "t")]).expect("config");
    Throttle::new(&config)
        .expect("table")
        .rule(Rule::default().key(key))
}

#[test]
fn ids_follow_the_key_and_hide_what_they_count() {
    let pair = throttle(Key::UserAndAddress);
    let id = pair.inner.id("Ann ", Some("192.0.2.1"));
    assert!(id.starts_with("throttle#") && !id.contains("ann") && !id.contains("192"));
    assert_eq!(
        id,
        pair.inner.id("ann", Some("192.0.2.1")),
        "trimmed, lower-cased"
    );
    assert_ne!(id, pair.inner.id("ann", Some("192.0.2.2")));
    assert_ne!(id, pair.inner.id("bob", Some("192.0.2.1")));
    let user = throttle(Key::User);
    assert_eq!(
        user.inner.id("ann", Some("192.0.2.1")),
        user.inner.id("ann", Some("198.51.100.1"))
    );
    assert_ne!(user.inner.id("ann", None), id, "each key its own ids");
    let address = throttle(Key::Address);
    assert_eq!(
        address.inner.id("ann", Some("192.0.2.1")),
        address.inner.id("bob", Some("192.0.2.1"))
    );
    assert_ne!(
        address.inner.id("ann", Some("192.0.2.1")),
        address.inner.id("ann", Some("192.0.2.2"))
    );
    // Another secret, other ids.
    let other = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("SESSION_TABLE_NAME", "t"),
        ("ARC_APP_SECRET", "another secret of thirty-two bytes"),
    ])
    .expect("config");
    let other = Throttle::new(&other).expect("table");
    assert_ne!(other.inner.id("ann", Some("192.0.2.1")), id);
}

#[test]
fn cookie_mode_needs_a_table_of_its_own() {
    let cookie = Config::from_vars([("ARC_ENV", "testing")]).expect("config");
    let e = Throttle::new(&cookie).expect_err("no table");
    assert!(e.to_string().contains("ARC_THROTTLE_TABLE_NAME"), "{e}");
    let named = Config::from_vars([("ARC_ENV", "testing"), ("ARC_THROTTLE_TABLE_NAME", "x")])
        .expect("config");
    assert_eq!(Throttle::new(&named).expect("table").inner.table, "x");
    let both = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("SESSION_TABLE_NAME", "sessions"),
        ("ARC_THROTTLE_TABLE_NAME", "x"),
    ])
    .expect("config");
    assert_eq!(Throttle::new(&both).expect("table").inner.table, "x");
    assert_eq!(throttle(Key::User).inner.table, "t");
}

#[test]
fn a_locked_answer_is_429_with_retry_after() {
    let locked = Locked {
        retry_after: Duration::from_secs(120),
    };
    let response = locked.response().into_http().expect("response");
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "120");
    assert_eq!(response.headers()["cache-control"], "no-store");
}

fn item(attempts: u64, locked_until: u64, ttl: u64) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (ATTEMPTS.to_owned(), n(attempts)),
        (LOCKED_UNTIL.to_owned(), n(locked_until)),
        (TTL.to_owned(), n(ttl)),
    ])
}

#[test]
fn a_count_expires_at_its_ttl_and_a_lockout_ends_at_its_second() {
    let live = item(7, 100, 200);
    assert_eq!(
        Count::read(Some(&live), 199),
        Count {
            stored: Some(7),
            attempts: 7,
            locked_until: 100
        }
    );
    assert_eq!(
        Count::read(Some(&live), 200),
        Count {
            stored: Some(7),
            attempts: 0,
            locked_until: 0
        },
        "at its _ttl the count is over, though the item is still there"
    );
    assert_eq!(
        Count::read(None, 5),
        Count {
            stored: None,
            attempts: 0,
            locked_until: 0
        }
    );
    let count = Count::read(Some(&live), 50);
    assert_eq!(count.locked(99), Some(Duration::from_secs(1)));
    assert_eq!(count.locked(100), None, "over at locked_until");
    assert_eq!(count.locked(30), Some(Duration::from_secs(70)));
}

#[test]
fn debug_shows_the_rule_and_the_number_never_the_id() {
    let throttle = throttle(Key::User);
    let shown = format!("{throttle:?}");
    assert!(
        shown.starts_with("Throttle {") && shown.contains("table: \"t\""),
        "{shown}"
    );
    assert!(shown.contains("key: User"), "{shown}");
    let attempt = Attempt {
        inner: Arc::clone(&throttle.inner),
        id: "throttle#secret-id".into(),
        number: 3,
    };
    let shown = format!("{attempt:?}");
    assert!(
        shown.contains("number: 3") && !shown.contains("secret-id"),
        "{shown}"
    );
}

#[test]
fn only_a_fault_that_may_pass_is_unavailable() {
    assert!(!Error::NoTable.is_unavailable());
    assert!(!Error::Config(config::Error::EmptyTable).is_unavailable());
}
