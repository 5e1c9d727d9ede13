//! Architect's `app.arc` manifest, parsed into a typed [`Manifest`].
//!
//! The format, as read by `@architect/parser`:
//!
//! - a line starting with `@` opens a section (a *pragma*), e.g. `@http`;
//! - every other line is an *entry* of the section above it, split on whitespace into values
//!   (a value may be quoted with `"`, `'` or `` ` `` to hold spaces or `#`);
//! - a line indented two spaces deeper than the one above is a *property* of that line
//!   (a tab counts as two spaces);
//! - `#` starts a comment that runs to the end of the line; blank lines are ignored.
//!
//! `@app`, `@http`, `@tables` and `@ws` are read into typed fields. Every other pragma is kept
//! as written, in [`Manifest::pragmas`], so a manifest using pragmas this crate does not know
//! still parses. [`ws_routes`] and [`ws_function`] name the WebSocket routes an `@ws` section
//! gives and their functions, for every tool that needs them (cargo-arc, the local WebSocket
//! gateway).
//!
//! # Examples
//!
//! ```
//! use arc_manifest::{KeyType, Manifest, Method};
//!
//! let manifest: Manifest = "
//! @app
//! bigsesh
//!
//! @http
//! get /
//! post /count   # increments the counter
//!
//! @tables
//! session
//!   _idx *String
//!   _ttl TTL
//! "
//! .parse()?;
//!
//! assert_eq!(manifest.app, "bigsesh");
//! assert_eq!(manifest.http[1].method, Method::Post);
//! assert_eq!(manifest.http[1].handler_name(), "post-count");
//! let session = manifest.table("session").expect("declared above");
//! assert_eq!(session.partition_key.name, "_idx");
//! assert_eq!(session.partition_key.kind, KeyType::String);
//! assert_eq!(session.ttl.as_deref(), Some("_ttl"));
//! # Ok::<(), arc_manifest::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A parsed `app.arc` manifest.
///
/// # Examples
///
/// ```
/// use arc_manifest::Manifest;
///
/// let manifest = Manifest::parse("@app\nbigsesh\n\n@ws\n\n@static\nfolder public\n")?;
/// assert_eq!(manifest.app, "bigsesh");
/// assert!(manifest.http.is_empty());
/// assert_eq!(manifest.ws, Some(vec![]));
/// assert_eq!(manifest.pragmas["static"][0].values, ["folder", "public"]);
/// # Ok::<(), arc_manifest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The app's name, from `@app`.
    pub app: String,
    /// The `@http` routes, in the order they are declared.
    pub http: Vec<Route>,
    /// The `@tables` DynamoDB tables, in the order they are declared.
    pub tables: Vec<Table>,
    /// The `@ws` section: `None` without one, otherwise its custom route names (empty when only
    /// the default `connect`, `disconnect` and `default` routes are used).
    pub ws: Option<Vec<String>>,
    /// Every other pragma, by name without the `@`, with its entries as written.
    pub pragmas: BTreeMap<String, Vec<Entry>>,
}

impl Manifest {
    /// Parses the text of an `app.arc` file.
    ///
    /// # Errors
    ///
    /// Returns an [`Error`] naming the 1-based line at fault when the text is not a valid
    /// manifest: no `@app`, an entry before the first pragma, bad indentation, an unknown HTTP
    /// method, a path not starting with `/`, a repeated pragma, route or table, or a table
    /// without a partition key.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::{Error, Manifest};
    ///
    /// let manifest = Manifest::parse("@app\nbigsesh\n@http\nget /\n")?;
    /// assert_eq!(manifest.http[0].to_string(), "get /");
    ///
    /// let err = Manifest::parse("@app\nbigsesh\n@http\nfetch /\n").unwrap_err();
    /// assert_eq!(err.line(), Some(4));
    /// assert!(matches!(err, Error::UnknownMethod { .. }));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn parse(src: &str) -> Result<Self, Error> {
        let mut app = None;
        let mut http = Vec::new();
        let mut tables = Vec::new();
        let mut ws = None;
        let mut pragmas = BTreeMap::new();
        // Sections are unique (checked while reading them), so each arm runs at most once.
        for section in sections(src)? {
            match section.name.as_str() {
                "app" => app = Some(parse_app(section.line, section.entries)?),
                "http" => http = parse_http(section.entries)?,
                "tables" => tables = parse_tables(section.entries)?,
                "ws" => ws = Some(parse_ws(section.entries)?),
                _ => {
                    pragmas.insert(section.name, section.entries);
                }
            }
        }
        Ok(Self {
            app: app.ok_or(Error::MissingApp { line: None })?,
            http,
            tables,
            ws,
            pragmas,
        })
    }

    /// The table declared under `@tables` with this name, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Manifest;
    ///
    /// let manifest = Manifest::parse("@app\nbigsesh\n@tables\nsession\n  _idx *String\n")?;
    /// assert_eq!(manifest.table("session").map(|t| t.partition_key.name.as_str()), Some("_idx"));
    /// assert!(manifest.table("notes").is_none());
    /// # Ok::<(), arc_manifest::Error>(())
    /// ```
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|table| table.name == name)
    }
}

