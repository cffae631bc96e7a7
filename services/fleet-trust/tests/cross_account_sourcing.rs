//! Per-site isolation on the hub server (DESIGN §9): a site's account sources the hub's `EF_INTENT` filtered to its
//! own and the fleet-wide intents through the imports of its account JWT; another site asking for those intents
//! gets no responders.

mod support;

use async_nats::jetstream::{self, stream};
use events::Token;
use fleet_trust::{hub_in_site_user, intent_copy_stream, intent_sources, push_account_jwt, AccountName};
use support::{eventually, hub_in_temp_dir, write_creds, HubTls};

/// The config of `site`'s intent copy in its account at the hub, sourcing `EF_INTENT` across the accounts.
fn intent_copy_config(site: &Token) -> stream::Config {
    let sources = intent_sources(site)
        .into_iter()
        .map(|source| stream::Source {
            name: source.stream,
            filter_subject: Some(source.filter_subject),
            external: Some(stream::External {
                api_prefix: source.api_prefix,
                delivery_prefix: Some(source.deliver_prefix),
            }),
            ..Default::default()
        })
        .collect();
    stream::Config {
        name: intent_copy_stream(site),
        sources: Some(sources),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_site_account_sources_only_its_own_and_the_fleet_wide_intents() {
    let (dir, root, hub) = hub_in_temp_dir(HubTls::Nowhere).await;
    let system = hub.system_client().await;
    let hub_js = jetstream::new(hub.admin_client().await);
    hub_js
        .create_stream(stream::Config {
            name: "EF_INTENT".to_owned(),
            subjects: vec!["ef.intent.>".to_owned()],
            ..Default::default()
        })
        .await
        .unwrap();
    for (subject, count) in [
        ("ef.intent.a.node.n", 10),
        ("ef.intent.b.node.n", 7),
        ("ef.intent.all.profile.p", 3),
    ] {
        for i in 0..count {
            hub_js
                .publish(format!("{subject}{i}"), "i".into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    }
    let mut site_clients = Vec::new();
    for name in ["a", "b"] {
        let site = Token::new(name).unwrap();
        push_account_jwt(&system, &root.issue_site_account(&site).unwrap())
            .await
            .unwrap();
        let user_name = format!("hub-in-{name}");
        let user = root
            .issue_user(&AccountName::site(&site), &user_name, &hub_in_site_user(), None)
            .unwrap();
        let client = hub.connect(&write_creds(dir.path(), &user_name, &user)).await.unwrap();
        jetstream::new(client.clone())
            .create_stream(intent_copy_config(&site))
            .await
            .unwrap();
        site_clients.push((site, client));
    }

    for (site, client) in &site_clients {
        let expected = if site.as_str() == "a" { 13 } else { 10 };
        let js = jetstream::new(client.clone());
        eventually(
            &format!("{} to hold {expected} intents", intent_copy_stream(site)),
            || {
                let js = js.clone();
                let stream_name = intent_copy_stream(site);
                async move {
                    let info = js.get_stream(&stream_name).await.ok()?.info().await.ok()?.clone();
                    (info.state.messages == expected).then_some(())
                }
            },
        )
        .await;
    }
    let (_, site_b) = &site_clients[1];
    let stolen = site_b
        .request(
            "$JS.fleet.API.CONSUMER.CREATE.EF_INTENT.x.ef.intent.a.>",
            r#"{"stream_name":"EF_INTENT","config":{"filter_subject":"ef.intent.a.>","deliver_subject":"deliver.b.steal"}}"#
                .into(),
        )
        .await
        .unwrap_err();
    assert_eq!(stolen.kind(), async_nats::RequestErrorKind::NoResponders, "{stolen}");
}
