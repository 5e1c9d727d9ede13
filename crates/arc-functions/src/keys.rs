//! The keyring: every key this crate uses, derived once at cold start from the configured
//! secrets, and the two things keys are used with, random bytes and the time.
//!
//! Each secret yields one key per purpose, HKDF-SHA256 with a purpose label, so the same secret
//! never gives two uses the same key. The labels are part of the formats: changing one makes
//! every cookie or token issued before unreadable (the sealed cookie's known-answer test
//! guards them).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::config::{Config, Secret};

/// HMAC-SHA256, as every signature here uses it.
pub(crate) type HmacSha256 = Hmac<Sha256>;

const SEAL_SALT: &[u8] = b"arc-functions session seal";
const SEAL_KEY_INFO: &[u8] = b"_idx cookie XC20P key v1";
const SEAL_ID_INFO: &[u8] = b"_idx cookie key id v1";
const CSRF_SALT: &[u8] = b"arc-functions csrf";
const CSRF_KEY_INFO: &[u8] = b"csrf token mac key v1";
const TICKET_SALT: &[u8] = b"arc-functions socket ticket";
const TICKET_KEY_INFO: &[u8] = b"socket ticket XC20P key v1";
const THROTTLE_SALT: &[u8] = b"arc-functions throttle";
const THROTTLE_KEY_INFO: &[u8] = b"throttle counter id mac key v1";

/// One secret's keys, one per purpose.
pub(crate) struct Keys {
    /// The XChaCha20-Poly1305 key that seals cookies.
    pub(crate) seal: [u8; 32],
    /// The sealed cookie's public key id (`kid`).
    pub(crate) seal_id: [u8; 9],
    /// The HMAC key of CSRF tokens.
    pub(crate) csrf: [u8; 32],
    /// The XChaCha20-Poly1305 key that seals socket tickets, and nothing else.
    pub(crate) ticket: [u8; 32],
    /// The HMAC key that turns a user name and an address into a throttle counter's id, so
    /// neither is stored as it is.
    #[cfg_attr(
        not(feature = "dynamodb"),
        expect(dead_code, reason = "the throttle's key")
    )]
    pub(crate) throttle: [u8; 32],
    /// The secret itself: `@architect/functions` signs DynamoDB cookie ids with the raw
    /// secret, and sharing a table with Node means doing the same.
    #[cfg_attr(
        not(feature = "dynamodb"),
        expect(dead_code, reason = "DynamoDB cookie ids are signed with it")
    )]
    pub(crate) signing: Secret,
}

impl Keys {
    fn derive(secret: &Secret) -> Self {
        Self {
            seal: derive(secret, SEAL_SALT, SEAL_KEY_INFO),
            seal_id: derive(secret, SEAL_SALT, SEAL_ID_INFO),
            csrf: derive(secret, CSRF_SALT, CSRF_KEY_INFO),
            ticket: derive(secret, TICKET_SALT, TICKET_KEY_INFO),
            throttle: derive(secret, THROTTLE_SALT, THROTTLE_KEY_INFO),
            signing: secret.clone(),
        }
    }
}

/// The keys of the current secret and of every previous one: the current keys seal and sign,
/// all of them open and verify. Its `Debug` shows how many secrets, never a key.
pub(crate) struct Keyring {
    /// `[0]` is the current secret's, `[1..]` the previous secrets', newest first.
    keys: Vec<Keys>,
}

impl Keyring {
    pub(crate) fn new(config: &Config) -> Self {
        Self {
            keys: std::iter::once(&config.secrets.current)
                .chain(&config.secrets.previous)
                .map(Keys::derive)
                .collect(),
        }
    }

    /// The keys that seal and sign.
    pub(crate) fn current(&self) -> &Keys {
        &self.keys[0]
    }

    /// Every secret's keys, current first: a position is 0 for the current secret, 1.. for
    /// the previous ones.
    pub(crate) fn all(&self) -> &[Keys] {
        &self.keys
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keyring({} secrets, REDACTED)", self.keys.len())
    }
}

