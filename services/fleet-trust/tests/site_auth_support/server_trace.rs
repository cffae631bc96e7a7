//! What a client published, read from a nats-server log written with `trace: true`; and NATS subject matching, to
//! hold those subjects against permission lists.

/// The subjects the client named `name` published (`PUB`/`HPUB`), in order, from a traced server log.
pub fn published_by(log: &str, name: &str) -> Vec<String> {
    let client = format!(":{name}\"");
    log.lines()
        .filter(|line| line.contains(&client))
        .filter_map(|line| {
            let start = line
                .find("<<- [PUB ")
                .map(|at| at + 9)
                .or_else(|| line.find("<<- [HPUB ").map(|at| at + 10))?;
            line[start..].split_whitespace().next().map(str::to_owned)
        })
        .collect()
}

/// True if `subject` matches `pattern` (`*` one token, `>` one or more trailing tokens).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for token in pattern.split('.') {
        match (token, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (literal, Some(actual)) if literal == actual => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}
