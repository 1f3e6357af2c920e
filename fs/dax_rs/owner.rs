// SPDX-License-Identifier: GPL-2.0

//! Who owns the storage of DAX entries.
//!
//! A DAX entry owns the pages it maps from the time a fault stores it until
//! it is removed: the pages are one folio of the entry's order, which names
//! the file (or, for blocks that reflinked files share, counts the entries
//! of all of them).  These are the steps of `fs/dax.c` that record and drop
//! that ownership, each under the owner lock of the pages' run.

use kernel::{
    bindings,
    bug::warn_on_once,
    dax::owner::{DaxOwner, OwnerLocks, StoragePages},
    fs::address_space::AddressSpace,
    xarray::XaCursor,
};

/// Why a DAX entry cannot own its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A PMD entry whose pages are in use: the fault falls back to PTEs.
    Fallback,
    /// A PTE entry whose page is in use, or an owner the pages cannot have.
    Sigbus,
}

/// Records the owner of `pages`, the storage of a new entry of `mapping`
/// at `index`: the file, or for an extent other files may map too
/// (`shared`), one more entry in the folio's count.  `cursor` is into the
/// mapping's `i_pages`, locked.  Zero and empty entries (`None`) own
/// nothing.
pub(crate) fn associate(
    locks: &OwnerLocks,
    pages: Option<StoragePages<'_>>,
    mapping: &AddressSpace,
    cursor: &XaCursor<'_>,
    index: usize,
    shared: bool,
) -> Result<(), Refused> {
    let Some(pages) = pages else {
        return Ok(());
    };
    let mut owner = locks.lock(pages);
    if owner.owner() != DaxOwner::None {
        // Only an extent that files share may have several owners.
        if warn_on_once(!shared) {
            return Err(Refused::Sigbus);
        }
        if owner.folio_order() < pages.order() {
            return Err(Refused::Fallback);
        }
        return owner.share_get().map_err(|_| Refused::Sigbus);
    }
    if owner.prepare().is_err() {
        return Err(if pages.order() > 0 {
            Refused::Fallback
        } else {
            Refused::Sigbus
        });
    }
    let recorded = if shared {
        owner.set_shared()
    } else {
        owner.set_file(mapping, cursor, index)
    };
    // Only a cursor into another mapping could make this fail.
    recorded.map_err(|_| {
        warn_on_once(true);
        Refused::Sigbus
    })
}

/// `mapping` gives up `pages`, the storage of one of its entries that is
/// being removed (`trunc`: after its layout was broken).  The folio loses
/// this owner; once it has none and is free, its pages become order-0
/// pages again.
pub(crate) fn disassociate(
    locks: &OwnerLocks,
    pages: Option<StoragePages<'_>>,
    mapping: *const bindings::address_space,
    trunc: bool,
) {
    let Some(pages) = pages else {
        return;
    };
    let mut owner = locks.lock(pages);
    let was = owner.owner();
    // After a layout break this file neither maps nor pins the folio.
    // Files that share it map it under their own locks: their counts can be
    // caught in between.
    warn_on_once(trunc && !matches!(was, DaxOwner::Shared(_)) && owner.is_busy());
    match was {
        // Other entries still refer to it: it stays shared.
        DaxOwner::Shared(_) if owner.share_put() != Ok(0) => return,
        DaxOwner::File(file) => {
            warn_on_once(file != mapping);
        }
        DaxOwner::Shared(_) | DaxOwner::None => {}
    }
    owner.release();
}

/// The first page of the folio of `pages` if it is referenced beyond its
/// mappings (a pin or DMA): the page whose freeing a layout break waits
/// for.  Mappings do not count: the caller unmapped its file's, and files
/// that share the blocks keep theirs.
pub(crate) fn busy_page(
    locks: &OwnerLocks,
    pages: Option<StoragePages<'_>>,
) -> Option<*mut bindings::page> {
    let owner = locks.lock(pages?);
    owner.is_busy().then(|| owner.head_page())
}
