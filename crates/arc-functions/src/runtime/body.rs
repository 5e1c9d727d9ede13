//! What HTTP and WebSocket requests both carry: a query string or form as [`Params`], the body
//! read by its `Content-Type` as [`Body`], and headers as `Debug` shows them ([`Redacted`]).

use lambda_http::Body as LambdaBody;
use lambda_http::http::{HeaderMap, header::CONTENT_TYPE};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Ordered name/value pairs where a name may repeat: a query string or a form body.
///
/// # Examples
///
/// ```
/// use arc_functions::http::Params;
///
/// let params = Params::parse("tag=a&tag=b&q=rust");
/// assert_eq!(params.get("tag"), Some("a"));
/// assert_eq!(params.get_all("tag").collect::<Vec<_>>(), ["a", "b"]);
/// assert_eq!(params.get("missing"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text; undecodable pairs are kept as given.
    ///
    /// # Examples
    ///
    /// ```
    /// let params = arc_functions::http::Params::parse("a=1+2&b=%C3%A9");
    /// assert_eq!(params.get("a"), Some("1 2"));
    /// assert_eq!(params.get("b"), Some("é"));
    /// ```
    pub fn parse(text: &str) -> Self {
        Self(decode_pairs(text.as_bytes(), false).unwrap_or_default())
    }

    /// The pairs, in order.
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        Self(pairs.into_iter().collect())
    }

    /// Takes every value of `name` out, returning the first.
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        let mut first = None;
        self.0.retain_mut(|(n, v)| {
            if n != name {
                return true;
            }
            first.get_or_insert_with(|| std::mem::take(v));
            false
        });
        first
    }

    /// The first value of `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(arc_functions::http::Params::parse("a=1&a=2").get("a"), Some("1"));
    /// ```
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let params = arc_functions::http::Params::parse("a=1&b=0&a=2");
    /// assert_eq!(params.get_all("a").collect::<Vec<_>>(), ["1", "2"]);
    /// ```
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every pair, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// let params = arc_functions::http::Params::parse("a=1&b=2");
    /// assert_eq!(params.iter().count(), 2);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Whether there are no pairs.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(arc_functions::http::Params::parse("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Converts the pairs into a `T` (a struct of named fields, or a map) with serde; repeated
    /// names keep the last value for scalar fields.
    ///
    /// # Errors
    ///
    /// When a pair does not fit `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(serde::Deserialize)]
    /// struct Login { user: String }
    /// let login: Login = arc_functions::http::Params::parse("user=ann").deserialize()?;
    /// assert_eq!(login.user, "ann");
    /// # Ok::<(), serde_urlencoded::de::Error>(())
    /// ```
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_urlencoded::de::Error> {
        let encoded = serde_urlencoded::to_string(&self.0).unwrap_or_default();
        serde_urlencoded::from_str(&encoded)
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs with percent-encoding (the crate under
/// `url`). Strict mode refuses bytes that do not decode to UTF-8 (a malformed form body);
/// lenient mode replaces them, as browsers do with query strings.
fn decode_pairs(bytes: &[u8], strict: bool) -> Option<Vec<(String, String)>> {
    let decode = |part: &[u8]| -> Option<String> {
        // Most names and values have nothing to decode: one copy, not two.
        if !part.iter().any(|&b| b == b'+' || b == b'%') {
            return match std::str::from_utf8(part) {
                Ok(text) => Some(text.to_owned()),
                Err(_) if strict => None,
                Err(_) => Some(String::from_utf8_lossy(part).into_owned()),
            };
        }
        let spaced: Vec<u8> = part
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let decoded = percent_encoding::percent_decode(&spaced);
        if strict {
            decoded.decode_utf8().ok().map(|s| s.into_owned())
        } else {
            Some(decoded.decode_utf8_lossy().into_owned())
        }
    };
    // Sized once: `collect` cannot know how many pairs pass the filter, and grows the vector.
    let mut pairs = Vec::with_capacity(memchr::memchr_iter(b'&', bytes).count() + 1);
    for pair in bytes.split(|&b| b == b'&').filter(|pair| !pair.is_empty()) {
        let (name, value) = match pair.iter().position(|&b| b == b'=') {
            Some(i) => (&pair[..i], &pair[i + 1..]),
            None => (pair, &[][..]),
        };
        pairs.push((decode(name)?, decode(value)?));
    }
    Some(pairs)
}

/// The request body, parsed by its content type. Base64 bodies are already decoded.
///
/// # Examples
///
/// ```
/// use arc_functions::http::Body;
///
/// let body = Body::Json(serde_json::json!({"a": 1}));
/// assert_eq!(body.json().and_then(|v| v["a"].as_i64()), Some(1));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Body {
    /// No body.
    Empty,
    /// `application/json` or `*+json`.
    Json(Value),
    /// `application/x-www-form-urlencoded`, repeated names kept.
    Form(Params),
    /// `text/*`, or any UTF-8 body without a content type.
    Text(String),
    /// Anything else, as bytes.
    Binary(Vec<u8>),
}

impl Body {
    /// The JSON value, for a JSON body.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(arc_functions::http::Body::Empty.json().is_none());
    /// ```
    pub fn json(&self) -> Option<&Value> {
        match self {
            Self::Json(v) => Some(v),
            _ => None,
        }
    }

    /// The pairs, for a form body.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::{Body, Params};
    /// let body = Body::Form(Params::parse("a=1"));
    /// assert_eq!(body.form().and_then(|f| f.get("a")), Some("1"));
    /// ```
    pub fn form(&self) -> Option<&Params> {
        match self {
            Self::Form(p) => Some(p),
            _ => None,
        }
    }

    /// The text, for a text body.
    ///
    /// # Examples
    ///
    /// ```
    /// let body = arc_functions::http::Body::Text("hi".into());
    /// assert_eq!(body.text(), Some("hi"));
    /// ```
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Text(t) => Some(t),
            _ => None,
        }
    }

    /// The bytes of a text or binary body (a parsed JSON or form body has none: its parse
    /// replaced them).
    ///
    /// # Examples
    ///
    /// ```
    /// let body = arc_functions::http::Body::Binary(vec![0, 1]);
    /// assert_eq!(body.bytes(), Some(&[0u8, 1][..]));
    /// ```
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Text(t) => Some(t.as_bytes()),
            Self::Binary(b) => Some(b),
            _ => None,
        }
    }
}

