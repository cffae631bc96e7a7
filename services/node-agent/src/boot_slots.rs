//! A/B boot slots: the ChromeOS/Bottlerocket boot bits of `ROOT-A` and `ROOT-B` and the bootloader's rule over them.
//!
//! Like Bottlerocket's `signpost`: [`BootSlots::load`] reads both attribute fields into plain data, named mutators
//! change them in memory, and one explicit [`BootSlots::write`] puts them back. Everything but `load` and `write` is
//! a pure function over that data. This module must never touch partition contents (and so never `DATA`), and never
//! change attribute bits outside 48-56: the rest of each field is carried through as found on disk.
//!
//! Bit layout (ChromeOS kernel partitions): priority = bits 48-51, tries left = bits 52-55, successful = bit 56.

use crate::disk_image::{DiskImage, DiskImageError};
use crate::disk_layout::{ROOT_A, ROOT_B};
use serde::{Deserialize, Serialize};
use std::fmt;

const PRIORITY_SHIFT: u32 = 48;
const TRIES_SHIFT: u32 = 52;
const SUCCESSFUL_BIT: u64 = 1 << 56;
const NIBBLE: u64 = 0xF;
/// Every bit this module owns; the rest of the field is never changed.
const BOOT_BITS_MASK: u64 = (NIBBLE << PRIORITY_SHIFT) | (NIBBLE << TRIES_SHIFT) | SUCCESSFUL_BIT;
/// Priority of the slot that should boot next after an upgrade or a cancel (signpost's values).
const PRIORITY_NEXT: u8 = 2;
/// Priority of the slot kept as the fallback while an upgrade is tried.
const PRIORITY_FALLBACK: u8 = 1;

/// One of the two root (OS) slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Slot {
    /// `ROOT-A`, the slot a fresh node boots.
    A,
    /// `ROOT-B`.
    B,
}

impl Slot {
    /// Both slots, in the order the boot selector breaks ties (A wins).
    pub const ALL: [Slot; 2] = [Slot::A, Slot::B];

    /// The GPT partition name of this slot.
    pub fn partition_name(self) -> &'static str {
        match self {
            Slot::A => ROOT_A,
            Slot::B => ROOT_B,
        }
    }

    /// The other slot of the pair.
    pub fn other(self) -> Slot {
        match self {
            Slot::A => Slot::B,
            Slot::B => Slot::A,
        }
    }
}

impl From<Slot> for events::node::RootSlot {
    /// The fleet's name for a slot (what the site records).
    fn from(slot: Slot) -> Self {
        match slot {
            Slot::A => events::node::RootSlot::A,
            Slot::B => events::node::RootSlot::B,
        }
    }
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.partition_name())
    }
}

/// The 64-bit GPT attribute field of one root slot, with accessors for the boot bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotAttributes {
    bits: u64,
}

impl SlotAttributes {
    /// Wraps a raw attribute field as read from the GPT.
    pub const fn from_bits(bits: u64) -> Self {
        SlotAttributes { bits }
    }

    /// A field holding only the given boot bits (every other bit clear).
    ///
    /// # Panics
    /// If `priority` or `tries_left` does not fit in 4 bits (more than 15): that is a caller bug.
    pub fn new(priority: u8, tries_left: u8, successful: bool) -> Self {
        let mut attributes = SlotAttributes::from_bits(0);
        attributes.set(priority, tries_left, successful);
        attributes
    }

    /// The raw field, including the bits this module does not interpret.
    pub const fn bits(self) -> u64 {
        self.bits
    }

    /// Boot priority, 0-15; 0 means never boot this slot.
    pub fn priority(self) -> u8 {
        ((self.bits >> PRIORITY_SHIFT) & NIBBLE) as u8
    }

    /// Boots left before an unsuccessful slot is given up, 0-15.
    pub fn tries_left(self) -> u8 {
        ((self.bits >> TRIES_SHIFT) & NIBBLE) as u8
    }

    /// Whether this slot has booted and passed its health check at least once.
    pub fn successful(self) -> bool {
        self.bits & SUCCESSFUL_BIT != 0
    }

    /// The boot selector would consider this slot: priority > 0 and either successful or with tries left.
    pub fn bootable(self) -> bool {
        self.priority() > 0 && (self.successful() || self.tries_left() > 0)
    }

