//! `cargo arc check`: app.arc, the watch router and the route crates name the same routes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;

use arc_manifest::{Manifest, ws_function, ws_routes};

use crate::router;
use crate::{Error, Workspace};

/// The prefixes of Architect's function names: a crate under `crates/` whose name starts with
/// one of them is a route crate, so app.arc must declare it.
pub(crate) const ROUTE_PREFIXES: [&str; 9] = [
    "get-", "post-", "put-", "patch-", "delete-", "head-", "options-", "any-", "ws-",
];

/// One way the workspace disagrees with app.arc. Its `Display` says what is wrong and what to
/// run or edit.
///
/// # Examples
///
/// ```
/// use cargo_arc::Drift;
///
/// let drift = Drift::MissingCrate { route: "get /about".into(), function: "get-about".into() };
/// assert!(drift.to_string().contains("crates/get-about"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Drift {
    /// Cargo.toml has no `[workspace.metadata.lambda.watch.router]` although app.arc has routes.
    NoRouter,
    /// A route of app.arc is missing from the router (or routed to another function).
    NotRouted {
        /// The method in the router's spelling, e.g. `GET`.
        method: String,
        /// The path in the router's spelling, e.g. `/notes/{id}`.
        path: String,
        /// The function app.arc names for it.
        function: String,
        /// The function the router sends it to instead, if any.
        routed_to: Option<String>,
    },
    /// The router has a route app.arc does not declare.
    UndeclaredRoute {
        /// The method as the router writes it.
        method: String,
        /// The path as the router writes it.
        path: String,
        /// The function it is routed to.
        function: String,
    },
    /// A router entry is not a list of `{ method, function }` tables.
    MalformedRouterEntry {
        /// The entry's path.
        path: String,
    },
    /// A route of app.arc has no crate under `crates/`.
    MissingCrate {
        /// The route as app.arc writes it, e.g. `get /about` or `@ws connect`.
        route: String,
        /// The function (and crate) name.
        function: String,
    },
    /// A route crate's package is named differently from its folder.
    WrongPackageName {
        /// The folder under `crates/`.
        function: String,
        /// The package name its Cargo.toml gives.
        package: Option<String>,
    },
    /// A route crate has no `src/main.rs`, so it builds no binary of its name.
    NotABinary {
        /// The crate.
        function: String,
    },
    /// A crate is named like a route but app.arc declares no such route.
    UndeclaredCrate {
        /// The folder under `crates/`.
        function: String,
    },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoRouter => write!(
                f,
                "Cargo.toml has no [workspace.metadata.lambda.watch.router], so `cargo lambda \
                 watch` serves none of app.arc's routes: run `cargo arc sync`"
            ),
            Self::NotRouted {
                method,
                path,
                function,
                routed_to: None,
            } => write!(
                f,
                "app.arc declares {method} {path} ({function}) but the watch router in \
                 Cargo.toml does not route it: run `cargo arc sync`"
            ),
            Self::NotRouted {
                method,
                path,
                function,
                routed_to: Some(other),
            } => write!(
                f,
                "the watch router sends {method} {path} to {other}, but app.arc's function for \
                 it is {function}: run `cargo arc sync`"
            ),
            Self::UndeclaredRoute {
                method,
                path,
                function,
            } => write!(
                f,
                "the watch router routes {method} {path} to {function}, which app.arc does not \
                 declare: add the route to app.arc's @http, or run `cargo arc sync` to drop it"
            ),
            Self::MalformedRouterEntry { path } => write!(
                f,
                "the watch router's entry for \"{path}\" is not a list of \
                 {{ method, function }} tables: run `cargo arc sync` to rewrite it"
            ),
            Self::MissingCrate { route, function } => write!(
                f,
                "app.arc declares `{route}` but crates/{function}/Cargo.toml does not exist: \
                 create the crate (`cargo arc new` scaffolds one for a route not yet in app.arc), \
                 or remove the route from app.arc"
            ),
            Self::WrongPackageName {
                function,
                package: Some(package),
            } => write!(
                f,
                "crates/{function}/Cargo.toml names its package `{package}`: rename it to \
                 `{function}`, the name the router and the deploy template use"
            ),
            Self::WrongPackageName {
                function,
                package: None,
            } => write!(
                f,
                "crates/{function}/Cargo.toml has no [package] name: set it to `{function}`"
            ),
            Self::NotABinary { function } => write!(
                f,
                "crates/{function} has no src/main.rs, so it builds no `{function}` binary: \
                 add a main (see crates/get-index/src/main.rs)"
            ),
            Self::UndeclaredCrate { function } => write!(
                f,
                "crates/{function} is named like a route, but app.arc declares no route whose \
                 function is {function}: declare the route in app.arc or delete the crate"
            ),
        }
    }
}

