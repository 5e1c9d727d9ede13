//! The `@ws` routes of app.arc, and how a message picks one.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

use arc_manifest::{Manifest, WS_DEFAULT_ROUTES, ws_function, ws_routes};
use serde::Deserialize;

/// A route, as `requestContext.routeKey` names it.
///
/// # Examples
///
/// ```
/// use arc_ws_gateway::RouteKey;
///
/// assert_eq!(RouteKey::Connect.as_str(), "$connect");
/// assert_eq!(RouteKey::Connect.function(), "ws-connect");
/// let custom = RouteKey::Custom("send-message".into());
/// assert_eq!((custom.as_str(), custom.function().as_str()), ("send-message", "ws-send_message"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RouteKey {
    /// `$connect`: the upgrade request, before the connection exists.
    Connect,
    /// `$disconnect`: after the connection closed.
    Disconnect,
    /// `$default`: a message no custom route claims.
    Default,
    /// A custom route: a message whose `action` is its name.
    Custom(String),
}

impl RouteKey {
    /// The route key as API Gateway writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Connect => "$connect",
            Self::Disconnect => "$disconnect",
            Self::Default => "$default",
            Self::Custom(name) => name,
        }
    }

    /// The function Architect names for the route, which watch serves under that name.
    pub fn function(&self) -> String {
        ws_function(match self {
            Self::Connect => "connect",
            Self::Disconnect => "disconnect",
            Self::Default => "default",
            Self::Custom(name) => name,
        })
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The routes of an app's `@ws` section: `$connect`, `$disconnect` and `$default`, which
/// Architect always creates, and the custom ones.
///
/// # Examples
///
/// ```
/// use arc_ws_gateway::{RouteKey, Routes};
///
/// let routes = Routes::new(&["chat".to_owned()]);
/// assert_eq!(routes.select(r#"{"action":"chat","text":"hi"}"#), RouteKey::Custom("chat".into()));
/// assert_eq!(routes.select(r#"{"action":"unknown"}"#), RouteKey::Default);
/// assert_eq!(routes.select("not json"), RouteKey::Default);
/// assert_eq!(
///     routes.to_string(),
///     "$connect → ws-connect, $disconnect → ws-disconnect, $default → ws-default, chat → ws-chat"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routes {
    custom: Vec<String>,
}

/// Why the routes could not be read from an app.arc.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RoutesError {
    /// The file could not be read.
    #[error("{}: could not read it: {source} (give another with --arc)", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid manifest.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its line.
        #[source]
        source: arc_manifest::Error,
    },
    /// The manifest has no `@ws` section, so no WebSocket functions.
    #[error("{}: no @ws section, so there are no WebSocket routes to serve: add `@ws` to it", path.display())]
    NoWs {
        /// The file.
        path: PathBuf,
    },
}

impl Routes {
    /// The default routes and these custom ones (a default route among them is ignored).
    pub fn new(custom: &[String]) -> Self {
        let custom = ws_routes(custom)
            .into_iter()
            .filter(|route| !WS_DEFAULT_ROUTES.contains(&route.as_str()))
            .collect();
        Self { custom }
    }

    /// The routes of a manifest's `@ws` section; `None` without one.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Manifest;
    /// use arc_ws_gateway::Routes;
    ///
    /// let manifest = Manifest::parse("@app\nchat\n@ws\njoin\n")?;
    /// assert_eq!(Routes::from_manifest(&manifest), Some(Routes::new(&["join".to_owned()])));
    /// assert_eq!(Routes::from_manifest(&Manifest::parse("@app\nsite\n")?), None);
    /// # Ok::<(), arc_manifest::Error>(())
    /// ```
    pub fn from_manifest(manifest: &Manifest) -> Option<Self> {
        manifest.ws.as_deref().map(Self::new)
    }