    fn set(&mut self, priority: u8, tries_left: u8, successful: bool) {
        assert!(priority <= 15 && tries_left <= 15, "boot bits are 4 bits wide");
        let boot = (u64::from(priority) << PRIORITY_SHIFT)
            | (u64::from(tries_left) << TRIES_SHIFT)
            | if successful { SUCCESSFUL_BIT } else { 0 };
        self.bits = (self.bits & !BOOT_BITS_MASK) | boot;
    }

    fn set_priority(&mut self, priority: u8) {
        self.set(priority, self.tries_left(), self.successful());
    }
}

impl fmt::Display for SlotAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let successful = if self.successful() {
            "successful"
        } else {
            "not successful"
        };
        write!(
            f,
            "priority {}, tries_left {}, {successful}",
            self.priority(),
            self.tries_left()
        )
    }
}

/// What can go wrong reading, changing or writing the boot slots.
#[derive(Debug, thiserror::Error)]
pub enum BootSlotsError {
    /// The image could not be read or written.
    #[error(transparent)]
    Disk(#[from] DiskImageError),
    /// A mutator would give up the only slot known to boot.
    #[error(
        "{slot} has not booted successfully ({attributes}); an update must start from, and a cancel must return \
         to, a slot known to boot — let the pending update finish or roll back first"
    )]
    NotSuccessful {
        /// The slot that was expected to be the known-good one.
        slot: Slot,
        /// Its boot bits.
        attributes: SlotAttributes,
    },
    /// `upgrade_to_inactive` on a slot that was not cleared first.
    #[error(
        "{slot} still carries boot bits ({attributes}); clear_inactive and write the image before upgrading to it"
    )]
    InactiveNotCleared {
        /// The slot to upgrade to.
        slot: Slot,
        /// Its boot bits.
        attributes: SlotAttributes,
    },
}

/// The boot bits of `ROOT-A` and `ROOT-B`, in memory. Changes reach the disk only through [`BootSlots::write`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootSlots {
    a: SlotAttributes,
    b: SlotAttributes,
}

impl BootSlots {
    /// Reads the attribute fields of both root slots from the image's GPT.
    pub fn load(image: &DiskImage) -> Result<BootSlots, BootSlotsError> {
        Ok(BootSlots {
            a: SlotAttributes::from_bits(image.attributes(ROOT_A)?),
            b: SlotAttributes::from_bits(image.attributes(ROOT_B)?),
        })
    }

    /// Slots from raw attribute fields (for decisions made without an image, and tests).
    pub const fn from_bits(a: u64, b: u64) -> BootSlots {
        BootSlots {
            a: SlotAttributes::from_bits(a),
            b: SlotAttributes::from_bits(b),
        }
    }

    /// Writes the boot bits of both slots to the image; slots whose bits already match are not rewritten.
    ///
    /// Bits outside 48-56 are taken from the disk as it is now, so nothing else in the field changes. Each changed
    /// slot is one GPT rewrite (primary and backup, synced); a crash between the two leaves a state every step of
    /// the update sequence is written to tolerate, and the step is redone on resume.
    pub fn write(&self, image: &mut DiskImage) -> Result<(), BootSlotsError> {
        for slot in Slot::ALL {
            let name = slot.partition_name();
            let on_disk = image.attributes(name)?;
            let wanted = (on_disk & !BOOT_BITS_MASK) | (self.slot(slot).bits() & BOOT_BITS_MASK);
            if wanted != on_disk {
                image.set_attributes(name, wanted)?;
            }
        }
        Ok(())
    }

    /// The attribute field of `slot`.
    pub fn slot(&self, slot: Slot) -> SlotAttributes {
        match slot {
            Slot::A => self.a,
            Slot::B => self.b,
        }
    }

    fn slot_mut(&mut self, slot: Slot) -> &mut SlotAttributes {
        match slot {
            Slot::A => &mut self.a,
            Slot::B => &mut self.b,
        }
    }

    /// Neither slot has any boot bit set: a newly created image that nothing has initialised.
    pub fn is_fresh(&self) -> bool {
        Slot::ALL.iter().all(|&s| self.slot(s).bits() & BOOT_BITS_MASK == 0)
    }

