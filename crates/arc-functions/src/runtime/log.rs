//! The log subscriber every route installs at cold start unless its `main` installed one:
//! lambda_runtime's default, read from the same variables, without its `EnvFilter`. That filter
//! reads `RUST_LOG` with regular expressions, and the regex crates it links were 271 KiB of a
//! route's code, relocated at every cold start (BENCHMARKS.md, "What get-index is made of").
//! `Targets` reads the same `target=level` lists; what it cannot read (span and field
//! filters) falls back to the level alone, with a warning.

use std::str::FromStr;

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// What is logged when no variable says otherwise, as lambda_runtime's default.
const DEFAULT: LevelFilter = LevelFilter::INFO;

/// Installs the subscriber: `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls) or
/// else `RUST_LOG` chooses what is logged, `AWS_LAMBDA_LOG_FORMAT=JSON` writes JSON lines, and
/// lines go to standard output without a time (CloudWatch stamps each) or a target. Does nothing
/// when a subscriber is installed already.
pub(crate) fn install() {
    let var = |name| std::env::var(name).ok();
    let rust_log = var("RUST_LOG");
    let (filter, unread) = filter(var("AWS_LAMBDA_LOG_LEVEL").as_deref(), rust_log.as_deref());
    let json = var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("json"));
    let lines = tracing_subscriber::fmt()
        .with_target(false)
        .without_time()
        .with_writer(std::io::stdout);
    let installed = if json {
        lines.json().finish().with(filter).try_init()
    } else {
        lines.finish().with(filter).try_init()
    };
    if let (Ok(()), Some(unread)) = (installed, unread) {
        tracing::warn!(
            "RUST_LOG is {unread:?}, of which only levels and target=level pairs are read; logging at the level alone"
        );
    }
}

/// What is logged: the level `AWS_LAMBDA_LOG_LEVEL` names, else the one `RUST_LOG` names, else
/// [`DEFAULT`], for every target `RUST_LOG` does not name. Second, a `RUST_LOG` that could not
/// be read, to warn of once the subscriber is in place.
fn filter<'a>(lambda_level: Option<&str>, rust_log: Option<&'a str>) -> (Targets, Option<&'a str>) {
    // Empty is unset: tracing reads an empty level as ERROR and `Targets` an empty list as
    // everything.
    let lambda_level = lambda_level.map(str::trim).filter(|t| !t.is_empty());
    let rust_log = rust_log.map(str::trim).filter(|t| !t.is_empty());
    let level = |text: Option<&str>| text.and_then(|t| LevelFilter::from_str(t).ok());
    let default = level(lambda_level).or(level(rust_log)).unwrap_or(DEFAULT);
    let Some(rust_log) = rust_log else {
        return (Targets::new().with_default(default), None);
    };
    // A bare level reads as the default of targets naming none.
    match Targets::from_str(rust_log) {
        Ok(targets) if lambda_level.is_some() || targets.default_level().is_none() => {
            (targets.with_default(default), None)
        }
        Ok(targets) => (targets, None),
        Err(_) => (Targets::new().with_default(default), Some(rust_log)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    fn logs(filter: &Targets, target: &str, level: Level) -> bool {
        filter.would_enable(target, &level)
    }

    #[test]
    fn without_variables_info_and_above_are_logged() {
        let (f, unread) = filter(None, None);
        assert!(logs(&f, "arc_functions", Level::INFO));
        assert!(logs(&f, "aws_config", Level::WARN));
        assert!(!logs(&f, "arc_functions", Level::DEBUG));
        assert_eq!(unread, None);
    }

    #[test]
    fn lambdas_level_wins_over_rust_logs() {
        let (f, _) = filter(Some("ERROR"), Some("debug"));
        assert!(!logs(&f, "arc_functions", Level::WARN));
        assert!(logs(&f, "arc_functions", Level::ERROR));
        // A level Lambda offers that tracing has not (FATAL) is the default, as lambda_runtime
        // reads it.
        let (f, _) = filter(Some("FATAL"), None);
        assert!(logs(&f, "x", Level::INFO) && !logs(&f, "x", Level::DEBUG));
    }

    #[test]
    fn rust_log_names_a_level_or_levels_per_target() {
        let (f, _) = filter(None, Some("debug"));
        assert!(logs(&f, "anything", Level::DEBUG));
        assert!(!logs(&f, "anything", Level::TRACE));

        let (f, unread) = filter(None, Some("arc_functions=trace,aws_smithy_runtime=warn"));
        assert!(logs(&f, "arc_functions::session", Level::TRACE));
        assert!(!logs(&f, "aws_smithy_runtime", Level::INFO));
        // Targets it does not name keep the default rather than going silent.
        assert!(logs(&f, "hyper", Level::INFO) && !logs(&f, "hyper", Level::DEBUG));
        assert_eq!(unread, None);

        let (f, _) = filter(None, Some("warn,arc_functions=debug"));
        assert!(!logs(&f, "hyper", Level::INFO));
        assert!(logs(&f, "arc_functions", Level::DEBUG));

        let (f, _) = filter(Some("error"), Some("arc_functions=debug,warn"));
        assert!(
            !logs(&f, "hyper", Level::WARN),
            "Lambda's level is the default"
        );
        assert!(logs(&f, "arc_functions", Level::DEBUG));
    }

    #[test]
    fn an_empty_rust_log_is_no_rust_log() {
        for blank in ["", "  "] {
            let (f, unread) = filter(Some(blank), Some(blank));
            assert!(logs(&f, "x", Level::INFO) && !logs(&f, "x", Level::DEBUG));
            assert_eq!(unread, None);
        }
    }

    #[test]
    fn what_targets_cannot_read_falls_back_to_the_level_and_is_reported() {
        let (f, unread) = filter(None, Some("arc_functions[request{id=1}]=debug"));
        assert_eq!(unread, Some("arc_functions[request{id=1}]=debug"));
        assert!(logs(&f, "arc_functions", Level::INFO));
        assert!(!logs(&f, "arc_functions", Level::DEBUG));
    }
}
