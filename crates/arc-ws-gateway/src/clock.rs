//! Instants as API Gateway writes them: epoch milliseconds, `requestTime` and ISO 8601.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

/// An instant, in milliseconds since the Unix epoch: the unit of `connectedAt` and
/// `requestTimeEpoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Timestamp(i64);

impl Timestamp {
    /// The current time.
    pub(crate) fn now() -> Self {
        // A clock before 1970 is a broken machine, not bad input; the epoch keeps events valid.
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis());
        Self(i64::try_from(millis).unwrap_or(i64::MAX))
    }

    pub(crate) const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) const fn millis(self) -> i64 {
        self.0
    }

    /// `requestContext.requestTime`: `22/Feb/2022:19:07:37 +0000`.
    pub(crate) fn request_time(self) -> String {
        let format =
            format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000");
        self.utc().format(format).unwrap_or_default()
    }

    /// The management API's `connectedAt` and `lastActiveAt`: `2022-02-22T19:07:37.902Z`, which
    /// the SDK reads as a `date-time` timestamp.
    pub(crate) fn iso8601(self) -> String {
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        self.utc().format(format).unwrap_or_default()
    }

    fn utc(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `requestTimeEpoch` of the `$connect` fixture, with its `requestTime`.
    const FIXTURE: Timestamp = Timestamp::from_millis(1_645_556_857_902);

    #[test]
    fn request_time_matches_api_gateway() {
        assert_eq!(FIXTURE.request_time(), "22/Feb/2022:19:07:37 +0000");
        assert_eq!(
            Timestamp::from_millis(1_707_503_008_941).request_time(),
            "09/Feb/2024:18:23:28 +0000"
        );
    }

    #[test]
    fn iso8601_keeps_milliseconds_in_utc() {
        assert_eq!(FIXTURE.iso8601(), "2022-02-22T19:07:37.902Z");
        assert_eq!(
            Timestamp::from_millis(5).iso8601(),
            "1970-01-01T00:00:00.005Z"
        );
    }

    #[test]
    fn now_is_after_the_fixtures() {
        assert!(Timestamp::now() > FIXTURE);
        assert!(Timestamp::now().millis() > FIXTURE.millis());
    }
}
