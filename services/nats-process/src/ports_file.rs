//! The pid of the nats-server running in a server directory, read from the ports file it writes once it has bound
//! every port: `<dir>/ports/<binary>_<pid>.ports`. For whoever watches a server from outside (tests, benches).

use std::path::Path;

/// The pid named by the newest ports file in `server_dir/ports`, if any.
pub fn running_server_pid(server_dir: &Path) -> Option<u32> {
    std::fs::read_dir(server_dir.join("ports"))
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| pid_of(&entry.file_name().to_string_lossy()))
        .max()
}

/// The pid in a ports file's name.
fn pid_of(file_name: &str) -> Option<u32> {
    file_name.strip_suffix(".ports")?.rsplit('_').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pid_is_the_last_part_of_the_ports_file_name() {
        assert_eq!(pid_of("nats-server_4242.ports"), Some(4242));
        assert_eq!(pid_of("nats_server_x_17.ports"), Some(17));
        assert_eq!(pid_of("nats-server_4242.log"), None);
        assert_eq!(pid_of("nats-server_x.ports"), None);
    }
}
