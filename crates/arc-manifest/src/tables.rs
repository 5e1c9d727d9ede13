//! `@tables`: DynamoDB tables and their keys.

use crate::Entry;

/// A DynamoDB table declared under `@tables`.
///
/// Its properties are `name *Type` for the partition key, `name **Type` for the sort key and
/// `name TTL` for the expiry attribute; any other property (`stream true`, `encrypt true`,
/// `PITR true`, ...) is kept in [`Table::options`].
///
/// # Examples
///
/// ```
/// use arc_manifest::{Key, KeyType, Manifest};
///
/// let manifest = Manifest::parse(
///     "@app\nnotes\n@tables\nnotes\n  owner *String\n  created **Number\n  stream true\n",
/// )?;
/// let notes = &manifest.tables[0];
/// assert_eq!(notes.sort_key, Some(Key { name: "created".into(), kind: KeyType::Number }));
/// assert_eq!(notes.ttl, None);
/// assert_eq!(notes.options[0].values, ["stream", "true"]);
/// # Ok::<(), arc_manifest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The logical name (the deployed table's name adds the app and stage).
    pub name: String,
    /// The partition (hash) key, marked `*`.
    pub partition_key: Key,
    /// The sort (range) key, marked `**`.
    pub sort_key: Option<Key>,
    /// The attribute DynamoDB expires items by, marked `TTL`.
    pub ttl: Option<String>,
    /// The table's other properties, as written.
    pub options: Vec<Entry>,
}

/// A table's key attribute.
///
/// # Examples
///
/// ```
/// use arc_manifest::{Key, KeyType, Manifest};
///
/// let manifest = Manifest::parse("@app\na\n@tables\nsession\n  _idx *String\n")?;
/// assert_eq!(manifest.tables[0].partition_key, Key { name: "_idx".into(), kind: KeyType::String });
/// # Ok::<(), arc_manifest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    /// The attribute's name.
    pub name: String,
    /// The attribute's type.
    pub kind: KeyType,
}

/// The type of a key attribute: what follows `*` or `**`, case-insensitively.
///
/// # Examples
///
/// ```
/// use arc_manifest::{KeyType, Manifest};
///
/// // A bare `*` means `*String`, as in Architect.
/// let manifest = Manifest::parse("@app\na\n@tables\nhits\n  day *\n  count **Number\n")?;
/// assert_eq!(manifest.tables[0].partition_key.kind, KeyType::String);
/// assert_eq!(manifest.tables[0].sort_key.as_ref().map(|k| k.kind), Some(KeyType::Number));
/// # Ok::<(), arc_manifest::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `String` (DynamoDB `S`).
    String,
    /// `Number` (DynamoDB `N`).
    Number,
}

impl KeyType {
    pub(crate) fn from_arc(kind: &str) -> Option<Self> {
        if kind.is_empty() || kind.eq_ignore_ascii_case("string") {
            Some(Self::String)
        } else if kind.eq_ignore_ascii_case("number") {
            Some(Self::Number)
        } else {
            None
        }
    }
}
