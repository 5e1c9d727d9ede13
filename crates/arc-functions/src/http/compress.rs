//! Response compression: brotli or gzip, as the request's `Accept-Encoding` allows.
//!
//! What `@architect/functions` 8.1 does (`src/http/_res-fmt.js`), and where this differs:
//!
//! - It picks `br`, else `gzip`, by splitting `Accept-Encoding` on `", "` and comparing whole
//!   entries, so q-values are ignored (`br;q=0.5` is not `br`), `gzip,br` without a space is
//!   neither, and `identity;q=0` means nothing. Here the header is parsed as RFC 9110 says:
//!   q-values rank the codings, `q=0` refuses one, `*` stands for the unnamed ones, and
//!   `identity;q=0` makes even a small body go compressed when a coding is acceptable.
//! - It compresses every string body of any size and skips only its list of binary types; a
//!   `Buffer` body is passed to the compressor without a coding and throws. Here only text-like
//!   types are compressed ([`is_text_like`]) and only from [`MIN_SIZE`] bytes, since below that
//!   the coding's own framing eats the saving.
//! - It sends no `Vary: Accept-Encoding`, so a shared cache may hand a brotli body to a client
//!   that cannot read it. Here every response whose coding could depend on the header says so.
//! - It compresses brotli at Node's default quality, 11, meant for static files built once;
//!   here quality 5, a common choice for dynamic responses (BENCHMARKS.md has both).
//! - It skips REST APIs (no `version` in the event), leaving them to API Gateway's own
//!   compression. Here REST APIs, HTTP APIs, function URLs and ALBs are treated alike; a REST
//!   API must list `*/*` as a binary media type to pass a base64 body on as bytes (Architect's
//!   own REST deployments do), and `ARC_HTTP_COMPRESSION=off` leaves compression to it.
//!
//! Kept from the original: `br` is preferred over `gzip` at equal rank; a response may prefer
//! one ([`Response::prefer_encoding`](super::Response::prefer_encoding), its `compression: 'gzip'`)
//! or opt out ([`Response::no_compression`](super::Response::no_compression), its
//! `compression: false`); a response that already has a `content-encoding` is left alone; the
//! compressed body goes to API Gateway base64-encoded, flagged `isBase64Encoded`.

/// A content coding this crate can compress with.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{Encoding, Response};
///
/// let response = Response::json(&serde_json::json!({"a": 1})).prefer_encoding(Encoding::Gzip);
/// assert_eq!(Encoding::Gzip.as_str(), "gzip");
/// # drop(response);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// Brotli (`br`), RFC 7932: smaller than gzip on text, and every current browser reads it.
    Br,
    /// gzip, RFC 1952.
    Gzip,
}

impl Encoding {
    /// The coding's name in `Accept-Encoding` and `Content-Encoding`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(arc_functions::http::Encoding::Br.as_str(), "br");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Br => "br",
            Self::Gzip => "gzip",
        }
    }
}

/// Bodies smaller than this go uncompressed unless the request refuses `identity`: a gzip
/// member's header and trailer alone are 18 bytes, and a body this small fits one TCP segment
/// either way (BENCHMARKS.md measures the example page, which is below it).
pub(crate) const MIN_SIZE: usize = 1024;

/// Brotli quality for dynamic responses: 11 (Node's default) costs tens of milliseconds on a
/// 100 KB body for a few percent more saving.
#[cfg(feature = "compression")]
const BROTLI_QUALITY: u32 = 5;

/// gzip level: zlib's default, as Node's `gzipSync` uses.
#[cfg(feature = "compression")]
const GZIP_LEVEL: u32 = 6;

/// A q-value in thousandths (RFC 9110 allows three decimals), so ranks compare exactly.
type Q = u16;

/// What a request's `Accept-Encoding` allows, parsed once before the handler runs (the request
/// itself moves into the handler).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Accepted {
    br: Option<Q>,
    gzip: Option<Q>,
    identity: Option<Q>,
    any: Option<Q>,
}

impl Accepted {
    /// Parses an `Accept-Encoding` value. `None` (no header) and an empty value accept no
    /// coding; an entry with a malformed q-value is ignored.
    pub(crate) fn parse(header: Option<&str>) -> Self {
        let mut accepted = Self::default();
        for entry in header.unwrap_or_default().split(',') {
            let mut parts = entry.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let mut q = Some(1000);
            for param in parts {
                if let Some((name, value)) = param.split_once('=')
                    && name.trim().eq_ignore_ascii_case("q")
                {
                    q = parse_q(value.trim());
                }
            }
            let Some(q) = q else { continue };
            let slot = if coding.eq_ignore_ascii_case("br") {
                &mut accepted.br
            } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                &mut accepted.gzip
            } else if coding.eq_ignore_ascii_case("identity") {
                &mut accepted.identity
            } else if coding == "*" {
                &mut accepted.any
            } else {
                continue;
            };
            // Of two entries for one coding, the more favourable counts.
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
        accepted
    }

