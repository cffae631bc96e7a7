//! The URL a joining server or an agent reaches its cluster at (k3s' `server:`): `https://HOST[:PORT]`, no
//! path, nothing k3s would have to guess about.

use std::net::{IpAddr, Ipv6Addr};

/// The port k3s servers listen on for joining nodes (supervisor and API server share it).
pub const SERVER_PORT: u16 = 6443;

/// The URL of the k3s server at `ip` on its default port: `https://10.0.0.1:6443`, `https://[fd00::1]:6443`.
pub fn server_url_for(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("https://{v4}:{SERVER_PORT}"),
        IpAddr::V6(v6) => format!("https://[{v6}]:{SERVER_PORT}"),
    }
}

/// Checks a server URL: `https://`, a host name or IP (IPv6 in brackets), an optional port, at most a `/` after.
pub fn check_server_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err("it must start with https://".into());
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.is_empty() {
        return Err("it names no host".into());
    }
    if authority.contains(['/', '?', '#', '@']) {
        return Err("it must be https://HOST[:PORT] with no path, query or user".into());
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((v6, after)) = bracketed.split_once(']') else {
            return Err("its IPv6 address has no closing ']'".into());
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            return Err("the address in brackets is not an IPv6 address".into());
        }
        match after {
            "" => (v6, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (v6, Some(port)),
                None => return Err("only ':PORT' may follow the IPv6 address".into()),
            },
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        let host_ok = !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
        if !host_ok {
            return Err("its host may only hold letters, digits, '.' and '-' (IPv6 goes in brackets)".into());
        }
        (host, port)
    };
    debug_assert!(!host.is_empty());
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 && port.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err("its port must be a number from 1 to 65535".into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_for_addresses() {
        assert_eq!(server_url_for("10.0.0.1".parse().unwrap()), "https://10.0.0.1:6443");
        assert_eq!(server_url_for("fd00::1".parse().unwrap()), "https://[fd00::1]:6443");
    }

    #[test]
    fn server_urls() {
        for good in [
            "https://10.0.0.1:6443",
            "https://[fd00::1]:6443",
            "https://k3s.store-1.lan",
            "https://a:1/",
        ] {
            assert_eq!(check_server_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "10.0.0.1:6443",
            "http://10.0.0.1:6443",
            "https://",
            "https://10.0.0.1:6443/join",
            "https://10.0.0.1:0",
            "https://10.0.0.1:+80",
            "https://10.0.0.1:65536",
            "https://[fd00::1",
            "https://[nope]:6443",
            "https://fd00::1:6443",
            "https://a b:6443",
            "https://user@host:6443",
        ] {
            assert!(check_server_url(bad).is_err(), "{bad}");
        }
    }
}
