//! The session cookie itself: finding it in a request and writing its `Set-Cookie` value.
//! Every provider shares this, so the attributes can never differ between them. Also the
//! reading of `Cookie` headers, which `Request::cookie` uses too.

use cookie::time::{Duration, OffsetDateTime};
use lambda_http::http::HeaderMap;
use lambda_http::http::header::COOKIE;

use super::Error;
use crate::config::{Config, SameSite};

/// The session cookie's name, as in @architect/functions.
pub(crate) const NAME: &str = "_idx";

/// The name with `ARC_SESSION_HOST_COOKIE=true`: browsers keep a `__Host-` cookie only when it
/// is `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain cannot plant one.
pub(crate) const HOST_NAME: &str = "__Host-_idx";

/// Browsers drop a cookie whose `Set-Cookie` value is larger than this.
pub(crate) const MAX_SET_COOKIE_BYTES: usize = 4096;

/// The cookie's attributes, fixed at cold start.
#[derive(Clone, Debug)]
pub(crate) struct SessionCookie {
    name: &'static str,
    same_site: SameSite,
    secure: bool,
    domain: Option<String>,
    /// Every attribute of a `Set-Cookie` value but `Max-Age`, as the cookie crate writes them
    /// (`; HttpOnly; SameSite=Lax; Path=/`): the same on every write, so written once here.
    attributes: String,
}

impl SessionCookie {
    pub(crate) fn new(config: &Config) -> Self {
        let mut cookie = Self {
            name: if config.cookie.host_only {
                HOST_NAME
            } else {
                NAME
            },
            same_site: config.cookie.same_site,
            secure: config.secure(),
            domain: config.cookie.domain.clone(),
            attributes: String::new(),
        };
        let template = cookie.builder("").build().to_string();
        cookie.attributes = template[cookie.name.len() + 1..].to_owned();
        cookie
    }

    /// The whole `Set-Cookie` value carrying `value`, refused over 4,096 bytes. `max_age` in
    /// seconds; `None` makes a browser-session cookie, which carries neither `Max-Age` nor
    /// `Expires`.
    ///
    /// The text is the cookie crate's (`Max-Age` is its last attribute when there is no
    /// `Expires`), put together in a string allocated once at its final size.
    pub(crate) fn set_cookie(&self, value: &str, max_age: Option<u64>) -> Result<String, Error> {
        const MAX_AGE: &str = "; Max-Age=";
        let mut cookie = String::with_capacity(
            self.name.len() + 1 + value.len() + self.attributes.len() + MAX_AGE.len() + 20,
        );
        cookie.push_str(self.name);
        cookie.push('=');
        cookie.push_str(value);
        cookie.push_str(&self.attributes);
        if let Some(max_age) = max_age {
            use std::fmt::Write;
            let seconds = i64::try_from(max_age).unwrap_or(i64::MAX);
            // Writing to a String cannot fail.
            let _ = write!(cookie, "{MAX_AGE}{seconds}");
        }
        if cookie.len() > MAX_SET_COOKIE_BYTES {
            return Err(Error::TooLarge {
                size: cookie.len(),
                limit: MAX_SET_COOKIE_BYTES,
            });
        }
        Ok(cookie)
    }

    /// A `Set-Cookie` value that makes the browser forget the session cookie.
    pub(crate) fn expired(&self) -> String {
        self.builder("")
            .max_age(Duration::ZERO)
            .expires(OffsetDateTime::UNIX_EPOCH)
            .build()
            .to_string()
    }

    fn builder<'c>(&self, value: &'c str) -> cookie::CookieBuilder<'c> {
        let same_site = match self.same_site {
            SameSite::Strict => cookie::SameSite::Strict,
            SameSite::Lax => cookie::SameSite::Lax,
            SameSite::None => cookie::SameSite::None,
        };
        let mut builder = cookie::Cookie::build((self.name, value))
            .http_only(true)
            .path("/")
            .same_site(same_site)
            .secure(self.secure);
        if let Some(domain) = &self.domain {
            builder = builder.domain(domain.clone());
        }
        builder
    }

    /// The value of the last session cookie of the request: when several arrive, the last one
    /// wins, as in @architect/functions, so a Node and a Rust function of one app always agree
    /// on which session a request carries. (No order resists a cookie planted by a sibling
    /// subdomain: browsers order cookies by path length, then by creation time, both of which
    /// the planter chooses. `ARC_SESSION_HOST_COOKIE` is the defence against planting.)
    pub(crate) fn session_value<'h>(&self, headers: &'h HeaderMap) -> Option<&'h str> {
        last_cookie(headers, self.name).filter(|value| !value.is_empty())
    }
}

/// Every cookie of the request in order, from every `Cookie` header. API Gateway v2's
/// `cookies` array arrives here already folded into one header by lambda_http.
///
/// The header is split as bytes, so a pair that is not UTF-8 text (a cookie some other app on
/// the domain wrote) is skipped alone instead of hiding every cookie beside it.
pub(crate) fn all_cookies(headers: &HeaderMap) -> impl Iterator<Item = (String, String)> + '_ {
    headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|header| header.as_bytes().split(|&b| b == b';'))
        .filter_map(|pair| {
            let (name, value) = split_pair(pair)?;
            Some((
                name.to_owned(),
                std::str::from_utf8(value).ok()?.trim().to_owned(),
            ))
        })
}

