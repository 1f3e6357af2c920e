// SPDX-License-Identifier: GPL-2.0

//! Page faults of DAX files: storing the entry that a fault maps.
//!
//! A fault first locks the entry of its index (`grab_mapping_entry()`),
//! empty if there was none, then asks the filesystem for the storage, and
//! stores the entry of what it maps (the file's blocks, or the zero page
//! over a hole) in place of the locked one before it maps the page.

use crate::{
    entry::{self, Slot},
    owner::{self, Refused},
    Core, Storage,
};
use kernel::{
    bug::warn_on_once,
    dax::{owner::StoragePages, DaxContent, DaxEntry, DaxSize},
    error::Result,
    fs::iomap::IomapIter,
    mm::virt::VmFault,
    page::PAGE_SIZE,
    xarray::{XaMark, XaState},
};

/// `PAGECACHE_TAG_DIRTY` and `PAGECACHE_TAG_TOWRITE`.
const DIRTY: XaMark = XaMark::Mark0;
const TOWRITE: XaMark = XaMark::Mark2;

/// The entry a fault stores: the file's storage, whose pages it will own,
/// or the zero page over a hole, which owns nothing.
///
/// # Invariants
///
/// `pages` is the storage of `entry`, or `None` if `entry` is a zero entry.
pub(crate) struct NewEntry<'a> {
    entry: DaxEntry,
    pages: Option<StoragePages<'a>>,
}

impl<'a> NewEntry<'a> {
    /// The entry that maps `pages`, the file's storage.
    pub(crate) fn storage(pages: StoragePages<'a>) -> Self {
        // INVARIANT: The entry is made from the pages.
        Self {
            entry: pages.entry(),
            pages: Some(pages),
        }
    }

    /// The entry that maps the zero page (of `size`) at page frame `pfn`.
    pub(crate) fn zero(pfn: usize, size: DaxSize) -> Result<Self> {
        // INVARIANT: A zero entry, without pages.
        Ok(Self {
            entry: DaxEntry::new(DaxContent::Zero(pfn), size)?,
            pages: None,
        })
    }

    fn is_zero(&self) -> bool {
        self.pages.is_none()
    }
}

/// Whether a write fault through `vmf` must commit the filesystem's
/// metadata before it maps the blocks writable (`MAP_SYNC`): it then does
/// not dirty the entry, as the commit makes the range stable.
pub(crate) fn is_synchronous(iter: &IomapIter, vmf: &VmFault) -> bool {
    iter.is_write() && vmf.vma().is_sync() && iter.iomap().has_dirty_metadata()
}

/// Stores `new` in place of `locked`, the entry that the fault through
/// `vmf` locked at `xas`'s index in the file's mapping, whose storage
/// `iter` mapped, and returns the entry now locked there.  That is `new`,
/// unless `locked` already maps the file's storage (an index faulted
/// before, as a write after a read, or a PTE fault under a PMD entry):
/// `locked` then stays, and is only marked dirty.  The new entry's pages
/// get the file (or one more sharer) as owner first: if they cannot,
/// nothing is stored and the fault falls back or fails.
pub(crate) fn insert<'a>(
    core: Core<'a>,
    xas: &mut XaState<'_>,
    vmf: &VmFault,
    iter: &IomapIter,
    locked: DaxEntry,
    new: NewEntry<'a>,
    storage: &impl Storage<'a>,
) -> Result<DaxEntry, Refused> {
    let write = iter.is_write();
    let dirty = write && !is_synchronous(iter, vmf);
    let shared = iter.iomap().is_shared();
    let old_content = locked.content();
    // A DAX fault's VMA maps a file.
    let Some(mapping) = vmf.vma().file_mapping() else {
        warn_on_once(true);
        return Err(Refused::Sigbus);
    };

    if dirty {
        mapping.host().mark_pages_dirty();
    }

    // Blocks replace the zero page, or a shared extent is faulted again
    // (a COW may have given it new blocks): unmap what processes map now.
    if shared || (matches!(old_content, DaxContent::Zero(_)) && !new.is_zero()) {
        let nr = 1usize << locked.order();
        mapping.unmap_pages(xas.index() & !(nr - 1), nr);
    }

    let replace = shared || !matches!(old_content, DaxContent::Storage(_));
    // The lock was dropped since the cursor last walked.
    xas.reset();
    xas.lock(|cursor| {
        let now = if replace {
            // The index in the file of the new entry's first page.
            let start = vmf.address() & !((PAGE_SIZE << new.entry.order()) - 1);
            let Some(first) = vmf.vma().file_index(start) else {
                warn_on_once(true);
                return Err(Refused::Sigbus);
            };
            // The new owner is recorded before the old one goes, so that
            // a folio both entries map (a shared extent faulted again)
            // never looks unowned in between.
            owner::associate(core.locks, new.pages, mapping, cursor, first, shared)?;
            owner::disassociate(core.locks, storage(locked), mapping.as_raw(), false);
            let old = entry::lock(cursor, new.entry);
            warn_on_once(!matches!(Slot::of(old), Slot::Dax(old) if old == locked.locked()));
            new.entry
        } else {
            // Storage is in place and stays: walk to its entry for the
            // marks.
            let _ = cursor.load();
            locked
        };
        if dirty {
            cursor.set_mark(DIRTY);
        }
        if write && shared {
            cursor.set_mark(TOWRITE);
        }
        Ok(now)
    })
}
