//! Every kind of request a node or the join user may make on its site's server, each as a subject and a body; sent
//! honestly (as a request, answered on the sender's inbox) or with a reply subject of the test's choosing.

use async_nats::Client;
use events::Token;
use fleet_trust::{join_subject, JETSTREAM_ACCOUNT_INFO};

/// The direct get of image `os-1`'s info: the last message on `$O.ef-images.M.<"os-1" in base64url>`.
pub const IMAGE_INFO_REQUEST: &str = "$JS.API.DIRECT.GET.OBJ_ef-images.$O.ef-images.M.b3MtMQ==";

/// The subject of a direct get of an image's chunk.
pub const CHUNK_SUBJECT: &str = "$JS.API.DIRECT.GET.OBJ_ef-images";

/// The body of a direct get of an image's first chunk (on [`CHUNK_SUBJECT`]).
pub const CHUNK_REQUEST: &str = r#"{"seq": 1, "next_by_subj": "$O.ef-images.C.>"}"#;

/// One request: its subject and body.
pub type Ask = (String, &'static str);

/// What node `n1` of `site` asks: an image chunk, an image's info, the account info, its own heartbeat.
pub fn asks_of_n1(site: &Token) -> Vec<Ask> {
    vec![
        (CHUNK_SUBJECT.to_owned(), CHUNK_REQUEST),
        (IMAGE_INFO_REQUEST.to_owned(), ""),
        (JETSTREAM_ACCOUNT_INFO.to_owned(), ""),
        (format!("ef.agent.{site}.n1.heartbeat"), "alive"),
    ]
}

/// What the join user of `site` asks: the account info, to join.
pub fn asks_of_the_join_user(site: &Token) -> Vec<Ask> {
    vec![(JETSTREAM_ACCOUNT_INFO.to_owned(), ""), (join_subject(site), "hello")]
}

/// Sends each of `asks` through `client` with `reply` as its reply subject, whatever `client` may receive.
pub async fn ask_with_reply(client: &Client, asks: &[Ask], reply: &str) {
    for (subject, body) in asks {
        client
            .publish_with_reply(subject.clone(), reply.to_owned(), body.to_string().into())
            .await
            .expect("publish");
    }
}

/// Sends each of `asks` through `client` as a request and waits for its answer.
pub async fn ask_honestly(client: &Client, asks: &[Ask]) {
    for (subject, body) in asks {
        client
            .request(subject.clone(), body.to_string().into())
            .await
            .unwrap_or_else(|e| panic!("{subject} asked honestly: {e}"));
    }
}
