//! Node-side pieces of `edgefleet agent`: the node's disk image and its hardware inventory.
//!
//! This crate reads and writes the machine it runs on (files under a root directory, one image file); it holds no
//! fleet state and never talks to NATS. Boot-slot decisions and the update sequence build on [`disk_image`].

pub mod boot_slots;
pub mod disk_image;
pub mod disk_layout;
mod gpt_table;
pub mod image_signing;
pub mod image_verify;
pub mod inventory;
pub mod os_update;

pub use boot_slots::{BootSlots, BootSlotsError, Slot, SlotAttributes};
pub use disk_image::{ensure_disk_image, DiskImage, DiskImageError, PartitionInfo};
pub use disk_layout::{DiskLayout, DATA, ROOT_A, ROOT_B};
pub use image_signing::{parse_public_key, parse_signature, public_key_hex, sign_digest_hex, ImageSigningError};
pub use image_verify::{sha256_hex, verify_image, ImageVerifyError};
pub use inventory::{read_inventory, InventoryError, InventoryOverrides};
pub use os_update::{OsUpdate, OsUpdateError, UpdateOutcome, UpdateRecord, UpdateStep, UpdateTarget};
