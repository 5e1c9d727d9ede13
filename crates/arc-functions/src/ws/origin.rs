//! Which pages may open a socket that takes its session from the cookie: the defence against
//! cross-site WebSocket hijacking.
//!
//! Browsers send cookies on a WebSocket upgrade whatever page opened it (a `SameSite=Lax`
//! cookie on any same-site page, a `SameSite=None` one from anywhere), and the upgrade is no
//! request a CORS check stops. What the browser cannot forge is `Origin`. So a `$connect`
//! takes its session from the cookie only when `Origin` is the socket's own origin (its
//! `Host`) or one of `ARC_WS_ORIGINS`; a socket ticket names its origin itself.

use std::sync::Arc;

use crate::config::normalize_origin;

/// Why a `$connect`'s cookie is not trusted; logged, never with the cookie.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Foreign {
    /// No `Origin`: not a browser's upgrade, or one that hides where it comes from.
    #[error("the upgrade has no Origin")]
    NoOrigin,
    /// An origin the app does not list.
    #[error("Origin {0} is neither the socket's own nor one of ARC_WS_ORIGINS")]
    Other(String),
}

/// The origins whose pages may open a socket with the cookie, besides the socket's own.
#[derive(Clone, Debug, Default)]
pub(crate) struct Origins {
    allowed: Arc<[String]>,
}

impl Origins {
    /// `allowed` as the configuration holds them (normalized).
    pub(crate) fn new(allowed: &[String]) -> Self {
        Self {
            allowed: allowed.iter().map(|o| normalize_origin(o)).collect(),
        }
    }

    /// Whether a page of `origin` may take the cookie's session over a socket to `host`.
    pub(crate) fn check(&self, origin: Option<&str>, host: Option<&str>) -> Result<(), Foreign> {
        let origin = normalize_origin(origin.ok_or(Foreign::NoOrigin)?);
        if self.allowed.contains(&origin) {
            return Ok(());
        }
        // The socket's own origin: API Gateway's Host, without a default port.
        let own = host.is_some_and(|host| {
            ["https://", "http://"].iter().any(|scheme| {
                origin.strip_prefix(scheme).is_some_and(|authority| {
                    normalize_origin(&format!("{scheme}{host}")) == format!("{scheme}{authority}")
                })
            })
        });
        if own {
            Ok(())
        } else {
            Err(Foreign::Other(origin))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "abc123.execute-api.us-east-1.amazonaws.com";

    #[test]
    fn the_sockets_own_origin_is_trusted() {
        let none = Origins::default();
        assert_eq!(
            none.check(Some(&format!("https://{HOST}")), Some(HOST)),
            Ok(())
        );
        assert_eq!(
            none.check(
                Some(&format!("HTTPS://{}:443", HOST.to_uppercase())),
                Some(HOST)
            ),
            Ok(())
        );
        assert_eq!(
            none.check(Some("http://localhost:9001"), Some("localhost:9001")),
            Ok(())
        );
    }

    #[test]
    fn any_other_origin_is_not_unless_listed() {
        let none = Origins::default();
        for origin in [
            "https://evil.example",
            "https://app.example.com",
            "http://localhost:9000",
            "null",
        ] {
            assert_eq!(
                none.check(Some(origin), Some(HOST)),
                Err(Foreign::Other(origin.to_owned())),
                "{origin}"
            );
        }
        assert_eq!(
            none.check(Some("https://x.y"), None),
            Err(Foreign::Other("https://x.y".into()))
        );
        assert_eq!(none.check(None, Some(HOST)), Err(Foreign::NoOrigin));
        let listed = Origins::new(&["https://app.example.com".to_owned()]);
        assert_eq!(
            listed.check(Some("https://app.example.com"), Some(HOST)),
            Ok(())
        );
        assert_eq!(
            listed.check(Some("https://App.Example.com:443/"), Some(HOST)),
            Ok(())
        );
        assert!(
            listed
                .check(Some("https://evil.example"), Some(HOST))
                .is_err()
        );
        assert!(
            listed
                .check(Some("https://app.example.com.evil.example"), Some(HOST))
                .is_err()
        );
        assert_eq!(
            Foreign::Other("https://evil.example".into()).to_string(),
            "Origin https://evil.example is neither the socket's own nor one of ARC_WS_ORIGINS"
        );
    }
}
