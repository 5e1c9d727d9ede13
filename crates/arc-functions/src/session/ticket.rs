//! Socket tickets: how a page's WebSocket finds its session when the socket is on another host.
//!
//! Deployed, API Gateway serves the page and the WebSocket API on two hosts, and the browser
//! sends the page's cookie only to the page's host. So the page's own request mints a ticket
//! ([`SessionStore::socket_ticket`](super::SessionStore::socket_ticket)), the page opens the
//! socket with it in the query string (browsers cannot set headers on a WebSocket), and
//! `$connect` redeems it.
//!
//! A ticket is `t1.` and the base64url of a 24-byte nonce and the XChaCha20-Poly1305 sealing of
//! `{"sid": <session record>, "org": <origin>, "exp": <expiry>}`, under a key derived from the
//! app secret for tickets alone (so no cookie, CSRF token or other app's ticket opens as one),
//! with the purpose label as additional data. It names the session record it is for and the
//! origin of the page that asked for it, and expires [`TICKET_LIFETIME`] seconds after it was
//! minted. Redeeming also spends it, once, through a conditional write in the session table
//! (see [`SessionStore::redeem_ticket`](super::SessionStore::redeem_ticket)): a ticket that
//! leaks through a log or a proxy after the page used it opens nothing.

use base64_simd::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};

use super::Error;
use super::sealed_cookie::CLOCK_SKEW;
use crate::config::normalize_origin;
use crate::keys::{self, Keyring};

/// How long a ticket opens, in seconds: a page asks for one just before it connects, and a
/// minute covers a slow start of `$connect`'s function without leaving a leaked ticket useful
/// for long (and it is single use besides).
///
/// # Examples
///
/// ```
/// use arc_functions::config::DEFAULT_TTL;
/// use arc_functions::http::session::TICKET_LIFETIME;
///
/// // A minute, far short of the session it opens.
/// assert_eq!(TICKET_LIFETIME, 60);
/// assert!(TICKET_LIFETIME < DEFAULT_TTL);
/// ```
pub const TICKET_LIFETIME: u64 = 60;

/// The version prefix; a ticket of another format is refused before any decryption.
const PREFIX: &str = "t1.";
/// Bound as additional data: the purpose, so the ciphertext of one purpose never opens as
/// another even under a key someone shares by mistake.
const PURPOSE: &[u8] = b"arc-functions socket ticket v1";
const NONCE_LEN: usize = 24;
/// Tickets longer than this are not ours: refused before decoding.
const MAX_LEN: usize = 2048;

#[derive(Serialize, Deserialize)]
struct Claims {
    sid: String,
    org: String,
    exp: u64,
}

/// Why a ticket gave no session; what `$connect` logs (never the ticket itself).
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::Refusal;
/// assert_eq!(Refusal::Expired.to_string(), "the ticket has expired");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Not shaped like a ticket of this version.
    #[error("the ticket is malformed")]
    Malformed,
    /// Does not open under this app's ticket keys: tampered, sealed for another purpose or by
    /// another app.
    #[error(
        "the ticket does not open with this app's ticket keys (tampered, another purpose or another app)"
    )]
    Unreadable,
    /// Past its lifetime.
    #[error("the ticket has expired")]
    Expired,
    /// Presented by a page of another origin than the one it was minted for (or with no
    /// `Origin` at all).
    #[error("the ticket was issued for another origin")]
    OtherOrigin,
    /// Already redeemed once.
    #[error("the ticket was already used")]
    Replayed,
    /// Its session was destroyed, regenerated or expired since.
    #[error("the ticket's session has ended")]
    SessionEnded,
    /// Sessions are sealed in the cookie: there is no session record to name.
    #[error("tickets need sessions kept in DynamoDB (SESSION_TABLE_NAME)")]
    CookieSessions,
}

/// An opened ticket: the session record it names, and what spends it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Opened {
    /// The session record's id.
    pub(crate) record: String,
    /// The ticket's own id (its nonce, base64url), under which it is spent.
    pub(crate) id: String,
    /// When it expires, for the spent marker's own expiry.
    pub(crate) expires: u64,
}

