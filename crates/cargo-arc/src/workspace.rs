//! The workspace `cargo arc` works on: the directory with a `[workspace]` Cargo.toml and an
//! `app.arc` beside it.

use std::fs;
use std::path::{Path, PathBuf};

use arc_manifest::Manifest;
use toml_edit::DocumentMut;

use crate::Error;

/// A workspace root: a directory holding a `Cargo.toml` with `[workspace]` and an `app.arc`.
///
/// # Examples
///
/// ```
/// use cargo_arc::Workspace;
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/*\"]\n")?;
/// std::fs::write(dir.path().join("app.arc"), "@app\nhello\n")?;
/// std::fs::create_dir_all(dir.path().join("crates/get-index/src"))?;
///
/// // Found from any directory below the root.
/// let workspace = Workspace::find(&dir.path().join("crates/get-index/src"))?;
/// assert_eq!(workspace.root(), dir.path());
/// assert_eq!(workspace.manifest()?.app, "hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workspace {
    root: PathBuf,
}

impl Workspace {
    /// The workspace whose root is `start` or the nearest directory above it.
    ///
    /// # Errors
    ///
    /// [`Error::NoWorkspace`] when no directory from `start` up holds both a `Cargo.toml` with a
    /// `[workspace]` table and an `app.arc`.
    pub fn find(start: &Path) -> Result<Self, Error> {
        let start = std::path::absolute(start).map_err(|source| Error::Io {
            path: start.to_owned(),
            source,
        })?;
        for dir in start.ancestors() {
            if dir.join("app.arc").is_file() && is_workspace_manifest(&dir.join("Cargo.toml")) {
                return Ok(Self {
                    root: dir.to_owned(),
                });
            }
        }
        Err(Error::NoWorkspace { start })
    }

    /// The root directory.
    ///
    /// # Examples
    ///
    /// See [`Workspace`].
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `app.arc`, parsed.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if it can't be read, [`Error::Manifest`] if it does not parse.
    ///
    /// # Examples
    ///
    /// See [`Workspace`].
    pub fn manifest(&self) -> Result<Manifest, Error> {
        parse_manifest(&self.arc_path(), &self.read_arc()?)
    }

    pub(crate) fn arc_path(&self) -> PathBuf {
        self.root.join("app.arc")
    }

    pub(crate) fn cargo_path(&self) -> PathBuf {
        self.root.join("Cargo.toml")
    }

    pub(crate) fn crates_dir(&self) -> PathBuf {
        self.root.join("crates")
    }

    pub(crate) fn read_arc(&self) -> Result<String, Error> {
        read(&self.arc_path())
    }

    /// The root Cargo.toml as text, and parsed for editing.
    pub(crate) fn read_cargo(&self) -> Result<(String, DocumentMut), Error> {
        let path = self.cargo_path();
        let text = read(&path)?;
        let doc = parse_toml(&path, &text)?;
        Ok((text, doc))
    }
}

fn is_workspace_manifest(path: &Path) -> bool {
    fs::read_to_string(path)
        .ok()
        .and_then(|text| text.parse::<DocumentMut>().ok())
        .is_some_and(|doc| doc.contains_table("workspace"))
}

pub(crate) fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

pub(crate) fn write(path: &Path, text: &str) -> Result<(), Error> {
    fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

pub(crate) fn parse_manifest(path: &Path, text: &str) -> Result<Manifest, Error> {
    Manifest::parse(text).map_err(|source| Error::Manifest {
        path: path.to_owned(),
        source,
    })
}

pub(crate) fn parse_toml(path: &Path, text: &str) -> Result<DocumentMut, Error> {
    text.parse().map_err(|source| Error::Toml {
        path: path.to_owned(),
        source: Box::new(source),
    })
}
