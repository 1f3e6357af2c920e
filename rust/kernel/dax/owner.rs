// SPDX-License-Identifier: GPL-2.0

//! The owners of FS DAX folios.
//!
//! When a DAX entry comes to own the pages of the file's storage, the DAX
//! core makes them one folio of the entry's order and records the owner in
//! it: one file (`->mapping` and `->index`), or, for blocks that reflinked
//! files share, no mapping and a count of the entries that refer to the
//! folio (`->share`, in place of the index).  A folio with neither is
//! unowned.  An owner holds no reference: mappings and pins do.
//!
//! Files that share blocks change their owners under locks of their own,
//! so every owner change holds one more lock, from a table shared by all
//! files ([`OwnerLocks`]), chosen by the PMD-sized run of the device the
//! pages are in.  Joining pages into a folio and splitting it happen under
//! the same lock, which is what keeps the folio of a page stable while an
//! [`OwnerGuard`] is held.
//!
//! C header: [`include/linux/memremap.h`](srctree/include/linux/memremap.h)

use super::{DaxContent, DaxEntry};
use crate::{
    bindings,
    error::{code::*, Result},
    fs::address_space::AddressSpace,
    mm::pgtable::PMD_ORDER,
    wait::hash_long,
    xarray::XaCursor,
};
use core::marker::PhantomData;

/// The storage pages of a DAX entry: `2^order` pages of an FS DAX device
/// from `pfn`.
///
/// # Invariants
///
/// The pages have `struct page`s of an FS DAX pagemap that stay valid for
/// `'a`; `pfn` is aligned to `2^order`, and `order` is 0 or `PMD_ORDER`.
#[derive(Clone, Copy, Debug)]
pub struct StoragePages<'a> {
    pfn: usize,
    order: u32,
    _device: PhantomData<&'a ()>,
}

impl<'a> StoragePages<'a> {
    /// Returns the storage pages of `entry`, or `None` for a zero or empty
    /// entry, which has none.
    ///
    /// # Safety
    ///
    /// If `entry` has storage, it is part of an FS DAX device whose pagemap
    /// stays alive for `'a` (the filesystem that holds the device maps the
    /// file of the entry for that long).
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::dax::{owner::StoragePages, DaxContent, DaxEntry, DaxSize};
    ///
    /// let hole = DaxEntry::new(DaxContent::Zero(0x200), DaxSize::Pmd)?;
    /// // SAFETY: The entry has no storage.
    /// assert!(unsafe { StoragePages::of_entry(hole) }.is_none());
    /// let empty = DaxEntry::empty(DaxSize::Pte);
    /// // SAFETY: As above.
    /// assert!(unsafe { StoragePages::of_entry(empty) }.is_none());
    /// # Ok::<(), Error>(())
    /// ```
    pub unsafe fn of_entry(entry: DaxEntry) -> Option<Self> {
        match entry.content() {
            // INVARIANT: The caller guarantees the pagemap; a `DaxEntry`
            // only has order 0 or `PMD_ORDER` and a PMD entry's page frame
            // is PMD aligned.
            DaxContent::Storage(pfn) => Some(Self {
                pfn,
                order: entry.order(),
                _device: PhantomData,
            }),
            DaxContent::Zero(_) | DaxContent::Empty => None,
        }
    }

    /// Returns the page frame of the first page.
    pub fn pfn(&self) -> usize {
        self.pfn
    }

    /// Returns the order of the entry the pages are storage of.
    pub fn order(&self) -> u32 {
        self.order
    }
}

/// A table of `2^bits` spinlocks that serialise the owner changes of the
/// FS DAX folios of a PMD-sized run of a device each.
///
/// # Invariants
///
/// `locks` is an array of `2^bits` initialised spinlocks, valid for the
/// kernel's life and only taken as owner locks; `bits` is above 0 and
/// below `usize::BITS`.
pub struct OwnerLocks {
    locks: *mut bindings::spinlock_t,
    bits: u32,
}

// SAFETY: The table is only used through spinlocks, which may be taken
// from any thread.
unsafe impl Sync for OwnerLocks {}

impl OwnerLocks {
    /// Creates a table over the `2^bits` spinlocks at `locks`.
    ///
    /// # Safety
    ///
    /// `locks` is an array of `2^bits` spinlocks, initialised before the
    /// table is used and valid for the kernel's life, that only owner
    /// changes of FS DAX folios take, each for the run `hash_long(pfn >>
    /// PMD_ORDER, bits)` selects, as `fs/dax.c` does; `bits` is above 0 and
    /// below `usize::BITS`.
    pub const unsafe fn from_raw(locks: *mut bindings::spinlock_t, bits: u32) -> Self {
        // INVARIANT: As the caller guarantees.
        Self { locks, bits }
    }

