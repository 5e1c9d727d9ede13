//! The configuration's rules, variable by variable.

use super::*;

const GOOD: &str = "0123456789abcdef0123456789abcdef";
const TESTING: (&str, &str) = ("ARC_ENV", "testing");

fn err(vars: &[(&str, &str)]) -> String {
    match Config::from_vars(vars.iter().copied()) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

fn ok(vars: &[(&str, &str)]) -> Config {
    Config::from_vars(vars.iter().copied()).expect("valid")
}

#[test]
fn testing_defaults() {
    let c = ok(&[TESTING]);
    assert_eq!(c.storage, Storage::SealedCookie);
    assert_eq!(c.env, ArcEnv::Testing);
    assert_eq!(c.lifetime.ttl, DEFAULT_TTL);
    assert_eq!(c.cookie.same_site, SameSite::Lax);
    assert!(c.secrets.development);
    assert_eq!(c.secrets.current.as_bytes(), DEVELOPMENT_SECRET.as_bytes());
    assert!(!c.secure());
    assert_eq!(c.cookie.domain, None);
    assert_eq!(c.lifetime.max_age, None);
    assert!(!c.cookie.host_only);
}

#[test]
fn an_unset_arc_env_is_strict() {
    // Nothing, or what Lambda itself sets for a provided.al2023 function: no secret, no start.
    let lambda = [
        ("AWS_LAMBDA_FUNCTION_NAME", "get-index"),
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_REGION", "us-east-1"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
    ];
    for vars in [&[][..], &lambda[..]] {
        let msg = err(vars);
        assert!(
            msg.starts_with("ARC_APP_SECRET is not set and ARC_ENV is unset"),
            "{msg}"
        );
        assert!(msg.contains("ARC_ENV=testing"), "{msg}");
    }
    let c = ok(&[("ARC_APP_SECRET", GOOD)]);
    assert_eq!(c.env, ArcEnv::Production);
    assert!(c.secure(), "an unset ARC_ENV sends Secure cookies");
    assert!(!c.secrets.development);
    assert!(err(&[("ARC_APP_SECRET", "short")]).starts_with("ARC_APP_SECRET is 5 bytes"));
}

#[test]
fn every_variable_is_read() {
    let c = ok(&[
        ("ARC_SESSION_TABLE_NAME", "t1"),
        ("ARC_APP_SECRET", GOOD),
        (
            "ARC_APP_SECRET_PREVIOUS",
            "old-one-0123456789abcdef0123456789, old-two-0123456789abcdef0123456789",
        ),
        ("ARC_ENV", "staging"),
        ("ARC_SESSION_TTL", "60"),
        ("ARC_SESSION_MAX_AGE", "3600"),
        ("SESSION_DOMAIN", "example.com"),
        ("ARC_SESSION_SAME_SITE", "NONE"),
    ]);
    assert_eq!(c.storage, Storage::DynamoDb { table: "t1".into() });
    assert_eq!(c.secrets.current.as_bytes(), GOOD.as_bytes());
    assert_eq!(
        c.secrets.previous,
        [
            Secret::new("old-one-0123456789abcdef0123456789"),
            Secret::new("old-two-0123456789abcdef0123456789")
        ]
    );
    assert!(!c.secrets.development);
    assert_eq!(c.env, ArcEnv::Staging);
    assert_eq!(c.lifetime.ttl, 60);
    assert_eq!(c.lifetime.max_age, Some(3600));
    assert_eq!(c.cookie.domain.as_deref(), Some("example.com"));
    assert_eq!(c.cookie.same_site, SameSite::None);
    assert!(c.secure());
    assert!(!c.cookie.host_only);
}

#[test]
fn session_table_name_wins_over_alias_and_jwe_means_cookie() {
    let c = ok(&[
        TESTING,
        ("SESSION_TABLE_NAME", "jwe"),
        ("ARC_SESSION_TABLE_NAME", "t"),
    ]);
    assert_eq!(c.storage, Storage::SealedCookie);
    assert!(err(&[TESTING, ("SESSION_TABLE_NAME", " ")]).contains("SESSION_TABLE_NAME"));
}

#[test]
fn bad_values_name_their_variable() {
    assert!(err(&[("ARC_ENV", "prod")]).starts_with("ARC_ENV is \"prod\""));
    for ttl in ["0", "-5", "1.5", "week"] {
        assert!(
            err(&[TESTING, ("ARC_SESSION_TTL", ttl)]).starts_with("ARC_SESSION_TTL is"),
            "{ttl}"
        );
    }
    assert!(err(&[TESTING, ("SESSION_TTL", "week")]).starts_with("SESSION_TTL is \"week\""));
    assert!(err(&[TESTING, ("ARC_SESSION_MAX_AGE", "0")]).starts_with("ARC_SESSION_MAX_AGE is"));
    assert!(
        err(&[TESTING, ("ARC_SESSION_SAME_SITE", "sometimes")])
            .contains("ARC_SESSION_SAME_SITE is \"sometimes\"; set it to Strict, Lax or None")
    );
}

#[test]
fn production_and_staging_need_a_long_secret() {
    for env in ["staging", "production"] {
        let msg = err(&[("ARC_ENV", env)]);
        assert!(
            msg.starts_with(&format!("ARC_APP_SECRET is not set and ARC_ENV is {env}")),
            "{msg}"
        );
        let msg = err(&[("ARC_ENV", env), ("ARC_APP_SECRET", "short")]);
        assert!(msg.starts_with("ARC_APP_SECRET is 5 bytes"), "{msg}");
        let msg = err(&[
            ("ARC_ENV", env),
            ("ARC_APP_SECRET", GOOD),
            ("ARC_APP_SECRET_PREVIOUS", "short"),
        ]);
        assert!(
            msg.starts_with("ARC_APP_SECRET_PREVIOUS is 5 bytes"),
            "{msg}"
        );
        ok(&[("ARC_ENV", env), ("ARC_APP_SECRET", GOOD)]);
    }
}

#[test]
fn the_length_limit_is_exactly_min_secret_len() {
    let short = &GOOD[..MIN_SECRET_LEN - 1];
    let exact = &GOOD[..MIN_SECRET_LEN];
    assert_eq!(
        err(&[("ARC_APP_SECRET", short)]),
        format!(
            "ARC_APP_SECRET is {} bytes; set it to a random string of at least 32 bytes, e.g. `openssl rand -base64 48`",
            MIN_SECRET_LEN - 1
        )
    );
    ok(&[("ARC_APP_SECRET", exact)]);
    assert!(
        err(&[
            ("ARC_APP_SECRET", exact),
            ("ARC_APP_SECRET_PREVIOUS", short)
        ])
        .starts_with("ARC_APP_SECRET_PREVIOUS is 31 bytes")
    );
    let c = ok(&[
        ("ARC_APP_SECRET", exact),
        ("ARC_APP_SECRET_PREVIOUS", exact),
    ]);
    assert_eq!(c.secrets.previous, [Secret::new(exact)]);
}

#[test]
fn the_development_secret_is_refused_outside_testing() {
    for env in [None, Some("staging"), Some("production")] {
        let with_env = |mut vars: Vec<(&'static str, &'static str)>| {
            if let Some(env) = env {
                vars.push(("ARC_ENV", env));
            }
            vars
        };
        let msg = err(&with_env(vec![("ARC_APP_SECRET", DEVELOPMENT_SECRET)]));
        assert!(
            msg.starts_with("ARC_APP_SECRET is the public development secret"),
            "{env:?}: {msg}"
        );
        let msg = err(&with_env(vec![
            ("ARC_APP_SECRET", GOOD),
            ("ARC_APP_SECRET_PREVIOUS", DEVELOPMENT_SECRET),
        ]));
        assert!(
            msg.starts_with("ARC_APP_SECRET_PREVIOUS is the public development secret"),
            "{env:?}: {msg}"
        );
    }
    // In testing, set explicitly, it is just a secret.
    let c = ok(&[TESTING, ("ARC_APP_SECRET", DEVELOPMENT_SECRET)]);
    assert!(!c.secrets.development);
}

#[test]
fn every_secret_is_trimmed_the_same_way() {
    let from_store = format!("  {GOOD}\n");
    let c = ok(&[("ARC_APP_SECRET", from_store.as_str())]);
    assert_eq!(c.secrets.current, Secret::new(GOOD));
    // The same secret, moved to the previous list on rotation, keeps its bytes.
    let rotated = format!("{from_store},\t{GOOD}x \n");
    let c = ok(&[
        ("ARC_APP_SECRET", "a brand new secret of 32 bytes or more"),
        ("ARC_APP_SECRET_PREVIOUS", rotated.as_str()),
    ]);
    assert_eq!(
        c.secrets.previous,
        [Secret::new(GOOD), Secret::new(format!("{GOOD}x"))]
    );
    // Whitespace inside a secret is part of it.
    let c = ok(&[TESTING, ("ARC_APP_SECRET", " a b ")]);
    assert_eq!(c.secrets.current, Secret::new("a b"));
    // Whitespace alone is no secret.
    let c = ok(&[TESTING, ("ARC_APP_SECRET", " \n")]);
    assert!(c.secrets.development);
}

#[test]
fn a_comma_in_the_secret_is_refused() {
    for env in ["testing", "production"] {
        let msg = err(&[
            ("ARC_ENV", env),
            ("ARC_APP_SECRET", "0123456789abcdef,0123456789abcdef"),
        ]);
        assert!(msg.starts_with("ARC_APP_SECRET contains a comma"), "{msg}");
    }
}

#[test]
fn the_cookie_domain_is_validated() {
    for bad in [
        "example.com;Secure",
        "example.com; Secure",
        "exa mple.com",
        "example.com\u{7}",
        "a\u{0}b",
    ] {
        let msg = err(&[TESTING, ("ARC_SESSION_DOMAIN", bad)]);
        assert!(msg.starts_with("ARC_SESSION_DOMAIN is"), "{bad:?}: {msg}");
        let msg = err(&[TESTING, ("SESSION_DOMAIN", bad)]);
        assert!(msg.starts_with("ARC_SESSION_DOMAIN is"), "{bad:?}: {msg}");
    }
    let c = ok(&[TESTING, ("ARC_SESSION_DOMAIN", " .example.com ")]);
    assert_eq!(c.cookie.domain.as_deref(), Some(".example.com"));
}

#[test]
fn same_site_none_needs_secure_cookies() {
    let msg = err(&[TESTING, ("ARC_SESSION_SAME_SITE", "None")]);
    assert!(msg.starts_with("ARC_SESSION_SAME_SITE is None"), "{msg}");
    assert!(msg.contains("ARC_ENV=testing"), "{msg}");
    let c = ok(&[("ARC_APP_SECRET", GOOD), ("ARC_SESSION_SAME_SITE", "None")]);
    assert!(c.secure());
    // A __Host- cookie is always Secure, so None is fine with it even in testing.
    let c = ok(&[
        TESTING,
        ("ARC_SESSION_SAME_SITE", "None"),
        ("ARC_SESSION_HOST_COOKIE", "true"),
    ]);
    assert!(c.secure());
}

#[test]
fn the_host_cookie_option() {
    for (raw, on) in [
        ("true", true),
        ("1", true),
        ("TRUE", true),
        ("false", false),
        ("0", false),
    ] {
        assert_eq!(
            ok(&[TESTING, ("ARC_SESSION_HOST_COOKIE", raw)])
                .cookie
                .host_only,
            on,
            "{raw}"
        );
    }
    assert!(
        err(&[TESTING, ("ARC_SESSION_HOST_COOKIE", "yes please")])
            .starts_with("ARC_SESSION_HOST_COOKIE is \"yes please\"")
    );
    assert!(
        err(&[
            TESTING,
            ("ARC_SESSION_HOST_COOKIE", "true"),
            ("ARC_SESSION_DOMAIN", "example.com")
        ])
        .contains("cannot carry a Domain")
    );
    assert!(ok(&[TESTING, ("ARC_SESSION_HOST_COOKIE", "true")]).secure());
}

#[test]
fn every_same_site_value_is_read_and_displayed() {
    for (raw, expected, shown) in [
        ("strict", SameSite::Strict, "Strict"),
        ("Lax", SameSite::Lax, "Lax"),
        ("lax", SameSite::Lax, "Lax"),
        ("NONE", SameSite::None, "None"),
    ] {
        let vars = [("ARC_APP_SECRET", GOOD), ("ARC_SESSION_SAME_SITE", raw)];
        let c = ok(&vars);
        assert_eq!(c.cookie.same_site, expected, "{raw}");
        assert_eq!(c.cookie.same_site.to_string(), shown);
    }
}

#[test]
fn secrets_never_show_in_debug_output() {
    let c = ok(&[("ARC_APP_SECRET", GOOD), ("ARC_APP_SECRET_PREVIOUS", GOOD)]);
    assert_eq!(format!("{:?}", c.secrets.current), "Secret(32 bytes)");
    let shown = format!("{c:?}");
    assert!(!shown.contains(GOOD), "{shown}");
}

#[test]
fn testing_accepts_a_short_secret() {
    let c = ok(&[TESTING, ("ARC_APP_SECRET", "dev")]);
    assert_eq!(c.secrets.current.as_bytes(), b"dev");
    assert!(!c.secrets.development);
}

#[test]
fn websocket_urls_are_checked_and_plaintext_is_for_testing_only() {
    const SECRET: &str = "a production secret of 32 bytes or more";
    let url = |env: &str, name: &str, value: &str| {
        Config::from_vars([("ARC_ENV", env), ("ARC_APP_SECRET", SECRET), (name, value)])
    };
    for name in ["ARC_WSS_URL", "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] {
        let prod = url(
            "production",
            name,
            "wss://abc.execute-api.us-east-1.amazonaws.com/prod/",
        )
        .expect("wss is fine anywhere");
        let read = if name == "ARC_WSS_URL" {
            prod.ws.url
        } else {
            prod.ws.endpoint
        };
        assert_eq!(
            read.as_deref(),
            Some("wss://abc.execute-api.us-east-1.amazonaws.com/prod")
        );
        assert!(url("staging", name, "https://vpce.example.com").is_ok());
        for plain in [
            "ws://127.0.0.1:9001",
            "http://localhost:9001",
            "HTTP://gateway:9001",
        ] {
            for env in ["production", "staging"] {
                let refused = url(env, name, plain).expect_err("plaintext outside testing");
                assert_eq!(
                    refused,
                    Error::PlaintextEndpoint {
                        name: if name == "ARC_WSS_URL" {
                            "ARC_WSS_URL"
                        } else {
                            "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"
                        },
                        value: plain.to_owned(),
                    }
                );
                assert!(refused.to_string().contains("wss://"), "{refused}");
            }
            assert!(url("testing", name, plain).is_ok(), "{plain} in testing");
        }
        for bad in [
            "abc.example.com",
            "ftp://x",
            "wss://",
            "wss:///path",
            "wss://a b",
        ] {
            assert!(
                matches!(url("testing", name, bad), Err(Error::WsUrl { .. })),
                "{bad}"
            );
        }
    }
}

#[test]
fn websocket_origins_and_the_connection_cap() {
    let config = ok(&[TESTING]);
    assert!(config.ws.origins.is_empty());
    assert_eq!(config.ws.max_connections, DEFAULT_WS_MAX_CONNECTIONS);
    assert_eq!(DEFAULT_WS_MAX_CONNECTIONS, 10);
    let config = ok(&[
        TESTING,
        (
            "ARC_WS_ORIGINS",
            " https://App.Example.com:443/ ,, http://127.0.0.1:9000",
        ),
        ("ARC_WS_MAX_CONNECTIONS", "3"),
    ]);
    assert_eq!(
        config.ws.origins,
        ["https://app.example.com", "http://127.0.0.1:9000"]
    );
    assert_eq!(config.ws.max_connections, 3);
    for bad in [
        "app.example.com",
        "https://",
        "https://app.example.com/path",
        "wss://app.example.com",
    ] {
        assert_eq!(
            err(&[TESTING, ("ARC_WS_ORIGINS", bad)]),
            Error::WsOrigin(bad.trim().to_owned()).to_string(),
            "{bad}"
        );
    }
    for bad in ["0", "-1", "ten", "1.5"] {
        let message = err(&[TESTING, ("ARC_WS_MAX_CONNECTIONS", bad)]);
        assert!(
            message.starts_with(&format!("ARC_WS_MAX_CONNECTIONS is {bad:?}")),
            "{message}"
        );
    }
}

#[test]
fn architects_session_ttl_is_read_after_arc_session_ttl() {
    let ttl = |vars: &[(&str, &str)]| {
        Config::from_vars([TESTING].iter().chain(vars).copied())
            .expect("valid")
            .lifetime
            .ttl
    };
    assert_eq!(ttl(&[("SESSION_TTL", "3600")]), 3600);
    assert_eq!(
        ttl(&[("ARC_SESSION_TTL", "60"), ("SESSION_TTL", "3600")]),
        60
    );
    assert_eq!(ttl(&[("SESSION_TTL", " ")]), DEFAULT_TTL);
    assert_eq!(ttl(&[]), DEFAULT_TTL);
}

#[cfg(not(feature = "architect"))]
#[test]
fn without_the_architect_feature_a_name_is_physical_and_a_logical_looking_one_is_warned_of() {
    let log = crate::test_log::Log::capture();
    let load = |name: &str| {
        Config::load([
            TESTING,
            ("ARC_STACK_NAME", "BigseshStaging"),
            ("ARC_SESSION_TABLE_NAME", name),
        ])
        .expect("taken as it is")
        .storage
    };
    assert_eq!(
        load("BigseshStaging-SessionTable-1AB2"),
        Storage::DynamoDb {
            table: "BigseshStaging-SessionTable-1AB2".into()
        }
    );
    assert!(!log.text().contains("logical name"), "{}", log.text());
    assert_eq!(
        load("session"),
        Storage::DynamoDb {
            table: "session".into()
        }
    );
    let text = log.text();
    assert!(
        text.contains("ARC_SESSION_TABLE_NAME (\"session\") may be app.arc's logical name")
            && text.contains("`architect` feature"),
        "{text}"
    );
}
