//! Profile and site decisions, given / when / then.

use actors::profile::ProfileCommand;
use actors::site::SiteCommand;
use actors::Rejection;
use events::profile::ProfileEvent;
use events::site::SiteEvent;
use testkit::fixtures::sample_layers;
use testkit::given;

#[test]
fn the_first_publish_is_version_one() {
    given::<ProfileEvent>(&[])
        .when(ProfileCommand::Publish(sample_layers("v1.31")))
        .then(&[ProfileEvent::VersionPublished {
            version: 1,
            layers: sample_layers("v1.31"),
        }]);
}

#[test]
fn republishing_the_latest_layers_is_idempotent() {
    given(&[ProfileEvent::VersionPublished {
        version: 1,
        layers: sample_layers("v1.31"),
    }])
    .when(ProfileCommand::Publish(sample_layers("v1.31")))
    .then_nothing();
}

#[test]
fn changed_layers_make_the_next_version() {
    given(&[ProfileEvent::VersionPublished {
        version: 1,
        layers: sample_layers("v1.31"),
    }])
    .when(ProfileCommand::Publish(sample_layers("v1.32")))
    .then(&[ProfileEvent::VersionPublished {
        version: 2,
        layers: sample_layers("v1.32"),
    }]);
}

#[test]
fn a_published_version_is_never_replaced() {
    let state = given(&[
        ProfileEvent::VersionPublished {
            version: 1,
            layers: sample_layers("v1.31"),
        },
        ProfileEvent::VersionPublished {
            version: 1,
            layers: sample_layers("v9"),
        },
    ])
    .state()
    .clone();
    assert_eq!(state.versions[&1], sample_layers("v1.31"));
}

#[test]
fn invalid_layers_are_rejected() {
    let mut bad_digest = sample_layers("v1");
    bad_digest.os.sha256 = "xyz".into();
    given::<ProfileEvent>(&[])
        .when(ProfileCommand::Publish(bad_digest))
        .then_rejected(|r| matches!(r, Rejection::Invalid(m) if m.contains("sha256")));
    let mut twice = sample_layers("v1");
    twice.apps.push(twice.cni.clone());
    given::<ProfileEvent>(&[])
        .when(ProfileCommand::Publish(twice))
        .then_rejected(|r| matches!(r, Rejection::Invalid(m) if m.contains("twice")));
}

#[test]
fn a_site_registers_once_per_version() {
    let register = || SiteCommand::Register {
        timezone: "Europe/Berlin".into(),
        controller_version: "0.1.0".into(),
    };
    given::<SiteEvent>(&[]).when(register()).then(&[SiteEvent::Registered {
        timezone: "Europe/Berlin".into(),
        controller_version: "0.1.0".into(),
    }]);
    given(&[SiteEvent::Registered {
        timezone: "Europe/Berlin".into(),
        controller_version: "0.1.0".into(),
    }])
    .when(register())
    .then_nothing();
}

#[test]
fn maintenance_windows_are_intents() {
    given::<SiteEvent>(&[])
        .when(SiteCommand::SetMaintenanceWindow(Some(
            actors::rollout::parse_window("Sat 02:00-05:00").expect("valid window"),
        )))
        .then(&[SiteEvent::MaintenanceWindowSet {
            generation: 1,
            window: Some("Sat 02:00-05:00".into()),
        }]);
}