    /// Takes the owner lock of `pages`, spinning.
    pub fn lock<'a>(&'a self, pages: StoragePages<'a>) -> OwnerGuard<'a> {
        let slot = hash_long(pages.pfn >> PMD_ORDER, self.bits);
        // SAFETY: `slot` is below `2^bits` (type invariant of the table
        // and `hash_long()`), so the lock is in the array, initialised.
        let lock = unsafe { self.locks.add(slot) };
        // SAFETY: As above.
        unsafe { bindings::spin_lock(lock) };
        // SAFETY: The page has a `struct page` (type invariant of
        // `StoragePages`).
        let first = unsafe { bindings::pfn_to_page(pages.pfn) };
        // SAFETY: As above; with the owner lock held, the compound head of
        // the page only changes through the guard.
        let folio = unsafe { bindings::page_folio(first) };
        // INVARIANT: The lock of the run of `pages` was just taken, and
        // nothing has been made or recorded yet.
        OwnerGuard {
            lock,
            pages,
            first,
            folio,
            prepared: false,
            _locks: PhantomData,
        }
    }
}

/// Whom the folio of some DAX storage pages belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaxOwner {
    /// No one.
    None,
    /// One file, by its mapping (an identity here, never followed).
    File(*const bindings::address_space),
    /// Files that share the blocks: this many DAX entries refer to it.
    Shared(usize),
}

/// The owner lock of some DAX storage pages, held: their folio and its
/// owner can be looked at and changed.
///
/// # Invariants
///
/// `lock` is the owner lock of the run of `pages`, held by this guard.
/// `first` is the first page of `pages`, and `folio` the folio it is part
/// of: joins and splits of the pages happen under the lock, and the guard
/// updates `folio` after its own.  `prepared` is true when the folio has
/// no owner and is of the pages' order, starting at `first`, as
/// [`OwnerGuard::prepare`] leaves it until an owner is recorded.
#[must_use = "the owner lock is dropped with the guard"]
pub struct OwnerGuard<'a> {
    lock: *mut bindings::spinlock_t,
    pages: StoragePages<'a>,
    first: *mut bindings::page,
    folio: *mut bindings::folio,
    prepared: bool,
    _locks: PhantomData<&'a OwnerLocks>,
}

