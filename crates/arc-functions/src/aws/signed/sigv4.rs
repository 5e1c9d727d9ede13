//! Signature Version 4 for the calls of [`super`]: a method, a URL without a query, a few
//! headers and a body, signed with a key derived once a day.
//!
//! Written here rather than by `aws-sigv4` (the SDK's signer), which derives the signing key
//! (four HMACs) for every request and builds its canonical request through general machinery:
//! the first GetItem of a cold start spent 140 k instructions signing, more than the rest of the
//! call. The tests hold this signer to `aws-sigv4`'s output, byte for byte, on every call shape
//! the library makes.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// What a signature adds to a request: `x-amz-date`, `x-amz-security-token` when there is a
/// session token, and `authorization`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Signed {
    pub(crate) headers: Vec<(&'static str, String)>,
}

/// The request as it is signed.
pub(crate) struct Signable<'a> {
    pub(crate) method: &'a str,
    /// The path, percent-encoded as it is sent (`/` for the JSON APIs).
    pub(crate) path: &'a str,
    pub(crate) host: &'a str,
    /// Headers beyond `host`; their names are lower case.
    pub(crate) headers: &'a [(&'static str, &'a str)],
    pub(crate) body: &'a [u8],
    pub(crate) service: &'a str,
    pub(crate) region: &'a str,
}

/// The signing key of one day, region and service, keyed into an HMAC ready to sign with.
struct DayKey {
    date: String,
    region: String,
    service: String,
    hmac: HmacSha256,
}

/// One set of credentials' signer, keeping the last day's key (Lambda's credentials last the
/// life of the process, and a day holds thousands of calls).
#[derive(Clone, Default)]
pub(crate) struct KeyCache(Arc<Mutex<Option<DayKey>>>);

/// Signs `request` with the secret key `secret` of `access_key_id`, at `now`.
pub(crate) fn sign(
    request: &Signable<'_>,
    access_key_id: &str,
    secret: &str,
    session_token: Option<&str>,
    now: SystemTime,
    cache: &KeyCache,
) -> Signed {
    let amz_date = amz_date(now);
    let date = &amz_date[..8];

    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(request.headers.len() + 3);
    headers.push(("host", request.host));
    headers.push(("x-amz-date", &amz_date));
    if let Some(token) = session_token {
        headers.push(("x-amz-security-token", token));
    }
    headers.extend(request.headers.iter().copied());
    headers.sort_by(|a, b| a.0.cmp(b.0));

    let mut canonical = String::with_capacity(256 + request.path.len());
    canonical.push_str(request.method);
    canonical.push('\n');
    canonical_path(request.path, &mut canonical);
    // No query: every call of the library has none.
    canonical.push_str("\n\n");
    let mut signed_headers = String::with_capacity(64);
    let mut i = 0;
    while i < headers.len() {
        let name = headers[i].0;
        if !signed_headers.is_empty() {
            signed_headers.push(';');
        }
        signed_headers.push_str(name);
        canonical.push_str(name);
        canonical.push(':');
        // Repeated headers are one, their values joined by commas.
        let mut first = true;
        while i < headers.len() && headers[i].0 == name {
            if !first {
                canonical.push(',');
            }
            push_trimmed(headers[i].1, &mut canonical);
            first = false;
            i += 1;
        }
        canonical.push('\n');
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    push_hex(&Sha256::digest(request.body), &mut canonical);

    let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
    let mut to_sign = String::with_capacity(64 + 16 + scope.len() + 64);
    to_sign.push_str("AWS4-HMAC-SHA256\n");
    to_sign.push_str(&amz_date);
    to_sign.push('\n');
    to_sign.push_str(&scope);
    to_sign.push('\n');
    push_hex(&Sha256::digest(canonical.as_bytes()), &mut to_sign);

    let mut mac = cache.keyed(secret, date, request.region, request.service);
    mac.update(to_sign.as_bytes());
    let mut authorization = format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed_headers}, Signature="
    );
    push_hex(&mac.finalize().into_bytes(), &mut authorization);

    let mut added = Vec::with_capacity(3);
    added.push(("x-amz-date", amz_date.clone()));
    if let Some(token) = session_token {
        added.push(("x-amz-security-token", token.to_owned()));
    }
    added.push(("authorization", authorization));
    Signed { headers: added }
}

impl KeyCache {
    /// Derives the signing key of `now`'s day ahead of the first call, which then only signs.
    #[cfg(any(test, feature = "dynamodb"))]
    pub(crate) fn derive(&self, secret: &str, now: SystemTime, region: &str, service: &str) {
        let amz_date = amz_date(now);
        self.keyed(secret, &amz_date[..8], region, service);
    }

    /// Whether the key kept is `now`'s day's for `region` and `service`.
    #[cfg(test)]
    pub(crate) fn holds(&self, now: SystemTime, region: &str, service: &str) -> bool {
        let amz_date = amz_date(now);
        let cached = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cached.as_ref().is_some_and(|key| {
            key.date == amz_date[..8] && key.region == region && key.service == service
        })
    }

    /// An HMAC keyed with the signing key of `date` (`YYYYMMDD`), `region` and `service`.
    fn keyed(&self, secret: &str, date: &str, region: &str, service: &str) -> HmacSha256 {
        let mut cached = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(key) = cached.as_ref()
            && key.date == date
            && key.region == region
            && key.service == service
        {
            return key.hmac.clone();
        }
        let step = |key: &[u8], data: &str| {
            let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
            mac.update(data.as_bytes());
            mac.finalize().into_bytes()
        };
        let key = step(format!("AWS4{secret}").as_bytes(), date);
        let key = step(&key, region);
        let key = step(&key, service);
        let key = step(&key, "aws4_request");
        let hmac = HmacSha256::new_from_slice(&key).expect("HMAC takes any key length");
        *cached = Some(DayKey {
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            hmac: hmac.clone(),
        });
        hmac
    }
}

/// `YYYYMMDDTHHMMSSZ`, in UTC.
fn amz_date(now: SystemTime) -> String {
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The calendar date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`, for days
/// since the epoch, which are never negative here).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The path as SigV4 signs it for every service but S3: each byte but the unreserved ones and
/// `/` percent-encoded again, so a path sent encoded (`%3D`) is signed encoded twice (`%253D`).
fn canonical_path(path: &str, out: &mut String) {
    if path.is_empty() {
        out.push('/');
        return;
    }
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 15)]));
        }
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// A header's value as signed: trimmed, each run of spaces inside it one space.
fn push_trimmed(value: &str, out: &mut String) {
    let mut words = value.split(' ').filter(|w| !w.is_empty());
    if let Some(first) = words.next() {
        out.push_str(first);
        for word in words {
            out.push(' ');
            out.push_str(word);
        }
    }
}

fn push_hex(bytes: &[u8], out: &mut String) {
    for &b in bytes {
        out.push(char::from(HEX_LOWER[usize::from(b >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests;