    /// Reads the routes from the app.arc at `path`.
    ///
    /// # Errors
    ///
    /// [`RoutesError`] when the file can't be read or parsed, or has no `@ws`.
    pub fn load(path: &Path) -> Result<Self, RoutesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RoutesError::Read {
            path: path.to_owned(),
            source,
        })?;
        let manifest = Manifest::parse(&text).map_err(|source| RoutesError::Parse {
            path: path.to_owned(),
            source,
        })?;
        Self::from_manifest(&manifest).ok_or_else(|| RoutesError::NoWs {
            path: path.to_owned(),
        })
    }

    /// Every route key: the three defaults, then the custom routes in app.arc's order.
    pub fn keys(&self) -> impl Iterator<Item = RouteKey> + '_ {
        [RouteKey::Connect, RouteKey::Disconnect, RouteKey::Default]
            .into_iter()
            .chain(self.custom.iter().cloned().map(RouteKey::Custom))
    }

    /// The route of a text message, as API Gateway picks it with Architect's route selection
    /// expression `$request.body.action`: a JSON object whose string `action` names a custom
    /// route goes there, anything else (not JSON, no `action`, a non-string or unknown one) to
    /// `$default`.
    pub fn select(&self, message: &str) -> RouteKey {
        #[derive(Deserialize)]
        struct Selection<'a> {
            #[serde(borrow)]
            action: Option<Cow<'a, str>>,
        }
        // serde reads a struct from an array too (`["chat"]`); API Gateway wants an object.
        if !message
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('{')
        {
            return RouteKey::Default;
        }
        match serde_json::from_str::<Selection<'_>>(message) {
            Ok(Selection {
                action: Some(action),
            }) if self.custom.iter().any(|route| *route == action) => {
                RouteKey::Custom(action.into_owned())
            }
            _ => RouteKey::Default,
        }
    }
}

impl fmt::Display for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, key) in self.keys().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{key} → {}", key.function())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        Routes::new(&[
            "chat".to_owned(),
            "default".to_owned(),
            "v1.join".to_owned(),
        ])
    }

    #[test]
    fn defaults_are_not_custom_routes() {
        let keys: Vec<RouteKey> = routes().keys().collect();
        assert_eq!(
            keys,
            [
                RouteKey::Connect,
                RouteKey::Disconnect,
                RouteKey::Default,
                RouteKey::Custom("chat".into()),
                RouteKey::Custom("v1.join".into()),
            ]
        );
    }

    #[test]
    fn functions_follow_architect() {
        let functions: Vec<String> = routes().keys().map(|key| key.function()).collect();
        assert_eq!(
            functions,
            [
                "ws-connect",
                "ws-disconnect",
                "ws-default",
                "ws-chat",
                "ws-v1_join"
            ]
        );
    }

    #[test]
    fn select_by_action() {
        let routes = routes();
        let chat = RouteKey::Custom("chat".into());
        assert_eq!(routes.select(r#"{"action":"chat"}"#), chat);
        assert_eq!(
            routes.select(r#" {"text":[1,{"a":null}],"action":"chat"} "#),
            chat
        );
        // An escaped action is still the same name.
        assert_eq!(routes.select(r#"{"action":"c\u0068at"}"#), chat);
        assert_eq!(
            routes.select(r#"{"action":"v1.join"}"#),
            RouteKey::Custom("v1.join".into())
        );
    }

    #[test]
    fn everything_else_is_default() {
        let routes = routes();
        for message in [
            "",
            "chat",
            r#""chat""#,
            r#"["chat"]"#,
            r#"{"action":"Chat"}"#,
            r#"{"action":"unknown"}"#,
            r#"{"action":1}"#,
            r#"{"action":null}"#,
            r#"{"Action":"chat"}"#,
            r#"{"action":"chat""#,
            r#"{"action":"chat"} trailing"#,
            // Route keys of the predefined routes can't be selected by a message.
            r#"{"action":"$connect"}"#,
            r#"{"action":"connect"}"#,
            r#"{"action":"default"}"#,
        ] {
            assert_eq!(routes.select(message), RouteKey::Default, "{message}");
        }
    }

    #[test]
    fn load_reports_each_failure_with_the_path() {
        let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
        let path = dir.path().join("app.arc");
        let load_err = || Routes::load(&path).expect_err("the app.arc is not servable");

        let err = load_err();
        assert!(matches!(err, RoutesError::Read { .. }), "{err:?}");
        assert!(
            err.to_string().contains("app.arc: could not read it"),
            "{err}"
        );

        for (text, expected) in [
            (
                "@app\nchat\n@http\nfetch /\n",
                "app.arc: line 4: unknown HTTP method `fetch`",
            ),
            ("@app\nchat\n", "app.arc: no @ws section"),
        ] {
            std::fs::write(&path, text).unwrap_or_else(|err| panic!("{err}"));
            let err = load_err();
            assert!(err.to_string().contains(expected), "{err}");
        }

        std::fs::write(&path, "@app\nchat\n@ws\nchat\n").unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(
            Routes::load(&path).ok(),
            Some(Routes::new(&["chat".into()]))
        );
    }
}
