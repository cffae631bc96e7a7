//! What a running server says about itself: the INFO line every port sends first, and the leaf connections it
//! holds (`LEAFZ`, asked as the system user).

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::time::Duration;

/// The INFO line a server sends first on `port`, in clear text, before any TLS.
pub fn first_info(port: u16) -> serde_json::Value {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    let json = line
        .strip_prefix("INFO ")
        .unwrap_or_else(|| panic!("not an INFO line: {line:?}"));
    serde_json::from_str(json.trim()).unwrap()
}

/// The accounts (public keys) of the leaf connections the server that `system` is connected to holds, one entry
/// per connection.
pub async fn leaf_accounts(system: &async_nats::Client) -> Vec<String> {
    let reply = system
        .request("$SYS.REQ.SERVER.PING.LEAFZ", "{}".into())
        .await
        .expect("LEAFZ answer");
    let answer: serde_json::Value = serde_json::from_slice(&reply.payload).expect("LEAFZ JSON");
    let leafs = answer["data"]["leafs"].as_array().cloned().unwrap_or_default();
    leafs
        .iter()
        .map(|leaf| leaf["account"].as_str().unwrap_or_default().to_owned())
        .collect()
}
