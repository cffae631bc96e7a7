//! An account's limits, including whether it may use JetStream and how much.
//!
//! `-1` is "unlimited" as nats-server reads it. JetStream is enabled for an account exactly when its memory or disk
//! storage limit is not zero; a zero limit is left out of the JSON, as the Go jwt library does.

use serde::{Deserialize, Serialize};

/// "No limit", as nats-server reads a limit.
pub const UNLIMITED: i64 = -1;

/// The `limits` of an account JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLimits {
    /// Most subscriptions at once.
    pub subs: i64,
    /// Most bytes in flight.
    pub data: i64,
    /// Largest message payload, bytes.
    pub payload: i64,
    /// Most imports.
    pub imports: i64,
    /// Most exports.
    pub exports: i64,
    /// Whether exports may contain wildcards.
    pub wildcards: bool,
    /// Most client connections at once.
    pub conn: i64,
    /// Most leaf node connections at once.
    pub leaf: i64,
    /// JetStream limits; all zero means JetStream is disabled for the account.
    #[serde(flatten)]
    pub jetstream: JetStreamLimits,
}

/// The JetStream part of an account's limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JetStreamLimits {
    /// Most memory storage, bytes (`-1` unlimited, `0` none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub mem_storage: i64,
    /// Most file storage, bytes (`-1` unlimited, `0` none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub disk_storage: i64,
    /// Most streams.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub streams: i64,
    /// Most consumers.
    #[serde(default, skip_serializing_if = "is_zero", rename = "consumer")]
    pub consumers: i64,
}

impl AccountLimits {
    /// No limits and JetStream enabled without limits: the hub account and per-site accounts.
    pub fn unlimited_with_jetstream() -> Self {
        Self {
            jetstream: JetStreamLimits::unlimited(),
            ..Self::unlimited_without_jetstream()
        }
    }

    /// No limits, JetStream disabled: the system account (nats-server refuses JetStream in it).
    pub fn unlimited_without_jetstream() -> Self {
        Self {
            subs: UNLIMITED,
            data: UNLIMITED,
            payload: UNLIMITED,
            imports: UNLIMITED,
            exports: UNLIMITED,
            wildcards: true,
            conn: UNLIMITED,
            leaf: UNLIMITED,
            jetstream: JetStreamLimits::disabled(),
        }
    }
}

impl JetStreamLimits {
    /// JetStream enabled without limits.
    pub fn unlimited() -> Self {
        Self {
            mem_storage: UNLIMITED,
            disk_storage: UNLIMITED,
            streams: UNLIMITED,
            consumers: UNLIMITED,
        }
    }

    /// JetStream disabled.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// True if the account may use JetStream at all.
    pub fn is_enabled(&self) -> bool {
        self.mem_storage != 0 || self.disk_storage != 0
    }
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jetstream_limits_are_left_out_when_disabled_and_unlimited_when_enabled() {
        let without = serde_json::to_value(AccountLimits::unlimited_without_jetstream()).unwrap();
        let with = serde_json::to_value(AccountLimits::unlimited_with_jetstream()).unwrap();

        assert_eq!(
            without,
            serde_json::json!({"subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
                "wildcards": true, "conn": -1, "leaf": -1})
        );
        assert_eq!(with["mem_storage"], -1);
        assert_eq!(with["disk_storage"], -1);
        assert_eq!(with["streams"], -1);
        assert_eq!(with["consumer"], -1);
        assert!(!AccountLimits::unlimited_without_jetstream().jetstream.is_enabled());
        assert!(AccountLimits::unlimited_with_jetstream().jetstream.is_enabled());
    }
}