/// An `N`-byte key for one purpose, derived from `secret` with HKDF-SHA256.
fn derive<const N: usize>(secret: &Secret, salt: &[u8], info: &[u8]) -> [u8; N] {
    let mut key = [0u8; N];
    // Our lengths are far below HKDF-SHA256's 8,160-byte maximum, so expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), secret.as_bytes()).expand(info, &mut key);
    key
}

/// HMAC-SHA256 under `key`, fed `parts` in order.
pub(crate) fn hmac(key: &[u8], parts: &[&[u8]]) -> HmacSha256 {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for part in parts {
        mac.update(part);
    }
    mac
}

/// `N` bytes from the operating system's CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// The time in whole seconds since the Unix epoch, as every expiry here counts it.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Tells operators when a key rotation is done: once no session or token arrives under a
/// previous secret, these lines stop. Writes always use the current secret.
pub(crate) fn note_previous_secret(position: usize) {
    if position > 0 {
        tracing::debug!(
            previous_secret = position,
            "opened or verified with a previous secret"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(vars: &[(&str, &str)]) -> Keyring {
        let vars = vars.iter().copied().chain([("ARC_ENV", "testing")]);
        Keyring::new(&Config::from_vars(vars).expect("config"))
    }

    #[test]
    fn every_purpose_and_every_secret_has_its_own_key() {
        let r = ring(&[
            ("ARC_APP_SECRET", "current secret"),
            ("ARC_APP_SECRET_PREVIOUS", "old secret, older secret"),
        ]);
        assert_eq!(r.all().len(), 3);
        assert_eq!(r.current().signing, Secret::new("current secret"));
        assert_eq!(r.all()[2].signing, Secret::new("older secret"));
        let k = r.current();
        assert_ne!(k.seal, k.csrf, "purposes never share a key");
        assert_ne!(k.ticket, k.seal, "purposes never share a key");
        assert_ne!(k.ticket, k.csrf, "purposes never share a key");
        assert_ne!(r.all()[1].ticket, k.ticket, "secrets never share a key");
        assert_ne!(&k.seal[..9], &k.seal_id[..]);
        assert_ne!(r.all()[1].seal, k.seal, "secrets never share a key");
        assert_eq!(format!("{r:?}"), "Keyring(3 secrets, REDACTED)");
    }

    #[test]
    fn derivation_is_hkdf_sha256_with_the_purpose_labels() {
        // RFC 5869's construction, checked against an independent HMAC computation:
        // PRK = HMAC(salt, secret); OKM = HMAC(PRK, info || 0x01)[..N].
        let k = Keys::derive(&Secret::new("s"));
        let prk = hmac(CSRF_SALT, &[b"s"]).finalize().into_bytes();
        let okm = hmac(&prk, &[CSRF_KEY_INFO, &[1]]).finalize().into_bytes();
        assert_eq!(&k.csrf[..], &okm[..32]);
    }

    #[test]
    fn hmac_feeds_every_part_in_order() {
        let whole = hmac(b"k", &[b"abc"]).finalize().into_bytes();
        let parts = hmac(b"k", &[b"a", b"bc"]).finalize().into_bytes();
        let other = hmac(b"k", &[b"bc", b"a"]).finalize().into_bytes();
        assert_eq!(whole, parts);
        assert_ne!(whole, other);
    }

    #[test]
    fn only_a_previous_secret_is_noted_in_the_log() {
        let logged = |position: usize| {
            let log = crate::test_log::Log::capture();
            note_previous_secret(position);
            log.text()
        };
        assert_eq!(logged(0), "", "the current secret is not news");
        assert!(logged(1).contains("previous_secret=1"), "{}", logged(1));
        assert!(logged(2).contains("previous_secret=2"));
    }

    #[test]
    fn random_bytes_differ_and_now_is_today() {
        let (a, b) = (
            random::<16>().expect("random"),
            random::<16>().expect("random"),
        );
        assert_ne!(a, b);
        assert_ne!(a, [0; 16]);
        assert!(now() > 1_790_000_000, "after this code was written");
    }
}
