//! Why a manifest could not be parsed.

use std::fmt;

use crate::Method;

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
