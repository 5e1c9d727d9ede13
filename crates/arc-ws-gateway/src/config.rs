//! The command line and environment, read once at start into a typed [`Command`].
//!
//! Two flags and two variables do not need an argument parser; this module is the only place
//! that reads them, and every error names the flag or variable and what it accepts.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use http::Uri;

/// The port the gateway listens on when `WS_PORT` is unset.
pub const DEFAULT_WS_PORT: u16 = 9001;

/// The port `cargo lambda watch` listens on when `PORT` is unset (as `scripts/run` starts it).
pub const DEFAULT_WATCH_PORT: u16 = 9000;

/// API Gateway closes a connection that sent and received no data for this long.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// API Gateway closes every connection this long after it opened.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);

/// What `--help` prints.
pub const USAGE: &str = "\
arc-ws-gateway: a local API Gateway WebSocket API beside `cargo lambda watch`

Usage: arc-ws-gateway [--invoke-url URL] [--arc PATH] [--origin ORIGIN]...
                      [--idle-timeout SECS] [--max-lifetime SECS]

  --invoke-url URL      watch's invoke address [default: http://127.0.0.1:${PORT:-9000}]
  --arc PATH            the app.arc whose @ws routes are served [default: ./app.arc]
  --origin ORIGIN       a web origin whose pages may open sockets, repeatable
                        [default: the origin of --invoke-url, where watch serves the pages]
  --idle-timeout SECS   close a socket without data frames for this long [default: 600]
  --max-lifetime SECS   close every socket this long after it opened [default: 7200]
  -h, --help            print this help

Environment:
  WS_PORT          the port to listen on, on 127.0.0.1 only [default: 9001; 0 picks a free port]
  PORT             watch's port, when --invoke-url is not given [default: 9000]
  WS_ORIGINS       comma-separated origins, when no --origin is given
  WS_IDLE_TIMEOUT  seconds, when --idle-timeout is not given
  WS_MAX_LIFETIME  seconds, when --max-lifetime is not given

Clients connect to ws://localhost:$WS_PORT/ or ws://127.0.0.1:$WS_PORT/ (any path); an upgrade
with an Origin not listed, or a Host that is not a loopback name, is refused with 403. Frames over
32 KB and messages over 128 KB close the socket with 1009. Functions reach the management API at
http://127.0.0.1:$WS_PORT/@connections/{id} (also under a stage, /{stage}/@connections/{id}),
on a loopback Host only.
";

/// What the command line asks for.
///
/// # Examples
///
/// ```
/// use arc_ws_gateway::config::{Command, Config};
///
/// let none: [(&str, &str); 0] = [];
/// assert_eq!(Command::parse(["--help"], none)?, Command::Help);
/// let Command::Serve(config) = Command::parse(["--arc", "demo/app.arc"], [("WS_PORT", "9100")])?
/// else {
///     panic!("no --help, so it serves");
/// };
/// assert_eq!(config.port, 9100);
/// assert_eq!(config.arc.to_str(), Some("demo/app.arc"));
/// # Ok::<(), arc_ws_gateway::config::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Serve with this configuration.
    Serve(Config),
    /// Print [`USAGE`] and exit.
    Help,
}

/// Where the gateway listens, where it invokes functions and which app.arc it reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The port on 127.0.0.1 (`WS_PORT`); 0 lets the system pick one.
    pub port: u16,
    /// The invoke address of `cargo lambda watch`, `http://host:port` with no path
    /// (`--invoke-url`, else built from `PORT`).
    pub invoke_url: Uri,
    /// The app.arc to read the `@ws` routes from (`--arc`).
    pub arc: PathBuf,
    /// The web origins whose pages may open sockets (`--origin`, `WS_ORIGINS`), as browsers
    /// write them in `Origin`; by default the origin of [`Config::invoke_url`].
    pub origins: Vec<String>,
    /// How long a socket may go without data frames (`--idle-timeout`, `WS_IDLE_TIMEOUT`).
    pub idle_timeout: Duration,
    /// How long any socket lives (`--max-lifetime`, `WS_MAX_LIFETIME`).
    pub max_lifetime: Duration,
}

