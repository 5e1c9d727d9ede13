//! The URI of an HTTP API event, written directly when its parts are already in the form the
//! `url` crate would print them in: lambda_http parses and prints them again, which the
//! one-pass reader ([`v2`](super::v2)) skips only where that changes nothing.

use lambda_http::http::Uri;

/// The URI lambda_http writes: `scheme://host/path?query`, or the path alone without a host.
/// lambda_http runs the first part through `url::Url`, which normalizes it (lowercases the
/// host, maps IDNA and IPv4 forms, resolves dot segments, percent-encodes); `None` unless the
/// parts are already in the form it would print them in, and for what `http::Uri` refuses
/// (lambda_http panics on those).
pub(super) fn uri(
    scheme: &str,
    host: Option<&str>,
    path: &str,
    query: Option<&str>,
) -> Option<Uri> {
    if !plain_path(path) {
        return None;
    }
    let path = if path.is_empty() { "/" } else { path };
    let query = query.filter(|q| !q.is_empty());
    let query_len = query.map_or(0, |q| q.len() + 1);
    let mut text = match host {
        None => String::with_capacity(path.len() + query_len),
        Some(host) => {
            if !matches!(scheme, "https" | "http") || !plain_host(scheme, host) {
                return None;
            }
            let mut text =
                String::with_capacity(scheme.len() + 3 + host.len() + path.len() + query_len);
            text.push_str(scheme);
            text.push_str("://");
            text.push_str(host);
            text
        }
    };
    text.push_str(path);
    if let Some(query) = query {
        text.push('?');
        text.push_str(query);
    }
    Uri::try_from(text).ok()
}

/// A path the URL parser leaves as it is: empty, or from `/`, of unreserved characters,
/// sub-delimiters, `:`, `@`, `/` and `%`, without dot segments (`.`, `..`, or `%2e` forms).
fn plain_path(path: &str) -> bool {
    path.is_empty()
        || path.starts_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b))
            && !path.split('/').any(|segment| matches!(segment, "." | ".."))
            && !path.contains("%2e")
            && !path.contains("%2E")
}

/// A host the URL parser leaves as it is: a name of lowercase ASCII labels of letters, digits
/// and hyphens, none empty or punycode (`xn--`), the last starting with a letter (so no IPv4
/// form), or an IPv4 address in its dotted-decimal form; then perhaps a port, written without
/// leading zeros, that is not the scheme's default (which the parser drops). No user
/// information.
fn plain_host(scheme: &str, host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let port_ok = port.is_none_or(|port| {
        let default = if scheme == "https" { "443" } else { "80" };
        (1..=5).contains(&port.len())
            && port.bytes().all(|b| b.is_ascii_digit())
            && !port.starts_with('0')
            && port.parse::<u32>().is_ok_and(|n| n <= 65_535)
            && port != default
    });
    port_ok && (plain_domain(name) || dotted_decimal(name))
}

fn plain_domain(name: &str) -> bool {
    name.rsplit('.')
        .next()
        .is_some_and(|last| last.starts_with(|c: char| c.is_ascii_lowercase()))
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with("xn--")
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// `a.b.c.d`, each a number up to 255 without leading zeros: how the URL parser prints IPv4.
fn dotted_decimal(name: &str) -> bool {
    let mut parts = 0;
    name.split('.').all(|part| {
        parts += 1;
        (1..=3).contains(&part.len())
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'))
            && part.parse::<u8>().is_ok()
    }) && parts == 4
}
