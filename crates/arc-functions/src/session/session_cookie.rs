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
}

impl SessionCookie {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            name: if config.cookie.host_only {
                HOST_NAME
            } else {
                NAME
            },
            same_site: config.cookie.same_site,
            secure: config.secure(),
            domain: config.cookie.domain.clone(),
        }
    }

    /// The whole `Set-Cookie` value carrying `value`, refused over 4,096 bytes. `max_age` in
    /// seconds; `None` makes a browser-session cookie, which carries neither `Max-Age` nor
    /// `Expires`.
    pub(crate) fn set_cookie(&self, value: &str, max_age: Option<u64>) -> Result<String, Error> {
        let mut builder = self.builder(value);
        if let Some(max_age) = max_age {
            builder = builder.max_age(Duration::seconds(
                i64::try_from(max_age).unwrap_or(i64::MAX),
            ));
        }
        let cookie = builder.build().to_string();
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
    pub(crate) fn session_value(&self, headers: &HeaderMap) -> Option<String> {
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
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|pair| {
            let cookie = cookie::Cookie::parse(pair).ok()?;
            Some((cookie.name().to_owned(), cookie.value().to_owned()))
        })
}

/// The value of the last cookie called `name`: when several arrive, the last one wins.
pub(crate) fn last_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    all_cookies(headers)
        .filter(|(n, _)| n == name)
        .last()
        .map(|(_, value)| value)
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
        assert_eq!(a.session_value(&headers).as_deref(), Some("second"));
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
            assert_eq!(
                a.session_value(&headers).as_deref(),
                Some("mine"),
                "{odd:?}"
            );
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
        assert_eq!(a.session_value(&headers).as_deref(), Some("mine"));
        assert_eq!(
            attrs(&[]).session_value(&headers).as_deref(),
            Some("planted")
        );
    }
}