/// A flag or variable holding a value it does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A port variable is not a port number.
    #[error("{var}: expected {accepts}, found `{value}`")]
    Port {
        /// `WS_PORT` or `PORT`.
        var: &'static str,
        /// The value as set.
        value: String,
        /// What the variable accepts.
        accepts: &'static str,
    },
    /// `--invoke-url` is not an `http://host:port` address.
    #[error(
        "--invoke-url: expected watch's invoke address such as http://127.0.0.1:9000, found \
         `{value}` ({reason})"
    )]
    InvokeUrl {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A flag is last on the command line, without its value.
    #[error("{flag}: expected a value after it")]
    MissingValue {
        /// The flag.
        flag: &'static str,
    },
    /// `--arc` is given an empty path.
    #[error("--arc: expected the path of an app.arc, found an empty value")]
    EmptyArc,
    /// An argument this program does not take.
    #[error("unknown argument `{arg}` (try --help)")]
    UnknownArgument {
        /// The argument, lossily decoded.
        arg: String,
    },
    /// A duration flag or variable is not a positive number of seconds.
    #[error("{name}: expected a positive number of seconds such as 600 or 0.5, found `{value}`")]
    Seconds {
        /// The flag or variable.
        name: &'static str,
        /// The value as given.
        value: String,
    },
    /// An origin is not `http://` or `https://` and a host.
    #[error(
        "{name}: expected a web origin such as http://127.0.0.1:9000 (scheme and host, no path), found `{value}`"
    )]
    Origin {
        /// The flag or variable.
        name: &'static str,
        /// The value as given.
        value: String,
    },
    /// An argument or variable that is not UTF-8.
    #[error("{name}: expected UTF-8, found `{value}`")]
    NotUnicode {
        /// The flag or variable.
        name: String,
        /// The value, lossily decoded.
        value: String,
    },
}

