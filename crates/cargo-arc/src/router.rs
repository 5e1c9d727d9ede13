//! The `cargo lambda watch` router (`[workspace.metadata.lambda.watch.router]`): what app.arc
//! says it should be, what Cargo.toml holds, and writing the one over the other.

use arc_manifest::{Manifest, Method};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

/// Where the router lives in the root Cargo.toml.
pub(crate) const ROUTER_PATH: [&str; 5] = ["workspace", "metadata", "lambda", "watch", "router"];

/// Written above a router table that `sync` has to create.
const ROUTER_COMMENT: &str = "\n# `cargo lambda watch` serves every route binary on one port through this router; \
`cargo arc sync` writes it from app.arc.\n";

/// The methods `any` stands for: every one cargo-lambda's router can match on.
const CONCRETE_METHODS: [Method; 7] = [
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
    Method::Head,
];

/// One router path and its `(METHOD, function)` targets, in order.
pub(crate) type RouterEntry = (String, Vec<(String, String)>);

/// Architect's path syntax in the watch router's (matchit): `:id` → `{id}`, a final `*` →
/// `{*proxy}`.
pub(crate) fn watch_path(arc_path: &str) -> String {
    arc_path
        .split('/')
        .map(|segment| {
            if let Some(name) = segment.strip_prefix(':') {
                format!("{{{name}}}")
            } else if segment == "*" {
                "{*proxy}".to_owned()
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The router app.arc asks for: paths in the order app.arc first names them, each with its
/// routes in declaration order. `any` becomes every method the path does not route elsewhere,
/// which is what it means in Architect.
pub(crate) fn desired(manifest: &Manifest) -> Vec<RouterEntry> {
    let mut entries: Vec<RouterEntry> = Vec::new();
    for route in &manifest.http {
        let path = watch_path(&route.path);
        let function = route.handler_name();
        let methods: Vec<Method> = if route.method == Method::Any {
            CONCRETE_METHODS
                .into_iter()
                .filter(|method| {
                    !manifest
                        .http
                        .iter()
                        .any(|other| other.path == route.path && other.method == *method)
                })
                .collect()
        } else {
            vec![route.method]
        };
        let targets = methods
            .into_iter()
            .map(|method| (method.as_str().to_uppercase(), function.clone()));
        match entries.iter_mut().find(|(known, _)| *known == path) {
            Some((_, existing)) => existing.extend(targets),
            None => entries.push((path, targets.collect())),
        }
    }
    entries
}

/// What the router in Cargo.toml holds: `None` without a router table.
pub(crate) struct Current {
    pub(crate) entries: Vec<RouterEntry>,
    /// Paths whose value is not a list of `{ method, function }` tables.
    pub(crate) malformed: Vec<String>,
}

pub(crate) fn current(doc: &DocumentMut) -> Option<Current> {
    let mut item = doc.as_item();
    for key in ROUTER_PATH {
        item = item.get(key)?;
    }
    let table = item.as_table_like()?;
    let mut current = Current {
        entries: Vec::new(),
        malformed: Vec::new(),
    };
    for (path, value) in table.iter() {
        match targets(value) {
            Some(targets) => current.entries.push((path.to_owned(), targets)),
            None => current.malformed.push(path.to_owned()),
        }
    }
    Some(current)
}

fn targets(item: &Item) -> Option<Vec<(String, String)>> {
    let array = item.as_array()?;
    array
        .iter()
        .map(|target| {
            let target = target.as_inline_table()?;
            let method = target.get("method")?.as_str()?;
            let function = target.get("function")?.as_str()?;
            Some((method.to_owned(), function.to_owned()))
        })
        .collect()
}

/// Replaces the router's entries with `entries`, creating the table if need be. The table's own
/// decoration (the comment above its header) and everything else in the document stay as they
/// are.
pub(crate) fn write(doc: &mut DocumentMut, entries: &[RouterEntry]) {
    // A new table goes last in the file, where a reader of the old one would look for it.
    let end = last_position(doc.as_table()).map_or(0, |last| last + 1);
    let mut table: &mut Table = doc.as_table_mut();
    for key in ROUTER_PATH {
        let item = table.entry(key).or_insert(Item::None);
        if !item.is_table() {
            // Missing, or something else sits where the router goes: the router is generated,
            // so it may take that place.
            let mut new = Table::new();
            if key == "router" {
                new.decor_mut().set_prefix(ROUTER_COMMENT);
                new.set_position(Some(end));
            } else {
                // Parents appear only in the router's own header.
                new.set_implicit(true);
            }
            *item = Item::Table(new);
        }
        let Item::Table(next) = item else {
            unreachable!("a table was put there just above")
        };
        table = next;
    }
    table.clear();
    for (path, targets) in entries {
        let mut array = Array::new();
        for (method, function) in targets {
            let mut target = InlineTable::new();
            target.insert("method", Value::from(method.as_str()));
            target.insert("function", Value::from(function.as_str()));
            array.push(target);
        }
        table.insert(path, Item::Value(Value::Array(array)));
    }
}

/// The highest position of `table` and the tables below it, `None` when no table has one.
fn last_position(table: &Table) -> Option<isize> {
    table
        .iter()
        .filter_map(|(_, item)| item.as_table())
        .filter_map(|child| child.position().max(last_position(child)))
        .chain(table.position())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(http: &str) -> Manifest {
        Manifest::parse(&format!("@app\na\n@http\n{http}")).expect("test manifest parses")
    }

    fn pairs(targets: &[(&str, &str)]) -> Vec<(String, String)> {
        targets
            .iter()
            .map(|(m, f)| ((*m).to_owned(), (*f).to_owned()))
            .collect()
    }

    #[test]
    fn paths_use_matchit_syntax() {
        assert_eq!(watch_path("/"), "/");
        assert_eq!(watch_path("/notes/:id"), "/notes/{id}");
        assert_eq!(watch_path("/a/:b/c/:d"), "/a/{b}/c/{d}");
        assert_eq!(watch_path("/files/*"), "/files/{*proxy}");
    }

    #[test]
    fn routes_group_by_path_in_declaration_order() {
        let router = desired(&manifest("get /\npost /count\npost /\n"));
        assert_eq!(
            router,
            vec![
                (
                    "/".to_owned(),
                    pairs(&[("GET", "get-index"), ("POST", "post-index")])
                ),
                ("/count".to_owned(), pairs(&[("POST", "post-count")])),
            ]
        );
    }

    #[test]
    fn any_covers_the_methods_routed_nowhere_else() {
        let router = desired(&manifest("any /x\nget /x\n"));
        assert_eq!(
            router,
            vec![(
                "/x".to_owned(),
                pairs(&[
                    ("POST", "any-x"),
                    ("PUT", "any-x"),
                    ("PATCH", "any-x"),
                    ("DELETE", "any-x"),
                    ("OPTIONS", "any-x"),
                    ("HEAD", "any-x"),
                    ("GET", "get-x"),
                ])
            )]
        );
    }

    #[test]
    fn write_creates_the_table_with_a_comment_and_no_parent_headers() {
        let mut doc: DocumentMut = "[workspace]\nmembers = []\n".parse().expect("toml");
        write(&mut doc, &desired(&manifest("get /notes/:id\n")));
        assert_eq!(
            doc.to_string(),
            "[workspace]\nmembers = []\n\n# `cargo lambda watch` serves every route binary on one \
             port through this router; `cargo arc sync` writes it from app.arc.\n\
             [workspace.metadata.lambda.watch.router]\n\
             \"/notes/{id}\" = [{ method = \"GET\", function = \"get-notes-000id\" }]\n"
        );
    }

    #[test]
    fn current_reads_what_write_wrote_and_flags_other_shapes() {
        let mut doc: DocumentMut = "[workspace]\n".parse().expect("toml");
        let entries = desired(&manifest("get /\npost /count\n"));
        write(&mut doc, &entries);
        let read = current(&doc).expect("router table");
        assert_eq!(read.entries, entries);
        assert!(read.malformed.is_empty());

        let doc: DocumentMut = "[workspace.metadata.lambda.watch.router]\n\"/\" = \"get-index\"\n\
             \"/x\" = [{ method = \"GET\" }]\n"
            .parse()
            .expect("toml");
        let read = current(&doc).expect("router table");
        assert!(read.entries.is_empty());
        assert_eq!(read.malformed, ["/", "/x"]);
        assert!(current(&"[workspace]\n".parse().expect("toml")).is_none());
    }
}
