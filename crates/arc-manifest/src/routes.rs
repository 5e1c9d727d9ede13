//! `@http` routes and their methods, and the WebSocket routes `@ws` gives with their function
//! names.

use std::fmt;

/// An HTTP method an `@http` route can answer.
///
/// # Examples
///
/// ```
/// use arc_manifest::Method;
///
/// assert_eq!(Method::Delete.as_str(), "delete");
/// assert_eq!(Method::ALL.len(), 8);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Method {
    /// `get`
    Get,
    /// `post`
    Post,
    /// `put`
    Put,
    /// `patch`
    Patch,
    /// `delete`
    Delete,
    /// `options`
    Options,
    /// `head`
    Head,
    /// `any`: every method not routed elsewhere.
    Any,
}

impl Method {
    /// Every method, in Architect's order (`any` last).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Method;
    ///
    /// assert_eq!(Method::ALL.last(), Some(&Method::Any));
    /// ```
    pub const ALL: [Self; 8] = [
        Self::Get,
        Self::Post,
        Self::Put,
        Self::Patch,
        Self::Delete,
        Self::Options,
        Self::Head,
        Self::Any,
    ];

    /// The method as written in `app.arc`: lowercase.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Method;
    ///
    /// assert_eq!(Method::Options.as_str(), "options");
    /// assert_eq!(Method::Get.to_string(), "get");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::Post => "post",
            Self::Put => "put",
            Self::Patch => "patch",
            Self::Delete => "delete",
            Self::Options => "options",
            Self::Head => "head",
            Self::Any => "any",
        }
    }

    /// The method named `method`, in any case (Architect lowercases methods before checking
    /// them, so `GET /` is accepted too); `None` for a name that is not in [`Method::ALL`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::Method;
    ///
    /// assert_eq!(Method::from_name("GET"), Some(Method::Get));
    /// assert_eq!(Method::from_name("any"), Some(Method::Any));
    /// assert_eq!(Method::from_name("fetch"), None);
    /// ```
    pub fn from_name(method: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|known| known.as_str().eq_ignore_ascii_case(method))
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An `@http` route: a method and a path such as `/notes/:id` or `/files/*`.
///
/// # Examples
///
/// ```
/// use arc_manifest::{Method, Route};
///
/// let route = Route { method: Method::Get, path: "/notes/:id".into() };
/// assert_eq!(route.to_string(), "get /notes/:id");
/// assert_eq!(route.handler_name(), "get-notes-000id");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    /// The method.
    pub method: Method,
    /// The path, starting with `/`; `:name` parts are parameters and a final `*` a catchall.
    pub path: String,
}

impl Route {
    /// The name Architect gives the route's function (and its `src/http/` folder).
    ///
    /// Following `@architect/inventory`'s `getLambdaName`: the root path is `index`; otherwise
    /// `-` and `.` become `_`, `/` becomes `-`, the `:` of a parameter becomes `000` and a
    /// catchall `*` becomes `catchall`. The mapping is lossy (`/a-b` and `/a_b` collide).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_manifest::{Method, Route};
    ///
    /// let name = |method, path: &str| Route { method, path: path.into() }.handler_name();
    /// assert_eq!(name(Method::Get, "/"), "get-index");
    /// assert_eq!(name(Method::Post, "/count"), "post-count");
    /// assert_eq!(name(Method::Get, "/notes/:id"), "get-notes-000id");
    /// assert_eq!(name(Method::Any, "/*"), "any-catchall");
    /// assert_eq!(name(Method::Get, "/style-guide.html"), "get-style_guide_html");
    /// ```
    pub fn handler_name(&self) -> String {
        let mut name = String::from(self.method.as_str());
        if self.path == "/" {
            name.push_str("-index");
            return name;
        }
        // Architect's `.replace(/\*/, 'catchall')` has no `g` flag: only the first `*` changes.
        let mut catchall = false;
        for c in self.path.chars() {
            match c {
                '-' | '.' => name.push('_'),
                '/' => name.push('-'),
                ':' => name.push_str("000"),
                '*' if !catchall => {
                    name.push_str("catchall");
                    catchall = true;
                }
                c => name.push(c),
            }
        }
        name
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// The WebSocket routes API Gateway always has, by the names `@ws` gives them: `$connect`,
/// `$disconnect` and `$default`.
pub const WS_DEFAULT_ROUTES: [&str; 3] = ["connect", "disconnect", "default"];

/// Every WebSocket route of an `@ws` section: [`WS_DEFAULT_ROUTES`], then the custom ones of
/// [`Manifest::ws`](crate::Manifest::ws) in the order they are declared.
///
/// A default route listed under `@ws` is not repeated, because Architect creates those three
/// whether they are listed or not.
///
/// # Examples
///
/// ```
/// use arc_manifest::{Manifest, ws_routes};
///
/// let manifest = Manifest::parse("@app\nchat\n@ws\ndefault\nsend-message\n")?;
/// let custom = manifest.ws.as_deref().expect("app.arc has @ws");
/// assert_eq!(ws_routes(custom), ["connect", "disconnect", "default", "send-message"]);
/// # Ok::<(), arc_manifest::Error>(())
/// ```
pub fn ws_routes(custom: &[String]) -> Vec<String> {
    let mut routes: Vec<String> = WS_DEFAULT_ROUTES.map(String::from).to_vec();
    for route in custom {
        if !routes.contains(route) {
            routes.push(route.clone());
        }
    }
    routes
}

/// The name Architect gives a WebSocket route's function (and its `src/ws/` folder): `ws-`
/// and the route, with `-` and `.` turned into `_` as for `@http` routes.
///
/// # Examples
///
/// ```
/// use arc_manifest::ws_function;
///
/// assert_eq!(ws_function("connect"), "ws-connect");
/// assert_eq!(ws_function("send-message"), "ws-send_message");
/// assert_eq!(ws_function("v1.join"), "ws-v1_join");
/// ```
pub fn ws_function(route: &str) -> String {
    let name: String = route
        .chars()
        .map(|c| if matches!(c, '-' | '.') { '_' } else { c })
        .collect();
    format!("ws-{name}")
}
