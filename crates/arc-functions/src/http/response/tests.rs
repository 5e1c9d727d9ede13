use super::{is_local_path, private_cache_control};

#[test]
fn only_a_path_of_this_site_is_local() {
    for local in [
        "/",
        "/account",
        "/a/b?next=//x#f",
        "/%2F%2Fevil.example",
        "/café",
    ] {
        assert!(is_local_path(local), "{local}");
    }
    for foreign in [
        "",
        "account",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/a\\b",
        "https://evil.example",
        "javascript:alert(1)",
        " /account",
        "/\t/evil.example",
        "/a\r\nSet-Cookie: x=1",
        "/\u{0}",
    ] {
        assert!(!is_local_path(foreign), "{foreign:?}");
    }
}

#[test]
fn a_session_cookie_is_only_ever_privately_cacheable() {
    for (chosen, expected) in [
        (None, "private, no-store"),
        (Some(""), "private, no-store"),
        (Some("public"), "private, no-store"),
        (Some("Private, No-Store"), "private, No-Store"),
        (
            Some("no-cache, must-revalidate"),
            "private, no-cache, must-revalidate",
        ),
        (
            Some("PUBLIC, s-maxage=60, proxy-revalidate, max-age=5"),
            "private, max-age=5",
        ),
        (Some("max-age=0, S-MAXAGE = 9"), "private, max-age=0"),
    ] {
        assert_eq!(private_cache_control(chosen), expected, "{chosen:?}");
    }
}
