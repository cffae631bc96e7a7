//! [`UserPermissions`] in nats-server's config-file syntax, for users declared in a config account (a site's own
//! server) rather than in a JWT: `permissions: { publish: { allow: [...] }, subscribe: { allow: [...] } }`.
//!
//! Pure: renders text. Every subject is double-quoted, so `$JS.…` is never read as a config variable.

use crate::conf_string::quoted;
use crate::user_permissions::{SubjectRules, UserPermissions};

/// `permissions` as a `permissions: { … }` entry on one line, or `None` if it allows everything.
pub(crate) fn render_config_permissions(permissions: &UserPermissions) -> Option<String> {
    let mut entries = Vec::new();
    if let Some(rules) = render_rules(&permissions.publish) {
        entries.push(format!("publish: {rules}"));
    }
    if let Some(rules) = render_rules(&permissions.subscribe) {
        entries.push(format!("subscribe: {rules}"));
    }
    if let Some(response) = permissions.resp {
        let mut fields = vec![format!("max: {}", response.max_replies)];
        if response.ttl_ns > 0 {
            fields.push(format!("expires: {}", quoted(&format!("{}ns", response.ttl_ns))));
        }
        entries.push(format!("allow_responses: {{ {} }}", fields.join(", ")));
    }
    if entries.is_empty() {
        return None;
    }
    Some(format!("permissions: {{ {} }}", entries.join(", ")))
}

/// One direction's `{ allow: [...], deny: [...] }`, or `None` if it allows everything.
fn render_rules(rules: &SubjectRules) -> Option<String> {
    let mut lists = Vec::new();
    if !rules.allow.is_empty() {
        lists.push(format!("allow: {}", render_list(&rules.allow)));
    }
    if !rules.deny.is_empty() {
        lists.push(format!("deny: {}", render_list(&rules.deny)));
    }
    if lists.is_empty() {
        return None;
    }
    Some(format!("{{ {} }}", lists.join(", ")))
}

/// `["a", "b"]`.
fn render_list(subjects: &[String]) -> String {
    let quoted_subjects: Vec<String> = subjects.iter().map(|subject| quoted(subject)).collect();
    format!("[{}]", quoted_subjects.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user_permissions::ResponsePermission;

    #[test]
    fn allow_lists_are_rendered_quoted() {
        let permissions = UserPermissions::allow_only(&["ef.a.>", "$JS.API.INFO"], &["_INBOX_x.>"]);

        assert_eq!(
            render_config_permissions(&permissions).as_deref(),
            Some(
                r#"permissions: { publish: { allow: ["ef.a.>", "$JS.API.INFO"] }, subscribe: { allow: ["_INBOX_x.>"] } }"#
            )
        );
    }

    #[test]
    fn deny_lists_and_responses_are_rendered() {
        let mut permissions = UserPermissions::default();
        permissions.publish.deny = vec!["ef.site.>".into()];
        permissions.resp = Some(ResponsePermission {
            max_replies: 1,
            ttl_ns: 5_000,
        });

        assert_eq!(
            render_config_permissions(&permissions).as_deref(),
            Some(
                r#"permissions: { publish: { deny: ["ef.site.>"] }, allow_responses: { max: 1, expires: "5000ns" } }"#
            )
        );
    }

    #[test]
    fn allowing_everything_renders_nothing() {
        assert_eq!(render_config_permissions(&UserPermissions::default()), None);
    }
}
