//! `cargo arc sync`: the watch router, written from app.arc.

use arc_manifest::Manifest;
use toml_edit::DocumentMut;

use crate::router;
use crate::workspace::write;
use crate::{Error, Workspace};

/// What [`sync`] did.
///
/// # Examples
///
/// See [`sync`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synced {
    /// The router already matched app.arc; Cargo.toml was not written.
    Unchanged,
    /// The router was rewritten.
    Updated,
}

/// Writes `[workspace.metadata.lambda.watch.router]` in the root Cargo.toml from app.arc's
/// `@http` routes, so app.arc is the only place a route is declared.
///
/// Only the router table's entries change: every other byte of Cargo.toml, comments and the
/// comment above the router included, stays as it was. A router that already routes exactly
/// app.arc's routes, in app.arc's order, is left alone, so running it twice changes nothing.
///
/// # Errors
///
/// When app.arc or Cargo.toml can't be read or parsed, or Cargo.toml can't be written.
///
/// # Examples
///
/// ```
/// use cargo_arc::{Synced, Workspace, sync};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("Cargo.toml"), "[workspace] # the workspace\n")?;
/// std::fs::write(dir.path().join("app.arc"), "@app\nhello\n@http\nget /notes/:id\n")?;
/// let workspace = Workspace::find(dir.path())?;
///
/// assert_eq!(sync(&workspace)?, Synced::Updated);
/// let cargo = std::fs::read_to_string(dir.path().join("Cargo.toml"))?;
/// assert!(cargo.starts_with("[workspace] # the workspace\n"));
/// assert!(cargo.contains(r#""/notes/{id}" = [{ method = "GET", function = "get-notes-000id" }]"#));
/// assert_eq!(sync(&workspace)?, Synced::Unchanged);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sync(workspace: &Workspace) -> Result<Synced, Error> {
    let manifest = workspace.manifest()?;
    let (text, mut doc) = workspace.read_cargo()?;
    match synced(&text, &mut doc, &manifest) {
        Some(new_text) => {
            write(&workspace.cargo_path(), &new_text)?;
            Ok(Synced::Updated)
        }
        None => Ok(Synced::Unchanged),
    }
}

/// The Cargo.toml text with its router written from `manifest`, or `None` when it already
/// matches.
pub(crate) fn synced(text: &str, doc: &mut DocumentMut, manifest: &Manifest) -> Option<String> {
    let desired = router::desired(manifest);
    let up_to_date = router::current(doc)
        .is_some_and(|current| current.malformed.is_empty() && current.entries == desired)
        || (desired.is_empty() && router::current(doc).is_none());
    if up_to_date {
        return None;
    }
    router::write(doc, &desired);
    let new_text = doc.to_string();
    (new_text != text).then_some(new_text)
}