    /// On a fresh image, makes `ROOT-A` the booting slot (priority 1, successful) and leaves `ROOT-B` at
    /// priority 0. Returns whether anything changed; an image that is not fresh is left alone.
    pub fn initialize_fresh(&mut self) -> bool {
        if !self.is_fresh() {
            return false;
        }
        self.a.set(1, 0, true);
        self.b.set(0, 0, false);
        debug_assert_eq!(self.active(), Some(Slot::A));
        true
    }

    /// The boot selector rule: the slot the bootloader would boot now. Among slots with priority > 0 that are
    /// successful or have tries left, the highest priority wins; on a tie `ROOT-A` wins. `None`: unbootable.
    pub fn active(&self) -> Option<Slot> {
        let (a, b) = (self.a.bootable(), self.b.bootable());
        match (a, b) {
            (true, true) if self.b.priority() > self.a.priority() => Some(Slot::B),
            (true, _) => Some(Slot::A),
            (false, true) => Some(Slot::B),
            (false, false) => None,
        }
    }

    /// The bootloader booting the node: gives up slots whose trial ran out, picks [`BootSlots::active`], and uses
    /// one try of the chosen slot if it has not yet booted successfully.
    ///
    /// A slot with priority > 0, no tries left and not successful was tried and never marked successful: it gets
    /// priority 0 here (ChromeOS marks it bad) and is never chosen again until re-armed. This happens at the boot
    /// after its last try rather than during it, so the OS running on its last try can still mark it successful.
    pub fn boot(&mut self) -> Option<Slot> {
        for slot in Slot::ALL {
            let attributes = self.slot_mut(slot);
            if attributes.priority() > 0 && attributes.tries_left() == 0 && !attributes.successful() {
                attributes.set_priority(0);
            }
        }
        let chosen = self.active()?;
        let attributes = self.slot_mut(chosen);
        if !attributes.successful() {
            debug_assert!(attributes.tries_left() > 0, "active() only picks slots with tries left");
            attributes.set(attributes.priority(), attributes.tries_left() - 1, false);
        }
        Some(chosen)
    }

    /// Prepares the slot other than `running` for a new image: priority 0, no tries, not successful, so nothing
    /// boots it while it is half written. Returns that slot. `running` must be successful, or the node would lose
    /// its only known-good slot.
    pub fn clear_inactive(&mut self, running: Slot) -> Result<Slot, BootSlotsError> {
        self.require_successful(running)?;
        let inactive = running.other();
        self.slot_mut(inactive).set(0, 0, false);
        Ok(inactive)
    }

    /// Arms the slot other than `running` (cleared, with the new image written) to boot next, once: priority 2,
    /// one try, not successful; `running` drops to priority 1 and stays successful, so it is the fallback when
    /// the trial boot fails. Returns the armed slot.
    pub fn upgrade_to_inactive(&mut self, running: Slot) -> Result<Slot, BootSlotsError> {
        self.require_successful(running)?;
        let inactive = running.other();
        let attributes = self.slot(inactive);
        if attributes.priority() != 0 || attributes.successful() {
            return Err(BootSlotsError::InactiveNotCleared {
                slot: inactive,
                attributes,
            });
        }
        self.slot_mut(inactive).set(PRIORITY_NEXT, 1, false);
        let running_attributes = self.slot_mut(running);
        running_attributes.set(PRIORITY_FALLBACK, running_attributes.tries_left(), true);
        debug_assert_eq!(self.active(), Some(inactive));
        Ok(inactive)
    }

    /// Records that `slot` booted and passed its health check: successful, tries 0. Priority is unchanged.
    pub fn mark_successful(&mut self, slot: Slot) {
        let attributes = self.slot_mut(slot);
        attributes.set(attributes.priority(), 0, true);
    }

    /// Reverses [`BootSlots::upgrade_to_inactive`]: `previous` (the slot the update started from, which must be
    /// successful) goes back to priority 2 and the other slot to priority 0, no tries, not successful.
    pub fn cancel_upgrade(&mut self, previous: Slot) -> Result<(), BootSlotsError> {
        self.require_successful(previous)?;
        self.slot_mut(previous.other()).set(0, 0, false);
        self.slot_mut(previous).set_priority(PRIORITY_NEXT);
        debug_assert_eq!(self.active(), Some(previous));
        Ok(())
    }

