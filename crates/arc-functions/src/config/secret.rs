//! A secret's bytes, and how the environment's secrets are read.

use std::fmt;

/// A secret's bytes. `Debug` never shows them.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Secret;
///
/// let secret = Secret::new("correct horse battery staple, but longer");
/// assert_eq!(format!("{secret:?}"), "Secret(40 bytes)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret, byte for byte (the environment's secrets are trimmed before this).
    ///
    /// # Examples
    ///
    /// ```
    /// let secret = arc_functions::config::Secret::new(b"0123456789abcdef0123456789abcdef");
    /// assert_eq!(secret.as_bytes().len(), 32);
    /// ```
    pub fn new(bytes: impl AsRef<[u8]>) -> Self {
        Self(bytes.as_ref().to_vec())
    }

    /// The secret's bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let secret = arc_functions::config::Secret::new("abc");
    /// assert_eq!(secret.as_bytes(), b"abc");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// How every secret is read: surrounding whitespace dropped, the rest kept byte for byte.
pub(super) fn normalize_secret(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|s| !s.is_empty())
}