impl FromStr for Manifest {
    type Err = Error;

    fn from_str(src: &str) -> Result<Self, Error> {
        Self::parse(src)
    }
}

/// One line of a section, with the lines indented beneath it.
///
/// # Examples
///
/// ```
/// use arc_manifest::Manifest;
///
/// let manifest = Manifest::parse("@app\nbigsesh\n@aws\nregion us-west-2\n  # comment\n")?;
/// let region = &manifest.pragmas["aws"][0];
/// assert_eq!(region.line, 4);
/// assert_eq!(region.values, ["region", "us-west-2"]);
/// assert!(region.properties.is_empty());
/// # Ok::<(), arc_manifest::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The 1-based line the entry is on.
    pub line: usize,
    /// The whitespace-separated values on the line, unquoted, without any comment.
    pub values: Vec<String>,
    /// The lines indented one level beneath this one.
    pub properties: Vec<Entry>,
}

/// An HTTP method an `@http` route can answer.
///
/// # Examples
///
/// ```
/// use arc_manifest::Method;
///
/// assert_eq!(Method::Delete.as_str(), "delete");
/// assert_eq!(Method::ALL.len(), 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `get`
    Get,
    /// `post`
    Post,
    /// `put`
    Put,
    /// `patch`
    Patch,
    /// `delete`
    Delete,
    /// `options`
    Options,
    /// `head`
    Head,
    /// `any`: every method not routed elsewhere.
    Any,
}

impl Method {
    /// Every method, in Architect's order (`any` last).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Method;
    ///
    /// assert_eq!(Method::ALL.last(), Some(&Method::Any));
    /// ```
    pub const ALL: [Self; 8] = [
        Self::Get,
        Self::Post,
        Self::Put,
        Self::Patch,
        Self::Delete,
        Self::Options,
        Self::Head,
        Self::Any,
    ];

    /// The method as written in `app.arc`: lowercase.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Method;
    ///
    /// assert_eq!(Method::Options.as_str(), "options");
    /// assert_eq!(Method::Get.to_string(), "get");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Options => "options",
            Self::Head => "head",
            Self::Any => "any",
        }
    }

    /// The method named `method`, in any case (Architect lowercases methods before checking
    /// them, so `GET /` is accepted too); `None` for a name that is not in [`Method::ALL`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Method;
    ///
    /// assert_eq!(Method::from_name("GET"), Some(Method::Get));
    /// assert_eq!(Method::from_name("any"), Some(Method::Any));
    /// assert_eq!(Method::from_name("fetch"), None);
    /// ```
    pub fn from_name(method: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|known| known.as_str().eq_ignore_ascii_case(method))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `@http` route: a method and a path such as `/notes/:id` or `/files/*`.
///
/// # Examples
///
/// ```
/// use arc_manifest::{Method, Route};
///
/// let route = Route { method: Method::Get, path: "/notes/:id".into() };
/// assert_eq!(route.to_string(), "get /notes/:id");
/// assert_eq!(route.handler_name(), "get-notes-000id");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path, starting with `/`; `:name` parts are parameters and a final `*` a catchall.
    pub path: String,
}

