//! The sealed-cookie provider: the whole session travels inside the `_idx` cookie as a compact
//! JWE (RFC 7516) with `alg` `dir` and `enc` `XC20P` (XChaCha20-Poly1305).
//!
//! Format: `BASE64URL(header) . "" . BASE64URL(nonce) . BASE64URL(ciphertext) . BASE64URL(tag)`,
//! the header being exactly `{"alg":"dir","enc":"XC20P","kid":"<key id>"}` and its base64 text
//! the additional authenticated data. The plaintext is JSON `{"iat","exp","ctm","ses"}`: issued
//! at, expiry, creation time of the session (for `ARC_SESSION_MAX_AGE`) and the session object.

mod json;

use json::{Claims, ClaimsRef};

use base64_simd::AsOut;
use base64_simd::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::{AeadInOut, KeyInit, Tag, XChaCha20Poly1305, XNonce};
use serde_json::{Map, Value};

use super::provider::{Lifetime, Loaded, Origin, Provider, ProviderFuture, Write};
use super::{Error, Expiry};
use crate::keys::{self, Keyring, Keys};

/// How far in the future an `iat` may be, in seconds, before the cookie is refused.
pub(crate) const CLOCK_SKEW: u64 = 60;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// The nonce's and the tag's lengths in the token: base64 without padding.
const NONCE_TEXT_LEN: usize = (NONCE_LEN * 4).div_ceil(3);
const TAG_TEXT_LEN: usize = (TAG_LEN * 4).div_ceil(3);

/// One key derived from one secret, with the exact header it seals under.
struct SealKey {
    cipher: XChaCha20Poly1305,
    /// The base64url text of the protected header, compared byte for byte on open.
    header: String,
}

impl SealKey {
    fn new(keys: &Keys) -> Self {
        let header = format!(
            r#"{{"alg":"dir","enc":"XC20P","kid":"{}"}}"#,
            B64.encode_type::<String>(keys.seal_id)
        );
        Self {
            cipher: XChaCha20Poly1305::new(&keys.seal.into()),
            header: B64.encode_type::<String>(header),
        }
    }
}

impl Claims {
    fn expiry(&self) -> Expiry {
        match (self.bs, self.ttl) {
            (true, _) => Expiry::BrowserSession,
            (false, Some(ttl)) => Expiry::Idle(std::time::Duration::from_secs(ttl)),
            (false, None) => Expiry::Default,
        }
    }
}

/// Seals and opens sessions. Keys are derived once, when this is built at cold start.
pub(crate) struct SealedCookie {
    /// `keys[0]` seals; every key opens.
    keys: Vec<SealKey>,
    lifetime: Lifetime,
}