/// The value of the last cookie called `name`: when several arrive, the last one wins.
///
/// The same answer as the last of [`all_cookies`] with that name, found from the end: `;` by
/// SIMD search, and only the value that is returned is checked as UTF-8, and borrowed from the
/// header. (This runs on every request, and a sealed session is most of a 4 KB header.)
pub(crate) fn last_cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .rev()
        .find_map(|header| last_in(header.as_bytes(), name))
}

/// The value of the last pair called `name` in one `Cookie` header.
fn last_in<'h>(header: &'h [u8], name: &str) -> Option<&'h str> {
    let mut end = header.len();
    let starts = memchr::memrchr_iter(b';', header)
        .map(|semicolon| semicolon + 1)
        .chain([0]);
    for start in starts {
        let pair = &header[start..end];
        end = start.saturating_sub(1);
        let Some((pair_name, value)) = split_pair(pair) else {
            continue;
        };
        if pair_name == name
            && let Ok(value) = std::str::from_utf8(value)
        {
            return Some(value.trim());
        }
    }
    None
}

/// One `name=value` pair of a `Cookie` header as `cookie::Cookie::parse` reads it: split at the
/// first `=`, the name trimmed and never empty, both parts UTF-8 text (the value is left as
/// bytes, to be checked only when it is wanted, and trimmed after).
fn split_pair(pair: &[u8]) -> Option<(&str, &[u8])> {
    let equals = memchr::memchr(b'=', pair)?;
    let name = std::str::from_utf8(&pair[..equals]).ok()?.trim();
    (!name.is_empty()).then_some((name, &pair[equals + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::HeaderValue;

    fn attrs(vars: &[(&str, &str)]) -> SessionCookie {
        let vars = vars.iter().copied().chain(
            // testing unless the test says otherwise
            (!vars.iter().any(|(k, _)| *k == "ARC_ENV")).then_some(("ARC_ENV", "testing")),
        );
        SessionCookie::new(&Config::from_vars(vars).expect("config"))
    }

    #[test]
    fn attributes_follow_the_config() {
        let testing = attrs(&[]).set_cookie("abc", Some(604_800)).expect("small");
        assert!(testing.starts_with("_idx=abc"), "{testing}");
        for part in ["HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=604800"] {
            assert!(testing.contains(part), "{part} in {testing}");
        }
        assert!(!testing.contains("Secure"));
        assert!(!testing.contains("Domain"));

        let prod = attrs(&[
            ("ARC_ENV", "production"),
            ("ARC_APP_SECRET", "0123456789abcdef0123456789abcdef"),
            ("ARC_SESSION_TTL", "60"),
            ("ARC_SESSION_DOMAIN", "example.com"),
            ("ARC_SESSION_SAME_SITE", "strict"),
        ])
        .set_cookie("abc", Some(60))
        .expect("small");
        for part in [
            "Secure",
            "Domain=example.com",
            "SameSite=Strict",
            "Max-Age=60",
        ] {
            assert!(prod.contains(part), "{part} in {prod}");
        }
    }

    /// The `Set-Cookie` value as the cookie crate writes it, which `set_cookie` must match.
    fn by_the_cookie_crate(cookie: &SessionCookie, value: &str, max_age: Option<u64>) -> String {
        let mut builder = cookie.builder(value);
        if let Some(max_age) = max_age {
            builder = builder.max_age(Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ));
        }
        builder.build().to_string()
    }

    #[test]
    fn set_cookie_is_the_cookie_crates_text() {
        let secret = ("ARC_APP_SECRET", "0123456789abcdef0123456789abcdef");
        for vars in [
            &[][..],
            &[("ARC_ENV", "production"), secret][..],
            &[
                ("ARC_ENV", "production"),
                secret,
                ("ARC_SESSION_DOMAIN", ".example.com"),
                ("ARC_SESSION_SAME_SITE", "none"),
            ][..],
            &[
                ("ARC_SESSION_SAME_SITE", "strict"),
                ("ARC_SESSION_HOST_COOKIE", "true"),
            ][..],
        ] {
            let cookie = attrs(vars);
            for max_age in [None, Some(0), Some(604_800), Some(u64::MAX)] {
                for value in ["", "abc", "a.b..c_-"] {
                    assert_eq!(
                        cookie.set_cookie(value, max_age).expect("small"),
                        by_the_cookie_crate(&cookie, value, max_age),
                        "{vars:?} {max_age:?} {value:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn last_cookie_agrees_with_all_cookies() {
        let odd: &[&[u8]] = &[
            b"_idx=a; _idx=b",
            b" _idx = spaced ;x=1",
            b"_idx=ok; _idx=\\xff",
            b"_idx=ok; _idx=\xff",
            b"_idx=ok;_idx",
            b"_idx=ok;=_idx",
            b"_idx=a=b=c",
            b"\xc2\xa0_idx\xc2\xa0=nbsp",
            b"_idx=;",
            b";;;",
            b"",
            b"_idx=last;",
        ];
        for header in odd {
            let mut headers = HeaderMap::new();
            headers.append(COOKIE, HeaderValue::from_bytes(header).expect("value"));
            headers.append(COOKIE, HeaderValue::from_static("other=1"));
            let expected = all_cookies(&headers)
                .filter(|(n, _)| n == "_idx")
                .last()
                .map(|(_, v)| v);
            assert_eq!(
                last_cookie(&headers, "_idx"),
                expected.as_deref(),
                "{header:?}"
            );
            // And both agree with the cookie crate on each pair.
            for pair in header.split(|&b| b == b';') {
                let ours = split_pair(pair).and_then(|(n, v)| {
                    Some((n.to_owned(), std::str::from_utf8(v).ok()?.trim().to_owned()))
                });
                let theirs = std::str::from_utf8(pair)
                    .ok()
                    .and_then(|p| cookie::Cookie::parse(p).ok())
                    .map(|c| (c.name().to_owned(), c.value().to_owned()));
                assert_eq!(ours, theirs, "{pair:?}");
            }
        }
        assert_eq!(last_cookie(&HeaderMap::new(), "_idx"), None);
    }

    #[test]
    fn a_browser_session_cookie_has_no_lifetime() {
        let set = attrs(&[]).set_cookie("abc", None).expect("small");
        assert!(set.starts_with("_idx=abc"), "{set}");
        assert!(
            !set.contains("Max-Age") && !set.contains("Expires"),
            "{set}"
        );
        assert!(set.contains("HttpOnly") && set.contains("Path=/"), "{set}");
    }

    #[test]
    fn expired_cookie_clears_the_value() {
        let expired = attrs(&[]).expired();
        assert!(expired.starts_with("_idx=;"), "{expired}");
        assert!(expired.contains("Max-Age=0"));
        assert!(expired.contains("Expires=Thu, 01 Jan 1970 00:00:00 GMT"));
    }

    #[test]
    fn size_limit_is_on_the_whole_set_cookie_value() {
        let a = attrs(&[]);
        let overhead = a.set_cookie("", Some(10)).expect("empty").len();
        let fits = "x".repeat(MAX_SET_COOKIE_BYTES - overhead);
        assert_eq!(
            a.set_cookie(&fits, Some(10)).expect("fits").len(),
            MAX_SET_COOKIE_BYTES
        );
        let over = "x".repeat(MAX_SET_COOKIE_BYTES - overhead + 1);
        match a.set_cookie(&over, Some(10)) {
            Err(Error::TooLarge { size, limit }) => {
                assert_eq!(
                    (size, limit),
                    (MAX_SET_COOKIE_BYTES + 1, MAX_SET_COOKIE_BYTES)
                );
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn last_idx_cookie_wins_across_headers() {
        let a = attrs(&[]);
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("_idx=first; other=1"));
        headers.append(COOKIE, HeaderValue::from_static(" a=b ;_idx=second ; c=d"));
        assert_eq!(a.session_value(&headers), Some("second"));
        headers.append(COOKIE, HeaderValue::from_static("_idx="));
        assert_eq!(a.session_value(&headers), None);
        assert_eq!(a.session_value(&HeaderMap::new()), None);
    }

    #[test]
    fn one_odd_cookie_drops_only_itself() {
        let a = attrs(&[]);
        for odd in [
            &b"bad=\xff\xfe; _idx=mine; other=1"[..],
            &b"_idx=mine; bad=\xc3"[..],
            "caf\u{e9}=cr\u{e8}me; _idx=mine".as_bytes(),
            &b"\x80\x81; _idx=mine; =nameless; novalue"[..],
        ] {
            let mut headers = HeaderMap::new();
            headers.append(
                COOKIE,
                HeaderValue::from_bytes(odd).expect("a header value"),
            );
            assert_eq!(a.session_value(&headers), Some("mine"), "{odd:?}");
        }
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_bytes(&[&b"caf\xc3\xa9=cr\xc3\xa8me; x="[..], &[0xff]].concat())
                .expect("value"),
        );
        let all: Vec<_> = all_cookies(&headers).collect();
        assert_eq!(all, [("caf\u{e9}".to_owned(), "cr\u{e8}me".to_owned())]);
    }

    #[test]
    fn the_host_cookie_has_its_own_name_and_only_it_is_read() {
        let a = attrs(&[("ARC_SESSION_HOST_COOKIE", "true")]);
        let set = a.set_cookie("abc", Some(1)).expect("small");
        assert!(set.starts_with("__Host-_idx=abc"), "{set}");
        for part in ["Secure", "Path=/", "HttpOnly"] {
            assert!(set.contains(part), "{part} in {set}");
        }
        assert!(!set.contains("Domain"), "{set}");
        assert!(a.expired().starts_with("__Host-_idx=;"));
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("__Host-_idx=mine; _idx=planted"),
        );
        assert_eq!(a.session_value(&headers), Some("mine"));
        assert_eq!(attrs(&[]).session_value(&headers), Some("planted"));
    }
}
