//! The parser: the text into sections of entry trees, then each known pragma into its typed
//! field.

use crate::{Entry, Error, Key, KeyType, Method, Route, Table};

/// A pragma and the entries beneath it, before they are given meaning.
pub(crate) struct Section {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) entries: Vec<Entry>,
}

/// Splits the text into sections of entry trees; the only errors here are about layout.
pub(crate) fn sections(src: &str) -> Result<Vec<Section>, Error> {
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

pub(crate) fn parse_app(pragma_line: usize, entries: Vec<Entry>) -> Result<String, Error> {
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

pub(crate) fn parse_http(entries: Vec<Entry>) -> Result<Vec<Route>, Error> {
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

pub(crate) fn parse_tables(entries: Vec<Entry>) -> Result<Vec<Table>, Error> {
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

pub(crate) fn parse_ws(entries: Vec<Entry>) -> Result<Vec<String>, Error> {
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
