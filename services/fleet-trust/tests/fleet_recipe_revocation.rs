//! The fleet recipe, cutting a site off (DESIGN §9 as built): revoking a site's leaf users and pushing its
//! account closes the site's leaf connection within moments and refuses every reconnection, while the hub
//! process, through its own user in the site's account, still reads the site's history. Rotating the site lets it
//! back in with the new bundle only.

mod support;

use std::time::Instant;

use async_nats::jetstream;
use events::subject::site_stream;
use events::Token;
use fleet_trust::{AccountName, ServerNames};
use support::site_streams::{hub_copy_of_site_events, site_events};
use support::{eventually, leaf_accounts, probe_until_heard, Fleet, SiteServer};

/// Events the site writes before it is cut off.
const SITE_EVENTS: u64 = 3;
/// What the site's server logs each time the hub refuses its leaf connection.
const REFUSAL: &str = "Leafnode Error 'Authorization Violation'";

/// Waits until the hub holds `expected` leaf connections in `account`.
async fn wait_for_leaves(fleet: &Fleet, account: &str, expected: usize, what: &str) {
    eventually(what, || async {
        let held = leaf_accounts(&fleet.system).await;
        (held.iter().filter(|held| *held == account).count() == expected).then_some(())
    })
    .await;
}

/// Waits until `site`'s server has logged `more` refusals beyond `seen`, and returns the new count.
async fn wait_for_refusals(site: &SiteServer, seen: usize, more: usize) -> usize {
    eventually(&format!("{more} more refusals of the site's leaf"), || {
        let refusals = site.process.log().matches(REFUSAL).count();
        async move { (refusals >= seen + more).then_some(refusals) }
    })
    .await
}

#[tokio::test]
async fn a_revoked_site_is_cut_off_until_rotated() {
    let fleet = Fleet::start().await;
    let root = &fleet.root;
    let (site, bundle) = fleet.add_site("a").await;
    let account = root.account_key(&AccountName::site(&site)).unwrap().public_key();
    let site_server = fleet.start_site_server("site-a", &site, &bundle).await;
    wait_for_leaves(&fleet, &account, 1, "the site's leaf to connect").await;
    write_history(&fleet, &site_server).await;

    let refusals = site_server.process.log().matches(REFUSAL).count();
    let pushed = Instant::now();
    fleet.push(&root.revoke_site(&site).unwrap()).await;
    wait_for_leaves(&fleet, &account, 0, "the revoked site's leaf to be closed").await;
    let closed_after = pushed.elapsed();
    let refusals = wait_for_refusals(&site_server, refusals, 2).await;
    eprintln!(
        "revoked site's leaf closed {closed_after:?} after the push; refused {:?} after it",
        pushed.elapsed()
    );
    assert!(leaf_accounts(&fleet.system).await.is_empty(), "the site stays out");
    assert_eq!(
        copied_events(&fleet, &site).await,
        SITE_EVENTS,
        "the hub still reads the history"
    );

    let (account_jwt, rotated) = root.rotate_site(&site, &ServerNames::localhost()).unwrap();
    fleet.push(&account_jwt).await;
    wait_for_refusals(&site_server, refusals, 1).await;
    assert!(
        leaf_accounts(&fleet.system).await.is_empty(),
        "the old bundle stays refused after the rotation"
    );
    drop(site_server);
    let rotated = fleet.write_bundle(&rotated, "bundle-a-rotated");
    let site_server = fleet.start_site_server("site-a-rotated", &site, &rotated).await;
    wait_for_leaves(&fleet, &account, 1, "the rotated site's leaf to connect").await;
    let hub_in_site = fleet.hub_in_site(&site).await;
    let mut heard = hub_in_site.subscribe("ef.site.a.>").await.unwrap();
    hub_in_site.flush().await.unwrap();
    probe_until_heard(&site_server.client().await, "ef.site.a.back", &mut heard).await;
}

/// The site writes [`SITE_EVENTS`] events; the hub's copy in the site's account receives them.
async fn write_history(fleet: &Fleet, site: &SiteServer) {
    let js = jetstream::new(site.client().await);
    js.create_stream(site_events(&site.site)).await.unwrap();
    for i in 0..SITE_EVENTS {
        let subject = format!("ef.site.{}.node.n{i}", site.site);
        js.publish(subject, "event".into()).await.unwrap().await.unwrap();
    }
    jetstream::new(fleet.hub_in_site(&site.site).await)
        .create_stream(hub_copy_of_site_events(&site.site))
        .await
        .unwrap();
    eventually("the hub's copy to hold the site's events", || async {
        (copied_events(fleet, &site.site).await == SITE_EVENTS).then_some(())
    })
    .await;
}

/// Messages in the hub's copy of `site`'s stream, read through a new connection of the hub's user in the site's
/// account.
async fn copied_events(fleet: &Fleet, site: &Token) -> u64 {
    let js = jetstream::new(fleet.hub_in_site(site).await);
    let mut copy = js.get_stream(site_stream(site)).await.unwrap();
    copy.info().await.unwrap().state.messages
}
