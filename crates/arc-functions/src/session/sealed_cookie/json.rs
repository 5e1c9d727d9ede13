//! The sealed cookie's plaintext, its claims as JSON, written and read without serde_json's
//! loop over every byte of every string. A session is mostly string bytes, nearly always ones
//! that need no escape, and those loops were a quarter of the instructions of a 2.8 KB round
//! trip (BENCHMARKS.md, "Session round trip"). Here a string is checked 32 bytes at a time (a
//! loop the compiler turns into vector compares) when written, found with a SIMD search for `"`
//! and `\` when read, and copied whole.
//!
//! The text is serde_json's, byte for byte: a string that needs an escape, and every number
//! but a plain unsigned one, is written or read by serde_json itself, and a plaintext the fast
//! reader does not know in every detail (spaces, other key orders, an older cookie's fields,
//! deep nesting) is read by serde_json whole. The tests hold both readers and both writers to
//! the same answers on generated values and mangled texts, and the sealed cookie's known-answer
//! test pins the format.
//!
//! Written by hand because the JSON crates that read faster (simd-json, sonic-rs) bring a parser
//! and a value type of their own into every route, and the routes' size is a target too.

use serde::Deserialize;
use serde_json::{Map, Value};

/// The claims of a sealed cookie as they are read: issued at, expiry, creation time of the
/// session (absent from the first cookies), the session, and its expiry choice.
#[derive(Debug, Deserialize, PartialEq)]
pub(super) struct Claims {
    pub(super) iat: u64,
    pub(super) exp: u64,
    #[serde(default)]
    pub(super) ctm: Option<u64>,
    pub(super) ses: Map<String, Value>,
    /// The session's own idle lifetime in seconds ([`Expiry::Idle`]); absent for the default.
    ///
    /// [`Expiry::Idle`]: crate::session::Expiry::Idle
    #[serde(default)]
    pub(super) ttl: Option<u64>,
    /// A browser-session cookie ([`Expiry::BrowserSession`]); absent when not.
    ///
    /// [`Expiry::BrowserSession`]: crate::session::Expiry::BrowserSession
    #[serde(default)]
    pub(super) bs: bool,
}

impl Claims {
    /// The claims of an opened plaintext; `None` when it is not the claims' JSON. The same
    /// answer as `serde_json::from_slice`, most of the time without it.
    pub(super) fn read(plaintext: &[u8]) -> Option<Self> {
        let mut fast = Reader {
            bytes: plaintext,
            at: 0,
        };
        fast.claims()
            .or_else(|| serde_json::from_slice(plaintext).ok())
    }
}

/// The claims around a session as they are written, in this order: `ttl` only when set, `bs`
/// only when true, so a default session seals as it always has.
pub(super) struct ClaimsRef<'a> {
    pub(super) iat: u64,
    pub(super) exp: u64,
    pub(super) ctm: u64,
    pub(super) ses: &'a Map<String, Value>,
    pub(super) ttl: Option<u64>,
    pub(super) bs: bool,
}

impl ClaimsRef<'_> {
    /// The claims' JSON text in a buffer allocated once, at about its final size.
    pub(super) fn to_vec(&self) -> serde_json::Result<Vec<u8>> {
        // Four numbers of at most 20 digits with their keys, and the session.
        let mut out = Vec::with_capacity(128 + map_size_hint(self.ses));
        out.extend_from_slice(b"{\"iat\":");
        serde_json::to_writer(&mut out, &self.iat)?;
        out.extend_from_slice(b",\"exp\":");
        serde_json::to_writer(&mut out, &self.exp)?;
        out.extend_from_slice(b",\"ctm\":");
        serde_json::to_writer(&mut out, &self.ctm)?;
        out.extend_from_slice(b",\"ses\":");
        write_map(&mut out, self.ses)?;
        if let Some(ttl) = self.ttl {
            out.extend_from_slice(b",\"ttl\":");
            serde_json::to_writer(&mut out, &ttl)?;
        }
        if self.bs {
            out.extend_from_slice(b",\"bs\":true");
        }
        out.push(b'}');
        Ok(out)
    }
}

/// About the length of `map`'s JSON text: exact for strings without escapes, 24 bytes for
/// a number (the most a `u64`, `i64` or `f64` takes).
fn map_size_hint(map: &Map<String, Value>) -> usize {
    2 + map
        .iter()
        .map(|(key, value)| key.len() + 4 + size_hint(value))
        .sum::<usize>()
}

