//! Free TCP ports on 127.0.0.1 for servers that need no fixed port (tests, the demo).
//!
//! A port is found by binding `127.0.0.1:0` and reading the port the kernel gave; the socket is
//! then closed and the number handed out. Between the close and the server's own bind, another
//! process (a parallel test or server, or an outgoing connection's ephemeral port) can take the
//! same port. That race is small and is not worth a lock across processes: `NatsServer` start
//! retries with fresh ports when a server whose ports were chosen here exits before it is ready.
//! This module never reserves a port beyond the call that returns it.

use std::net::{Ipv4Addr, TcpListener};

/// A TCP port on 127.0.0.1 that was free a moment ago (see the module docs for the race).
pub fn free_port() -> u16 {
    free_ports::<1>()[0]
}

/// `N` distinct TCP ports on 127.0.0.1 that were free a moment ago.
///
/// All `N` sockets stay bound until every port is known, so the ports differ from each other —
/// calling `free_port()` twice could return the same port twice.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let listeners: [TcpListener; N] = std::array::from_fn(|_| {
        // Binding port 0 on loopback only fails if the machine is out of ephemeral ports or has
        // no loopback interface; no test can run then, so a panic with the reason is the answer.
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|error| panic!("cannot bind a free port on 127.0.0.1: {error}"))
    });
    let ports = listeners.each_ref().map(|listener| {
        listener
            .local_addr()
            .unwrap_or_else(|error| panic!("cannot read the address of a bound socket: {error}"))
            .port()
    });
    debug_assert!(ports.iter().all(|&port| port != 0));
    ports
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_and_bindable() {
        let ports = free_ports::<4>();
        for (i, a) in ports.iter().enumerate() {
            assert!(ports[i + 1..].iter().all(|b| a != b), "duplicate port in {ports:?}");
        }
        // Nothing holds the ports any more: we can bind them ourselves.
        let _listener = TcpListener::bind((Ipv4Addr::LOCALHOST, free_port())).unwrap();
    }
}
