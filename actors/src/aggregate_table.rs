//! [`AggregateTable`]: the replayed aggregates of a fleet, found by hash where replay looks one up per event, and
//! walked in (kind, scope, id) order where queries page through them.
//!
//! An ordered map alone made every replayed event pay a B-tree search of string comparisons (about 30 of them at
//! 10,000 aggregates, the largest cost of applying an event); a hash finds the entry with one hash and one
//! comparison. Aggregates are never removed from a fold, so entries live in one vector that both indexes point into.

use crate::fleet_state::AggregateEntry;
use events::AggregateRef;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::{Index, RangeBounds};

/// Aggregates by identity: hashed for lookups, ordered for walks.
#[derive(Clone, Default)]
pub struct AggregateTable {
    entries: Vec<AggregateEntry>,
    by_hash: HashMap<AggregateRef, usize>,
    in_order: BTreeMap<AggregateRef, usize>,
}

impl AggregateTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Aggregates held.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if none is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// One aggregate's entry.
    pub fn get(&self, aggregate: &AggregateRef) -> Option<&AggregateEntry> {
        self.by_hash.get(aggregate).map(|&i| &self.entries[i])
    }

    /// One aggregate's entry, to change.
    pub fn get_mut(&mut self, aggregate: &AggregateRef) -> Option<&mut AggregateEntry> {
        match self.by_hash.get(aggregate) {
            Some(&i) => Some(&mut self.entries[i]),
            None => None,
        }
    }

    /// Puts `entry` under `aggregate`, returning the entry it replaced.
    pub fn insert(&mut self, aggregate: AggregateRef, entry: AggregateEntry) -> Option<AggregateEntry> {
        if let Some(&i) = self.by_hash.get(&aggregate) {
            return Some(std::mem::replace(&mut self.entries[i], entry));
        }
        let i = self.entries.len();
        self.entries.push(entry);
        self.in_order.insert(aggregate.clone(), i);
        self.by_hash.insert(aggregate, i);
        None
    }

    /// Every aggregate in (kind, scope, id) order.
    pub fn iter(&self) -> impl Iterator<Item = (&AggregateRef, &AggregateEntry)> + '_ {
        self.in_order.iter().map(|(a, &i)| (a, &self.entries[i]))
    }

    /// The aggregates within `range`, in order.
    pub fn range<R: RangeBounds<AggregateRef>>(
        &self,
        range: R,
    ) -> impl Iterator<Item = (&AggregateRef, &AggregateEntry)> + '_ {
        self.in_order.range(range).map(|(a, &i)| (a, &self.entries[i]))
    }

    /// Every aggregate's identity, in order.
    pub fn keys(&self) -> impl Iterator<Item = &AggregateRef> + '_ {
        self.in_order.keys()
    }

    /// Every aggregate's entry, in order.
    pub fn values(&self) -> impl Iterator<Item = &AggregateEntry> + '_ {
        self.in_order.values().map(|&i| &self.entries[i])
    }
}

impl Index<&AggregateRef> for AggregateTable {
    type Output = AggregateEntry;

    /// Panics if `aggregate` is not held, as a map's index does (for tests and callers that just inserted it).
    fn index(&self, aggregate: &AggregateRef) -> &AggregateEntry {
        match self.get(aggregate) {
            Some(entry) => entry,
            None => panic!("no aggregate {aggregate} in the table"),
        }
    }
}

impl PartialEq for AggregateTable {
    /// Equal when they hold the same aggregates with equal entries, however they were inserted.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl fmt::Debug for AggregateTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for AggregateTable {
    /// As the ordered map it stands for.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl IntoIterator for AggregateTable {
    type Item = (AggregateRef, AggregateEntry);
    type IntoIter = std::vec::IntoIter<(AggregateRef, AggregateEntry)>;

    /// Every aggregate with its entry, in order.
    fn into_iter(self) -> Self::IntoIter {
        let mut entries: Vec<Option<AggregateEntry>> = self.entries.into_iter().map(Some).collect();
        self.in_order
            .into_iter()
            .filter_map(|(aggregate, i)| Some((aggregate, entries[i].take()?)))
            .collect::<Vec<_>>()
            .into_iter()
    }
}

impl FromIterator<(AggregateRef, AggregateEntry)> for AggregateTable {
    fn from_iter<I: IntoIterator<Item = (AggregateRef, AggregateEntry)>>(items: I) -> Self {
        let mut table = Self::new();
        for (aggregate, entry) in items {
            table.insert(aggregate, entry);
        }
        table
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AnyAggregate, Positions};
    use events::Token;

    fn node(site: &str, id: &str) -> AggregateRef {
        let token = |s: &str| Token::try_from(s.to_string()).expect("valid token");
        AggregateRef::node(&token(site), &token(id))
    }

    fn entry(events: u64) -> AggregateEntry {
        AggregateEntry {
            state: AnyAggregate::new(events::AggregateKind::Node),
            positions: Positions::default(),
            events,
        }
    }

    #[test]
    fn walks_in_identity_order_whatever_the_insertion_order() {
        let table: AggregateTable = [
            (node("s2", "a"), entry(1)),
            (node("s1", "b"), entry(2)),
            (node("s1", "a"), entry(3)),
        ]
        .into_iter()
        .collect();
        let order: Vec<(String, u64)> = table.iter().map(|(a, e)| (a.to_string(), e.events)).collect();
        let expected = [(node("s1", "a"), 3), (node("s1", "b"), 2), (node("s2", "a"), 1)];
        let expected: Vec<(String, u64)> = expected.iter().map(|(a, n)| (a.to_string(), *n)).collect();
        assert_eq!(order, expected);
        let from_s1_b: Vec<u64> = table.range(node("s1", "b")..).map(|(_, e)| e.events).collect();
        assert_eq!(from_s1_b, vec![2, 1]);
    }

    #[test]
    fn inserting_a_held_aggregate_replaces_its_entry_in_both_indexes() {
        let mut table = AggregateTable::new();
        assert!(table.insert(node("s1", "a"), entry(1)).is_none());
        let replaced = table.insert(node("s1", "a"), entry(7));
        assert_eq!(replaced.map(|e| e.events), Some(1));
        assert_eq!(table.len(), 1);
        assert_eq!(table[&node("s1", "a")].events, 7);
        assert_eq!(table.values().map(|e| e.events).collect::<Vec<_>>(), vec![7]);
        if let Some(e) = table.get_mut(&node("s1", "a")) {
            e.events += 1;
        }
        assert_eq!(table.iter().map(|(_, e)| e.events).collect::<Vec<_>>(), vec![8]);
        assert!(table.get(&node("s1", "b")).is_none());
    }

    #[test]
    fn tables_with_the_same_aggregates_are_equal_however_filled() {
        let one: AggregateTable = [(node("s1", "a"), entry(1)), (node("s1", "b"), entry(2))]
            .into_iter()
            .collect();
        let other: AggregateTable = [(node("s1", "b"), entry(2)), (node("s1", "a"), entry(1))]
            .into_iter()
            .collect();
        assert_eq!(one, other);
        assert_ne!(
            one,
            [(node("s1", "a"), entry(1))].into_iter().collect::<AggregateTable>()
        );
    }
}