fn size_hint(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|v| size_hint(v) + 1).sum::<usize>(),
        Value::Object(map) => map_size_hint(map),
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> serde_json::Result<()> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => serde_json::to_writer(&mut *out, n)?,
        Value::String(s) => write_str(out, s)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_map(out, map)?,
    }
    Ok(())
}

fn write_map(out: &mut Vec<u8>, map: &Map<String, Value>) -> serde_json::Result<()> {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key)?;
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    if needs_escape(s.as_bytes()) {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

/// Whether serde_json would escape any byte of `bytes`: a control character, `"` or `\`.
/// Everything else, non-ASCII text and DEL included, it writes as it is.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |b: u8| u8::from(b < 0x20) | u8::from(b == b'"') | u8::from(b == b'\\');
    let mut chunks = bytes.chunks_exact(32);
    // A chunk's flags are made then folded, with no early exit inside it: the compiler makes
    // each a few vector compares (2.9 times as fast as a fold of `bool`s, which it compiled
    // to shuffles).
    let hit = chunks.any(|chunk| {
        let mut flags = [0u8; 32];
        for (flag, &b) in flags.iter_mut().zip(chunk) {
            *flag = escaped(b);
        }
        flags.iter().fold(0, |any, &flag| any | flag) != 0
    });
    hit || chunks.remainder().iter().any(|&b| escaped(b) != 0)
}

/// How deep the fast reader follows arrays and objects before leaving the text to serde_json
/// (whose own limit is 128).
const MAX_DEPTH: usize = 64;

