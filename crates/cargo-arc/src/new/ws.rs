//! `cargo arc new ws <route>`: a WebSocket route added to app.arc's `@ws`, its crate (and those
//! of the three routes every `@ws` has, when missing) scaffolded; all of it or none of it.

use arc_manifest::{WS_DEFAULT_ROUTES, ws_function, ws_routes};

use super::{Changes, NewRoute, add_member, crate_toml, with_entry};
use crate::sync::synced;
use crate::workspace::parse_manifest;
use crate::{Error, Workspace};

/// Adds the WebSocket route `route` to app.arc (a new `@ws` section when there is none; the
/// routes `connect`, `disconnect` and `default` need no line, as every `@ws` has them) and
/// scaffolds the crate of every `@ws` route that has none: `crates/ws-<route>`, its handler
/// accepting the socket (`connect`), forgetting it (`disconnect`) or answering the message.
/// Returns what it scaffolded, the asked route first.
///
/// # Errors
///
/// Nothing is written when any of these fail: [`Error::BadPath`] for a route name other than
/// letters, digits and `-._`, [`Error::RouteExists`] when the route and its crate are already
/// there, [`Error::NameTaken`] when another route has the same function name, or app.arc or
/// Cargo.toml not reading or parsing.
///
/// # Examples
///
/// ```
/// use cargo_arc::{Workspace, check, new_ws_route};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/*\"]\n")?;
/// std::fs::write(dir.path().join("app.arc"), "@app\nchat\n")?;
/// let workspace = Workspace::find(dir.path())?;
///
/// let created = new_ws_route(&workspace, "join")?;
/// let functions: Vec<_> = created.iter().map(|c| c.function.as_str()).collect();
/// assert_eq!(functions, ["ws-join", "ws-connect", "ws-disconnect", "ws-default"]);
/// let arc = std::fs::read_to_string(dir.path().join("app.arc"))?;
/// assert_eq!(arc, "@app\nchat\n\n@ws\njoin\n");
/// assert_eq!(check(&workspace)?, []);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn new_ws_route(workspace: &Workspace, route: &str) -> Result<Vec<NewRoute>, Error> {
    check_route(route)?;
    let function = ws_function(route);
    let arc_text = workspace.read_arc()?;
    let manifest = parse_manifest(&workspace.arc_path(), &arc_text)?;
    let declared = manifest.ws.as_deref().map(ws_routes).unwrap_or_default();
    let missing_crate = |route: &str| !workspace.crates_dir().join(ws_function(route)).exists();
    if declared.iter().any(|r| r == route) && !missing_crate(route) {
        return Err(Error::RouteExists {
            route: format!("@ws {route}"),
        });
    }
    if let Some(other) = declared
        .iter()
        .find(|r| *r != route && ws_function(r) == function)
    {
        return Err(Error::NameTaken {
            route: format!("@ws {route}"),
            other: format!("@ws {other}"),
            function,
        });
    }

    let line = (!WS_DEFAULT_ROUTES.contains(&route) && !declared.iter().any(|r| r == route))
        .then_some(route);
    // An existing `@ws` with no line to add comes back unchanged.
    let new_arc = with_entry(&arc_text, "@ws", line);
    let new_manifest = parse_manifest(&workspace.arc_path(), &new_arc)?;
    // The asked route first, then every other `@ws` route still without a crate.
    let mut routes = vec![route.to_owned()];
    routes.extend(
        ws_routes(new_manifest.ws.as_deref().unwrap_or_default())
            .into_iter()
            .filter(|r| r != route && missing_crate(r)),
    );

    let (cargo_text, mut doc) = workspace.read_cargo()?;
    let mut created = Vec::new();
    for route in &routes {
        let function = ws_function(route);
        add_member(&mut doc, &function);
        created.push(NewRoute {
            route: format!("@ws {route}"),
            dir: workspace.crates_dir().join(&function),
            function,
        });
    }
    let new_cargo = synced(&cargo_text, &mut doc, &new_manifest).unwrap_or_else(|| doc.to_string());

    let mut changes = Changes::default();
    let applied = changes
        .create_dir(&workspace.crates_dir())
        .and_then(|()| {
            created.iter().try_for_each(|new| {
                changes.create_dir(&new.dir)?;
                changes.create_file(&new.dir.join("Cargo.toml"), &crate_toml(&new.function))?;
                let route = new.route.trim_start_matches("@ws ");
                changes.create_file(&new.dir.join("src/main.rs"), &main_rs(route))
            })
        })
        .and_then(|()| changes.replace(&workspace.cargo_path(), &cargo_text, &new_cargo))
        .and_then(|()| changes.replace(&workspace.arc_path(), &arc_text, &new_arc));
    match applied {
        Ok(()) => Ok(created),
        Err(error) => {
            changes.undo();
            Err(error)
        }
    }
}

/// Architect's WebSocket route names: letters, digits and `-._`, matched against the
/// message's `action`.
fn check_route(route: &str) -> Result<(), Error> {
    if !route.is_empty()
        && route
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Ok(());
    }
    Err(Error::BadPath {
        path: route.to_owned(),
        reason: "a WebSocket route is a name of letters, digits and `-._`, e.g. `join`".into(),
    })
}