impl Command {
    /// Reads the process's arguments (without the program name) and environment.
    ///
    /// # Errors
    ///
    /// See [`Command::parse`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::parse(std::env::args_os().skip(1), std::env::vars_os())
    }

    /// Reads the given arguments (without the program name) and variables, as
    /// [`Command::from_env`] does the process's.
    ///
    /// # Errors
    ///
    /// [`ConfigError`], naming the flag or variable and what it accepts.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_ws_gateway::config::{Command, ConfigError};
    ///
    /// let no_args: [&str; 0] = [];
    /// let err = Command::parse(no_args, [("WS_PORT", "ninety")]).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "WS_PORT: expected a port number from 0 to 65535 (0 picks a free port), found `ninety`"
    /// );
    /// let no_vars: [(&str, &str); 0] = [];
    /// let err = Command::parse(["--invoke-url", "https://example.com"], no_vars);
    /// assert!(matches!(err, Err(ConfigError::InvokeUrl { reason, .. }) if reason.contains("http://")));
    /// ```
    pub fn parse<A, K, V>(
        args: impl IntoIterator<Item = A>,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, ConfigError>
    where
        A: Into<OsString>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut invoke_url = None;
        let mut arc = None;
        let mut origins = Vec::new();
        let mut idle_timeout = None;
        let mut max_lifetime = None;
        let mut args = args.into_iter().map(Into::into);
        while let Some(arg) = args.next() {
            let arg = utf8("argument", arg)?;
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = |flag: &'static str| match inline.clone() {
                Some(value) => Ok(value),
                None => args
                    .next()
                    .ok_or(ConfigError::MissingValue { flag })
                    .and_then(|value| utf8(flag, value)),
            };
            match flag {
                "-h" | "--help" if inline.is_none() => return Ok(Self::Help),
                "--invoke-url" => invoke_url = Some(value("--invoke-url")?),
                "--arc" => arc = Some(value("--arc")?),
                "--origin" => origins.push(origin("--origin", &value("--origin")?)?),
                "--idle-timeout" => {
                    idle_timeout = Some(seconds("--idle-timeout", &value("--idle-timeout")?)?);
                }
                "--max-lifetime" => {
                    max_lifetime = Some(seconds("--max-lifetime", &value("--max-lifetime")?)?);
                }
                _ => return Err(ConfigError::UnknownArgument { arg }),
            }
        }

        let mut ws_port = None;
        let mut watch_port = None;
        let mut env_origins = None;
        let mut env_idle = None;
        let mut env_lifetime = None;
        for (name, value) in vars {
            match name.into().to_str() {
                Some("WS_PORT") => ws_port = Some(utf8("WS_PORT", value.into())?),
                Some("PORT") => watch_port = Some(utf8("PORT", value.into())?),
                Some("WS_ORIGINS") => env_origins = Some(utf8("WS_ORIGINS", value.into())?),
                Some("WS_IDLE_TIMEOUT") => {
                    env_idle = Some(utf8("WS_IDLE_TIMEOUT", value.into())?);
                }
                Some("WS_MAX_LIFETIME") => {
                    env_lifetime = Some(utf8("WS_MAX_LIFETIME", value.into())?);
                }
                _ => {}
            }
        }
        // A flag wins over its variable, which is then not even read.
        let idle_timeout = match (idle_timeout, env_idle) {
            (Some(flag), _) => flag,
            (None, Some(var)) => seconds("WS_IDLE_TIMEOUT", &var)?,
            (None, None) => DEFAULT_IDLE_TIMEOUT,
        };
        let max_lifetime = match (max_lifetime, env_lifetime) {
            (Some(flag), _) => flag,
            (None, Some(var)) => seconds("WS_MAX_LIFETIME", &var)?,
            (None, None) => DEFAULT_MAX_LIFETIME,
        };
        if origins.is_empty()
            && let Some(list) = env_origins
        {
            for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                origins.push(origin("WS_ORIGINS", entry)?);
            }
        }

        let port = match ws_port {
            None => DEFAULT_WS_PORT,
            Some(value) => parse_port(
                "WS_PORT",
                &value,
                "a port number from 0 to 65535 (0 picks a free port)",
            )?,
        };
        let invoke_url = match invoke_url {
            Some(url) => invoke_base(&url)?,
            None => {
                let watch = match watch_port {
                    None => DEFAULT_WATCH_PORT,
                    Some(value) => {
                        match parse_port("PORT", &value, "a port number from 1 to 65535")? {
                            0 => {
                                return Err(ConfigError::Port {
                                    var: "PORT",
                                    value,
                                    accepts: "a port number from 1 to 65535",
                                });
                            }
                            watch => watch,
                        }
                    }
                };
                invoke_base(&format!("http://127.0.0.1:{watch}"))?
            }
        };
        let arc = match arc {
            None => PathBuf::from("./app.arc"),
            Some(path) if path.is_empty() => return Err(ConfigError::EmptyArc),
            Some(path) => PathBuf::from(path),
        };
        if origins.is_empty() {
            // Watch serves the app's pages on its invoke address.
            origins.push(normalize_origin(&invoke_url.to_string()));
        }
        Ok(Self::Serve(Config {
            port,
            invoke_url,
            arc,
            origins,
            idle_timeout,
            max_lifetime,
        }))
    }
}

fn utf8(name: &str, value: OsString) -> Result<String, ConfigError> {
    value
        .into_string()
        .map_err(|value| ConfigError::NotUnicode {
            name: name.to_owned(),
            value: value.to_string_lossy().into_owned(),
        })
}

/// A positive, finite number of seconds.
fn seconds(name: &'static str, value: &str) -> Result<Duration, ConfigError> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| ConfigError::Seconds {
            name,
            value: value.to_owned(),
        })
}

/// An `http` or `https` origin with a host and nothing after it, normalized.
fn origin(name: &'static str, value: &str) -> Result<String, ConfigError> {
    let normalized = normalize_origin(value);
    let host = normalized
        .strip_prefix("http://")
        .or_else(|| normalized.strip_prefix("https://"));
    match host {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', '@', ' ']) => {
            Ok(normalized)
        }
        _ => Err(ConfigError::Origin {
            name,
            value: value.to_owned(),
        }),
    }
}

/// An origin as browsers write it in `Origin`: scheme and host in lower case, no default port,
/// no trailing `/`.
///
/// # Examples
///
/// ```
/// use arc_ws_gateway::config::normalize_origin;
/// assert_eq!(normalize_origin("HTTP://127.0.0.1:9000/"), "http://127.0.0.1:9000");
/// assert_eq!(normalize_origin("https://app.example.com:443"), "https://app.example.com");
/// ```
pub fn normalize_origin(origin: &str) -> String {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme)
            && let Some(bare) = origin.strip_suffix(port)
        {
            return bare.to_owned();
        }
    }
    origin
}

