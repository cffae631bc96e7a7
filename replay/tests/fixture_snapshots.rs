//! Checked-in fixture logs → replay → insta snapshot of every resulting aggregate state.

use replay::{fold_records, read_log_file, Quarantine};
use std::collections::BTreeMap;

#[test]
fn replayed_fixture_state() {
    insta::glob!("../../testkit/fixtures", "*.eflog", |path| {
        let records = read_log_file(path).expect("fixture reads");
        let quarantine = Quarantine::in_memory();
        let fleet = fold_records(&records, &quarantine);
        assert_eq!(quarantine.count(), 0, "fixtures hold only valid events");
        let states: BTreeMap<String, _> = fleet
            .aggregates
            .iter()
            .map(|(aggregate, entry)| (aggregate.to_string(), &entry.state))
            .collect();
        insta::assert_yaml_snapshot!(states);
    });
}