/// The functions app.arc declares, by name, with the route as app.arc writes it.
pub(crate) fn declared_functions(manifest: &Manifest) -> BTreeMap<String, String> {
    let mut functions: BTreeMap<String, String> = manifest
        .http
        .iter()
        .map(|route| (route.handler_name(), route.to_string()))
        .collect();
    if let Some(ws) = &manifest.ws {
        for route in ws_routes(ws) {
            functions.insert(ws_function(&route), format!("@ws {route}"));
        }
    }
    functions
}

/// Every difference between app.arc, the watch router and the crates under `crates/`.
///
/// # Errors
///
/// When app.arc or Cargo.toml can't be read or parsed: a workspace in that state can't be
/// compared, and the error says which file and line.
///
/// # Examples
///
/// ```
/// use cargo_arc::{Drift, Workspace, check};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\n")?;
/// std::fs::write(dir.path().join("app.arc"), "@app\nhello\n@http\nget /\n")?;
/// let drift = check(&Workspace::find(dir.path())?)?;
/// assert_eq!(drift[0], Drift::NoRouter);
/// assert!(matches!(&drift[1], Drift::MissingCrate { function, .. } if function == "get-index"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check(workspace: &Workspace) -> Result<Vec<Drift>, Error> {
    let manifest = workspace.manifest()?;
    let (_, doc) = workspace.read_cargo()?;
    let mut drift = Vec::new();

    let wanted = by_method_and_path(router::desired(&manifest));
    match router::current(&doc) {
        None if !wanted.is_empty() => drift.push(Drift::NoRouter),
        None => {}
        Some(current) => {
            let have = by_method_and_path(current.entries);
            for ((method, path), function) in &wanted {
                let routed_to = have.get(&(method.clone(), path.clone()));
                if routed_to != Some(function) {
                    drift.push(Drift::NotRouted {
                        method: method.clone(),
                        path: path.clone(),
                        function: function.clone(),
                        routed_to: routed_to.cloned(),
                    });
                }
            }
            for ((method, path), function) in &have {
                if !wanted.contains_key(&(method.clone(), path.clone())) {
                    drift.push(Drift::UndeclaredRoute {
                        method: method.clone(),
                        path: path.clone(),
                        function: function.clone(),
                    });
                }
            }
            drift.extend(
                current
                    .malformed
                    .into_iter()
                    .map(|path| Drift::MalformedRouterEntry { path }),
            );
        }
    }

    let declared = declared_functions(&manifest);
    for (function, route) in &declared {
        let dir = workspace.crates_dir().join(function);
        let Ok(text) = fs::read_to_string(dir.join("Cargo.toml")) else {
            drift.push(Drift::MissingCrate {
                route: route.clone(),
                function: function.clone(),
            });
            continue;
        };
        let package = text
            .parse::<toml_edit::DocumentMut>()
            .ok()
            .and_then(|doc| Some(doc.get("package")?.get("name")?.as_str()?.to_owned()));
        if package.as_deref() != Some(function.as_str()) {
            drift.push(Drift::WrongPackageName {
                function: function.clone(),
                package,
            });
        }
        if !dir.join("src/main.rs").is_file() {
            drift.push(Drift::NotABinary {
                function: function.clone(),
            });
        }
    }

    for function in route_crates(workspace)? {
        if !declared.contains_key(&function) {
            drift.push(Drift::UndeclaredCrate { function });
        }
    }
    Ok(drift)
}

/// The folders under `crates/` named like a route (see [`ROUTE_PREFIXES`]) that hold a crate.
/// Router entries keyed by (method, path), so the wanted and the current router compare entry
/// by entry.
fn by_method_and_path(entries: Vec<router::RouterEntry>) -> BTreeMap<(String, String), String> {
    entries
        .into_iter()
        .flat_map(|(path, targets)| {
            targets
                .into_iter()
                .map(move |(method, function)| ((method, path.clone()), function))
        })
        .collect()
}

fn route_crates(workspace: &Workspace) -> Result<BTreeSet<String>, Error> {
    let dir = workspace.crates_dir();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeSet::new()),
        Err(source) => return Err(Error::Io { path: dir, source }),
    };
    let mut names = BTreeSet::new();
    for entry in entries {
        let entry = entry.map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if ROUTE_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
            && entry.path().join("Cargo.toml").is_file()
        {
            names.insert(name);
        }
    }
    Ok(names)
}