impl std::fmt::Debug for SealedCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedCookie")
            .field("keys", &self.keys.len())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl SealedCookie {
    pub(crate) fn new(keyring: &Keyring, lifetime: Lifetime) -> Self {
        Self {
            keys: keyring.all().iter().map(SealKey::new).collect(),
            lifetime,
        }
    }

    /// Seals `data` with the current key and a fresh random nonce.
    #[cfg(test)]
    pub(crate) fn seal(
        &self,
        data: &Map<String, Value>,
        created: u64,
        now: u64,
    ) -> Result<String, Error> {
        self.seal_for(data, created, now, Expiry::Default)
    }

    /// [`SealedCookie::seal`], for a session of its own [`Expiry`].
    pub(crate) fn seal_for(
        &self,
        data: &Map<String, Value>,
        created: u64,
        now: u64,
        expiry: Expiry,
    ) -> Result<String, Error> {
        self.seal_with_nonce(data, created, now, expiry, keys::random()?)
    }

    /// The seam for known-answer tests: everything but the nonce's source is the real path.
    pub(crate) fn seal_with_nonce(
        &self,
        data: &Map<String, Value>,
        created: u64,
        now: u64,
        expiry: Expiry,
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, Error> {
        let key = &self.keys[0];
        let mut buffer = ClaimsRef {
            iat: now,
            exp: self.lifetime.expiry_of(expiry, created, now),
            ctm: created,
            ses: data,
            ttl: match expiry {
                Expiry::Idle(_) => Some(self.lifetime.ttl_of(expiry)),
                Expiry::Default | Expiry::BrowserSession => None,
            },
            bs: expiry == Expiry::BrowserSession,
        }
        .to_vec()
        .map_err(Error::Json)?;
        // Sealed where it lies: the ciphertext replaces the plaintext, the tag comes apart.
        let tag = key
            .cipher
            .encrypt_inout_detached(
                &XNonce::from(nonce),
                key.header.as_bytes(),
                buffer.as_mut_slice().into(),
            )
            .map_err(|_| Error::Seal)?;
        let mut token = String::with_capacity(
            key.header.len() + 4 + NONCE_TEXT_LEN + B64.encoded_length(buffer.len()) + TAG_TEXT_LEN,
        );
        token.push_str(&key.header);
        token.push_str("..");
        B64.encode_append(nonce, &mut token);
        token.push('.');
        B64.encode_append(&buffer, &mut token);
        token.push('.');
        B64.encode_append(tag, &mut token);
        Ok(token)
    }

    /// Opens a cookie value. `None` for anything that is not a live session sealed by one of our
    /// keys: garbled, truncated, tampered, foreign, expired, issued in the future.
    pub(crate) fn open(&self, token: &str, now: u64) -> Option<Loaded> {
        // The header must be byte-for-byte one we write: this pins alg and enc and picks the
        // key by its id without trying the others. `dir` carries no encrypted key, and that
        // part is not authenticated: it must be empty.
        let (key_index, rest) = self.keys.iter().enumerate().find_map(|(i, key)| {
            Some((
                i,
                token
                    .strip_prefix(key.header.as_str())?
                    .strip_prefix("..")?,
            ))
        })?;
        let key = &self.keys[key_index];
        // The nonce and the tag have fixed lengths, so the parts are found where they must be
        // rather than by scanning the whole token for dots; a dot anywhere else fails to decode.
        let (nonce_text, rest) = rest.split_at_checked(NONCE_TEXT_LEN)?;
        let rest = rest.strip_prefix('.')?;
        let (ciphertext, tag_text) =
            rest.split_at_checked(rest.len().checked_sub(TAG_TEXT_LEN + 1)?)?;
        let tag_text = tag_text.strip_prefix('.')?;
        let mut nonce = [0u8; NONCE_LEN];
        B64.decode(nonce_text.as_bytes(), nonce.as_mut_slice().as_out())
            .ok()?;
        let mut tag = [0u8; TAG_LEN];
        B64.decode(tag_text.as_bytes(), tag.as_mut_slice().as_out())
            .ok()?;
        let mut plaintext = Vec::with_capacity(B64.estimated_decoded_length(ciphertext.len()));
        B64.decode_append(ciphertext, &mut plaintext).ok()?;
        // Opened where it lies, once the tag is checked.
        key.cipher
            .decrypt_inout_detached(
                &XNonce::from(nonce),
                key.header.as_bytes(),
                plaintext.as_mut_slice().into(),
                &Tag::from(tag),
            )
            .ok()?;
        let claims = Claims::read(&plaintext)?;
        let created = claims.ctm.unwrap_or(claims.iat);
        let expiry = claims.expiry();
        // `exp` holds the TTL in force when it was sealed; a lower one applies from now on.
        let live = now < claims.exp
            && claims.iat <= now.saturating_add(CLOCK_SKEW)
            && self
                .lifetime
                .is_live(Some(claims.iat), created, now, expiry);
        live.then_some(Loaded {
            data: claims.ses,
            origin: Origin::sealed(created, claims.iat),
            key_index,
            expiry,
        })
    }
}

impl Provider for SealedCookie {
    fn describe(&self) -> String {
        "sealed cookie".to_owned()
    }

    fn load<'a>(&'a self, value: &'a str, now: u64) -> ProviderFuture<'a, Option<Loaded>> {
        Box::pin(std::future::ready(Ok(self.open(value, now))))
    }

    fn save<'a>(&'a self, write: Write<'a>) -> ProviderFuture<'a, String> {
        Box::pin(std::future::ready(self.seal_for(
            write.data,
            write.created,
            write.now,
            write.expiry,
        )))
    }

    /// A sealed cookie cannot be recalled: expiring it in the browser is all there is.
    fn forget<'a>(&'a self, _origin: &'a Origin) -> ProviderFuture<'a, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    const SECRET: &str = "known-answer secret: 32 bytes or more";
    const NOW: u64 = 1_790_000_000;

    fn sealer(vars: &[(&str, &str)]) -> SealedCookie {
        let vars = vars.iter().copied().chain([("ARC_ENV", "testing")]);
        let config = Config::from_vars(vars).expect("config");
        SealedCookie::new(&Keyring::new(&config), Lifetime::of(&config))
    }

    fn data(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test data is an object"),
        }
    }

    /// Sealed by version 0.1.0 with SECRET, nonce 0..24, at NOW, created NOW - 10, ttl one week.
    /// If this stops opening, the format changed: old cookies in browsers would stop working.
    const KNOWN_ANSWER: &str = "eyJhbGciOiJkaXIiLCJlbmMiOiJYQzIwUCIsImtpZCI6IkpERlFGdmJfR1hheCJ9..AAECAwQFBgcICQoLDA0ODxAREhMUFRYX.14A7ARuoybqc5U9vxCGKlYBjx6odb40-eRk13iP5Q05jQ_7U5-3GwUEOtnaS6lqRT4Q5qLw2GSnuc8DSKWyDJzY1zuoIKsTT4POLUV0OmnEksl4.FSVRAwG8LbDKf7Q4rfl3BA";

    fn known_nonce() -> [u8; NONCE_LEN] {
        std::array::from_fn(|i| u8::try_from(i).unwrap_or(0))
    }

    #[test]
    fn known_answer_still_seals_and_opens() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let session = data(json!({"user": "ann", "count": 3}));
        let token = s
            .seal_with_nonce(&session, NOW - 10, NOW, Expiry::Default, known_nonce())
            .expect("seal");
        assert_eq!(token, KNOWN_ANSWER, "the sealed format changed");
        let opened = s.open(KNOWN_ANSWER, NOW + 1).expect("opens");
        assert_eq!(opened.data, session);
        assert_eq!(opened.origin.created, NOW - 10);
        assert_eq!(opened.key_index, 0);
    }

    #[test]
    fn header_is_pinned_and_documented() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let header = B64.decode_to_vec(&s.keys[0].header).expect("b64");
        let header: Value = serde_json::from_slice(&header).expect("json");
        assert_eq!(header["alg"], "dir");
        assert_eq!(header["enc"], "XC20P");
        assert_eq!(header.as_object().map(Map::len), Some(3));
    }

    #[test]
    fn round_trip_and_same_secret_interoperates() {
        let a = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let b = sealer(&[("ARC_APP_SECRET", SECRET), ("ARC_SESSION_TTL", "10")]);
        let other = sealer(&[("ARC_APP_SECRET", "a different secret of 32 bytes or more")]);
        let session = data(json!({"n": 1, "nested": {"a": [1, 2, null]}, "s": "é"}));
        let token = a.seal(&session, NOW, NOW).expect("seal");
        assert_eq!(b.open(&token, NOW).expect("same secret").data, session);
        assert!(
            other.open(&token, NOW).is_none(),
            "foreign key must not open"
        );
        let t1 = a.seal(&session, NOW, NOW).expect("seal");
        assert_ne!(token, t1, "nonces must be fresh");
    }

    #[test]
    fn expiry_and_future_iat() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET), ("ARC_SESSION_TTL", "100")]);
        let token = s.seal(&Map::new(), NOW, NOW).expect("seal");
        assert!(s.open(&token, NOW + 99).is_some());
        assert!(s.open(&token, NOW + 100).is_none(), "expired at exp");
        assert!(
            s.open(&token, NOW - CLOCK_SKEW).is_some(),
            "small skew allowed"
        );
        assert!(
            s.open(&token, NOW - CLOCK_SKEW - 1).is_none(),
            "iat in the future"
        );
    }

    #[test]
    fn lowering_the_ttl_shortens_live_cookies() {
        let before = sealer(&[("ARC_APP_SECRET", SECRET), ("ARC_SESSION_TTL", "1000")]);
        let after = sealer(&[("ARC_APP_SECRET", SECRET), ("ARC_SESSION_TTL", "100")]);
        let token = before.seal(&Map::new(), NOW, NOW).expect("seal");
        assert!(before.open(&token, NOW + 500).is_some());
        assert!(after.open(&token, NOW + 99).is_some());
        assert!(
            after.open(&token, NOW + 100).is_none(),
            "the current TTL counts"
        );
        // Raising it does not lengthen a cookie past its sealed exp.
        let longer = sealer(&[("ARC_APP_SECRET", SECRET), ("ARC_SESSION_TTL", "5000")]);
        assert!(longer.open(&token, NOW + 1000).is_none());
    }

    #[test]
    fn max_age_counts_from_creation() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET), ("ARC_SESSION_MAX_AGE", "1000")]);
        // Re-sealed just now, but created 999 s ago: one second left.
        let token = s.seal(&Map::new(), NOW - 999, NOW).expect("seal");
        assert!(s.open(&token, NOW).is_some());
        assert!(s.open(&token, NOW + 1).is_none());
    }

    #[test]
    fn previous_secret_opens_with_its_own_index() {
        let old = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let rotated = sealer(&[
            ("ARC_APP_SECRET", "the new secret: also 32 bytes or longer"),
            ("ARC_APP_SECRET_PREVIOUS", SECRET),
        ]);
        let token = old.seal(&Map::new(), NOW, NOW).expect("seal");
        assert_eq!(
            rotated.open(&token, NOW).expect("old key opens").key_index,
            1
        );
        let resealed = rotated.seal(&Map::new(), NOW, NOW).expect("seal");
        assert!(
            old.open(&resealed, NOW).is_none(),
            "new seals use the new key"
        );
        assert_eq!(rotated.open(&resealed, NOW).expect("opens").key_index, 0);
    }

    #[test]
    fn every_single_byte_change_is_refused() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let token = s.seal(&data(json!({"a": 1})), NOW, NOW).expect("seal");
        let bytes = token.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [b'A', b'-', b'.', b'_'] {
                if bytes[i] == replacement {
                    continue;
                }
                let mut changed = bytes.to_vec();
                changed[i] = replacement;
                let changed = String::from_utf8(changed).expect("ascii");
                assert!(s.open(&changed, NOW).is_none(), "byte {i} -> {replacement}");
            }
        }
    }

    #[test]
    fn debug_shows_how_many_keys_never_a_key() {
        let s = sealer(&[
            ("ARC_APP_SECRET", SECRET),
            ("ARC_APP_SECRET_PREVIOUS", "old"),
        ]);
        let shown = format!("{s:?}");
        assert!(
            shown.starts_with("SealedCookie { keys: 2, lifetime: "),
            "{shown}"
        );
        assert!(!shown.contains(SECRET), "{shown}");
    }

    #[test]
    fn an_encrypted_key_or_an_extra_part_is_refused() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let token = s.seal(&data(json!({"a": 1})), NOW, NOW).expect("seal");
        assert!(s.open(&token, NOW).is_some());
        let (header, rest) = token.split_once("..").expect("dir has an empty key");
        // `dir` carries no encrypted key, and the key part is not authenticated: refuse one.
        assert!(s.open(&format!("{header}.AAAA.{rest}"), NOW).is_none());
        assert!(s.open(&format!("{token}.extra"), NOW).is_none());
        assert!(s.open(&format!("{token}."), NOW).is_none());
    }

    #[test]
    fn other_headers_are_refused_even_when_the_key_is_right() {
        let s = sealer(&[("ARC_APP_SECRET", SECRET)]);
        let token = s.seal(&Map::new(), NOW, NOW).expect("seal");
        let rest = token.split_once('.').map(|(_, r)| r).expect("dot");
        for header in [
            r#"{"alg":"dir","enc":"A128GCM"}"#,
            r#"{"alg":"dir","enc":"XC20P"}"#,
            r#"{"alg":"none"}"#,
            r#"{"enc":"XC20P","alg":"dir","kid":"x"}"#,
        ] {
            let forged = format!("{}.{rest}", B64.encode_type::<String>(header));
            assert!(s.open(&forged, NOW).is_none(), "{header}");
        }
    }
}