impl Route {
    /// The name Architect gives the route's function (and its `src/http/` folder).
    ///
    /// Following `@architect/inventory`'s `getLambdaName`: the root path is `index`; otherwise
    /// `-` and `.` become `_`, `/` becomes `-`, the `:` of a parameter becomes `000` and a
    /// catchall `*` becomes `catchall`. The mapping is lossy (`/a-b` and `/a_b` collide).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::{Method, Route};
    ///
    /// let name = |method, path: &str| Route { method, path: path.into() }.handler_name();
    /// assert_eq!(name(Method::Get, "/"), "get-index");
    /// assert_eq!(name(Method::Post, "/count"), "post-count");
    /// assert_eq!(name(Method::Get, "/notes/:id"), "get-notes-000id");
    /// assert_eq!(name(Method::Any, "/*"), "any-catchall");
    /// assert_eq!(name(Method::Get, "/style-guide.html"), "get-style_guide_html");
    /// ```
    pub fn handler_name(&self) -> String {
        let mut name = String::from(self.method.as_str());
        if self.path == "/" {
            name.push_str("-index");
            return name;
        }
        // Architect's `.replace(/\*/, 'catchall')` has no `g` flag: only the first `*` changes.
        let mut catchall = false;
        for c in self.path.chars() {
            match c {
                '-' | '.' => name.push('_'),
                '/' => name.push('-'),
                ':' => name.push_str("000"),
                '*' if !catchall => {
                    name.push_str("catchall");
                    catchall = true;
                }
                c => name.push(c),
            }
        }
        name
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The WebSocket routes API Gateway always has, by the names `@ws` gives them: `$connect`,
/// `$disconnect` and `$default`.
pub const WS_DEFAULT_ROUTES: [&str; 3] = ["connect", "disconnect", "default"];

/// Every WebSocket route of an `@ws` section: [`WS_DEFAULT_ROUTES`], then the custom ones of
/// [`Manifest::ws`] in the order they are declared.
///
/// A default route listed under `@ws` is not repeated, because Architect creates those three
/// whether they are listed or not.
///
/// # Examples
///
/// ```
/// use arc_manifest::{Manifest, ws_routes};
///
/// let manifest = Manifest::parse("@app\nchat\n@ws\ndefault\nsend-message\n")?;
/// let custom = manifest.ws.as_deref().expect("app.arc has @ws");
/// assert_eq!(ws_routes(custom), ["connect", "disconnect", "default", "send-message"]);
/// # Ok::<(), arc_manifest::Error>(())
/// ```
pub fn ws_routes(custom: &[String]) -> Vec<String> {
    let mut routes: Vec<String> = WS_DEFAULT_ROUTES.map(String::from).to_vec();
    for route in custom {
        if !routes.contains(route) {
            routes.push(route.clone());
        }
    }
    routes
}

/// The name Architect gives a WebSocket route's function (and its `src/ws/` folder): `ws-`
/// and the route, with `-` and `.` turned into `_` as for `@http` routes.
///
/// # Examples
///
/// ```
/// use arc_manifest::ws_function;
///
/// assert_eq!(ws_function("connect"), "ws-connect");
/// assert_eq!(ws_function("send-message"), "ws-send_message");
/// assert_eq!(ws_function("v1.join"), "ws-v1_join");
/// ```
pub fn ws_function(route: &str) -> String {
    let name: String = route
        .chars()
        .map(|c| if matches!(c, '-' | '.') { '_' } else { c })
        .collect();
    format!("ws-{name}")
}

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
    fn from_arc(kind: &str) -> Option<Self> {
        if kind.is_empty() || kind.eq_ignore_ascii_case("string") {
            Some(Self::String)
        } else if kind.eq_ignore_ascii_case("number") {
            Some(Self::Number)
        } else {
            None
        }
    }
}

/// Why an `app.arc` could not be parsed; every variant but a missing `@app` names its line.
///
/// # Examples
///
/// ```
/// use arc_manifest::{Error, Manifest};
///
/// let err = Manifest::parse("@app\nbigsesh\n@http\npost count\n").unwrap_err();
/// assert_eq!(err, Error::PathNotAbsolute { line: 4, path: "count".into() });
/// assert_eq!(err.to_string(), "line 4: expected a path starting with `/`, found `count`");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// There is no `@app` pragma (`line` is `None`), or it has no name under it (`line` is the
    /// pragma's).
    MissingApp {
        /// The line of an empty `@app`.
        line: Option<usize>,
    },
    /// An entry comes before any pragma.
    EntryBeforePragma {
        /// The entry's line.
        line: usize,
    },
    /// A line is indented by an odd amount, deeper than one level below the line above, or at
    /// all where nothing may be indented (a pragma, the first entry of a section, a property of
    /// a route).
    BadIndentation {
        /// The line.
        line: usize,
        /// Its indentation, in spaces (a tab counts as two).
        found: usize,
        /// The deepest indentation allowed there, in spaces.
        max: usize,
    },
    /// A pragma appears twice.
    DuplicatePragma {
        /// The second occurrence's line.
        line: usize,
        /// The pragma's name, without `@`.
        pragma: String,
        /// The first occurrence's line.
        first_line: usize,
    },
    /// An `@http` route's method is not one of [`Method::ALL`].
    UnknownMethod {
        /// The route's line.
        line: usize,
        /// The method as written.
        method: String,
    },
    /// An `@http` route's path does not start with `/`.
    PathNotAbsolute {
        /// The route's line.
        line: usize,
        /// The path as written.
        path: String,
    },
    /// The same method and path are declared twice.
    DuplicateRoute {
        /// The second declaration's line.
        line: usize,
        /// The route, e.g. `post /count`.
        route: String,
        /// The first declaration's line.
        first_line: usize,
    },
    /// A table has no `*` partition key property.
    MissingPartitionKey {
        /// The table name's line.
        line: usize,
        /// The table.
        table: String,
    },
    /// The same table name is declared twice.
    DuplicateTable {
        /// The second declaration's line.
        line: usize,
        /// The table.
        table: String,
        /// The first declaration's line.
        first_line: usize,
    },
    /// A line does not have the shape its section expects (or has an unclosed quote).
    Unexpected {
        /// The line.
        line: usize,
        /// What the section expects there.
        expected: &'static str,
        /// What the line holds.
        found: String,
    },
}

