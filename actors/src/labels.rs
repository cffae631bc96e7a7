//! Label validation shared by every labelled aggregate (Kubernetes-style keys and values).

use crate::rejection::Rejection;
use std::collections::BTreeMap;

/// Longest label key or value accepted.
pub const LABEL_MAX_LEN: usize = 63;

/// Checks every key and value: 1..=63 characters of `[A-Za-z0-9._/-]` for keys, `[A-Za-z0-9._-]` (or empty) for values.
pub fn validate_labels(labels: &BTreeMap<String, String>) -> Result<(), Rejection> {
    for (key, value) in labels {
        let key_ok = !key.is_empty()
            && key.len() <= LABEL_MAX_LEN
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b));
        if !key_ok {
            return Err(Rejection::Invalid(format!(
                "label key {key:?} must be 1-{LABEL_MAX_LEN} characters of A-Z a-z 0-9 . _ / -"
            )));
        }
        let value_ok =
            value.len() <= LABEL_MAX_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if !value_ok {
            return Err(Rejection::Invalid(format!(
                "label value {value:?} of {key:?} must be 0-{LABEL_MAX_LEN} characters of A-Z a-z 0-9 . _ -"
            )));
        }
    }
    Ok(())
}