/// A body that does not match its content type: the handler wrapper answers it with a 400.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{BodyError, Request};
/// use arc_functions::testing::{TestRequest, read_event};
///
/// let event = TestRequest::post("/api")
///     .header("content-type", "application/json")
///     .body("{\"title\": ")
///     .event();
/// let err = Request::from_lambda(read_event(&event)?).unwrap_err();
/// assert!(matches!(err, BodyError::Json(_)));
/// assert!(err.to_string().starts_with("the request body is not valid JSON: "));
///
/// // %FF decodes to a byte that is not UTF-8.
/// let event = TestRequest::post("/login")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .body("user=%FF")
///     .event();
/// assert_eq!(Request::from_lambda(read_event(&event)?).unwrap_err(), BodyError::Form);
/// # Ok::<(), arc_functions::http::Error>(())
/// ```
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum BodyError {
    /// The content type is JSON and the body is not valid JSON.
    #[error("the request body is not valid JSON: {0}")]
    Json(String),
    /// The content type is a URL-encoded form and the body does not decode to UTF-8 text.
    #[error("the request body is not a valid URL-encoded form")]
    Form,
}

/// The body as its `Content-Type` says: JSON, a form, text or bytes (what
/// [`Request::body`] holds), for the axum layers too.
pub(crate) fn parse_body(headers: &HeaderMap, body: &LambdaBody) -> Result<Body, BodyError> {
    let bytes: &[u8] = match body {
        LambdaBody::Empty => return Ok(Body::Empty),
        LambdaBody::Text(t) => t.as_bytes(),
        LambdaBody::Binary(b) => b,
        _ => return Ok(Body::Empty),
    };
    if bytes.is_empty() {
        return Ok(Body::Empty);
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match content_type.as_deref() {
        Some(t) if t == "application/json" || t.ends_with("+json") => serde_json::from_slice(bytes)
            .map(Body::Json)
            .map_err(|e| BodyError::Json(e.to_string())),
        Some("application/x-www-form-urlencoded") => decode_pairs(bytes, true)
            .map(|pairs| Body::Form(Params(pairs)))
            .ok_or(BodyError::Form),
        Some(t) if t.starts_with("text/") => Ok(Body::Text(String::from_utf8_lossy(bytes).into())),
        None => Ok(match std::str::from_utf8(bytes) {
            Ok(text) => Body::Text(text.to_owned()),
            Err(_) => Body::Binary(bytes.to_vec()),
        }),
        Some(_) => Ok(Body::Binary(bytes.to_vec())),
    }
}

/// Headers as `Debug` shows them, with the values that carry credentials replaced.
pub(crate) struct Redacted<'a>(pub(crate) &'a HeaderMap);

impl std::fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in self.0 {
            let secret = matches!(
                name.as_str(),
                "cookie" | "authorization" | "proxy-authorization" | "x-csrf-token"
            );
            if secret {
                map.entry(&name.as_str(), &"REDACTED");
            } else {
                map.entry(&name.as_str(), value);
            }
        }
        map.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::decode_pairs;

    fn pairs(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            list.iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn pairs_with_nothing_to_decode_and_pairs_with_something_read_alike() {
        for strict in [true, false] {
            assert_eq!(
                decode_pairs(b"a=1&b=two&&c&d=", strict),
                pairs(&[("a", "1"), ("b", "two"), ("c", ""), ("d", "")])
            );
            assert_eq!(
                decode_pairs(b"na+me=a+b%2Bc&x=%C3%A9", strict),
                pairs(&[("na me", "a b+c"), ("x", "é")])
            );
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_fail_a_strict_read_and_are_replaced_in_a_lenient_one() {
        // Raw, with nothing to decode, and percent-encoded: either way not UTF-8.
        for body in [&b"user=\xff"[..], b"user=%FF", b"\xfe=1", b"%FE=1"] {
            assert_eq!(decode_pairs(body, true), None, "{body:?}");
            let lenient = decode_pairs(body, false).expect("lenient");
            assert!(
                lenient[0].0.contains('\u{FFFD}') || lenient[0].1.contains('\u{FFFD}'),
                "{lenient:?}"
            );
        }
    }
}
