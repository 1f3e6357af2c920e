// SPDX-License-Identifier: GPL-2.0

//! Writeback of DAX files: flushing what was written through mappings from
//! the CPU caches to the persistent memory, for `fsync()` and `msync()`.
//!
//! A write fault through a shared mapping marks the entry it maps dirty.
//! Writeback ([`writeback_range`]) tags the dirty entries of its range "to
//! write" (the caller, before it comes here), then takes each tagged entry
//! in turn: locks it, so that faults wait, write-protects every mapping of
//! its pages, so that a later write faults and dirties the entry again,
//! flushes the pages, and unlocks it clean.

use crate::{
    entry::{self, Found, Slot},
    ffi::trace_writeback_one,
    layout::{CHECK_SCHED, DIRTY, TOWRITE},
    Core, Storage,
};
use kernel::{
    bug::warn_on_once,
    dax::{DaxContent, DaxDevice, DaxEntry},
    error::{code::EIO, Result},
    fs::address_space::{AddressSpace, DaxPagesGuard},
    task::cond_resched,
    wait::WakeMode,
    xarray::XaEntry,
};

/// Writes back the entries of `mapping` from index `start` to index `end`
/// that are tagged to write, with `dax`, the DAX device of the file's
/// filesystem.  `storage` gives the pages of the entries found.  Returns
/// the index the walk ended at, and the first error, which ends it.
pub(crate) fn writeback_range<'a>(
    core: Core<'_>,
    mapping: &'a AddressSpace,
    dax: &DaxDevice,
    start: usize,
    end: usize,
    storage: &impl Storage<'a>,
) -> (usize, Result) {
    let Some(mut pages) = mapping.lock_dax_pages(start) else {
        return (start, Ok(()));
    };
    let mut scanned = 0usize;
    while let Some(found) = pages.find_marked(end, TOWRITE) {
        if let Err(err) = writeback_one(core, mapping, &mut pages, found, dax, storage) {
            return (pages.index(), Err(err));
        }
        scanned += 1;
        if scanned % CHECK_SCHED == 0 {
            pages.pause();
            pages.unlocked(cond_resched);
        }
    }
    (pages.index(), Ok(()))
}

/// Writes back `found`, the entry at the cursor of `pages`, which is
/// tagged to write: waits until it is unlocked (and leaves it if it was
/// replaced meanwhile, or written back by another task), locks it,
/// write-protects its pages wherever they are mapped, flushes them, and
/// stores it unlocked and clean.  The lock of `pages` is dropped and taken
/// again meanwhile.
fn writeback_one<'a>(
    core: Core<'_>,
    mapping: &'a AddressSpace,
    pages: &mut DaxPagesGuard<'_>,
    found: XaEntry,
    dax: &DaxDevice,
    storage: &impl Storage<'a>,
) -> Result {
    // A DAX mapping holds DAX entries only.
    let Slot::Dax(mut entry) = Slot::of(found) else {
        warn_on_once(true);
        return Err(EIO);
    };
    if entry.is_locked() {
        let old = entry;
        entry = match entry::next_unlocked(core.table, pages, 0) {
            Found::Unlocked(entry) => entry,
            // Removed while we waited.
            Found::Free | Found::Conflict => return Ok(()),
            // (Warned about by `next_unlocked()`.)
            Found::Foreign(found) => {
                entry::put_unlocked(
                    core.table,
                    pages.as_state(),
                    Slot::Foreign(found),
                    WakeMode::Next,
                );
                return Ok(());
            }
        };
        let put = |pages: &mut DaxPagesGuard<'_>| {
            entry::put_unlocked(
                core.table,
                pages.as_state(),
                Slot::Dax(entry),
                WakeMode::Next,
            );
        };
        // Replaced meanwhile (the page frames are compared, whatever the
        // size and kind): nothing of the old one to write back.
        if page_frame(entry) != page_frame(old) {
            put(pages);
            return Ok(());
        }
        // A tagged entry maps storage: an empty or zero one was never
        // written through a mapping.
        if warn_on_once(!matches!(entry.content(), DaxContent::Storage(_))) {
            put(pages);
            return Err(EIO);
        }
        // Another task wrote it back meanwhile.
        if !pages.get_mark(TOWRITE) {
            put(pages);
            return Ok(());
        }
    }
    // An entry with no storage has nothing to write back; C would flush
    // its (meaningless) page frame.  Such entries are never tagged.
    let Some(storage) = storage(entry) else {
        pages.clear_mark(TOWRITE);
        pages.clear_mark(DIRTY);
        return Ok(());
    };
    // Faults wait while the entry is locked.  The tag can go now: another
    // writeback of the entry finds it locked and waits for the flush below.
    entry::lock(pages, entry);
    pages.clear_mark(TOWRITE);
    let count = 1usize << entry.order();
    // A range that starts inside a PMD entry is written back whole.
    let index = pages.index() & !(count - 1);
    pages.unlocked(|| {
        mapping.write_protect_pfns(index, count, storage.pfn());
        storage.write_back(dax);
    });
    // No write reached the pages since they were write-protected, and
    // faults wait for the entry: it is clean.
    let _ = pages.store(Some(entry.unlocked().to_value()));
    pages.clear_mark(DIRTY);
    entry::wake(core.table, pages.as_state(), entry, WakeMode::Next);
    trace_writeback_one(mapping, index, count);
    Ok(())
}

/// The page frame an entry names, 0 for an empty one (`dax_to_pfn()`).
fn page_frame(entry: DaxEntry) -> usize {
    match entry.content() {
        DaxContent::Storage(pfn) | DaxContent::Zero(pfn) => pfn,
        DaxContent::Empty => 0,
    }
}