    fn rank(&self, encoding: Encoding) -> Q {
        let named = match encoding {
            Encoding::Br => self.br,
            Encoding::Gzip => self.gzip,
        };
        named.or(self.any).unwrap_or(0)
    }

    /// `identity`'s rank when the header gives it one, by name or through `*`. Unranked, it
    /// is acceptable (RFC 9110 12.5.3) but below any coding the client listed.
    fn identity_rank(&self) -> Option<Q> {
        self.identity.or(self.any)
    }

    /// The coding to send a body in. `worth_it` says whether the body is large and text-like
    /// enough to compress when `identity` is also acceptable; `prefer` wins ties.
    pub(crate) fn choose(&self, prefer: Encoding, worth_it: bool) -> Option<Encoding> {
        let other = match prefer {
            Encoding::Br => Encoding::Gzip,
            Encoding::Gzip => Encoding::Br,
        };
        let best = if self.rank(other) > self.rank(prefer) {
            other
        } else {
            prefer
        };
        let rank = self.rank(best);
        let identity = self.identity_rank();
        let identity_acceptable = identity != Some(0);
        let identity_preferred = identity.is_some_and(|q| q > rank);
        if rank == 0 || (identity_acceptable && (!worth_it || identity_preferred)) {
            return None;
        }
        Some(best)
    }
}

