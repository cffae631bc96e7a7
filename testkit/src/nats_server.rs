//! Real nats-server processes for tests: own free ports, own temp dir, killed on drop.
//!
//! The process code lives in the `nats-process` crate, shared with the product binary; this
//! module re-exports it so tests keep writing `testkit::NatsServer`.

pub use nats_process::{NatsServer, NatsServerBuilder, NatsServerError};

#[cfg(test)]
mod tests {
    /// The paths existing callers use still name the `nats-process` items.
    #[test]
    fn the_old_paths_still_resolve() {
        let _: fn(&str) -> crate::NatsServerBuilder = crate::NatsServer::builder;
        let _: fn() -> Result<std::path::PathBuf, crate::NatsBinaryError> = crate::find_nats_server;
        let _ = crate::nats_binary::find_nats_server_in;
        let _: Option<crate::NatsServerError> = None;
        let [a, b] = crate::free_port::free_ports::<2>();
        assert_ne!(a, b);
        assert_ne!(crate::free_port::free_port(), 0);
    }
}