impl Error {
    /// The 1-based line at fault; `None` only when the manifest has no `@app` at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Manifest;
    ///
    /// assert_eq!(Manifest::parse("@http\nget /\n").unwrap_err().line(), None);
    /// assert_eq!(Manifest::parse("get /\n").unwrap_err().line(), Some(1));
    /// ```
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::MissingApp { line } => *line,
            Self::EntryBeforePragma { line }
            | Self::BadIndentation { line, .. }
            | Self::DuplicatePragma { line, .. }
            | Self::UnknownMethod { line, .. }
            | Self::PathNotAbsolute { line, .. }
            | Self::DuplicateRoute { line, .. }
            | Self::MissingPartitionKey { line, .. }
            | Self::DuplicateTable { line, .. }
            | Self::Unexpected { line, .. } => Some(*line),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingApp { line: None } => {
                f.write_str("missing `@app`: expected an `@app` section naming the app")
            }
            Self::MissingApp { line: Some(line) } => {
                write!(
                    f,
                    "line {line}: expected the app's name on the line after `@app`"
                )
            }
            Self::EntryBeforePragma { line } => {
                write!(
                    f,
                    "line {line}: expected a pragma such as `@app` before the first entry"
                )
            }
            Self::BadIndentation { line, found, max } => {
                write!(f, "line {line}: bad indentation: expected ")?;
                let allowed: Vec<String> = (0..=*max).step_by(2).map(|n| n.to_string()).collect();
                match allowed.split_last() {
                    Some((last, rest)) if !rest.is_empty() => {
                        write!(f, "{} or {last}", rest.join(", "))?;
                    }
                    _ => f.write_str("0")?,
                }
                write!(f, " spaces, found {found}")
            }
            Self::DuplicatePragma {
                line,
                pragma,
                first_line,
            } => write!(
                f,
                "line {line}: duplicate `@{pragma}`: expected each pragma once, and it is already on line {first_line}"
            ),
            Self::UnknownMethod { line, method } => {
                write!(
                    f,
                    "line {line}: unknown HTTP method `{method}`: expected one of "
                )?;
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.as_str()).collect();
                f.write_str(&names.join(", "))
            }
            Self::PathNotAbsolute { line, path } => {
                write!(
                    f,
                    "line {line}: expected a path starting with `/`, found `{path}`"
                )
            }
            Self::DuplicateRoute {
                line,
                route,
                first_line,
            } => write!(
                f,
                "line {line}: duplicate route `{route}`: it is already declared on line {first_line}"
            ),
            Self::MissingPartitionKey { line, table } => write!(
                f,
                "line {line}: table `{table}` has no partition key: expected a property such as `id *String`"
            ),
            Self::DuplicateTable {
                line,
                table,
                first_line,
            } => write!(
                f,
                "line {line}: duplicate table `{table}`: it is already declared on line {first_line}"
            ),
            Self::Unexpected {
                line,
                expected,
                found,
            } => {
                write!(f, "line {line}: expected {expected}, found `{found}`")
            }
        }
    }
}

impl std::error::Error for Error {}

/// A pragma and the entries beneath it, before they are given meaning.
struct Section {
    name: String,
    line: usize,
    entries: Vec<Entry>,
}

/// Splits the text into sections of entry trees; the only errors here are about layout.
fn sections(src: &str) -> Result<Vec<Section>, Error> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in src.lines().enumerate() {
        let line = index + 1;
        let (indent, text) = split_indent(raw);
        let values = tokenize(text, line)?;
        if values.is_empty() {
            continue;
        }

        if text.starts_with('@') {
            if indent != 0 {
                return Err(Error::BadIndentation {
                    line,
                    found: indent,
                    max: 0,
                });
            }
            let name = values[0].trim_start_matches('@').to_owned();
            if name.is_empty() {
                return Err(unexpected(line, "a pragma name after `@`", &values));
            }
            if values.len() > 1 {
                return Err(unexpected(
                    line,
                    "nothing after the pragma's name",
                    &values[1..],
                ));
            }
            if let Some(first) = sections.iter().find(|s| s.name == name) {
                return Err(Error::DuplicatePragma {
                    line,
                    pragma: name,
                    first_line: first.line,
                });
            }
            sections.push(Section {
                name,
                line,
                entries: Vec::new(),
            });
            continue;
        }

        let Some(section) = sections.last_mut() else {
            return Err(Error::EntryBeforePragma { line });
        };
        let max = 2 * deepest_level(&section.entries);
        let entry = Entry {
            line,
            values,
            properties: Vec::new(),
        };
        if indent % 2 != 0 || indent > max || !insert(&mut section.entries, indent / 2, entry) {
            return Err(Error::BadIndentation {
                line,
                found: indent,
                max,
            });
        }
    }
    Ok(sections)
}

/// The line's indentation in spaces (a tab counts as two, as in `@architect/parser`) and the
/// rest of it.
fn split_indent(raw: &str) -> (usize, &str) {
    let text = raw.trim_start_matches([' ', '\t']);
    let indent = raw[..raw.len() - text.len()]
        .chars()
        .map(|c| if c == '\t' { 2 } else { 1 })
        .sum();
    (indent, text)
}

/// Splits a line into values, dropping any comment; quotes keep spaces and `#` in a value.
fn tokenize(text: &str, line: usize) -> Result<Vec<String>, Error> {
    let mut values = Vec::new();
    let mut chars = text.char_indices().peekable();
    loop {
        while chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
        let Some((start, first)) = chars.next() else {
            break;
        };
        match first {
            '#' => break,
            '"' | '\'' | '`' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some((_, c)) if c == first => break,
                        Some((_, c)) => value.push(c),
                        None => {
                            return Err(Error::Unexpected {
                                line,
                                expected: "a closing quote",
                                found: text[start..].to_owned(),
                            });
                        }
                    }
                }
                values.push(value);
            }
            _ => {
                let mut value = String::from(first);
                while let Some((_, c)) = chars.next_if(|(_, c)| !c.is_whitespace() && *c != '#') {
                    value.push(c);
                }
                values.push(value);
            }
        }
    }
    Ok(values)
}

