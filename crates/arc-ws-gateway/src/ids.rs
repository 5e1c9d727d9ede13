//! Identifiers shaped like API Gateway's: connection, request and message ids, trace ids.

use std::borrow::Borrow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::clock::Timestamp;

/// The id of one WebSocket connection, e.g. `L0SM9cOFvHcCIhw=`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ConnectionId(String);

impl ConnectionId {
    /// A new random id.
    ///
    /// # Errors
    ///
    /// When the operating system has no randomness to give.
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        random_id().map(Self)
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for ConnectionId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A random id the way API Gateway writes connection, request and message ids: 11 bytes in
/// standard base64, so 15 characters and a `=`.
///
/// Ids with a `/` are drawn again: the id is a path segment of the management API, and a client
/// that forgets to percent-encode it (curl, a hand-written URL) would otherwise split it.
pub(crate) fn random_id() -> Result<String, getrandom::Error> {
    loop {
        let mut bytes = [0; 11];
        getrandom::fill(&mut bytes)?;
        let id = STANDARD.encode(bytes);
        if !id.contains('/') {
            return Ok(id);
        }
    }
}

/// An `X-Amzn-Trace-Id` header value: `Root=1-{epoch seconds in hex}-{96 random bits in hex}`.
pub(crate) fn trace_id(now: Timestamp) -> Result<String, getrandom::Error> {
    let mut bytes = [0_u8; 12];
    getrandom::fill(&mut bytes)?;
    let random: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("Root=1-{:08x}-{random}", now.millis() / 1000))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_look_like_api_gateways() {
        // A real one, from API Gateway's documentation.
        let real = "L0SM9cOFvHcCIhw=";
        for _ in 0..200 {
            let id = random_id().unwrap_or_default();
            assert_eq!(id.len(), real.len(), "{id}");
            assert!(id.ends_with('='), "{id}");
            assert!(!id.contains('/'), "{id}");
            assert_eq!(STANDARD.decode(&id).map(|bytes| bytes.len()), Ok(11));
        }
    }

    #[test]
    fn ids_are_unique() {
        let ids: HashSet<String> = (0..1000).filter_map(|_| random_id().ok()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn connection_ids_are_random_ids() {
        let id = ConnectionId::random().unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(id.to_string(), id.as_str());
        assert_eq!(id.as_str().len(), 16);
    }

    #[test]
    fn trace_ids_carry_the_time() {
        let id = trace_id(Timestamp::from_millis(1_645_556_857_902)).unwrap_or_default();
        let (root, random) = id.split_at("Root=1-62153479-".len());
        assert_eq!(root, "Root=1-62153479-");
        assert_eq!(random.len(), 24);
        assert!(random.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
