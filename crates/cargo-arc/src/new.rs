//! `cargo arc new <method> <path>`: a route added to app.arc, its crate scaffolded, the router
//! synced; all of it or, on any error, none of it.

use std::fs;
use std::path::{Path, PathBuf};

use arc_manifest::{Method, Route};
use toml_edit::{Array, DocumentMut, Item, Value};

mod ws;

pub use ws::new_ws_route;

use crate::sync::synced;
use crate::workspace::{parse_manifest, write};
use crate::{Error, Workspace};

/// What [`new_route`] created.
///
/// # Examples
///
/// See [`new_route`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRoute {
    /// The route as app.arc now writes it, e.g. `get /notes/:id`.
    pub route: String,
    /// Its function, crate and binary name, e.g. `get-notes-000id`.
    pub function: String,
    /// The crate's folder.
    pub dir: PathBuf,
}

/// Adds `method path` to app.arc's `@http`, scaffolds its crate under `crates/` (a Cargo.toml
/// like the example routes' and a `src/main.rs` whose handler answers a placeholder page), and
/// syncs the watch router.
///
/// The crate takes Architect's name for the route: `get /notes/:id` → `get-notes-000id`.
///
/// # Errors
///
/// Nothing is written when any of these fail: [`Error::BadMethod`], [`Error::BadPath`],
/// [`Error::RouteExists`], [`Error::NameTaken`] (another route already has this function name),
/// [`Error::CrateExists`], or app.arc or Cargo.toml not reading or parsing. Should a write fail
/// halfway, what was written is undone.
///
/// # Examples
///
/// ```
/// use cargo_arc::{Error, Workspace, new_route};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/*\"]\n")?;
/// std::fs::write(dir.path().join("app.arc"), "@app\nnotes\n\n@http\nget /\n")?;
/// let workspace = Workspace::find(dir.path())?;
///
/// let created = new_route(&workspace, "get", "/notes/:id")?;
/// assert_eq!(created.function, "get-notes-000id");
/// assert!(created.dir.join("src/main.rs").is_file());
/// let arc = std::fs::read_to_string(dir.path().join("app.arc"))?;
/// assert_eq!(arc, "@app\nnotes\n\n@http\nget /\nget /notes/:id\n");
///
/// assert!(matches!(new_route(&workspace, "get", "/notes/:id"), Err(Error::RouteExists { .. })));
/// assert!(matches!(new_route(&workspace, "fetch", "/x"), Err(Error::BadMethod { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn new_route(workspace: &Workspace, method: &str, path: &str) -> Result<NewRoute, Error> {
    let method = Method::from_name(method).ok_or_else(|| Error::BadMethod {
        method: method.to_owned(),
    })?;
    check_path(path)?;
    let route = Route {
        method,
        path: path.to_owned(),
    };
    let function = route.handler_name();

    let arc_text = workspace.read_arc()?;
    let manifest = parse_manifest(&workspace.arc_path(), &arc_text)?;
    if manifest.http.contains(&route) {
        return Err(Error::RouteExists {
            route: route.to_string(),
        });
    }
    if let Some(other) = manifest.http.iter().find(|r| r.handler_name() == function) {
        return Err(Error::NameTaken {
            route: route.to_string(),
            other: other.to_string(),
            function,
        });
    }
    let dir = workspace.crates_dir().join(&function);
    if dir.exists() {
        return Err(Error::CrateExists { dir });
    }

    let new_arc = with_http_route(&arc_text, &route.to_string());
    let new_manifest = parse_manifest(&workspace.arc_path(), &new_arc)?;
    let (cargo_text, mut doc) = workspace.read_cargo()?;
    add_member(&mut doc, &function);
    let new_cargo = synced(&cargo_text, &mut doc, &new_manifest).unwrap_or_else(|| doc.to_string());

    let files = scaffold(&route, &function);
    let mut changes = Changes::default();
    let applied = changes
        .create_dir(&workspace.crates_dir())
        .and_then(|()| changes.create_dir(&dir))
        .and_then(|()| {
            files.iter().try_for_each(|(relative, contents)| {
                changes.create_file(&dir.join(relative), contents)
            })
        })
        .and_then(|()| changes.replace(&workspace.cargo_path(), &cargo_text, &new_cargo))
        .and_then(|()| changes.replace(&workspace.arc_path(), &arc_text, &new_arc));
    match applied {
        Ok(()) => Ok(NewRoute {
            route: route.to_string(),
            function,
            dir,
        }),
        Err(error) => {
            changes.undo();
            Err(error)
        }
    }
}

