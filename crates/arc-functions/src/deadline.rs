//! The invocation's deadline, and every AWS call bounded by it.
//!
//! Lambda ends an invocation at its deadline whatever it is doing, and API Gateway answers the
//! client 502 or 504 without a word from the function. So no AWS call may run past the
//! deadline: each is given the time left, less a margin to answer in, and one that has not
//! finished by then fails as a timeout, which the wrappers answer `503` with the cause logged.
//!
//! The deadline is the invocation's, and the calls are many layers below the wrapper that
//! knows it (the session store, connection records, the throttle, a handler's own use of the
//! store). The runtime loops put it in a task-local scoped to the invocation's future
//! ([`Deadline::scope`]) rather than widen every signature on the way down; a call outside
//! any invocation (a test, a handler's spawned task) gets [`UNKNOWN_DEADLINE_BUDGET`].

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(feature = "dynamodb")]
use aws_smithy_runtime_api::client::result::SdkError;

/// Kept back from the invocation's deadline to write the answer.
const MARGIN: Duration = Duration::from_millis(300);
/// How far from now a deadline can be: Lambda's longest timeout, and a little.
const PLAUSIBLE: Duration = Duration::from_secs(16 * 60);
/// The budget when the invocation's deadline is unknown (a request built by hand or a test).
pub(crate) const UNKNOWN_DEADLINE_BUDGET: Duration = Duration::from_secs(5);

tokio::task_local! {
    static CURRENT: Deadline;
}

/// When the invocation must have answered: Lambda's deadline for it, in milliseconds since the
/// Unix epoch (`Context::deadline`), when known.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Deadline(pub(crate) Option<u64>);

impl Deadline {
    /// The deadline of the invocation this task is serving; unknown outside one.
    #[cfg_attr(not(feature = "ws"), expect(dead_code, reason = "AWS calls only"))]
    pub(crate) fn current() -> Self {
        CURRENT.try_with(|d| *d).unwrap_or_default()
    }

    /// The deadline of the invocation a request came in, when it came with Lambda's context.
    pub(crate) fn of<B>(request: &lambda_http::http::Request<B>) -> Self {
        Self(
            request
                .extensions()
                .get::<lambda_http::Context>()
                .map(|c| c.deadline),
        )
    }

    /// Runs `invocation` with this as the deadline every AWS call in it is bounded by.
    pub(crate) fn scope<F: Future>(self, invocation: F) -> impl Future<Output = F::Output> {
        CURRENT.scope(self, invocation)
    }

    /// The time left: until the deadline less [`MARGIN`], else [`UNKNOWN_DEADLINE_BUDGET`].
    pub(crate) fn budget(self) -> Duration {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        // Lambda runs an invocation at most 15 minutes, so a deadline further than that from
        // now is no deadline: a context built without one (`Context::default()` has 0), or an
        // emulator's (`cargo lambda watch` sends its timeout, 600000, not a time).
        let plausible = now.saturating_sub(PLAUSIBLE)..now + PLAUSIBLE;
        let Some(deadline) = self
            .0
            .map(Duration::from_millis)
            .filter(|d| plausible.contains(d))
        else {
            return UNKNOWN_DEADLINE_BUDGET;
        };
        deadline.saturating_sub(now).saturating_sub(MARGIN)
    }
}

#[cfg(feature = "ws")]
/// An AWS call that ran out of the invocation's time.
#[derive(Debug, thiserror::Error)]
#[error(
    "no answer within the invocation's remaining time ({budget:?}, less {MARGIN:?} kept to answer in)"
)]
pub(crate) struct OutOfTime {
    pub(crate) budget: Duration,
}

#[cfg(feature = "dynamodb")]
/// An SDK call (the future `send()` returns), bounded by the invocation's time left:
/// `.send().bounded().await`.
pub(crate) trait Bounded<T, E, R>:
    Future<Output = Result<T, SdkError<E, R>>> + Sized
{
    /// The call with its retries, given the current invocation's time left: one that does not
    /// finish by then fails as the SDK's own timeout error, so every caller treats it as it
    /// treats a timeout (unavailable: a `503`).
    fn bounded(self) -> impl Future<Output = Result<T, SdkError<E, R>>> + Send
    where
        Self: Send,
        T: Send,
        E: Send,
        R: Send;
}