    fn require_successful(&self, slot: Slot) -> Result<(), BootSlotsError> {
        let attributes = self.slot(slot);
        if attributes.successful() && attributes.priority() > 0 {
            Ok(())
        } else {
            Err(BootSlotsError::NotSuccessful { slot, attributes })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Boot bits only: (priority, tries_left, successful).
    fn bits(priority: u8, tries_left: u8, successful: bool) -> u64 {
        SlotAttributes::new(priority, tries_left, successful).bits()
    }

    #[derive(Clone, Copy, Debug)]
    enum Action {
        Boot,
        InitializeFresh,
        ClearInactive(Slot),
        UpgradeToInactive(Slot),
        MarkSuccessful(Slot),
        CancelUpgrade(Slot),
    }

    /// Applies `action`; returns the slot it reports (booted / cleared / armed), `Ok(None)` for none.
    fn apply(slots: &mut BootSlots, action: Action) -> Result<Option<Slot>, String> {
        let error = |e: BootSlotsError| e.to_string();
        match action {
            Action::Boot => Ok(slots.boot()),
            Action::InitializeFresh => Ok(slots.initialize_fresh().then_some(Slot::A)),
            Action::ClearInactive(running) => slots.clear_inactive(running).map(Some).map_err(error),
            Action::UpgradeToInactive(running) => slots.upgrade_to_inactive(running).map(Some).map_err(error),
            Action::MarkSuccessful(slot) => {
                slots.mark_successful(slot);
                Ok(None)
            }
            Action::CancelUpgrade(previous) => slots.cancel_upgrade(previous).map(|()| None).map_err(error),
        }
    }

    #[test]
    fn actions_change_exactly_the_expected_bits() {
        use Action::*;
        use Slot::{A, B};
        let good = bits(1, 0, true);
        #[rustfmt::skip]
        let table: [(u64, u64, Action, u64, u64, Option<Slot>); 16] = [
            // Fresh image: A boots, B is off; a second initialise changes nothing.
            (0, 0, InitializeFresh, bits(1, 0, true), 0, Some(A)),
            (good, 0, InitializeFresh, good, 0, None),
            // Boot selector: highest bootable priority; ties go to A; successful slots use no tries.
            (good, bits(2, 0, true), Boot, good, bits(2, 0, true), Some(B)),
            (bits(2, 0, true), bits(2, 0, true), Boot, bits(2, 0, true), bits(2, 0, true), Some(A)),
            (0, 0, Boot, 0, 0, None),
            // A trial slot uses its try, then (never marked successful) is given up at the next boot.
            (good, bits(2, 1, false), Boot, good, bits(2, 0, false), Some(B)),
            (good, bits(2, 0, false), Boot, good, 0, Some(A)),
            (good, bits(2, 3, false), Boot, good, bits(2, 2, false), Some(B)),
            (bits(1, 0, false), bits(1, 0, false), Boot, 0, 0, None),
            // Named mutators.
            (good, bits(2, 0, true), ClearInactive(A), good, 0, Some(B)),
            (good, 0, UpgradeToInactive(A), good, bits(2, 1, false), Some(B)),
            (bits(1, 0, true), bits(2, 0, true), ClearInactive(B), 0, bits(2, 0, true), Some(A)),
            (0, bits(2, 0, true), UpgradeToInactive(B), bits(2, 1, false), bits(1, 0, true), Some(A)),
            (good, bits(2, 0, false), MarkSuccessful(B), good, bits(2, 0, true), None),
            (good, bits(2, 1, false), CancelUpgrade(A), bits(2, 0, true), 0, None),
            (good, bits(2, 0, false), CancelUpgrade(A), bits(2, 0, true), 0, None),
        ];
        for (a, b, action, a_after, b_after, reported) in table {
            let mut slots = BootSlots::from_bits(a, b);
            let got = apply(&mut slots, action);
            assert_eq!(got, Ok(reported), "{action:?} on A {a:#018x} B {b:#018x}");
            assert_eq!(
                (slots.slot(A).bits(), slots.slot(B).bits()),
                (a_after, b_after),
                "{action:?} on A {a:#018x} B {b:#018x}"
            );
        }
    }
}
