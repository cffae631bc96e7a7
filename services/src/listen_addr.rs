//! Parses `HOST:PORT` listen flags.

use anyhow::Context;

/// Splits `HOST:PORT` (IPv6 as `[::1]:4222`).
pub fn parse(addr: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("{addr:?} must be HOST:PORT"))?;
    let port: u16 = port
        .parse()
        .with_context(|| format!("{addr:?}: {port:?} is not a port"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    anyhow::ensure!(!host.is_empty(), "{addr:?}: empty host");
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn host_and_port() {
        assert_eq!(parse("127.0.0.1:4222").ok(), Some(("127.0.0.1".into(), 4222)));
        assert_eq!(parse("[::1]:7422").ok(), Some(("::1".into(), 7422)));
        assert!(parse("4222").is_err());
        assert!(parse("host:99999").is_err());
    }
}