#[cfg(feature = "dynamodb")]
impl<T, E, R, F: Future<Output = Result<T, SdkError<E, R>>>> Bounded<T, E, R> for F {
    async fn bounded(self) -> Result<T, SdkError<E, R>>
    where
        Self: Send,
        T: Send,
        E: Send,
        R: Send,
    {
        // Read when first polled, inside the invocation's scope.
        let budget = Deadline::current().budget();
        match tokio::time::timeout(budget, self).await {
            Ok(result) => result,
            Err(_) => Err(SdkError::timeout_error(OutOfTime { budget })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(at: Duration) -> u64 {
        u64::try_from(at.as_millis()).expect("ms")
    }

    #[test]
    fn the_budget_is_the_time_left_less_a_margin() {
        assert_eq!(Deadline(None).budget(), UNKNOWN_DEADLINE_BUDGET);
        assert_eq!(Deadline(Some(0)).budget(), UNKNOWN_DEADLINE_BUDGET);
        assert_eq!(
            Deadline(Some(600_000)).budget(),
            UNKNOWN_DEADLINE_BUDGET,
            "cargo lambda watch's"
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970");
        let budget = Deadline(Some(ms(now + Duration::from_secs(2)))).budget();
        assert!(
            budget <= Duration::from_secs(2) - MARGIN && budget > Duration::from_secs(1),
            "{budget:?}"
        );
        let passed = ms(now) - 1000;
        assert_eq!(Deadline(Some(passed)).budget(), Duration::ZERO);
        // Lambda's longest timeout is 15 minutes: a deadline 14 minutes away is real.
        let budget = Deadline(Some(ms(now + Duration::from_secs(14 * 60)))).budget();
        assert!(budget > Duration::from_secs(13 * 60), "{budget:?}");
        let next_hour = ms(now + Duration::from_secs(3600));
        assert_eq!(Deadline(Some(next_hour)).budget(), UNKNOWN_DEADLINE_BUDGET);
    }

    #[test]
    fn a_requests_deadline_is_its_lambda_contexts() {
        use lambda_http::RequestExt;
        let bare = lambda_http::Request::default();
        assert_eq!(Deadline::of(&bare), Deadline(None));
        let mut context = lambda_http::Context::default();
        context.deadline = 1_795_780_800_000;
        let invoked = lambda_http::Request::default().with_lambda_context(context);
        assert_eq!(Deadline::of(&invoked), Deadline(Some(1_795_780_800_000)));
    }

    #[tokio::test]
    async fn the_deadline_is_the_scoped_invocations_and_unknown_outside() {
        assert_eq!(Deadline::current(), Deadline(None));
        let inside = Deadline(Some(123))
            .scope(async { Deadline::current() })
            .await;
        assert_eq!(inside, Deadline(Some(123)));
        assert_eq!(Deadline::current(), Deadline(None));
    }

    #[cfg(feature = "dynamodb")]
    type Sent = Result<u8, SdkError<std::io::Error, ()>>;

    #[cfg(feature = "dynamodb")]
    #[tokio::test(start_paused = true)]
    async fn a_call_past_the_deadline_fails_as_a_timeout_and_one_within_it_is_untouched() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970");
        // Two seconds left: 1.7 s of budget. Paused time moves only when every task waits.
        let deadline = Deadline(Some(ms(now + Duration::from_secs(2))));
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok(1)
        };
        let started = tokio::time::Instant::now();
        let out: Sent = deadline.scope(slow.bounded()).await;
        let waited = started.elapsed();
        assert!(matches!(out, Err(SdkError::TimeoutError(_))), "{out:?}");
        assert!(
            waited < Duration::from_secs(2) && waited > Duration::from_secs(1),
            "{waited:?}"
        );
        let err = out.expect_err("timed out");
        let text = aws_smithy_types::error::display::DisplayErrorContext(&err).to_string();
        assert!(text.contains("remaining time"), "{text}");

        let quick = async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ok(7)
        };
        let out: Sent = deadline.scope(quick.bounded()).await;
        assert_eq!(out.ok(), Some(7));
        let failed = async { Err(SdkError::timeout_error("the SDK's own")) };
        let out: Sent = deadline.scope(failed.bounded()).await;
        assert!(matches!(out, Err(SdkError::TimeoutError(_))));
    }
}
