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
    let manifest = parse("@app\nbigsesh\n@aws\nprofile \"my # profile\" 'x y' # real comment\n");
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