/// How many levels deep the next line may be indented: one below the last line so far.
fn deepest_level(entries: &[Entry]) -> usize {
    entries
        .last()
        .map_or(0, |last| 1 + deepest_level(&last.properties))
}

/// Appends `entry` at `level` under the last entry of each level above; false if there is none.
fn insert(entries: &mut Vec<Entry>, level: usize, entry: Entry) -> bool {
    if level == 0 {
        entries.push(entry);
        return true;
    }
    match entries.last_mut() {
        Some(parent) => insert(&mut parent.properties, level - 1, entry),
        None => false,
    }
}

fn unexpected(line: usize, expected: &'static str, found: &[String]) -> Error {
    Error::Unexpected {
        line,
        expected,
        found: found.join(" "),
    }
}

/// Rejects properties under an entry whose section has none (routes, the app name).
fn no_properties(entry: &Entry) -> Result<(), Error> {
    match entry.properties.first() {
        // The first property is always one level (two spaces) deep.
        Some(property) => Err(Error::BadIndentation {
            line: property.line,
            found: 2,
            max: 0,
        }),
        None => Ok(()),
    }
}

fn parse_app(pragma_line: usize, entries: Vec<Entry>) -> Result<String, Error> {
    const EXPECTED: &str = "a single app name under `@app`";
    let mut entries = entries.into_iter();
    let Some(mut entry) = entries.next() else {
        return Err(Error::MissingApp {
            line: Some(pragma_line),
        });
    };
    if let Some(extra) = entries.next() {
        return Err(unexpected(extra.line, EXPECTED, &extra.values));
    }
    no_properties(&entry)?;
    match entry.values.len() {
        1 => Ok(entry.values.remove(0)),
        _ => Err(unexpected(entry.line, EXPECTED, &entry.values)),
    }
}

fn parse_http(entries: Vec<Entry>) -> Result<Vec<Route>, Error> {
    let mut routes: Vec<Route> = Vec::with_capacity(entries.len());
    let mut first_lines: Vec<usize> = Vec::with_capacity(entries.len());
    for entry in entries {
        no_properties(&entry)?;
        let line = entry.line;
        let [method, path] = entry.values.as_slice() else {
            return Err(unexpected(
                line,
                "a route such as `get /notes/:id`",
                &entry.values,
            ));
        };
        let Some(method) = Method::from_name(method) else {
            return Err(Error::UnknownMethod {
                line,
                method: method.clone(),
            });
        };
        if !path.starts_with('/') {
            return Err(Error::PathNotAbsolute {
                line,
                path: path.clone(),
            });
        }
        let route = Route {
            method,
            path: path.clone(),
        };
        if let Some(index) = routes.iter().position(|known| *known == route) {
            return Err(Error::DuplicateRoute {
                line,
                route: route.to_string(),
                first_line: first_lines[index],
            });
        }
        routes.push(route);
        first_lines.push(line);
    }
    Ok(routes)
}

fn parse_tables(entries: Vec<Entry>) -> Result<Vec<Table>, Error> {
    let mut tables: Vec<(Table, usize)> = Vec::with_capacity(entries.len());
    for entry in entries {
        let line = entry.line;
        let [name] = entry.values.as_slice() else {
            return Err(unexpected(
                line,
                "a table name on its own line",
                &entry.values,
            ));
        };
        if let Some((_, first_line)) = tables.iter().find(|(table, _)| table.name == *name) {
            return Err(Error::DuplicateTable {
                line,
                table: name.clone(),
                first_line: *first_line,
            });
        }

        let mut partition_key = None;
        let mut sort_key = None;
        let mut ttl = None;
        let mut options = Vec::new();
        for property in entry.properties {
            let [name, marked] = property.values.as_slice() else {
                options.push(property);
                continue;
            };
            if marked.eq_ignore_ascii_case("ttl") {
                if ttl.is_some() {
                    let expected = "one `TTL` attribute per table";
                    return Err(unexpected(property.line, expected, &property.values));
                }
                no_properties(&property).map_err(deeper)?;
                ttl = Some(name.clone());
                continue;
            }
            let (slot, kind, expected) = if let Some(kind) = marked.strip_prefix("**") {
                (&mut sort_key, kind, "one sort key (`**`) per table")
            } else if let Some(kind) = marked.strip_prefix('*') {
                (
                    &mut partition_key,
                    kind,
                    "one partition key (`*`) per table",
                )
            } else {
                options.push(property);
                continue;
            };
            if slot.is_some() {
                return Err(unexpected(property.line, expected, &property.values));
            }
            let Some(kind) = KeyType::from_arc(kind) else {
                let expected = "a key type of `String` or `Number`";
                return Err(unexpected(property.line, expected, &property.values));
            };
            no_properties(&property).map_err(deeper)?;
            *slot = Some(Key {
                name: name.clone(),
                kind,
            });
        }

        let Some(partition_key) = partition_key else {
            return Err(Error::MissingPartitionKey {
                line,
                table: name.clone(),
            });
        };
        let table = Table {
            name: name.clone(),
            partition_key,
            sort_key,
            ttl,
            options,
        };
        tables.push((table, line));
    }
    Ok(tables.into_iter().map(|(table, _)| table).collect())
}

