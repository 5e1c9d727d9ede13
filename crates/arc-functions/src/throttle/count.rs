//! A count of sign-in attempts as stored in its item, and what it is counted under.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;

use super::{ATTEMPTS, LOCKED_UNTIL, TTL};

/// A count as read at some moment.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Count {
    /// `attempts` as stored, for the conditional write; `None` when there is no item.
    pub(super) stored: Option<u64>,
    /// Attempts so far: zero for an item past its `_ttl`, which DynamoDB deletes late.
    pub(super) attempts: u64,
    pub(super) locked_until: u64,
}

impl Count {
    pub(super) fn read(item: Option<&HashMap<String, AttributeValue>>, now: u64) -> Self {
        let live = item.filter(|item| number(item, TTL) > now);
        Self {
            stored: item.map(|item| number(item, ATTEMPTS)),
            attempts: live.map_or(0, |item| number(item, ATTEMPTS)),
            locked_until: live.map_or(0, |item| number(item, LOCKED_UNTIL)),
        }
    }

    /// How long until the next attempt when the count is locked at `now`.
    pub(super) fn locked(&self, now: u64) -> Option<Duration> {
        (now < self.locked_until).then(|| Duration::from_secs(self.locked_until - now))
    }
}

pub(super) fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn number(item: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        _ => 0,
    }
}

/// The network an address counts under: an IPv4 address itself, an IPv6 address's /64 (one
/// subscriber usually holds a whole /64, so counting single addresses would give a guesser
/// 2^64 of them). Text that is no address counts as itself.
pub(super) fn network(address: &str) -> String {
    match address.trim().parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        Err(_) => address.trim().to_owned(),
    }
}