/// Reads exactly what [`ClaimsRef::to_vec`] writes: no space, the claims in its order. `None`
/// for anything else, which serde_json then reads (or refuses) on its own.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn claims(&mut self) -> Option<Claims> {
        self.eat(b"{\"iat\":")?;
        let iat = self.u64()?;
        self.eat(b",\"exp\":")?;
        let exp = self.u64()?;
        self.eat(b",\"ctm\":")?;
        let ctm = Some(self.u64()?);
        self.eat(b",\"ses\":")?;
        let ses = self.map(0)?;
        let ttl = match self.eat(b",\"ttl\":") {
            Some(()) => Some(self.u64()?),
            None => None,
        };
        let bs = self.eat(b",\"bs\":true").is_some();
        self.eat(b"}")?;
        (self.at == self.bytes.len()).then_some(Claims {
            iat,
            exp,
            ctm,
            ses,
            ttl,
            bs,
        })
    }

    fn eat(&mut self, text: &[u8]) -> Option<()> {
        let rest = self.bytes.get(self.at..)?;
        rest.starts_with(text).then(|| self.at += text.len())
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// A plain unsigned number that fits a `u64`: `0` or a first digit that is not `0`, as JSON
    /// has it, and no fraction or exponent (those, and larger numbers, go to serde_json).
    fn u64(&mut self) -> Option<u64> {
        let rest = &self.bytes[self.at..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 20 || (digits > 1 && rest[0] == b'0') {
            return None;
        }
        if matches!(rest.get(digits), Some(b'.' | b'e' | b'E' | b'-' | b'+')) {
            return None;
        }
        let n = rest[..digits].iter().try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })?;
        self.at += digits;
        Some(n)
    }

    fn value(&mut self, depth: usize) -> Option<Value> {
        Some(match self.peek()? {
            b'"' => Value::String(self.string()?),
            b'{' => Value::Object(self.map(depth + 1)?),
            b'[' => {
                if depth + 1 > MAX_DEPTH {
                    return None;
                }
                self.at += 1;
                let mut items = Vec::new();
                if self.eat(b"]").is_none() {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b"]").is_some() {
                            break;
                        }
                        self.eat(b",")?;
                    }
                }
                Value::Array(items)
            }
            b'n' => self.eat(b"null").map(|()| Value::Null)?,
            b't' => self.eat(b"true").map(|()| Value::Bool(true))?,
            b'f' => self.eat(b"false").map(|()| Value::Bool(false))?,
            _ => match self.u64() {
                Some(n) => Value::from(n),
                None => self.number()?,
            },
        })
    }

    /// Any other number, read by serde_json from the run of characters a number can have. A
    /// run that is no number, or is one followed by more, fails here or at the next byte.
    fn number(&mut self) -> Option<Value> {
        let rest = &self.bytes[self.at..];
        let len = rest
            .iter()
            .take_while(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .count();
        let number = serde_json::from_slice::<serde_json::Number>(&rest[..len]).ok()?;
        self.at += len;
        Some(Value::Number(number))
    }

    fn map(&mut self, depth: usize) -> Option<Map<String, Value>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b"{")?;
        let mut map = Map::new();
        if self.eat(b"}").is_some() {
            return Some(map);
        }
        loop {
            let key = self.string()?;
            self.eat(b":")?;
            let value = self.value(depth)?;
            // A repeated key keeps its last value, as serde_json's reading keeps it.
            map.insert(key, value);
            if self.eat(b"}").is_some() {
                return Some(map);
            }
            self.eat(b",")?;
        }
    }

    /// A string: the closing quote found by a SIMD search for `"` and `\`. Without escapes
    /// (nearly always) it is checked for control characters and UTF-8 and copied whole; with
    /// them, serde_json reads the string from quote to quote.
    fn string(&mut self) -> Option<String> {
        let start = self.at;
        self.eat(b"\"")?;
        let mut escaped = false;
        let end = loop {
            let found = self.at + memchr::memchr2(b'"', b'\\', &self.bytes[self.at..])?;
            if self.bytes[found] == b'"' {
                break found;
            }
            escaped = true;
            // The escaped character is never the closing quote; serde_json checks the escape.
            self.at = found + 2;
            if self.at > self.bytes.len() {
                return None;
            }
        };
        self.at = end + 1;
        if escaped {
            return serde_json::from_slice(&self.bytes[start..self.at]).ok();
        }
        let text = &self.bytes[start + 1..end];
        // Without `"` and `\` (the search stopped at neither), only a control character, which
        // JSON does not allow unescaped, would need an escape.
        if needs_escape(text) {
            return None;
        }
        std::str::from_utf8(text).ok().map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn written(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, value).expect("writes");
        out
    }

    #[test]
    fn every_byte_is_escaped_as_serde_json_escapes_it() {
        for b in 0..=0x7fu8 {
            let s = format!("{}{}x", "a".repeat(usize::from(b % 19)), char::from(b));
            let value = Value::String(s);
            assert_eq!(
                written(&value),
                serde_json::to_vec(&value).expect("json"),
                "{b:#x}"
            );
            assert_eq!(
                needs_escape(&[b]),
                b < 0x20 || b == b'"' || b == b'\\',
                "{b:#x}"
            );
        }
        // An escape in the last full chunk, in the remainder, and none in a long text.
        for s in [
            format!("{}\"{}", "x".repeat(15), "y".repeat(20)),
            format!("{}\n", "x".repeat(40)),
            "é€😀\u{7f}".repeat(30),
        ] {
            let value = Value::String(s);
            assert_eq!(written(&value), serde_json::to_vec(&value).expect("json"));
        }
    }

    #[test]
    fn claims_are_written_as_serde_json_writes_them() {
        #[derive(serde::Serialize)]
        struct Reference<'a> {
            iat: u64,
            exp: u64,
            ctm: u64,
            ses: &'a Map<String, Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            ttl: Option<u64>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            bs: bool,
        }
        let Value::Object(ses) = json!({"user": "ann", "n": -1.5e300, "a": [null, true, {}]})
        else {
            unreachable!("an object")
        };
        for (ttl, bs) in [
            (None, false),
            (Some(60), false),
            (None, true),
            (Some(u64::MAX), true),
        ] {
            let claims = ClaimsRef {
                iat: 1,
                exp: u64::MAX,
                ctm: 0,
                ses: &ses,
                ttl,
                bs,
            };
            let reference = Reference {
                iat: 1,
                exp: u64::MAX,
                ctm: 0,
                ses: &ses,
                ttl,
                bs,
            };
            assert_eq!(
                String::from_utf8(claims.to_vec().expect("writes")).expect("text"),
                serde_json::to_string(&reference).expect("json")
            );
        }
    }

    fn any_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<String>().prop_map(Value::String),
            "[ -~\\n\"\\\\]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::btree_map(any::<String>(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn any_claims() -> impl Strategy<Value = (u64, u64, u64, Map<String, Value>, Option<u64>, bool)>
    {
        let ses = prop::collection::btree_map(any::<String>(), any_value(), 0..6)
            .prop_map(|m| m.into_iter().collect::<Map<String, Value>>());
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            ses,
            any::<Option<u64>>(),
            any::<bool>(),
        )
    }

    fn text_of(c: &(u64, u64, u64, Map<String, Value>, Option<u64>, bool)) -> Vec<u8> {
        ClaimsRef {
            iat: c.0,
            exp: c.1,
            ctm: c.2,
            ses: &c.3,
            ttl: c.4,
            bs: c.5,
        }
        .to_vec()
        .expect("writes")
    }

    /// What the reader must answer: serde_json's reading.
    fn by_serde(text: &[u8]) -> Option<Claims> {
        serde_json::from_slice(text).ok()
    }

    /// `text` with byte `i` changed in each way that could turn it into other JSON or none.
    fn mangled(text: &[u8], i: usize) -> Vec<Vec<u8>> {
        let mut all = vec![text[..i].to_vec()];
        let mut dropped = text.to_vec();
        dropped.remove(i);
        all.push(dropped);
        for b in *br#"0-.e"\}],: x"# {
            let mut changed = text.to_vec();
            changed[i] = b;
            all.push(changed);
        }
        for b in [0x01, 0xff, 0xc3] {
            let mut changed = text.to_vec();
            changed[i] = b;
            all.push(changed);
        }
        all
    }

    #[test]
    fn mangled_claims_read_as_serde_json_reads_them() {
        let ses = json!({"user": "ann", "q": "a \"b\" \\ c\n", "n": [1, -2, 3.5, 1e300, 18446744073709551616u128 as f64],
            "deep": {"a": [[{}], [], null, true, false]}, "": 0, "é": "😀"});
        let Value::Object(ses) = ses else {
            unreachable!("an object")
        };
        for (ttl, bs) in [(None, false), (Some(60), true)] {
            let text = text_of(&(
                1_790_000_000,
                1_790_604_800,
                1_789_999_990,
                ses.clone(),
                ttl,
                bs,
            ));
            assert_eq!(Claims::read(&text), by_serde(&text));
            assert!(
                Reader {
                    bytes: &text,
                    at: 0
                }
                .claims()
                .is_some(),
                "the fast path"
            );
            for i in 0..text.len() {
                for m in mangled(&text, i) {
                    assert_eq!(
                        Claims::read(&m),
                        by_serde(&m),
                        "{:?}",
                        String::from_utf8_lossy(&m)
                    );
                }
            }
        }
    }

    #[test]
    fn other_shapes_are_left_to_serde_json() {
        for text in [
            // The first cookies had no `ctm`; spaces; another order; `bs` false; unknown keys.
            r#"{"iat":1,"exp":2,"ses":{}}"#,
            r#"{ "iat": 1, "exp": 2, "ctm": 3, "ses": { "a": [ 1 ] } }"#,
            r#"{"ses":{},"exp":2,"iat":1,"ctm":3}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{},"bs":false}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{},"new":[1]}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{"a":1,"a":2}}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{"a":-0,"b":01}}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{"a":-0}}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{"a":"\ud800"}}"#,
            r#"{"iat":1.0,"exp":2,"ctm":3,"ses":{}}"#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{}} "#,
            r#"{"iat":1,"exp":2,"ctm":3,"ses":{}}x"#,
        ] {
            assert_eq!(
                Claims::read(text.as_bytes()),
                by_serde(text.as_bytes()),
                "{text}"
            );
        }
        let deep = format!(
            r#"{{"iat":1,"exp":2,"ctm":3,"ses":{{"a":{}{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert_eq!(
            Claims::read(deep.as_bytes()),
            None,
            "serde_json's depth limit"
        );
        let deep = format!(
            r#"{{"iat":1,"exp":2,"ctm":3,"ses":{{"a":{}{}}}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(Claims::read(deep.as_bytes()).is_some());
    }

    proptest! {
        #[test]
        fn any_value_is_written_as_serde_json_writes_it(value in any_value()) {
            prop_assert_eq!(written(&value), serde_json::to_vec(&value).expect("json"));
        }

        #[test]
        fn any_claims_are_read_back_by_the_fast_path(claims in any_claims()) {
            let text = text_of(&claims);
            let read = Reader { bytes: &text, at: 0 }.claims();
            prop_assert!(read.is_some(), "the fast path reads what the writer writes");
            prop_assert_eq!(read, by_serde(&text));
        }

        #[test]
        fn mangled_texts_read_as_serde_json_reads_them(
            claims in any_claims(),
            at in any::<prop::sample::Index>(),
            edit in 0usize..13,
        ) {
            let text = text_of(&claims);
            let i = at.index(text.len());
            let m = &mangled(&text, i)[edit];
            prop_assert_eq!(Claims::read(m), by_serde(m));
        }
    }
}