/// A q-value, `0` to `1` with up to three decimals, in thousandths; `None` when malformed.
fn parse_q(value: &str) -> Option<Q> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .zip([100, 10, 1])
        .map(|(digit, scale)| Q::from(digit - b'0') * scale)
        .sum::<Q>();
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether a content type is text that compresses well: `text/*`, JSON, XML (SVG included)
/// and JavaScript. Anything else (images, fonts, archives, unknown types) is likely compressed
/// already.
pub(crate) fn is_text_like(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || matches!(
            essence.as_str(),
            "application/json" | "application/xml" | "application/javascript"
        )
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

/// `body` compressed with `encoding`; `None` when the codec fails (it writes to memory, so it
/// does not) or the feature is off.
#[cfg(feature = "compression")]
pub(crate) fn compress(encoding: Encoding, body: &[u8]) -> Option<Vec<u8>> {
    use std::io::Write;
    match encoding {
        Encoding::Br => {
            let params = brotli::enc::BrotliEncoderParams {
                quality: BROTLI_QUALITY as i32,
                // A window no larger than the body: less memory to set up for small bodies.
                lgwin: window_bits(body.len()),
                size_hint: body.len(),
                ..Default::default()
            };
            let mut out = Vec::with_capacity(body.len() / 3);
            brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
            Some(out)
        }
        Encoding::Gzip => {
            let out = Vec::with_capacity(body.len() / 3);
            let mut encoder =
                flate2::write::GzEncoder::new(out, flate2::Compression::new(GZIP_LEVEL));
            encoder.write_all(body).ok()?;
            encoder.finish().ok()
        }
    }
}

/// Without the `compression` feature nothing is compressed.
#[cfg(not(feature = "compression"))]
pub(crate) fn compress(_encoding: Encoding, _body: &[u8]) -> Option<Vec<u8>> {
    None
}

/// The brotli window for a body of `len` bytes: the smallest power of two that holds it,
/// within brotli's 10 to 24 bits.
#[cfg(feature = "compression")]
fn window_bits(len: usize) -> i32 {
    let bits = usize::BITS - len.saturating_sub(1).leading_zeros();
    bits.clamp(10, 24) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choose(header: &str, worth_it: bool) -> Option<Encoding> {
        Accepted::parse(Some(header)).choose(Encoding::Br, worth_it)
    }

    #[test]
    fn brotli_is_preferred_at_equal_rank_and_q_values_rank() {
        assert_eq!(choose("gzip, deflate, br", true), Some(Encoding::Br));
        assert_eq!(choose("gzip,br", true), Some(Encoding::Br));
        assert_eq!(choose("gzip", true), Some(Encoding::Gzip));
        assert_eq!(choose("x-gzip", true), Some(Encoding::Gzip));
        assert_eq!(choose("br;q=0.5, gzip;q=0.8", true), Some(Encoding::Gzip));
        assert_eq!(choose("BR;Q=0.9, gzip;q=0.8", true), Some(Encoding::Br));
        assert_eq!(choose("br;q=0, gzip", true), Some(Encoding::Gzip));
        assert_eq!(choose("br;q=0, gzip;q=0", true), None);
        assert_eq!(choose("deflate", true), None);
        assert_eq!(choose("", true), None);
        assert_eq!(Accepted::parse(None).choose(Encoding::Br, true), None);
        // A preference of the response wins ties only.
        let both = Accepted::parse(Some("br, gzip"));
        assert_eq!(both.choose(Encoding::Gzip, true), Some(Encoding::Gzip));
        let ranked = Accepted::parse(Some("br, gzip;q=0.5"));
        assert_eq!(ranked.choose(Encoding::Gzip, true), Some(Encoding::Br));
    }

    #[test]
    fn the_wildcard_stands_for_unnamed_codings() {
        assert_eq!(choose("*", true), Some(Encoding::Br));
        assert_eq!(choose("br;q=0, *", true), Some(Encoding::Gzip));
        assert_eq!(choose("*;q=0", true), None);
        assert_eq!(choose("gzip;q=0.2, *;q=0.1", true), Some(Encoding::Gzip));
    }

    #[test]
    fn identity_competes_and_can_be_refused() {
        // identity ranked above every coding: sent as is.
        assert_eq!(choose("gzip;q=0.5, identity", true), None);
        assert_eq!(
            choose("gzip;q=0.5, identity;q=0.5", true),
            Some(Encoding::Gzip)
        );
        // A small or binary body goes compressed only when identity is refused.
        assert_eq!(choose("gzip", false), None);
        assert_eq!(choose("gzip, identity;q=0", false), Some(Encoding::Gzip));
        assert_eq!(choose("gzip, *;q=0", false), Some(Encoding::Gzip));
        assert_eq!(choose("gzip, identity, *;q=0", false), None);
        // Refused identity and nothing else acceptable: sent as is all the same.
        assert_eq!(choose("identity;q=0", true), None);
    }

    #[test]
    fn q_values_parse_strictly() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.001"), Some(1));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("0."), Some(0));
        for bad in ["1.5", "2", "0.0001", "-1", "0.5x", "", "abc", "1.001"] {
            assert_eq!(parse_q(bad), None, "{bad}");
        }
        // A malformed entry is ignored, the others still count.
        assert_eq!(choose("br;q=oops, gzip", true), Some(Encoding::Gzip));
        // Of two entries for one coding, the more favourable counts.
        assert_eq!(choose("gzip;q=0, gzip;q=0.5", true), Some(Encoding::Gzip));
        assert_eq!(choose("gzip;q=0.5, gzip;q=0", true), Some(Encoding::Gzip));
    }

    #[test]
    fn text_like_types() {
        for t in [
            "text/html; charset=utf8",
            "TEXT/CSS",
            "application/json",
            "application/vnd.api+json; charset=utf-8",
            "application/xml",
            "image/svg+xml",
            "application/javascript",
        ] {
            assert!(is_text_like(t), "{t}");
        }
        for t in [
            "image/png",
            "application/octet-stream",
            "application/zip",
            "font/woff2",
            "",
        ] {
            assert!(!is_text_like(t), "{t}");
        }
    }

    #[cfg(feature = "compression")]
    #[test]
    fn both_codecs_round_trip() {
        use std::io::Read;
        let body = "hello, compressed world. ".repeat(100);
        let br = compress(Encoding::Br, body.as_bytes()).expect("br");
        let mut out = String::new();
        brotli::Decompressor::new(&br[..], 4096)
            .read_to_string(&mut out)
            .expect("brotli");
        assert_eq!(out, body);
        assert!(br.len() < body.len() / 10);
        let gz = compress(Encoding::Gzip, body.as_bytes()).expect("gzip");
        let mut out = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut out)
            .expect("gzip");
        assert_eq!(out, body);
        assert!(gz.len() < body.len() / 10);
    }

    /// The window a brotli stream declares in its first bits (RFC 7932 9.1).
    #[cfg(feature = "compression")]
    fn declared_window(stream: &[u8]) -> u32 {
        let bits = u32::from(stream[0]);
        if bits & 1 == 0 {
            return 16;
        }
        match (bits >> 1) & 0b111 {
            0 => match (bits >> 4) & 0b111 {
                0 => 17,
                n => 8 + n,
            },
            n => 17 + n,
        }
    }

    #[cfg(feature = "compression")]
    #[test]
    fn brotli_runs_at_quality_5_with_a_window_fitted_to_the_body() {
        let body = "a page of text, not too repetitive: 0123456789. ".repeat(40);
        let ours = compress(Encoding::Br, body.as_bytes()).expect("br");
        assert_eq!(declared_window(&ours), window_bits(body.len()) as u32);
        assert_eq!(declared_window(&ours), 11, "{} bytes", body.len());
        // The same stream as the reference encoder at quality 5 with that window and hint.
        let params = brotli::enc::BrotliEncoderParams {
            quality: 5,
            lgwin: 11,
            size_hint: body.len(),
            ..Default::default()
        };
        let mut reference = Vec::new();
        brotli::BrotliCompress(&mut body.as_bytes(), &mut reference, &params).expect("br");
        assert_eq!(ours, reference);
    }

    #[cfg(feature = "compression")]
    #[test]
    fn the_brotli_window_fits_the_body() {
        assert_eq!(window_bits(0), 10);
        assert_eq!(window_bits(1024), 10);
        assert_eq!(window_bits(1025), 11);
        assert_eq!(window_bits(100_000), 17);
        assert_eq!(window_bits(1 << 24), 24);
        assert_eq!(window_bits(usize::MAX), 24);
    }
}
