//! `cargo arc sam`: an AWS SAM template for the app, from app.arc.

use std::collections::BTreeSet;

use arc_manifest::{KeyType, Manifest, Method, Route, ws_function, ws_routes};

use crate::Error;
use crate::yaml::{Node, get_att, map, r, s, sub};

/// The CPU the functions run on.
///
/// # Examples
///
/// ```
/// assert_eq!(cargo_arc::Architecture::default(), cargo_arc::Architecture::X86_64);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Architecture {
    /// `x86_64`: the default, the architecture this project builds and tests on.
    #[default]
    X86_64,
    /// `arm64` (Graviton): cheaper per millisecond; `sam build` then cross-compiles.
    Arm64,
}

impl Architecture {
    fn as_str(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

/// Where sessions are kept, which decides `SESSION_TABLE_NAME`, the table and its policy.
///
/// # Examples
///
/// ```
/// assert_eq!(cargo_arc::Sessions::default(), cargo_arc::Sessions::Cookie);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sessions {
    /// Sealed in the cookie (`SESSION_TABLE_NAME=jwe`): no table, no DynamoDB permission.
    #[default]
    Cookie,
    /// In app.arc's `session` table, created by the template with TTL on its TTL attribute.
    DynamoDb,
}

/// What [`sam_template`] writes.
///
/// # Examples
///
/// See [`sam_template`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SamOptions {
    /// The functions' architecture.
    pub architecture: Architecture,
    /// Cookie or DynamoDB sessions.
    pub sessions: Sessions,
}

/// The table DynamoDB sessions live in, as Architect names it in app.arc.
const SESSION_TABLE: &str = "session";

/// What the session code calls on the table (`arc_functions::http::session`'s DynamoDB
/// provider): `UpdateItem` grants nothing on one table that `PutItem` does not, and keeps the
/// template valid if the provider switches to it.
const SESSION_TABLE_ACTIONS: [&str; 6] = [
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    // A user's device list reads its sessions' records at once, and "sign out everywhere"
    // deletes them at once.
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
];

