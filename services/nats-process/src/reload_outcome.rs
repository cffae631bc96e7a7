//! What nats-server logged about a config reload: applied, or refused and why.
//!
//! Pure: reads log text written after the reload signal. nats-server 2.15.1 logs, after
//! `[INF] Trapped "hangup" signal`, either
//! `[INF] Reloaded server configuration (sha256:…)` once the new config is in effect, or
//! `[ERR] Failed to reload server configuration: <reason>` and keeps the old config.

/// The line nats-server logs once a reloaded config is in effect.
const APPLIED: &str = "Reloaded server configuration";
/// The start of the line nats-server logs when it refuses a config, followed by the reason.
const REFUSED: &str = "Failed to reload server configuration: ";

/// How a reload ended, as the server logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReloadOutcome {
    /// The new config is in effect.
    Applied,
    /// The server kept its old config, for `reason`.
    Refused {
        /// What the server said was wrong.
        reason: String,
    },
}

/// The outcome logged in `log_since_signal` (the log from just before the signal on), or
/// `None` while neither line is complete. A line still being written is never read.
pub(crate) fn reload_outcome(log_since_signal: &str) -> Option<ReloadOutcome> {
    log_since_signal
        .split_inclusive('\n')
        .filter(|line| line.ends_with('\n'))
        .find_map(|line| {
            let line = line.trim_end();
            if let Some((_, reason)) = line.split_once(REFUSED) {
                Some(ReloadOutcome::Refused {
                    reason: reason.to_owned(),
                })
            } else {
                line.contains(APPLIED).then_some(ReloadOutcome::Applied)
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reloaded_config_is_applied() {
        let log = "[7] 2026/12/02 08:07:23.400011 [INF] Trapped \"hangup\" signal\n\
                   [7] 2026/12/02 08:07:23.400519 [INF] Reloaded: authorization users\n\
                   [7] 2026/12/02 08:07:23.400814 [INF] Reloaded server configuration (sha256:e7ed8b)\n";

        assert_eq!(reload_outcome(log), Some(ReloadOutcome::Applied));
    }

    #[test]
    fn a_refused_config_carries_the_servers_reason() {
        let log = "[7] 2026/12/02 08:07:24.407008 [INF] Trapped \"hangup\" signal\n\
                   [7] 2026/12/02 08:07:24.407158 [ERR] Failed to reload server configuration: \
                   Parse error on line 4: 'Unexpected EOF processing map.'\n";

        assert_eq!(
            reload_outcome(log),
            Some(ReloadOutcome::Refused {
                reason: "Parse error on line 4: 'Unexpected EOF processing map.'".to_owned()
            })
        );
    }

    #[test]
    fn nothing_is_decided_until_a_line_is_complete() {
        assert_eq!(reload_outcome(""), None);
        assert_eq!(reload_outcome("[7] [INF] Trapped \"hangup\" signal\n"), None);
        assert_eq!(reload_outcome("[7] [INF] Reloaded: accounts\n"), None);
        assert_eq!(reload_outcome("[7] [INF] Reloaded server configur"), None);
        assert_eq!(
            reload_outcome("[7] [ERR] Failed to reload server configuration: Parse err"),
            None
        );
    }

    #[test]
    fn our_own_markers_and_other_errors_are_not_outcomes() {
        let log = "--- nats-process: reloading config ---\n\
                   [7] [ERR] 127.0.0.1:5000 - cid:9 - authentication error - User \"a\"\n";

        assert_eq!(reload_outcome(log), None);
    }
}
