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

mod error;
mod parse;
mod routes;
mod tables;

use std::collections::BTreeMap;
use std::str::FromStr;

pub use error::Error;
pub use routes::{Method, Route, WS_DEFAULT_ROUTES, ws_function, ws_routes};
pub use tables::{Key, KeyType, Table};

use parse::{parse_app, parse_http, parse_tables, parse_ws, sections};

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

    /// The name of every function the app declares, one binary each: the `@http` routes in
    /// app.arc's order, then the `@ws` routes (`connect`, `disconnect`, `default`, then the
    /// custom ones). Scripts and tests take the app's route list from here (`cargo arc
    /// functions` prints it) rather than keep one by hand.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Manifest;
    ///
    /// let manifest = Manifest::parse("@app\nchat\n@http\nget /\npost /notes\n@ws\njoin\n")?;
    /// assert_eq!(
    ///     manifest.functions(),
    ///     ["get-index", "post-notes", "ws-connect", "ws-disconnect", "ws-default", "ws-join"]
    /// );
    /// assert_eq!(Manifest::parse("@app\nempty\n")?.functions(), Vec::<String>::new());
    /// # Ok::<(), arc_manifest::Error>(())
    /// ```
    pub fn functions(&self) -> Vec<String> {
        let http = self.http.iter().map(Route::handler_name);
        let ws = self
            .ws
            .as_deref()
            .map(ws_routes)
            .unwrap_or_default()
            .into_iter()
            .map(|route| ws_function(&route));
        http.chain(ws).collect()
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

#[cfg(test)]
mod tests;