/// An AWS SAM template (YAML) deploying every route of app.arc.
///
/// One `AWS::Serverless::Function` per `@http` route and per `@ws` route (`provided.al2023`,
/// built by SAM with `BuildMethod: rust-cargolambda` from the workspace root, one binary each),
/// an HTTP API with one route per `@http` entry, a WebSocket API with `$connect`, `$disconnect`,
/// `$default` and the custom routes when app.arc has `@ws`, and in
/// [`Sessions::DynamoDb`] mode the `session` table with TTL. Every function gets `ARC_ENV` and
/// `SESSION_TABLE_NAME`, `ARC_WSS_URL` with `@ws`, and `ARC_APP_SECRET_ARN`: the name of the
/// Secrets Manager secret (the `AppSecretName` parameter) each function reads at cold start,
/// so the secret's value is never in the template nor in the functions' configuration.
/// Permissions are the least the library needs: `secretsmanager:GetSecretValue` on that one
/// secret, item reads and writes on the session table, and `execute-api:ManageConnections` on
/// the WebSocket API's stage.
///
/// # Errors
///
/// [`Error::NoSessionTable`] in DynamoDB mode when app.arc declares no `@tables session`.
///
/// # Examples
///
/// ```
/// use arc_manifest::Manifest;
/// use cargo_arc::{SamOptions, Sessions, sam_template};
///
/// let manifest = Manifest::parse("@app\nnotes\n@http\nget /notes/:id\n@tables\nsession\n  _idx *String\n  _ttl TTL\n")?;
///
/// let cookie = sam_template(&manifest, &SamOptions::default())?;
/// assert!(cookie.contains("BuildMethod: rust-cargolambda"));
/// assert!(cookie.contains(r#"Path: "/notes/{id}""#));
/// assert!(cookie.contains("SESSION_TABLE_NAME: jwe"));
/// assert!(!cookie.contains("AWS::DynamoDB::Table"));
///
/// let dynamodb = SamOptions { sessions: Sessions::DynamoDb, ..SamOptions::default() };
/// let template = sam_template(&manifest, &dynamodb)?;
/// assert!(template.contains("SESSION_TABLE_NAME: !Ref SessionTable"));
/// assert!(template.contains("AttributeName: \"_ttl\""));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sam_template(manifest: &Manifest, options: &SamOptions) -> Result<String, Error> {
    let table = match options.sessions {
        Sessions::Cookie => None,
        Sessions::DynamoDb => Some(manifest.table(SESSION_TABLE).ok_or(Error::NoSessionTable)?),
    };
    let mut ids = Ids::default();
    let ws = manifest.ws.as_deref().map(ws_routes);

    let mut resources: Vec<(String, Node)> = Vec::new();
    let mut outputs: Vec<(String, Node)> = Vec::new();

    if !manifest.http.is_empty() {
        resources.push((
            "HttpApi".into(),
            map([
                ("Type", s("AWS::Serverless::HttpApi")),
                (
                    "Properties",
                    map([
                        (
                            "Description",
                            s(format!("{}: the @http routes of app.arc", manifest.app)),
                        ),
                        ("DefaultRouteSettings", throttling()),
                    ]),
                ),
            ]),
        ));
        outputs.push(output(
            "HttpApiUrl",
            "The app's address",
            sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"),
        ));
    }

    // The app's own tables beside the session table (the login example's `users`), in either
    // session mode: each function may use them, found through `<NAME>_TABLE_NAME`.
    let app_tables: Vec<(String, &arc_manifest::Table)> = manifest
        .tables
        .iter()
        .filter(|t| t.name != SESSION_TABLE)
        .map(|t| (ids.unique(&pascal(&t.name), "Table"), t))
        .collect();
    let table_ids: Vec<String> = app_tables.iter().map(|(id, _)| id.clone()).collect();
    let policies = policies(table.is_some(), ws.is_some(), &table_ids);
    for route in &manifest.http {
        let function = route.handler_name();
        let id = ids.unique(&pascal(&function), "Function");
        let event = map([
            ("Type", s("HttpApi")),
            (
                "Properties",
                map([
                    ("ApiId", r("HttpApi")),
                    ("Method", s(http_method(route))),
                    ("Path", s(http_api_path(&route.path))),
                ]),
            ),
        ]);
        resources.push((
            id,
            function_resource(&function, &route.to_string(), Some(event), &policies),
        ));
    }

    if let Some(routes) = &ws {
        resources.extend(websocket(routes, &mut ids, &policies));
        outputs.push(output(
            "WebSocketUrl",
            "The WebSocket API's address (ARC_WSS_URL)",
            sub("wss://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${ArcEnv}"),
        ));
    }

    if let Some(table) = table {
        resources.push(("SessionTable".into(), session_table(table)));
        outputs.push(output(
            "SessionTableName",
            "The DynamoDB table holding sessions (SESSION_TABLE_NAME)",
            r("SessionTable"),
        ));
    }

    for (id, app_table) in &app_tables {
        resources.push((id.clone(), session_table(app_table)));
    }
    let mut variables: Vec<(String, Node)> = app_tables
        .iter()
        .map(|(id, t)| (crate::dev::table_variable(&t.name), r(id)))
        .collect();
    variables.extend([
        ("ARC_ENV".to_owned(), r("ArcEnv")),
        (
            "SESSION_TABLE_NAME".to_owned(),
            match table {
                Some(_) => r("SessionTable"),
                None => s("jwe"),
            },
        ),
        (
            // The name, read by each function at cold start: a value resolved here would sit in
            // every function's configuration for anyone allowed to read the function.
            "ARC_APP_SECRET_ARN".to_owned(),
            r("AppSecretName"),
        ),
    ]);
    if ws.is_some() {
        variables.push((
            "ARC_WSS_URL".to_owned(),
            // The stage is named after ArcEnv, not referenced: the stage depends on the
            // deployment, the deployment on the routes, the routes on these functions.
            sub("wss://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${ArcEnv}"),
        ));
    }

    let sessions = match options.sessions {
        Sessions::Cookie => "cookie sessions",
        Sessions::DynamoDb => "DynamoDB sessions",
    };
    let template = map([
        ("AWSTemplateFormatVersion", s("2010-09-09")),
        ("Transform", s("AWS::Serverless-2016-10-31")),
        (
            "Description",
            s(format!(
                "{}: every route of app.arc, {sessions}, {}",
                manifest.app,
                options.architecture.as_str()
            )),
        ),
        (
            "Parameters",
            map([
                (
                    "ArcEnv",
                    map([
                        ("Type", s("String")),
                        ("Default", s("production")),
                        (
                            "AllowedValues",
                            Node::List(vec![s("staging"), s("production")]),
                        ),
                        (
                            "Description",
                            s("ARC_ENV of every function, and the WebSocket stage's name"),
                        ),
                    ]),
                ),
                (
                    "ThrottlingRateLimit",
                    map([
                        ("Type", s("Number")),
                        ("Default", Node::Raw("100".into())),
                        ("MinValue", Node::Raw("1".into())),
                        (
                            "Description",
                            s(
                                "Requests (and WebSocket messages) per second each route accepts at \
                               steady state, on both APIs' stages",
                            ),
                        ),
                    ]),
                ),
                (
                    "ThrottlingBurstLimit",
                    map([
                        ("Type", s("Number")),
                        ("Default", Node::Raw("200".into())),
                        ("MinValue", Node::Raw("1".into())),
                        ("Description", s("Requests each route accepts in a burst")),
                    ]),
                ),
                (
                    "AppSecretName",
                    map([
                        ("Type", s("String")),
                        ("Default", s(format!("{}/arc-app-secret", manifest.app))),
                        ("MinLength", Node::Raw("1".into())),
                        (
                            "Description",
                            s(
                                "Name of the Secrets Manager secret whose SecretString is the \
                               app secret (32 bytes or more), read by each function at cold \
                               start; the name, never the value",
                            ),
                        ),
                    ]),
                ),
            ]),
        ),
        (
            "Globals",
            map([(
                "Function",
                map([
                    ("Runtime", s("provided.al2023")),
                    ("Handler", s("bootstrap")),
                    (
                        "Architectures",
                        Node::List(vec![s(options.architecture.as_str())]),
                    ),
                    ("MemorySize", Node::Raw("128".into())),
                    ("Timeout", Node::Raw("10".into())),
                    ("Environment", map([("Variables", map(variables))])),
                ]),
            )]),
        ),
        ("Resources", Node::Map(resources)),
        ("Outputs", Node::Map(outputs)),
    ]);
    Ok(format!(
        "# Written by `cargo arc sam` from app.arc: change app.arc and run it again rather than \
         editing this file.\n{}",
        template.to_document()
    ))
}

