//! The session value: equality, what `Debug` shows, adoption, lifecycle, flash.

use super::*;
use serde_json::json;

fn origin() -> Origin {
    Origin::stored("an-id".into(), Some("its secret".into()), 100, Some(100))
}

#[test]
fn sessions_are_equal_when_their_data_are() {
    let mut a = Session::try_from(json!({"user": "ann"})).expect("object");
    let b = Session::try_from(json!({"user": "ann"})).expect("object");
    assert_eq!(a, b);
    a.adopt(Some(origin()), Expiry::Default);
    assert_eq!(a, b, "where it came from is not compared");
    a.insert("n", 1).expect("insert");
    assert_ne!(a, b, "different data differ");
    assert!(!a.is_empty() && Session::new().is_empty());
    assert_ne!(Session::new(), b);
}

#[test]
fn debug_never_shows_the_record() {
    let mut s = Session::new();
    s.adopt(Some(origin()), Expiry::Default);
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("an-id") && !shown.contains("its secret"),
        "{shown}"
    );
    assert!(shown.contains("Kept"), "{shown}");
}

#[test]
fn adopt_keeps_an_origin_of_its_own() {
    let mut fresh = Session::new();
    fresh.adopt(Some(origin()), Expiry::Default);
    assert_eq!(fresh.origin().map(|o| o.created), Some(100));
    let other = Origin::stored("other".into(), None, 5, None);
    fresh.adopt(Some(other), Expiry::Default);
    assert_eq!(fresh.origin().map(|o| o.created), Some(100));
    let mut ended = Session::new();
    ended.destroy();
    ended.adopt(Some(origin()), Expiry::Default);
    assert!(
        ended.origin().is_some(),
        "destroy still ends the request's record"
    );
    assert_eq!(ended.lifecycle(), Lifecycle::Destroyed);
}

#[test]
fn the_last_call_decides_the_lifecycle() {
    let mut s = Session::try_from(json!({"a": 1, "_csrf": "b"})).expect("object");
    assert_eq!(s.lifecycle(), Lifecycle::Kept);
    s.regenerate();
    assert_eq!(s.lifecycle(), Lifecycle::Regenerated);
    assert_eq!(s.get::<String>("_csrf").expect("str"), None);
    s.destroy();
    assert_eq!(s.lifecycle(), Lifecycle::Destroyed);
    assert!(s.is_empty());
    s.regenerate();
    assert_eq!(
        s.lifecycle(),
        Lifecycle::Regenerated,
        "a fresh, empty session"
    );
}

#[test]
fn flash_messages_are_taken_once() {
    let mut s = Session::new();
    s.insert("_flash", "not an object").expect("insert");
    s.flash("a", 1).expect("flash");
    s.flash("b", 2).expect("flash");
    assert_eq!(
        s.take_flash(),
        json!({"a": 1, "b": 2})
            .as_object()
            .cloned()
            .unwrap_or_default()
    );
    assert!(s.take_flash().is_empty());
    assert!(s.is_empty());
}

#[test]
fn a_fresh_session_continues_the_expiry_it_adopts_unless_it_chose_one() {
    let remember = Expiry::Idle(std::time::Duration::from_secs(9));
    let mut fresh = Session::try_from(json!({"count": 1})).expect("object");
    fresh.adopt(Some(origin()), remember);
    assert_eq!(fresh.expiry(), remember);
    let mut chose = Session::new();
    chose.set_expiry(Expiry::BrowserSession);
    chose.adopt(Some(origin()), remember);
    assert_eq!(chose.expiry(), Expiry::BrowserSession);
    let mut read = Session::loaded(Map::new(), origin(), Expiry::BrowserSession);
    read.adopt(Some(origin()), remember);
    assert_eq!(
        read.expiry(),
        Expiry::BrowserSession,
        "its own origin, its own expiry"
    );
}