/// The handler of a WebSocket route.
fn main_rs(route: &str) -> String {
    let (doc, name, req, body) = match route {
        "connect" => (
            "a socket opens when this answers 200; a 4xx refuses it (say, \
             `Response::new().status(403)` when `req.session.is_new()`). The wrapper ties the socket \
             to the session.",
            "connect",
            "_req",
            "Ok(Response::new())",
        ),
        "disconnect" => (
            "the socket closed; the wrapper forgets it.",
            "disconnect",
            "_req",
            "Ok(Response::new())",
        ),
        _ => (
            "answers each message routed here (by its `action`, or every other one for \
             `default`); `.push(...)` would send to every socket of the session.",
            "message",
            "req",
            "Ok(Response::new().reply(format!(\"{} on {}\", req.route_key, req.connection_id)))",
        ),
    };
    format!(
        r#"//! `@ws {route}`: scaffolded by `cargo arc new ws`; {doc}

use arc_functions::ws::{{self, Request, Response}};

async fn {name}({req}: Request) -> ws::Result<Response> {{
    {body}
}}

fn main() -> Result<(), lambda_http::Error> {{
    ws::start(ws::async_handler({name}))
}}
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace(arc: &str) -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[workspace]\nmembers = [\"crates/*\"]\n",
        )
        .expect("Cargo.toml");
        std::fs::write(dir.path().join("app.arc"), arc).expect("app.arc");
        let workspace = Workspace::find(dir.path()).expect("a workspace");
        (dir, workspace)
    }

    #[test]
    fn a_default_route_adds_a_bare_ws_section_and_the_three_crates() {
        let (dir, workspace) = workspace("@app\nchat\n@http\nget /\n");
        let created = new_ws_route(&workspace, "disconnect").expect("added");
        let functions: Vec<_> = created.iter().map(|c| c.function.as_str()).collect();
        assert_eq!(functions, ["ws-disconnect", "ws-connect", "ws-default"]);
        let arc = std::fs::read_to_string(dir.path().join("app.arc")).expect("app.arc");
        assert_eq!(arc, "@app\nchat\n@http\nget /\n\n@ws\n");
        let main = std::fs::read_to_string(dir.path().join("crates/ws-connect/src/main.rs"))
            .expect("main.rs");
        assert!(
            main.contains("ws::start(ws::async_handler(connect))"),
            "{main}"
        );
        let main = std::fs::read_to_string(dir.path().join("crates/ws-disconnect/src/main.rs"))
            .expect("main.rs");
        assert!(
            main.contains("async fn disconnect(_req: Request)") && !main.contains("reply"),
            "{main}"
        );
    }

    #[test]
    fn a_custom_route_is_added_to_the_section_and_only_its_crate_made() {
        let (dir, workspace) =
            workspace("@app\nchat\n@ws\njoin\n\n@tables\nsession\n  _idx *String\n");
        for route in ["connect", "disconnect", "default", "join"] {
            std::fs::create_dir_all(dir.path().join("crates").join(ws_function(route)))
                .expect("an existing crate");
        }
        let created = new_ws_route(&workspace, "send-message").expect("added");
        assert_eq!(created.len(), 1);
        assert_eq!(created[0].function, "ws-send_message");
        assert_eq!(created[0].route, "@ws send-message");
        let arc = std::fs::read_to_string(dir.path().join("app.arc")).expect("app.arc");
        assert_eq!(
            arc,
            "@app\nchat\n@ws\njoin\nsend-message\n\n@tables\nsession\n  _idx *String\n"
        );
        let main = std::fs::read_to_string(created[0].dir.join("src/main.rs")).expect("main.rs");
        assert!(main.contains("req.route_key"), "{main}");

        // Again: there already. A name another route's function has: taken. Nothing written.
        let before = arc;
        assert!(matches!(
            new_ws_route(&workspace, "send-message"),
            Err(Error::RouteExists { .. })
        ));
        assert!(matches!(
            new_ws_route(&workspace, "send_message"),
            Err(Error::NameTaken { .. })
        ));
        assert!(matches!(
            new_ws_route(&workspace, "bad route"),
            Err(Error::BadPath { .. })
        ));
        assert!(matches!(
            new_ws_route(&workspace, ""),
            Err(Error::BadPath { .. })
        ));
        let after = std::fs::read_to_string(dir.path().join("app.arc")).expect("app.arc");
        assert_eq!(after, before);
    }

    #[test]
    fn a_declared_route_without_its_crate_gets_the_crate_alone() {
        let (dir, workspace) = workspace("@app\nchat\n@ws\n");
        for route in ["disconnect", "default"] {
            std::fs::create_dir_all(dir.path().join("crates").join(ws_function(route)))
                .expect("an existing crate");
        }
        let created = new_ws_route(&workspace, "connect").expect("scaffolded");
        assert_eq!(created.len(), 1);
        assert!(created[0].dir.join("Cargo.toml").is_file());
        let arc = std::fs::read_to_string(dir.path().join("app.arc")).expect("app.arc");
        assert_eq!(arc, "@app\nchat\n@ws\n");
    }
}