/// The function of one route, built by SAM from the workspace root with cargo-lambda.
fn function_resource(function: &str, route: &str, event: Option<Node>, policies: &Node) -> Node {
    let mut properties = vec![
        ("CodeUri".to_owned(), s(".")),
        ("Description".to_owned(), s(route)),
    ];
    if let Some(event) = event {
        properties.push(("Events".into(), map([("Http", event)])));
    }
    properties.push(("Policies".into(), policies.clone()));
    map([
        ("Type", s("AWS::Serverless::Function")),
        (
            "Metadata",
            map([
                ("BuildMethod", s("rust-cargolambda")),
                // The workspace holds every route; this picks the route's own binary.
                ("BuildProperties", map([("Binary", s(function))])),
            ]),
        ),
        ("Properties", Node::Map(properties)),
    ])
}

/// The statements every function gets beside the defaults (logs).
fn policies(session_table: bool, websocket: bool, app_tables: &[String]) -> Node {
    let mut statements = vec![map([
        ("Effect", s("Allow")),
        ("Action", s("secretsmanager:GetSecretValue")),
        (
            "Resource",
            // Secrets Manager adds six random characters to a secret's name in its ARN.
            sub(
                "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AppSecretName}-??????",
            ),
        ),
    ])];
    if session_table {
        statements.push(map([
            ("Effect", s("Allow")),
            (
                "Action",
                Node::List(SESSION_TABLE_ACTIONS.iter().map(|a| s(*a)).collect()),
            ),
            ("Resource", get_att("SessionTable.Arn")),
        ]));
    }
    if !app_tables.is_empty() {
        statements.push(map([
            ("Effect", s("Allow")),
            (
                "Action",
                Node::List(SESSION_TABLE_ACTIONS.iter().map(|a| s(*a)).collect()),
            ),
            (
                "Resource",
                Node::List(
                    app_tables
                        .iter()
                        .map(|id| get_att(format!("{id}.Arn")))
                        .collect(),
                ),
            ),
        ]));
    }
    if websocket {
        statements.push(map([
            ("Effect", s("Allow")),
            ("Action", s("execute-api:ManageConnections")),
            (
                "Resource",
                // The app's own stage only: not another stage of the same API.
                sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${ArcEnv}/*"),
            ),
        ]));
    }
    Node::List(vec![map([
        ("Version", s("2012-10-17")),
        ("Statement", Node::List(statements)),
    ])])
}

/// The WebSocket API: API, one function, integration, route and permission per route, then a
/// deployment and a stage.
fn websocket(routes: &[String], ids: &mut Ids, policies: &Node) -> Vec<(String, Node)> {
    let mut resources = vec![(
        "WebSocketApi".to_owned(),
        map([
            ("Type", s("AWS::ApiGatewayV2::Api")),
            (
                "Properties",
                map([
                    ("Name", sub("${AWS::StackName}-ws")),
                    ("ProtocolType", s("WEBSOCKET")),
                    // Architect's: a message's `action` field picks its route.
                    ("RouteSelectionExpression", s("$request.body.action")),
                ]),
            ),
        ]),
    )];
    let mut route_ids = Vec::new();
    for route in routes {
        let function = ws_function(route);
        let base = ids.unique(&pascal(&function), "");
        let function_id = format!("{base}Function");
        let integration_id = format!("{base}Integration");
        let route_id = format!("{base}Route");
        resources.push((
            function_id.clone(),
            function_resource(&function, &format!("@ws {route}"), None, policies),
        ));
        resources.push((
            integration_id.clone(),
            map([
                ("Type", s("AWS::ApiGatewayV2::Integration")),
                (
                    "Properties",
                    map([
                        ("ApiId", r("WebSocketApi")),
                        ("IntegrationType", s("AWS_PROXY")),
                        (
                            "IntegrationUri",
                            sub(format!(
                                "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/${{{function_id}.Arn}}/invocations"
                            )),
                        ),
                    ]),
                ),
            ]),
        ));
        let route_key = match route.as_str() {
            "connect" | "disconnect" | "default" => format!("${route}"),
            custom => custom.to_owned(),
        };
        // A reply in a handler's answer reaches the sender only through a route response;
        // API Gateway sends none on `$connect` and `$disconnect`.
        let answers = !matches!(route.as_str(), "connect" | "disconnect");
        let mut route_properties = vec![
            ("ApiId", r("WebSocketApi")),
            ("RouteKey", s(route_key)),
            ("AuthorizationType", s("NONE")),
            ("Target", sub(format!("integrations/${{{integration_id}}}"))),
        ];
        if answers {
            route_properties.push(("RouteResponseSelectionExpression", s("$default")));
        }
        resources.push((
            route_id.clone(),
            map([
                ("Type", s("AWS::ApiGatewayV2::Route")),
                ("Properties", map(route_properties)),
            ]),
        ));
        if answers {
            let response_id = format!("{base}RouteResponse");
            resources.push((
                response_id.clone(),
                map([
                    ("Type", s("AWS::ApiGatewayV2::RouteResponse")),
                    (
                        "Properties",
                        map([
                            ("ApiId", r("WebSocketApi")),
                            ("RouteId", r(route_id.clone())),
                            ("RouteResponseKey", s("$default")),
                        ]),
                    ),
                ]),
            ));
            route_ids.push(response_id);
        }
        resources.push((
            format!("{base}Permission"),
            map([
                ("Type", s("AWS::Lambda::Permission")),
                (
                    "Properties",
                    map([
                        ("Action", s("lambda:InvokeFunction")),
                        ("FunctionName", r(function_id)),
                        ("Principal", s("apigateway.amazonaws.com")),
                        (
                            "SourceArn",
                            sub("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/*"),
                        ),
                    ]),
                ),
            ]),
        ));
        route_ids.push(route_id);
    }
    // CloudFormation never redeploys an unchanged Deployment resource: naming it after the
    // routes makes a new one, and so a redeploy, whenever the routes change.
    let deployment = format!(
        "WebSocketDeployment{:08x}",
        fnv1a(&routes.join("\n")) as u32
    );
    resources.push((
        deployment.clone(),
        map([
            ("Type", s("AWS::ApiGatewayV2::Deployment")),
            (
                "DependsOn",
                Node::List(route_ids.into_iter().map(s).collect()),
            ),
            ("Properties", map([("ApiId", r("WebSocketApi"))])),
        ]),
    ));
    resources.push((
        "WebSocketStage".to_owned(),
        map([
            ("Type", s("AWS::ApiGatewayV2::Stage")),
            (
                "Properties",
                map([
                    ("ApiId", r("WebSocketApi")),
                    ("DeploymentId", r(deployment)),
                    ("StageName", r("ArcEnv")),
                    ("DefaultRouteSettings", throttling()),
                ]),
            ),
        ]),
    ));
    resources
}

/// Every route's default throttling, from the template's parameters: a flood of requests or
/// connections meets API Gateway's 429 before it reaches (and bills) the functions.
fn throttling() -> Node {
    map([
        ("ThrottlingRateLimit", r("ThrottlingRateLimit")),
        ("ThrottlingBurstLimit", r("ThrottlingBurstLimit")),
    ])
}

fn session_table(table: &arc_manifest::Table) -> Node {
    let attribute_type = |kind: KeyType| match kind {
        KeyType::String => "S",
        KeyType::Number => "N",
    };
    let mut attributes = vec![map([
        ("AttributeName", s(&table.partition_key.name)),
        ("AttributeType", s(attribute_type(table.partition_key.kind))),
    ])];
    let mut keys = vec![map([
        ("AttributeName", s(&table.partition_key.name)),
        ("KeyType", s("HASH")),
    ])];
    if let Some(sort) = &table.sort_key {
        attributes.push(map([
            ("AttributeName", s(&sort.name)),
            ("AttributeType", s(attribute_type(sort.kind))),
        ]));
        keys.push(map([
            ("AttributeName", s(&sort.name)),
            ("KeyType", s("RANGE")),
        ]));
    }
    let mut properties = vec![
        ("BillingMode", s("PAY_PER_REQUEST")),
        ("AttributeDefinitions", Node::List(attributes)),
        ("KeySchema", Node::List(keys)),
    ];
    if let Some(ttl) = &table.ttl {
        properties.push((
            "TimeToLiveSpecification",
            map([
                ("AttributeName", s(ttl)),
                ("Enabled", Node::Raw("true".into())),
            ]),
        ));
    }
    map([
        ("Type", s("AWS::DynamoDB::Table")),
        ("Properties", map(properties)),
    ])
}

fn output(name: &str, description: &str, value: Node) -> (String, Node) {
    (
        name.to_owned(),
        map([("Description", s(description)), ("Value", value)]),
    )
}

fn http_method(route: &Route) -> String {
    match route.method {
        Method::Any => "ANY".to_owned(),
        method => method.as_str().to_uppercase(),
    }
}

/// Architect's path in API Gateway's syntax: `:id` → `{id}`, a final `*` → `{proxy+}`.
fn http_api_path(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if let Some(name) = part.strip_prefix(':') {
                format!("{{{name}}}")
            } else if part == "*" {
                "{proxy+}".to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A CloudFormation logical id (letters and digits) from a function name: `get-notes-000id`
/// → `GetNotes000id`.
fn pascal(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Hands out logical ids, numbering any that two function names would share
/// (`get-a_b` and `get-a-b` both read `GetAB`).
#[derive(Default)]
struct Ids {
    taken: BTreeSet<String>,
}

impl Ids {
    fn unique(&mut self, base: &str, suffix: &str) -> String {
        let mut id = format!("{base}{suffix}");
        let mut n = 2;
        while !self.taken.insert(id.clone()) {
            id = format!("{base}{n}{suffix}");
            n += 1;
        }
        id
    }
}

/// A stable 64-bit FNV-1a hash (std's hasher may change between Rust releases).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_are_alphanumeric_and_unique() {
        assert_eq!(pascal("get-index"), "GetIndex");
        assert_eq!(pascal("get-notes-000id"), "GetNotes000id");
        assert_eq!(pascal("get-style_guide_html"), "GetStyleGuideHtml");
        let mut ids = Ids::default();
        assert_eq!(ids.unique("GetAB", "Function"), "GetABFunction");
        assert_eq!(ids.unique("GetAB", "Function"), "GetAB2Function");
    }

    #[test]
    fn api_gateway_paths() {
        assert_eq!(http_api_path("/"), "/");
        assert_eq!(http_api_path("/notes/:id"), "/notes/{id}");
        assert_eq!(http_api_path("/files/*"), "/files/{proxy+}");
    }

    #[test]
    fn the_deployment_changes_name_with_the_routes() {
        assert_ne!(
            fnv1a("connect\ndisconnect\ndefault"),
            fnv1a("connect\ndisconnect\ndefault\nx")
        );
        // Fixed, so the same app.arc always writes the same template.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c);
    }
}