impl OwnerGuard<'_> {
    /// The folio the first page is part of, valid and stable while the
    /// guard is held (type invariant).
    fn folio(&self) -> *mut bindings::folio {
        self.folio
    }

    /// Returns the owner of the folio the pages are in.
    pub fn owner(&self) -> DaxOwner {
        let folio = self.folio();
        // SAFETY: `folio` is valid (see `folio()`); the helper reads the
        // field once.
        let mapping = unsafe { bindings::folio_mapping_field(folio) };
        if !mapping.is_null() {
            return DaxOwner::File(mapping.cast());
        }
        // SAFETY: As above; an FS DAX folio keeps its share count in place
        // of the index.
        match unsafe { bindings::folio_dax_share(folio) } {
            0 => DaxOwner::None,
            share => DaxOwner::Shared(share),
        }
    }

    /// Returns the order of the folio the pages are in.
    pub fn folio_order(&self) -> u32 {
        // SAFETY: The folio is valid (see `folio()`).
        unsafe { bindings::folio_order(self.folio()) }
    }

    /// Returns whether the folio is neither referenced nor mapped.
    pub fn is_free(&self) -> bool {
        let folio = self.folio();
        // SAFETY: The folio is valid (see `folio()`).
        unsafe { bindings::folio_ref_count(folio) == 0 && !bindings::folio_mapped(folio) }
    }

    /// Returns whether the folio has references other than its mappings:
    /// a pin, or a mapping being made or torn down.
    pub fn is_busy(&self) -> bool {
        let folio = self.folio();
        // SAFETY: The folio is valid (see `folio()`).
        unsafe { bindings::folio_ref_count(folio) != bindings::folio_mapcount(folio) }
    }

    /// Returns the first page of the folio, as an identity (the page that
    /// the page-free callback wakes the waiters of).
    pub fn head_page(&self) -> *mut bindings::page {
        // A folio starts with its first page.
        self.folio().cast()
    }

    /// Makes the pages one folio of their entry's order with no owner, as
    /// [`zone_device_folio_prepare()`] does.  Returns `EBUSY` if a page is
    /// referenced, mapped, owned or part of another folio.  The folio must
    /// have no owner: `EINVAL` otherwise.
    ///
    /// [`zone_device_folio_prepare()`]: srctree/mm/memremap.c
    pub fn prepare(&mut self) -> Result {
        if self.owner() != DaxOwner::None {
            return Err(EINVAL);
        }
        // SAFETY: The pages are FS DAX pages with `struct page`s, aligned
        // to their order (type invariant of `StoragePages`), and the owner
        // lock of their run, which every owner change takes, is held.
        let folio =
            unsafe { bindings::zone_device_folio_prepare(self.pages.pfn, self.pages.order) };
        if folio.is_null() {
            // What is left of a larger folio may have been split.
            // SAFETY: As in `OwnerLocks::lock`.
            self.folio = unsafe { bindings::page_folio(self.first) };
            return Err(EBUSY);
        }
        // INVARIANT: An unowned folio of the pages' order that starts at
        // `first`.
        self.folio = folio;
        self.prepared = true;
        Ok(())
    }

    /// Records `mapping`, the mapping of the DAX entry that the pages are
    /// storage of, as the folio's one owner, at `index` of the file.
    /// `cursor` is into the mapping's `i_pages`, which shows its lock held
    /// and the mapping that of a DAX file: `EINVAL` otherwise, and unless
    /// [`OwnerGuard::prepare`] made the folio for a new owner.
    pub fn set_file(
        &mut self,
        mapping: &AddressSpace,
        cursor: &XaCursor<'_>,
        index: usize,
    ) -> Result {
        if !self.prepared || !mapping.holds_cursor(cursor) {
            return Err(EINVAL);
        }
        // SAFETY: The folio is valid (see `folio()`), and its owner fields
        // change only under the owner lock, which is held.
        unsafe { bindings::folio_set_dax_owner(self.folio(), mapping.as_raw(), index, 0) };
        // INVARIANT: The folio is owned now.
        self.prepared = false;
        Ok(())
    }

    /// Records the folio as shared by the files whose entries refer to it,
    /// one so far.  `EINVAL` unless [`OwnerGuard::prepare`] made the folio
    /// for a new owner.
    pub fn set_shared(&mut self) -> Result {
        if !self.prepared {
            return Err(EINVAL);
        }
        // SAFETY: As for `set_file`.
        unsafe { bindings::folio_set_dax_owner(self.folio(), core::ptr::null_mut(), 0, 1) };
        // INVARIANT: The folio is owned now.
        self.prepared = false;
        Ok(())
    }

    /// Counts one more DAX entry that refers to the folio, and makes it
    /// shared: a folio owned by one file counts that file's entry too.
    /// `EINVAL` for an unowned folio.
    pub fn share_get(&mut self) -> Result {
        let share = match self.owner() {
            DaxOwner::None => return Err(EINVAL),
            DaxOwner::File(_) => 2,
            DaxOwner::Shared(n) => n.checked_add(1).ok_or(ERANGE)?,
        };
        // SAFETY: As for `set_file`.
        unsafe { bindings::folio_set_dax_owner(self.folio(), core::ptr::null_mut(), 0, share) };
        Ok(())
    }

    /// Counts one DAX entry fewer that refers to a shared folio and returns
    /// how many still do; at 0 the folio is unowned.  `EINVAL` for a folio
    /// that is not shared.
    pub fn share_put(&mut self) -> Result<usize> {
        let DaxOwner::Shared(n) = self.owner() else {
            return Err(EINVAL);
        };
        // SAFETY: As for `set_file`.
        unsafe { bindings::folio_set_dax_owner(self.folio(), core::ptr::null_mut(), 0, n - 1) };
        Ok(n - 1)
    }

    /// Clears the owner of the folio; if it is then free and large, makes
    /// its pages order-0 pages again.  A folio still referenced keeps its
    /// order until [`OwnerGuard::prepare`] finds it free.
    pub fn release(&mut self) {
        let folio = self.folio();
        // SAFETY: As for `set_file`.
        unsafe { bindings::folio_set_dax_owner(folio, core::ptr::null_mut(), 0, 0) };
        if self.folio_order() > 0 && self.is_free() {
            // SAFETY: The folio is a free, unowned FS DAX folio, and the
            // owner lock of its run, which every owner change takes, is
            // held.  It cannot fail for such a folio.
            unsafe { bindings::zone_device_folio_split(folio) };
            // SAFETY: As in `OwnerLocks::lock`.
            self.folio = unsafe { bindings::page_folio(self.first) };
        }
        // INVARIANT: Unowned, but not made for a new owner.
        self.prepared = false;
    }
}

impl Drop for OwnerGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: The guard holds the lock (type invariant).
        unsafe { bindings::spin_unlock(self.lock) };
    }
}
