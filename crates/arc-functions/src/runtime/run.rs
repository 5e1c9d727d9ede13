//! The runtime loop every route runs, whatever its events: the Tokio runtime built for how
//! Lambda calls the function, the start-up that fails loudly on a bad configuration, and the
//! Runtime API loop that hands each payload's text to the wrapper.

use std::future::Future;

use lambda_http::LambdaEvent;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::session::SessionStore;

/// What every handler wrapper does at cold start: install the log subscriber ([`super::log`])
/// unless the program installed one, then build; on a configuration error, log it and exit
/// with status 1, so that the function fails to start with a message saying what to set.
pub(crate) fn build_or_exit<T, E: std::fmt::Display>(build: impl FnOnce() -> Result<T, E>) -> T {
    // Without a subscriber the 500s' causes and the start-up warnings would vanish.
    if !tracing::dispatcher::has_been_set() {
        super::log::install();
    }
    match build() {
        Ok(built) => built,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("arc-functions: cannot start: {e}");
            std::process::exit(1);
        }
    }
}

/// Serves the Lambda Runtime API until the process ends: each invocation's payload, as the
/// JSON text it arrived in (each wrapper reads it into its own types, once), goes to `answer`,
/// and what that returns goes back as the invocation's result. Invocations run concurrently
/// up to `AWS_LAMBDA_MAX_CONCURRENCY`.
pub(crate) async fn serve<A, Fut, R>(answer: A) -> Result<(), lambda_http::Error>
where
    A: Fn(LambdaEvent<Box<RawValue>>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, lambda_http::Error>> + Send + 'static,
    R: Serialize + Send + 'static,
{
    lambda_http::lambda_runtime::run_concurrent(lambda_http::lambda_runtime::service_fn(answer))
        .await
}

/// [`serve`], with `store` made ready ([`SessionStore::prepare`]) beside the first poll rather
/// than before it: in DynamoDB mode the connection's handshake (TCP, and TLS on AWS) goes on
/// while the poll waits for the event and the event is read, and the first call to DynamoDB
/// waits for that connection rather than opening another. Serving does not wait for it to end.
pub(crate) async fn serve_prepared<A, Fut, R>(
    store: &SessionStore,
    answer: A,
) -> Result<(), lambda_http::Error>
where
    A: Fn(LambdaEvent<Box<RawValue>>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<R, lambda_http::Error>> + Send + 'static,
    R: Serialize + Send + 'static,
{
    let mut prepare = std::pin::pin!(store.prepare());
    let mut serving = std::pin::pin!(serve(answer));
    // `biased`: the poll goes out first; the preparation runs while the event is awaited.
    tokio::select! {
        biased;
        served = &mut serving => served,
        () = &mut prepare => serving.await,
    }
}

/// Runs `serving` to its end on the runtime [`Threads::from_env`] calls for: `http::start` and
/// `ws::start`.
pub(crate) fn block_on(
    serving: impl Future<Output = Result<(), lambda_http::Error>>,
) -> Result<(), lambda_http::Error> {
    Threads::from_env().runtime()?.block_on(serving)
}

/// How many threads the runtime gets, from what Lambda says of concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threads {
    /// The main thread only: one invocation at a time.
    One,
    /// A worker per core: invocations run concurrently.
    PerCore,
}

impl Threads {
    /// Read once, at cold start, from `AWS_LAMBDA_MAX_CONCURRENCY`.
    fn from_env() -> Self {
        Self::of(std::env::var("AWS_LAMBDA_MAX_CONCURRENCY").ok().as_deref())
    }

    /// Read as `lambda_runtime` reads it, so the two agree: concurrent above 1, anything else
    /// (unset, 0, 1, not a number) one at a time.
    fn of(max_concurrency: Option<&str>) -> Self {
        match max_concurrency.and_then(|v| v.parse::<u32>().ok()) {
            Some(n) if n > 1 => Self::PerCore,
            _ => Self::One,
        }
    }

    fn runtime(self) -> std::io::Result<tokio::runtime::Runtime> {
        match self {
            Self::One => tokio::runtime::Builder::new_current_thread(),
            Self::PerCore => tokio::runtime::Builder::new_multi_thread(),
        }
        .enable_all()
        .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_concurrency_above_one_gets_a_worker_per_core_anything_else_one_thread() {
        for one in [
            None,
            Some("1"),
            Some("0"),
            Some(""),
            Some("-4"),
            Some("many"),
            Some(" 4"),
        ] {
            assert_eq!(Threads::of(one), Threads::One, "{one:?}");
        }
        for many in ["2", "4", "64"] {
            assert_eq!(Threads::of(Some(many)), Threads::PerCore, "{many}");
        }
    }

    #[test]
    fn each_kind_of_threads_builds_its_own_runtime() {
        use tokio::runtime::RuntimeFlavor;
        let flavor = |threads: Threads| {
            threads
                .runtime()
                .expect("a runtime")
                .handle()
                .runtime_flavor()
        };
        assert_eq!(flavor(Threads::One), RuntimeFlavor::CurrentThread);
        assert_eq!(flavor(Threads::PerCore), RuntimeFlavor::MultiThread);
    }

    #[test]
    fn block_on_runs_the_serving_future_to_its_end() {
        let ran = super::block_on(async {
            tokio::task::yield_now().await;
            Err::<(), lambda_http::Error>("served".into())
        });
        assert_eq!(ran.expect_err("its own result").to_string(), "served");
    }
}
