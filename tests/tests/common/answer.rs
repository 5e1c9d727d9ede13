//! What a function answered through [`Functions::invoke`](super::Functions::invoke), read as a
//! browser would read it.

use serde_json::Value;

/// A browser's view of one answer in API Gateway v2's format: its status, the session cookie
/// it set, where it redirects, its body.
#[allow(dead_code, reason = "throttle.rs and races.rs only")]
pub(crate) struct Answer {
    pub(crate) status: u64,
    /// The `_idx=...` pair of the session cookie it set, if it set one.
    pub(crate) cookie: Option<String>,
    /// Its `location` header ("" when it has none).
    pub(crate) location: String,
    pub(crate) body: String,
}

#[allow(dead_code, reason = "throttle.rs and races.rs only")]
impl Answer {
    /// Reads the answer `value`, as [`Functions::invoke`](super::Functions::invoke) returns it.
    pub(crate) fn of(value: &Value) -> Self {
        let cookie = value["cookies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter_map(|c| c.split(';').next())
            .find(|pair| pair.starts_with("_idx="))
            .map(str::to_owned);
        Self {
            status: value["statusCode"].as_u64().unwrap_or_default(),
            cookie,
            location: value["headers"]["location"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            body: value["body"].as_str().unwrap_or_default().to_owned(),
        }
    }
}