/// What [`new_route`] has changed so far, so that a failure halfway can put everything back.
#[derive(Default)]
struct Changes {
    created: Vec<PathBuf>,
    replaced: Vec<(PathBuf, String)>,
}

impl Changes {
    /// Creates `dir` unless it exists; only a folder made here is removed by [`Changes::undo`].
    fn create_dir(&mut self, dir: &Path) -> Result<(), Error> {
        if dir.is_dir() {
            return Ok(());
        }
        // One level at a time, so that every folder made here is recorded for undo.
        fs::create_dir(dir).map_err(|source| Error::Io {
            path: dir.to_owned(),
            source,
        })?;
        self.created.push(dir.to_owned());
        Ok(())
    }

    fn create_file(&mut self, path: &Path, contents: &str) -> Result<(), Error> {
        if let Some(parent) = path.parent() {
            self.create_dir(parent)?;
        }
        write(path, contents)
    }

    fn replace(&mut self, path: &Path, old: &str, new: &str) -> Result<(), Error> {
        if old == new {
            return Ok(());
        }
        self.replaced.push((path.to_owned(), old.to_owned()));
        write(path, new)
    }

    fn undo(self) {
        // Best effort: the error being reported matters more than a second one here.
        for (path, text) in self.replaced.iter().rev() {
            let _ = fs::write(path, text);
        }
        for dir in self.created.iter().rev() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

/// Refuses a path API Gateway, the watch router or Architect would read differently from what
/// was meant: it must start with `/`; each part is a name of letters, digits and `-._~`, a
/// parameter `:name` (letters, digits, `_`), or, last, a catchall `*`.
fn check_path(path: &str) -> Result<(), Error> {
    let bad = |reason: &str| Error::BadPath {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let Some(rest) = path.strip_prefix('/') else {
        return Err(bad("a path starts with `/`"));
    };
    if rest.is_empty() {
        return Ok(());
    }
    let parts: Vec<&str> = rest.split('/').collect();
    for (index, part) in parts.iter().enumerate() {
        let last = index + 1 == parts.len();
        if part.is_empty() {
            return Err(bad(if last {
                "drop the trailing `/`"
            } else {
                "a path has no empty parts (`//`)"
            }));
        }
        if *part == "*" {
            if !last {
                return Err(bad("a catchall `*` can only be the last part"));
            }
        } else if let Some(name) = part.strip_prefix(':') {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(bad(
                    "a parameter is `:` and a name of letters, digits or `_`, e.g. `:id`",
                ));
            }
        } else if !part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        {
            return Err(bad(
                "a path part holds only letters, digits and `-._~` (or is `:param` or a final `*`)",
            ));
        }
    }
    Ok(())
}

/// `arc` with `line` added as the last entry of its `@http` section (after the last route, so a
/// comment introducing the next section stays with it), or in a new `@http` at the end.
fn with_http_route(arc: &str, line: &str) -> String {
    with_entry(arc, "@http", Some(line))
}

/// `arc` with `line` added as the last entry of `section`, or, when it has no such section, a
/// new one at the end holding `line` (or nothing, for `None`).
fn with_entry(arc: &str, section: &str, line: Option<&str>) -> String {
    let newline = if arc.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = arc.split_inclusive('\n').collect();
    let content = |raw: &str| -> String {
        let without_comment = raw.split('#').next().unwrap_or_default();
        without_comment.trim().to_owned()
    };
    let Some(http) = lines
        .iter()
        .position(|raw| !raw.starts_with([' ', '\t']) && content(raw) == section)
    else {
        let mut out = arc.to_owned();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push_str(newline);
        }
        if !out.is_empty() {
            out.push_str(newline);
        }
        out.push_str(section);
        out.push_str(newline);
        if let Some(line) = line {
            out.push_str(line);
            out.push_str(newline);
        }
        return out;
    };
    let Some(line) = line else {
        return arc.to_owned();
    };
    let mut last_entry = http;
    for (index, raw) in lines.iter().enumerate().skip(http + 1) {
        let text = content(raw);
        if text.starts_with('@') && !raw.starts_with([' ', '\t']) {
            break;
        }
        if !text.is_empty() {
            last_entry = index;
        }
    }
    let mut out = String::with_capacity(arc.len() + line.len() + 2);
    for (index, raw) in lines.iter().enumerate() {
        out.push_str(raw);
        if index == last_entry {
            if !raw.ends_with('\n') {
                out.push_str(newline);
            }
            out.push_str(line);
            out.push_str(newline);
        }
    }
    out
}

/// Makes sure the workspace's members take in `crates/<function>`; `crates/*` (this project's
/// own) already does.
fn add_member(doc: &mut DocumentMut, function: &str) {
    let path = format!("crates/{function}");
    let Some(workspace) = doc.get_mut("workspace").and_then(Item::as_table_like_mut) else {
        return;
    };
    let members = workspace
        .entry("members")
        .or_insert(Item::Value(Value::Array(Array::new())));
    let Some(members) = members.as_array_mut() else {
        return;
    };
    let covered = members
        .iter()
        .filter_map(Value::as_str)
        .any(|member| member == "crates/*" || member == path);
    if !covered {
        members.push(path);
    }
}

/// The new crate's files, relative to its folder.
fn scaffold(route: &Route, function: &str) -> [(&'static str, String); 2] {
    let main = format!(
        r#"//! `{route}`: scaffolded by `cargo arc new`; the page below is a placeholder.

use arc_functions::http::{{self, Request, Response}};

async fn handler(_req: Request) -> http::Result<Response> {{
    Ok(Response::html("<!doctype html><title>{route}</title><p>{route}</p>"))
}}

fn main() -> Result<(), lambda_http::Error> {{
    http::start(http::async_handler(handler))
}}
"#
    );
    [("Cargo.toml", crate_toml(function)), ("src/main.rs", main)]
}

/// A route crate's Cargo.toml, like the example routes'.
fn crate_toml(function: &str) -> String {
    format!(
        r#"[package]
name = "{function}"
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
license.workspace = true
publish.workspace = true

[dependencies]
arc-functions.workspace = true
lambda_http.workspace = true
# Release builds leave out debug and trace logging, whose call sites the start-up would
# relocate; the default log level is INFO anyway.
tracing = {{ workspace = true, features = ["release_max_level_info"] }}

[lints]
workspace = true
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_goes_after_the_last_route_not_the_next_sections_comment() {
        let arc = "@app\na\n\n@http\nget /\npost /count # counts\n\n# the table\n@tables\nt\n  id *String\n";
        assert_eq!(
            with_http_route(arc, "get /about"),
            "@app\na\n\n@http\nget /\npost /count # counts\nget /about\n\n# the table\n@tables\nt\n  id *String\n"
        );
    }

    #[test]
    fn an_empty_or_missing_http_section_is_filled_or_added() {
        assert_eq!(
            with_http_route("@app\na\n@http\n@ws\n", "get /"),
            "@app\na\n@http\nget /\n@ws\n"
        );
        assert_eq!(
            with_http_route("@app\na", "get /"),
            "@app\na\n\n@http\nget /\n"
        );
        assert_eq!(
            with_http_route("@app\r\na\r\n@http\r\nget /\r\n", "get /x"),
            "@app\r\na\r\n@http\r\nget /\r\nget /x\r\n"
        );
    }

    #[test]
    fn paths_are_checked() {
        for good in [
            "/",
            "/about",
            "/notes/:id",
            "/files/*",
            "/a.b/c-d/e_f/~g",
            "/:a/:b_c",
        ] {
            assert_eq!(
                check_path(good).map_err(|e| e.to_string()),
                Ok(()),
                "{good}"
            );
        }
        for (bad, reason) in [
            ("about", "starts with `/`"),
            ("/about/", "trailing"),
            ("/a//b", "empty parts"),
            ("/*/x", "last part"),
            ("/:", "parameter"),
            ("/:a-b", "parameter"),
            ("/a b", "only letters"),
            ("/a#b", "only letters"),
            ("/{id}", "only letters"),
        ] {
            let error = check_path(bad).expect_err(bad).to_string();
            assert!(error.contains(reason), "{bad}: {error}");
        }
    }

    #[test]
    fn members_get_the_crate_unless_a_glob_covers_it() {
        let mut doc: DocumentMut = "[workspace]\nmembers = [\"crates/*\"]\n"
            .parse()
            .expect("toml");
        add_member(&mut doc, "get-x");
        assert_eq!(doc.to_string(), "[workspace]\nmembers = [\"crates/*\"]\n");

        let mut doc: DocumentMut = "[workspace]\nmembers = [\"lib\"]\n".parse().expect("toml");
        add_member(&mut doc, "get-x");
        assert_eq!(
            doc.to_string(),
            "[workspace]\nmembers = [\"lib\", \"crates/get-x\"]\n"
        );
    }
}