/// Shifts a [`no_properties`] error one level down, for properties of a table's properties.
fn deeper(err: Error) -> Error {
    match err {
        Error::BadIndentation { line, found, max } => Error::BadIndentation {
            line,
            found: found + 2,
            max: max + 2,
        },
        other => other,
    }
}

fn parse_ws(entries: Vec<Entry>) -> Result<Vec<String>, Error> {
    entries
        .into_iter()
        .map(|mut entry| {
            no_properties(&entry)?;
            match entry.values.len() {
                1 => Ok(entry.values.remove(0)),
                _ => Err(unexpected(
                    entry.line,
                    "a single WebSocket route name",
                    &entry.values,
                )),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app this project deploys, verbatim.
    const BIGSESH: &str = "@app
bigsesh

@http
get /
post /count
post /reset

@tables
session
  _idx *String
  _ttl TTL
";

    fn parse(src: &str) -> Manifest {
        Manifest::parse(src).unwrap_or_else(|err| panic!("{src:?} should parse: {err}"))
    }

    fn parse_err(src: &str) -> Error {
        match Manifest::parse(src) {
            Ok(manifest) => panic!("{src:?} should not parse, got {manifest:?}"),
            Err(err) => err,
        }
    }

    fn route(method: Method, path: &str) -> Route {
        Route {
            method,
            path: path.to_owned(),
        }
    }

    fn key(name: &str, kind: KeyType) -> Key {
        Key {
            name: name.to_owned(),
            kind,
        }
    }

    /// Asserts the error's line and the exact message a user would read.
    fn assert_error(src: &str, line: Option<usize>, message: &str) {
        let err = parse_err(src);
        assert_eq!(err.line(), line, "{err:?}");
        assert_eq!(err.to_string(), message);
    }

    #[test]
    fn parses_the_bigsesh_manifest_exactly() {
        assert_eq!(
            parse(BIGSESH),
            Manifest {
                app: "bigsesh".into(),
                http: vec![
                    route(Method::Get, "/"),
                    route(Method::Post, "/count"),
                    route(Method::Post, "/reset"),
                ],
                tables: vec![Table {
                    name: "session".into(),
                    partition_key: key("_idx", KeyType::String),
                    sort_key: None,
                    ttl: Some("_ttl".into()),
                    options: vec![],
                }],
                ws: None,
                pragmas: BTreeMap::new(),
            }
        );
    }

    #[test]
    fn from_str_matches_parse() {
        let parsed: Manifest = BIGSESH.parse().unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(parsed, parse(BIGSESH));
    }

    #[test]
    fn handler_names_match_the_workspace_router() {
        // The root Cargo.toml's `cargo lambda watch` router names these same functions.
        let names: Vec<String> = parse(BIGSESH)
            .http
            .iter()
            .map(Route::handler_name)
            .collect();
        assert_eq!(names, ["get-index", "post-count", "post-reset"]);
    }

    #[test]
    fn handler_names_follow_architect() {
        let cases = [
            (Method::Get, "/", "get-index"),
            (Method::Post, "/count", "post-count"),
            (Method::Get, "/notes/:id", "get-notes-000id"),
            (Method::Any, "/*", "any-catchall"),
            (Method::Get, "/api/*", "get-api-catchall"),
            (
                Method::Delete,
                "/notes/:noteID/tags/:tag",
                "delete-notes-000noteID-tags-000tag",
            ),
            (Method::Get, "/style-guide.html", "get-style_guide_html"),
            (Method::Put, "/snake_case", "put-snake_case"),
            (Method::Options, "/", "options-index"),
            (Method::Head, "/a/b/", "head-a-b-"),
        ];
        for (method, path, expected) in cases {
            assert_eq!(
                route(method, path).handler_name(),
                expected,
                "{method} {path}"
            );
        }
    }

    #[test]
    fn comments_are_ignored_full_line_and_trailing() {
        let src = "# bigsesh: counts things
@app # the app
bigsesh#no space needed

# routes
@http
get / # home
  # an indented comment is still only a comment
post /count    # trailing, after spaces

@tables # tables
session
  # between properties
  _idx *String # partition key
  _ttl TTL#expiry
";
        let manifest = parse(src);
        assert_eq!(manifest.app, "bigsesh");
        assert_eq!(
            manifest.http,
            [route(Method::Get, "/"), route(Method::Post, "/count")]
        );
        assert_eq!(
            manifest.tables[0].partition_key,
            key("_idx", KeyType::String)
        );
        assert_eq!(manifest.tables[0].ttl.as_deref(), Some("_ttl"));
        assert!(manifest.tables[0].options.is_empty());
    }

    #[test]
    fn quotes_keep_spaces_and_hashes() {
        let manifest =
            parse("@app\nbigsesh\n@aws\nprofile \"my # profile\" 'x y' # real comment\n");
        assert_eq!(
            manifest.pragmas["aws"][0].values,
            ["profile", "my # profile", "x y"]
        );
    }

    #[test]
    fn windows_newlines_tabs_and_a_bom_are_accepted() {
        let src = "\u{feff}@app\r\nbigsesh\r\n@tables\r\nsession\r\n\t_idx *String\r\n";
        let manifest = parse(src);
        assert_eq!(manifest.app, "bigsesh");
        assert_eq!(
            manifest.tables[0].partition_key,
            key("_idx", KeyType::String)
        );
    }

    #[test]
    fn methods_are_case_insensitive_like_architect() {
        assert_eq!(
            parse("@app\na\n@http\nGET /\n").http,
            [route(Method::Get, "/")]
        );
    }

    #[test]
    fn every_method_parses() {
        let src: String = Method::ALL
            .iter()
            .map(|method| format!("{method} /\n"))
            .fold("@app\na\n@http\n".to_owned(), |src, line| src + &line);
        let methods: Vec<Method> = parse(&src).http.iter().map(|r| r.method).collect();
        assert_eq!(methods, Method::ALL);
    }

    #[test]
    fn unknown_pragmas_are_kept_with_their_properties() {
        let manifest =
            parse("@app\na\n@static\nfolder public\n@macros\nmy-macro\n  option one\n    nested\n");
        assert_eq!(
            manifest.pragmas["static"],
            [Entry {
                line: 4,
                values: vec!["folder".into(), "public".into()],
                properties: vec![]
            }]
        );
        let macros = &manifest.pragmas["macros"];
        assert_eq!(macros[0].values, ["my-macro"]);
        assert_eq!(macros[0].properties[0].line, 7);
        assert_eq!(macros[0].properties[0].values, ["option", "one"]);
        assert_eq!(macros[0].properties[0].properties[0].values, ["nested"]);
    }

    #[test]
    fn empty_pragmas_are_kept() {
        let manifest = parse("@app\na\n@static\n");
        assert_eq!(manifest.pragmas.get("static"), Some(&vec![]));
    }

    #[test]
    fn ws_lists_custom_routes() {
        assert_eq!(parse("@app\na\n").ws, None);
        assert_eq!(parse("@app\na\n@ws\n").ws, Some(vec![]));
        assert_eq!(
            parse("@app\na\n@ws\naction\n").ws,
            Some(vec!["action".into()])
        );
    }

    #[test]
    fn ws_routes_put_the_defaults_first_once() {
        assert_eq!(ws_routes(&[]), WS_DEFAULT_ROUTES);
        let custom = ["chat".to_owned(), "connect".to_owned(), "join".to_owned()];
        assert_eq!(
            ws_routes(&custom),
            ["connect", "disconnect", "default", "chat", "join"]
        );
    }

    #[test]
    fn ws_function_names_follow_architect() {
        let names: Vec<String> = ws_routes(&["send-message".to_owned()])
            .iter()
            .map(|route| ws_function(route))
            .collect();
        assert_eq!(
            names,
            [
                "ws-connect",
                "ws-disconnect",
                "ws-default",
                "ws-send_message"
            ]
        );
    }

    #[test]
    fn tables_read_sort_keys_numbers_and_options() {
        let manifest = parse(
            "@app\na\n@tables\nnotes\n  owner *string\n  created **Number\n  expires ttl\n  stream true\n  PITR true\n",
        );
        let notes = &manifest.tables[0];
        assert_eq!(notes.partition_key, key("owner", KeyType::String));
        assert_eq!(notes.sort_key, Some(key("created", KeyType::Number)));
        assert_eq!(notes.ttl.as_deref(), Some("expires"));
        let options: Vec<&[String]> = notes.options.iter().map(|o| o.values.as_slice()).collect();
        assert_eq!(options, [["stream", "true"], ["PITR", "true"]]);
    }

    #[test]
    fn bare_stars_default_to_string_keys() {
        let manifest = parse("@app\na\n@tables\nt\n  pk *\n  sk **\n");
        assert_eq!(manifest.tables[0].partition_key, key("pk", KeyType::String));
        assert_eq!(
            manifest.tables[0].sort_key,
            Some(key("sk", KeyType::String))
        );
    }

    #[test]
    fn table_lookup_by_name() {
        let manifest = parse("@app\na\n@tables\none\n  id *String\ntwo\n  id *Number\n");
        assert_eq!(
            manifest.table("two").map(|t| t.partition_key.kind),
            Some(KeyType::Number)
        );
        assert_eq!(manifest.table("three"), None);
    }

    #[test]
    fn error_missing_app() {
        assert_error(
            "@http\nget /\n",
            None,
            "missing `@app`: expected an `@app` section naming the app",
        );
        assert_error(
            "",
            None,
            "missing `@app`: expected an `@app` section naming the app",
        );
    }

    #[test]
    fn error_empty_app() {
        assert_error(
            "# header\n@app\n\n@http\nget /\n",
            Some(2),
            "line 2: expected the app's name on the line after `@app`",
        );
    }

    #[test]
    fn error_app_with_more_than_a_name() {
        assert_error(
            "@app\nbig sesh\n",
            Some(2),
            "line 2: expected a single app name under `@app`, found `big sesh`",
        );
        assert_error(
            "@app\nbigsesh\nother\n",
            Some(3),
            "line 3: expected a single app name under `@app`, found `other`",
        );
    }

    #[test]
    fn error_entry_before_any_pragma() {
        assert_error(
            "# comment\n\nbigsesh\n@app\nbigsesh\n",
            Some(3),
            "line 3: expected a pragma such as `@app` before the first entry",
        );
    }

    #[test]
    fn error_unknown_http_method() {
        assert_error(
            "@app\nbigsesh\n\n@http\nget /\nfetch /count\n",
            Some(6),
            "line 6: unknown HTTP method `fetch`: expected one of get, post, put, patch, delete, options, head, any",
        );
    }

    #[test]
    fn error_path_without_leading_slash() {
        assert_error(
            "@app\nbigsesh\n@http\npost count\n",
            Some(4),
            "line 4: expected a path starting with `/`, found `count`",
        );
    }

    #[test]
    fn error_route_without_a_path() {
        assert_error(
            "@app\nbigsesh\n@http\nget\n",
            Some(4),
            "line 4: expected a route such as `get /notes/:id`, found `get`",
        );
    }

    #[test]
    fn error_duplicate_route() {
        assert_error(
            BIGSESH.replace("post /reset", "post /count").as_str(),
            Some(7),
            "line 7: duplicate route `post /count`: it is already declared on line 6",
        );
    }

    #[test]
    fn same_path_with_another_method_is_not_a_duplicate() {
        assert_eq!(parse("@app\na\n@http\nget /\npost /\n").http.len(), 2);
    }

    #[test]
    fn error_table_without_partition_key() {
        assert_error(
            "@app\nbigsesh\n@tables\nsession\n  _ttl TTL\n",
            Some(4),
            "line 4: table `session` has no partition key: expected a property such as `id *String`",
        );
    }

    #[test]
    fn error_table_with_two_partition_keys() {
        assert_error(
            "@app\na\n@tables\nt\n  a *String\n  b *String\n",
            Some(6),
            "line 6: expected one partition key (`*`) per table, found `b *String`",
        );
        assert_error(
            "@app\na\n@tables\nt\n  a *String\n  b **String\n  c **Number\n",
            Some(7),
            "line 7: expected one sort key (`**`) per table, found `c **Number`",
        );
    }

    #[test]
    fn error_unknown_key_type() {
        assert_error(
            "@app\na\n@tables\nt\n  a *Strin\n",
            Some(5),
            "line 5: expected a key type of `String` or `Number`, found `a *Strin`",
        );
    }

    #[test]
    fn error_duplicate_table() {
        assert_error(
            "@app\na\n@tables\nt\n  a *String\nt\n  a *String\n",
            Some(6),
            "line 6: duplicate table `t`: it is already declared on line 4",
        );
    }

    #[test]
    fn error_duplicate_pragma() {
        assert_error(
            "@app\na\n@http\nget /\n@http\npost /\n",
            Some(5),
            "line 5: duplicate `@http`: expected each pragma once, and it is already on line 3",
        );
    }

    #[test]
    fn error_indented_line_with_nothing_above_it() {
        assert_error(
            "@app\nbigsesh\n@tables\n  _idx *String\n",
            Some(4),
            "line 4: bad indentation: expected 0 spaces, found 2",
        );
    }

    #[test]
    fn error_odd_indentation() {
        assert_error(
            "@app\nbigsesh\n@tables\nsession\n   _idx *String\n",
            Some(5),
            "line 5: bad indentation: expected 0 or 2 spaces, found 3",
        );
    }

    #[test]
    fn error_indentation_skipping_a_level() {
        assert_error(
            "@app\nbigsesh\n@tables\nsession\n  _idx *String\n      deep\n",
            Some(6),
            "line 6: bad indentation: expected 0, 2 or 4 spaces, found 6",
        );
    }

    #[test]
    fn error_indented_pragma() {
        assert_error(
            "@app\nbigsesh\n  @http\n",
            Some(3),
            "line 3: bad indentation: expected 0 spaces, found 2",
        );
    }

    #[test]
    fn error_property_under_a_route_or_key() {
        assert_error(
            "@app\nbigsesh\n@http\nget /\n  src ./index\n",
            Some(5),
            "line 5: bad indentation: expected 0 spaces, found 2",
        );
        assert_error(
            "@app\nbigsesh\n@tables\nsession\n  _idx *String\n    extra\n",
            Some(6),
            "line 6: bad indentation: expected 0 or 2 spaces, found 4",
        );
    }

    #[test]
    fn error_unclosed_quote() {
        assert_error(
            "@app\n\"bigsesh\n",
            Some(2),
            "line 2: expected a closing quote, found `\"bigsesh`",
        );
    }

    #[test]
    fn error_pragma_syntax() {
        assert_error(
            "@app extra\nx\n",
            Some(1),
            "line 1: expected nothing after the pragma's name, found `extra`",
        );
        assert_error(
            "@\n",
            Some(1),
            "line 1: expected a pragma name after `@`, found `@`",
        );
    }

    #[test]
    fn error_is_a_std_error() {
        let err: Box<dyn std::error::Error> = Box::new(parse_err(""));
        assert!(err.to_string().contains("@app"));
    }
}
