// SPDX-License-Identifier: GPL-2.0

//! The FS DAX core in Rust, beside `fs/dax.c`.
//!
//! With `CONFIG_FS_DAX_RUST` this crate provides parts of the DAX core that
//! `fs/dax.c` then leaves out, under the same names and with the same
//! behaviour; the rest of `fs/dax.c` calls them through
//! `fs/dax_rs/dax_rs.h`.  It provides the locking of DAX entries so far
//! ([`entry`]): waiting for an entry to unlock, locking it, unlocking it and
//! waking its waiters, for the rest of the core, and the exported functions
//! with which memory failure handling locks the entry of a poisoned folio
//! or file index (`dax_lock_folio()`, `dax_lock_mapping_entry()` and their
//! unlocks).
//!
//! # DAX entries and their states
//!
//! A DAX mapping's `i_pages` holds only value entries ([`kernel::dax::DaxEntry`]):
//!
//! ```text
//!   (no entry) --grab--> Empty, locked --fault--> Storage or Zero, locked
//!                                                    |            ^
//!                                                  unlock        lock
//!                                                    v            |
//!                                               Storage or Zero, unlocked
//! ```
//!
//! An entry covers a page (PTE) or a PMD-sized, PMD-aligned range (PMD).
//! An empty entry holds the index while storage is looked up; a zero entry
//! maps the zero page over a hole.  A locked entry is owned by the task
//! that locked it, which alone may change or remove it; everyone else that
//! finds it locked sleeps until it is unlocked.
//!
//! # Locks, in the order they are taken
//!
//! 1. The filesystem's locks of the inode (`i_rwsem`, the mapping
//!    invalidate lock) and the mmap or VMA lock of a fault.
//! 2. A DAX entry's lock (the bit in the entry): taken under, and held
//!    after dropping, the `i_pages` lock.
//! 3. The `i_pages` lock (IRQ-safe spinlock): entries are looked at,
//!    locked, stored and unlocked under it; a waiter queues itself under it
//!    and sleeps after dropping it.
//! 4. The lock of a wait queue of the table, inside queueing and waking.
//!
//! A task never sleeps under the `i_pages` lock, and never waits for an
//! entry lock while it holds another one.

mod entry;
mod ffi;