fn parse_port(var: &'static str, value: &str, accepts: &'static str) -> Result<u16, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Port {
        var,
        value: value.to_owned(),
        accepts,
    })
}

/// `http://host:port`, with nothing after it: the gateway appends Lambda's invoke path.
fn invoke_base(value: &str) -> Result<Uri, ConfigError> {
    let err = |reason| ConfigError::InvokeUrl {
        value: value.to_owned(),
        reason,
    };
    let uri: Uri = value.parse().map_err(|_| err("not a URL"))?;
    if uri.scheme_str() != Some("http") {
        return Err(err("only plain http:// is supported"));
    }
    let Some(authority) = uri.authority() else {
        return Err(err("no host"));
    };
    if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
        return Err(err("expected no path: the invoke path is added to it"));
    }
    format!("http://{authority}")
        .parse()
        .map_err(|_| err("not a URL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_VARS: [(&str, &str); 0] = [];
    const NO_ARGS: [&str; 0] = [];

    fn serve(args: &[&str], vars: &[(&str, &str)]) -> Config {
        match Command::parse(args.iter().copied(), vars.iter().copied()) {
            Ok(Command::Serve(config)) => config,
            other => panic!("{args:?} {vars:?} should serve, got {other:?}"),
        }
    }

    fn error(args: &[&str], vars: &[(&str, &str)]) -> String {
        match Command::parse(args.iter().copied(), vars.iter().copied()) {
            Err(err) => err.to_string(),
            Ok(command) => panic!("{args:?} {vars:?} should fail, got {command:?}"),
        }
    }

    #[test]
    fn defaults() {
        let config = serve(&[], &[("HOME", "/root")]);
        assert_eq!(config.port, 9001);
        assert_eq!(config.invoke_url, "http://127.0.0.1:9000");
        assert_eq!(config.arc, PathBuf::from("./app.arc"));
        assert_eq!(config.origins, ["http://127.0.0.1:9000"], "watch's pages");
        assert_eq!(config.idle_timeout, Duration::from_secs(600));
        assert_eq!(config.max_lifetime, Duration::from_secs(7200));
        let elsewhere = serve(&["--invoke-url", "http://localhost:9300"], &[]);
        assert_eq!(elsewhere.origins, ["http://localhost:9300"]);
    }

    #[test]
    fn origins_and_limits_from_flags_or_variables() {
        let config = serve(
            &[
                "--origin",
                "HTTPS://App.Example.com:443/",
                "--origin=http://127.0.0.1:9000",
                "--idle-timeout",
                "0.5",
                "--max-lifetime=30",
            ],
            &[
                ("WS_ORIGINS", "http://ignored.example"),
                ("WS_IDLE_TIMEOUT", "x"),
                ("WS_MAX_LIFETIME", "x"),
            ],
        );
        assert_eq!(
            config.origins,
            ["https://app.example.com", "http://127.0.0.1:9000"]
        );
        assert_eq!(config.idle_timeout, Duration::from_millis(500));
        assert_eq!(config.max_lifetime, Duration::from_secs(30));
        let config = serve(
            &[],
            &[
                ("WS_ORIGINS", "http://a.example, https://b.example:8443"),
                ("WS_IDLE_TIMEOUT", "2"),
                ("WS_MAX_LIFETIME", "3.5"),
            ],
        );
        assert_eq!(
            config.origins,
            ["http://a.example", "https://b.example:8443"]
        );
        assert_eq!(config.idle_timeout, Duration::from_secs(2));
        assert_eq!(config.max_lifetime, Duration::from_millis(3500));
    }

    #[test]
    fn bad_origins_and_durations_name_the_flag() {
        for value in ["0", "-1", "soon", "NaN", "inf"] {
            assert_eq!(
                error(&["--idle-timeout", value], &[]),
                format!(
                    "--idle-timeout: expected a positive number of seconds such as 600 or 0.5, found `{value}`"
                )
            );
        }
        assert!(error(&[], &[("WS_MAX_LIFETIME", "0")]).starts_with("WS_MAX_LIFETIME: "));
        for value in [
            "example.com",
            "ws://localhost:9001",
            "http://",
            "http://a.example/app",
        ] {
            assert_eq!(
                error(&["--origin", value], &[]),
                format!(
                    "--origin: expected a web origin such as http://127.0.0.1:9000 (scheme and host, no path), found `{value}`"
                )
            );
        }
        assert!(error(&[], &[("WS_ORIGINS", "nope")]).starts_with("WS_ORIGINS: "));
    }

    #[test]
    fn port_picks_watchs_address() {
        let config = serve(&[], &[("PORT", "9200"), ("WS_PORT", "0")]);
        assert_eq!(config.invoke_url, "http://127.0.0.1:9200");
        assert_eq!(config.port, 0);
    }

    #[test]
    fn flags_take_separate_or_inline_values() {
        let config = serve(
            &[
                "--invoke-url=http://localhost:9300/",
                "--arc",
                "a b/app.arc",
            ],
            &[("PORT", "1")],
        );
        assert_eq!(config.invoke_url, "http://localhost:9300");
        assert_eq!(config.arc, PathBuf::from("a b/app.arc"));
        // The flag wins over PORT, which is then not even read.
        let config = serve(&["--invoke-url", "http://127.0.0.1:7"], &[("PORT", "x")]);
        assert_eq!(config.invoke_url, "http://127.0.0.1:7");
    }

    #[test]
    fn help_wins_wherever_it_is() {
        assert_eq!(Command::parse(["-h"], NO_VARS), Ok(Command::Help));
        assert_eq!(
            Command::parse(["--arc", "x", "--help"], [("WS_PORT", "bad")]),
            Ok(Command::Help)
        );
        assert!(USAGE.contains("--invoke-url") && USAGE.contains("WS_PORT"));
    }

    #[test]
    fn bad_ports_name_the_variable() {
        assert_eq!(
            error(&[], &[("WS_PORT", "65536")]),
            "WS_PORT: expected a port number from 0 to 65535 (0 picks a free port), found `65536`"
        );
        assert_eq!(
            error(&[], &[("PORT", "-1")]),
            "PORT: expected a port number from 1 to 65535, found `-1`"
        );
        assert_eq!(
            error(&[], &[("PORT", "0")]),
            "PORT: expected a port number from 1 to 65535, found `0`"
        );
    }

    #[test]
    fn bad_invoke_urls_say_why() {
        let cases = [
            ("https://127.0.0.1:9000", "only plain http:// is supported"),
            ("127.0.0.1:9000", "only plain http:// is supported"),
            ("http://127.0.0.1:9000/2015-03-31", "expected no path"),
            ("http://127.0.0.1:9000/?x=1", "expected no path"),
            ("http://[::1", "not a URL"),
        ];
        for (url, reason) in cases {
            let message = error(&["--invoke-url", url], &[]);
            assert!(
                message.starts_with("--invoke-url: expected watch's invoke address"),
                "{message}"
            );
            assert!(
                message.contains(url) && message.contains(reason),
                "{message}"
            );
        }
    }

    #[test]
    fn bad_arguments() {
        assert_eq!(error(&["--arc"], &[]), "--arc: expected a value after it");
        assert_eq!(
            error(&["--arc="], &[]),
            "--arc: expected the path of an app.arc, found an empty value"
        );
        assert_eq!(
            error(&["--port", "1"], &[]),
            "unknown argument `--port` (try --help)"
        );
        assert_eq!(
            error(&["serve"], &[]),
            "unknown argument `serve` (try --help)"
        );
        assert_eq!(
            error(&["--help=yes"], &[]),
            "unknown argument `--help=yes` (try --help)"
        );
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;

        let bad = OsString::from_vec(vec![b'9', 0xff]);
        let err = Command::parse(NO_ARGS, [(OsString::from("WS_PORT"), bad.clone())]);
        assert!(matches!(err, Err(ConfigError::NotUnicode { name, .. }) if name == "WS_PORT"));
        let err = Command::parse([OsString::from("--arc"), bad], NO_VARS);
        assert!(matches!(err, Err(ConfigError::NotUnicode { name, .. }) if name == "--arc"));
    }
}
