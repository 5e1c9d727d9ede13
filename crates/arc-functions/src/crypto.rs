//! The two keyed primitives the session seal, the DynamoDB cookie signature and CSRF tokens
//! share: a key derived from a secret for one purpose, and HMAC-SHA256.

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::Secret;

/// HMAC-SHA256, as every signature here uses it.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// An `N`-byte key for one purpose, derived from `secret` with HKDF-SHA256. Distinct `salt`
/// and `info` labels keep the seal, signatures and tokens from ever sharing a key.
pub(crate) fn derive<const N: usize>(secret: &Secret, salt: &[u8], info: &[u8]) -> [u8; N] {
    let mut key = [0u8; N];
    // Our lengths are far below HKDF-SHA256's 8,160-byte maximum, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), secret.as_bytes()).expand(info, &mut key);
    key
}

/// HMAC-SHA256 under `key`, fed `parts` in order.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac
}
