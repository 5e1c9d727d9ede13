//! What the gateway enforces beside routing: API Gateway's limits, and who may talk to it.
//!
//! The gateway runs on a developer's machine and reaches their functions, so it trusts only
//! the app's own pages (`Origin`) on a loopback name (`Host`), which keeps a web page they visit
//! from driving the functions, and DNS rebinding from reaching the management API.

use std::time::Duration;

use http::HeaderMap;

use crate::config::{self, normalize_origin};

/// API Gateway's largest WebSocket frame.
pub(crate) const MAX_FRAME: usize = 32 * 1024;
/// API Gateway's largest WebSocket message, and management API payload.
pub(crate) const MAX_MESSAGE: usize = 128 * 1024;

/// The limits and the origins the gateway serves with.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    /// Web origins whose pages may open sockets, normalized.
    pub(crate) origins: Vec<String>,
    /// A socket without data frames for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Every socket is closed this long after it opened.
    pub(crate) max_lifetime: Duration,
}

impl Policy {
    /// The defaults: pages of `invoke_origin` (watch's address), API Gateway's timeouts.
    pub(crate) fn new(invoke_origin: &str) -> Self {
        Self {
            origins: vec![normalize_origin(invoke_origin)],
            idle_timeout: config::DEFAULT_IDLE_TIMEOUT,
            max_lifetime: config::DEFAULT_MAX_LIFETIME,
        }
    }

    /// Why an upgrade is refused before `$connect`, if it is: a `Host` that is no loopback
    /// name with the gateway's `port`, or an `Origin` that is not one of the app's.
    pub(crate) fn refuse_upgrade(&self, headers: &HeaderMap, port: u16) -> Option<String> {
        let host = header(headers, http::header::HOST);
        if !is_loopback_host(host, port) {
            return Some(format!(
                "Host {} is not localhost, 127.0.0.1 or [::1] on port {port}",
                host.unwrap_or("(none)")
            ));
        }
        // No Origin: not a browser (a test, a script), which no web page can make.
        let origin = header(headers, http::header::ORIGIN)?;
        let normalized = normalize_origin(origin);
        (!self.origins.contains(&normalized))
            .then(|| format!("Origin {normalized} is not one of the app's (--origin)"))
    }
}

fn header(headers: &HeaderMap, name: http::header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether `host` is `localhost`, `127.0.0.1` or `[::1]`, with `port` (or none, for port 80).
pub(crate) fn is_loopback_host(host: Option<&str>, port: u16) -> bool {
    let Some(host) = host else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let (name, given) = match host.rsplit_once(':') {
        Some((name, given)) if !name.is_empty() && !given.contains(']') => {
            (name, given.parse().ok())
        }
        _ => (host.as_str(), Some(80)),
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]") && given == Some(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("a header value"));
        }
        map
    }

    #[test]
    fn loopback_names_with_the_gateways_port_only() {
        for host in [
            "localhost:9001",
            "127.0.0.1:9001",
            "[::1]:9001",
            "LOCALHOST:9001",
        ] {
            assert!(is_loopback_host(Some(host), 9001), "{host}");
        }
        assert!(is_loopback_host(Some("localhost"), 80));
        for host in [
            "localhost:9002",
            "localhost",
            "127.0.0.2:9001",
            "127.0.0.1.evil.example:9001",
            "evil.example:9001",
            "[::1]",
            "",
        ] {
            assert!(!is_loopback_host(Some(host), 9001), "{host}");
        }
        assert!(!is_loopback_host(None, 9001));
    }

    #[test]
    fn upgrades_from_the_apps_pages_on_a_loopback_host() {
        let policy = Policy::new("http://127.0.0.1:9000");
        let page = [
            ("host", "localhost:9001"),
            ("origin", "http://127.0.0.1:9000"),
        ];
        assert_eq!(policy.refuse_upgrade(&headers(&page), 9001), None);
        let script = [("host", "127.0.0.1:9001")];
        assert_eq!(
            policy.refuse_upgrade(&headers(&script), 9001),
            None,
            "no Origin: no page"
        );
        let foreign = [
            ("host", "localhost:9001"),
            ("origin", "https://evil.example"),
        ];
        assert_eq!(
            policy.refuse_upgrade(&headers(&foreign), 9001).as_deref(),
            Some("Origin https://evil.example is not one of the app's (--origin)")
        );
        let other_port = [
            ("host", "localhost:9001"),
            ("origin", "http://127.0.0.1:9999"),
        ];
        assert!(policy.refuse_upgrade(&headers(&other_port), 9001).is_some());
        let rebound = [
            ("host", "attacker.example:9001"),
            ("origin", "http://127.0.0.1:9000"),
        ];
        assert_eq!(
            policy.refuse_upgrade(&headers(&rebound), 9001).as_deref(),
            Some("Host attacker.example:9001 is not localhost, 127.0.0.1 or [::1] on port 9001")
        );
    }
}