/// Seals and opens tickets; keys derived once, at cold start.
pub(crate) struct Tickets {
    /// `[0]` seals; all open (a ticket minted just before a key rotation still opens).
    ciphers: Vec<XChaCha20Poly1305>,
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tickets({} keys, REDACTED)", self.ciphers.len())
    }
}

impl Tickets {
    pub(crate) fn new(keyring: &Keyring) -> Self {
        Self {
            ciphers: keyring
                .all()
                .iter()
                .map(|k| XChaCha20Poly1305::new(&k.ticket.into()))
                .collect(),
        }
    }

    /// A ticket for the session stored under `record`, to be redeemed from `origin`.
    pub(crate) fn mint(&self, record: &str, origin: &str, now: u64) -> Result<String, Error> {
        self.mint_with_nonce(record, origin, now, keys::random()?)
    }

    /// The seam for tests: everything but the nonce's source is the real path.
    pub(crate) fn mint_with_nonce(
        &self,
        record: &str,
        origin: &str,
        now: u64,
        nonce: [u8; NONCE_LEN],
    ) -> Result<String, Error> {
        let claims = Claims {
            sid: record.to_owned(),
            org: normalize_origin(origin),
            exp: now + TICKET_LIFETIME,
        };
        let plaintext = serde_json::to_vec(&claims).map_err(Error::Json)?;
        let sealed = self.ciphers[0]
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: PURPOSE,
                },
            )
            .map_err(|_| Error::Seal)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        let mut ticket = String::from(PREFIX);
        B64.encode_append(&bytes, &mut ticket);
        Ok(ticket)
    }

    /// Opens `ticket` presented from `origin` (the upgrade's `Origin` header) at `now`. Does
    /// not spend it: the store does, once this succeeds.
    pub(crate) fn open(
        &self,
        ticket: &str,
        origin: Option<&str>,
        now: u64,
    ) -> Result<Opened, Refusal> {
        let encoded = ticket
            .strip_prefix(PREFIX)
            .filter(|t| t.len() <= MAX_LEN)
            .ok_or(Refusal::Malformed)?;
        let bytes = B64.decode_to_vec(encoded).map_err(|_| Refusal::Malformed)?;
        if bytes.len() <= NONCE_LEN {
            return Err(Refusal::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| Refusal::Malformed)?;
        let payload = || Payload {
            msg: sealed,
            aad: PURPOSE,
        };
        let (position, plaintext) = self
            .ciphers
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.decrypt(&nonce, payload()).ok().map(|p| (i, p)))
            .ok_or(Refusal::Unreadable)?;
        keys::note_previous_secret(position);
        let claims: Claims = serde_json::from_slice(&plaintext).map_err(|_| Refusal::Unreadable)?;
        // A ticket cannot be minted further ahead than its lifetime: more is a clock gone wrong.
        if claims.exp <= now || claims.exp > now + TICKET_LIFETIME + CLOCK_SKEW {
            return Err(Refusal::Expired);
        }
        if origin.map(normalize_origin).as_deref() != Some(claims.org.as_str()) {
            return Err(Refusal::OtherOrigin);
        }
        Ok(Opened {
            record: claims.sid,
            id: B64.encode_to_string(nonce),
            expires: claims.exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const ORIGIN: &str = "https://app.example.com";
    const RECORD: &str = "aBcDeFgHiJkLmNoPqRsTuVwXyZ012345";

    fn tickets(secrets: &[(&str, &str)]) -> Tickets {
        let vars = secrets.iter().copied().chain([("ARC_ENV", "testing")]);
        Tickets::new(&Keyring::new(&Config::from_vars(vars).expect("config")))
    }

    fn ours() -> Tickets {
        tickets(&[("ARC_APP_SECRET", "ticket test secret of 32 bytes or more")])
    }

    #[test]
    fn a_ticket_opens_from_its_origin_within_its_lifetime() {
        let now = keys::now();
        let t = ours().mint(RECORD, ORIGIN, now).expect("minted");
        assert!(t.starts_with("t1."), "{t}");
        let opened = ours().open(&t, Some(ORIGIN), now).expect("opens");
        assert_eq!(opened.record, RECORD);
        assert_eq!(opened.expires, now + TICKET_LIFETIME);
        assert_eq!(opened.id.len(), 32, "the nonce, base64url");
        // The browser's own spelling of the origin is the same origin.
        assert!(
            ours()
                .open(&t, Some("HTTPS://APP.example.com:443"), now)
                .is_ok()
        );
        assert!(
            ours()
                .open(&t, Some(ORIGIN), now + TICKET_LIFETIME - 1)
                .is_ok()
        );
    }

    #[test]
    fn two_tickets_for_one_session_differ_and_have_their_own_ids() {
        let now = keys::now();
        let (a, b) = (
            ours().mint(RECORD, ORIGIN, now).expect("minted"),
            ours().mint(RECORD, ORIGIN, now).expect("minted"),
        );
        assert_ne!(a, b);
        let id = |t: &str| ours().open(t, Some(ORIGIN), now).expect("opens").id;
        assert_ne!(id(&a), id(&b));
    }

    #[test]
    fn expired_and_future_tickets_are_refused() {
        let now = keys::now();
        let t = ours().mint(RECORD, ORIGIN, now).expect("minted");
        for later in [TICKET_LIFETIME, TICKET_LIFETIME + 1, 3600] {
            assert_eq!(
                ours().open(&t, Some(ORIGIN), now + later),
                Err(Refusal::Expired),
                "{later} s later"
            );
        }
        let ahead = now + TICKET_LIFETIME + CLOCK_SKEW + 1;
        let future = ours().mint(RECORD, ORIGIN, ahead).expect("minted");
        assert_eq!(
            ours().open(&future, Some(ORIGIN), now),
            Err(Refusal::Expired)
        );
        let slightly = ours().mint(RECORD, ORIGIN, now + 5).expect("minted");
        assert!(ours().open(&slightly, Some(ORIGIN), now).is_ok(), "skew");
        // The skew allowed, to the second.
        let edge = ours()
            .mint(RECORD, ORIGIN, now + CLOCK_SKEW)
            .expect("minted");
        assert!(ours().open(&edge, Some(ORIGIN), now).is_ok(), "at the skew");
        let past_edge = ours()
            .mint(RECORD, ORIGIN, now + CLOCK_SKEW + 1)
            .expect("minted");
        assert_eq!(
            ours().open(&past_edge, Some(ORIGIN), now),
            Err(Refusal::Expired),
            "a second past it"
        );
    }

    #[test]
    fn another_origin_or_none_is_refused() {
        let now = keys::now();
        let t = ours().mint(RECORD, ORIGIN, now).expect("minted");
        for origin in [
            Some("https://evil.example"),
            Some("http://app.example.com"),
            Some("https://app.example.com:8443"),
            Some("https://sub.app.example.com"),
            Some("null"),
            None,
        ] {
            assert_eq!(
                ours().open(&t, origin, now),
                Err(Refusal::OtherOrigin),
                "{origin:?}"
            );
        }
    }

    #[test]
    fn any_changed_byte_is_refused() {
        let now = keys::now();
        let t = ours().mint(RECORD, ORIGIN, now).expect("minted");
        for i in PREFIX.len()..t.len() {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).expect("ascii");
            let refused = ours().open(&tampered, Some(ORIGIN), now);
            assert!(
                matches!(refused, Err(Refusal::Unreadable | Refusal::Malformed)),
                "byte {i}: {refused:?}"
            );
        }
        for garbled in [
            "",
            "t1.",
            "t1.AAAA",
            "t2.abc",
            "t1.%%%",
            &"t1.A".repeat(1000),
        ] {
            assert_eq!(
                ours().open(garbled, Some(ORIGIN), now),
                Err(Refusal::Malformed),
                "{garbled:.20}"
            );
        }
        let truncated = &t[..t.len() - 3];
        assert!(ours().open(truncated, Some(ORIGIN), now).is_err());
    }

    #[test]
    fn another_purpose_or_another_app_does_not_open() {
        let now = keys::now();
        // The same bytes sealed under the same secret's cookie key: another purpose.
        let keyring = Keyring::new(
            &Config::from_vars([
                ("ARC_ENV", "testing"),
                ("ARC_APP_SECRET", "ticket test secret of 32 bytes or more"),
            ])
            .expect("config"),
        );
        let cookie_key = XChaCha20Poly1305::new(&keyring.current().seal.into());
        let claims =
            serde_json::to_vec(&serde_json::json!({"sid": RECORD, "org": ORIGIN, "exp": now + 30}))
                .expect("json");
        let nonce = [7u8; NONCE_LEN];
        let sealed = cookie_key
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: &claims,
                    aad: PURPOSE,
                },
            )
            .expect("sealed");
        let forged = format!(
            "{PREFIX}{}",
            B64.encode_to_string([&nonce[..], &sealed].concat())
        );
        assert_eq!(
            ours().open(&forged, Some(ORIGIN), now),
            Err(Refusal::Unreadable)
        );
        // Another app's ticket.
        let theirs = tickets(&[("ARC_APP_SECRET", "another app's secret of 32+ bytes")])
            .mint(RECORD, ORIGIN, now)
            .expect("minted");
        assert_eq!(
            ours().open(&theirs, Some(ORIGIN), now),
            Err(Refusal::Unreadable)
        );
        // A sealed session cookie is no ticket either.
        let cookie = format!("{PREFIX}eyJhbGciOiJkaXIiLCJlbmMiOiJYQzIwUCJ9..AAAA.BBBB.CCCC");
        assert!(ours().open(&cookie, Some(ORIGIN), now).is_err());
    }

    #[test]
    fn a_ticket_minted_before_a_rotation_still_opens() {
        let now = keys::now();
        let before = tickets(&[("ARC_APP_SECRET", "the old secret of thirty-two bytes+")])
            .mint(RECORD, ORIGIN, now)
            .expect("minted");
        let rotated = tickets(&[
            ("ARC_APP_SECRET", "the new secret of thirty-two bytes+"),
            (
                "ARC_APP_SECRET_PREVIOUS",
                "the old secret of thirty-two bytes+",
            ),
        ]);
        assert_eq!(
            rotated.open(&before, Some(ORIGIN), now).map(|o| o.record),
            Ok(RECORD.to_owned())
        );
        let fresh = rotated.mint(RECORD, ORIGIN, now).expect("minted");
        let old_only = tickets(&[("ARC_APP_SECRET", "the old secret of thirty-two bytes+")]);
        assert_eq!(
            old_only.open(&fresh, Some(ORIGIN), now),
            Err(Refusal::Unreadable),
            "the current key seals"
        );
    }

    #[test]
    fn known_answer_ticket_still_opens() {
        // The format is fixed: a ticket minted with a fixed nonce must keep its bytes.
        let t = ours()
            .mint_with_nonce(RECORD, ORIGIN, 1_800_000_000, [1; NONCE_LEN])
            .expect("minted");
        let again = ours()
            .mint_with_nonce(RECORD, ORIGIN, 1_800_000_000, [1; NONCE_LEN])
            .expect("minted");
        assert_eq!(t, again);
        assert!(t.starts_with("t1.AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB"), "{t}");
        let opened = ours().open(&t, Some(ORIGIN), 1_800_000_000).expect("opens");
        assert_eq!(opened.record, RECORD);
    }

    #[test]
    fn origins_compare_as_browsers_write_them() {
        assert_eq!(normalize_origin("http://LOCALHOST:80"), "http://localhost");
        assert_eq!(normalize_origin("https://a.b:444"), "https://a.b:444");
        assert_eq!(normalize_origin(" https://a.b/ "), "https://a.b");
        assert_eq!(normalize_origin("http://a.b:443"), "http://a.b:443");
        assert_eq!(format!("{:?}", ours()), "Tickets(1 keys, REDACTED)");
    }
}
