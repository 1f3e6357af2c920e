// SPDX-License-Identifier: GPL-2.0

//! A file's page cache (`struct address_space`), and the DAX entries that a
//! DAX file keeps in it.
//!
//! A DAX file's `i_pages` holds no folios: only the value entries of the
//! DAX core, which may be stored there by it alone and which count in
//! `nrpages`.  [`AddressSpace::lock_dax_pages`] and
//! [`AddressSpace::dax_pages`] give cursors into it only for such files.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use crate::{
    bindings,
    types::Opaque,
    wait::{KeyedWaitQueue, WaitKey, WaitMode},
    xarray::{XaCursor, XaState},
};
use core::{
    marker::PhantomData,
    ops::{Deref, DerefMut},
};

/// A file's page cache, its `struct address_space`.
///
/// # Invariants
///
/// The inner `struct address_space` is valid, with its host inode, for as
/// long as the `AddressSpace` can be reached.
#[repr(transparent)]
pub struct AddressSpace(Opaque<bindings::address_space>);

// SAFETY: An address_space is shared by every task that uses the file; its
// fields are protected by its own locks.
unsafe impl Sync for AddressSpace {}

impl AddressSpace {
    /// Creates a reference to an address space from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `struct address_space` whose host inode is valid,
    /// and both stay valid for `'a` (the caller holds a reference to the
    /// inode, for instance).
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::address_space) -> &'a Self {
        // SAFETY: `AddressSpace` is a transparent wrapper of the C struct,
        // valid for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct address_space` pointer.
    pub fn as_raw(&self) -> *mut bindings::address_space {
        self.0.get()
    }

    /// Returns the mode bits of the host inode.
    fn host_mode(&self) -> u32 {
        // SAFETY: By the type invariant the mapping and its host are valid.
        u32::from(unsafe { (*(*self.as_raw()).host).i_mode })
    }

    /// Returns whether the mapping is a DAX mapping (`dax_mapping()`): its
    /// host inode is a DAX file or a device DAX character device.
    pub fn is_dax(&self) -> bool {
        // SAFETY: By the type invariant the mapping is valid.
        let host = unsafe { (*self.as_raw()).host };
        // SAFETY: The host of a valid mapping is valid; `i_flags` is read
        // once, as `IS_DAX()` does.
        !host.is_null() && unsafe { (*host).i_flags } & bindings::S_DAX != 0
    }

    /// Returns whether the host inode is a character device (a device DAX
    /// instance, whose `i_pages` is not used).
    pub fn host_is_chrdev(&self) -> bool {
        self.host_mode() & bindings::S_IFMT == bindings::S_IFCHR
    }

    /// Returns whether `i_pages` holds the DAX core's value entries: a DAX
    /// mapping of a file, not of a device.
    fn has_dax_entries(&self) -> bool {
        self.is_dax() && !self.host_is_chrdev()
    }

    /// Returns a cursor at `index` of `i_pages` with order 0.
    fn dax_cursor(&self, index: usize) -> bindings::xa_state {
        // SAFETY: All-zero is a valid `xa_state`; the helper fills it in.
        let mut xas: bindings::xa_state = unsafe { core::mem::zeroed() };
        // SAFETY: `xas` is valid for writes and `i_pages` is initialised in
        // a valid mapping (type invariant).
        unsafe {
            let pages = core::ptr::addr_of_mut!((*self.as_raw()).i_pages);
            bindings::xas_init_order(&mut xas, pages, index, 0)
        };
        xas
    }

    /// Returns a cursor at `index` into the DAX entries of the mapping, with
    /// the lock not held; `None` if the mapping is not a DAX mapping of a
    /// file.
    pub fn dax_pages(&self, index: usize) -> Option<DaxPages<'_>> {
        if !self.has_dax_entries() {
            return None;
        }
        // INVARIANT: The cursor is into the `i_pages` of a DAX file.
        Some(DaxPages {
            xas: self.dax_cursor(index),
            _mapping: PhantomData,
        })
    }

    /// Takes the lock of `i_pages` and returns a cursor at `index` into the
    /// DAX entries of the mapping; `None` if the mapping is not a DAX
    /// mapping of a file.
    pub fn lock_dax_pages(&self, index: usize) -> Option<DaxPagesGuard<'_>> {
        self.dax_pages(index).map(DaxPages::into_locked)
    }
}

/// A cursor into the DAX entries of a DAX file's `i_pages`, with the lock
/// not held.
///
/// # Invariants
///
/// `xas` was initialised for the `i_pages` of a DAX file's mapping, valid
/// for `'a`.
pub struct DaxPages<'a> {
    xas: bindings::xa_state,
    _mapping: PhantomData<&'a AddressSpace>,
}

impl<'a> DaxPages<'a> {
    /// Takes the lock of `i_pages`.
    pub fn into_locked(self) -> DaxPagesGuard<'a> {
        // SAFETY: By the type invariant the XArray is valid.
        unsafe { bindings::xa_lock_irq(self.xas.xa) };
        // INVARIANT: The lock was just taken.
        DaxPagesGuard {
            xas: self.xas,
            _mapping: PhantomData,
        }
    }
}

impl<'a> Deref for DaxPages<'a> {
    type Target = XaState<'a>;

    fn deref(&self) -> &XaState<'a> {
        // SAFETY: `XaState` is a transparent wrapper of `xa_state`, and by
        // the type invariant the cursor is into an XArray of value entries (a
        // DAX file's) that is valid for `'a`, where the DAX core may store;
        // it is borrowed with `self`.
        unsafe { &*core::ptr::from_ref(&self.xas).cast::<XaState<'a>>() }
    }
}

impl<'a> DerefMut for DaxPages<'a> {
    fn deref_mut(&mut self) -> &mut XaState<'a> {
        // SAFETY: As for `deref`, borrowed mutably with `self`.
        unsafe { XaState::from_raw(&mut self.xas) }
    }
}

/// A cursor into the DAX entries of a DAX file's `i_pages`, whose lock it
/// holds; dropping it drops the lock.
///
/// # Invariants
///
/// `xas` was initialised for the `i_pages` of a DAX file's mapping, and
/// its lock is held; the mapping stays valid while the lock is held.
#[must_use = "the lock of i_pages is dropped when the guard is dropped"]
pub struct DaxPagesGuard<'a> {
    xas: bindings::xa_state,
    _mapping: PhantomData<&'a AddressSpace>,
}

impl<'a> DaxPagesGuard<'a> {
    /// Drops the lock and sleeps on `queue` until a wake-up of `key`, as a
    /// shared waiter.  The mapping may be freed once the lock is dropped
    /// (eviction cycles the lock after removing the entries), so the guard
    /// is given up.
    pub fn sleep_unlocked(self, queue: &KeyedWaitQueue, key: WaitKey) {
        let xa = self.xas.xa;
        // The lock is dropped below, once: not by `Drop`.
        core::mem::forget(self);
        // SAFETY: The lock is held (type invariant), and nothing of the
        // mapping is used after it is dropped.
        queue.sleep(key, WaitMode::Shared, || unsafe {
            bindings::xa_unlock_irq(xa)
        });
    }
}

impl<'a> Deref for DaxPagesGuard<'a> {
    type Target = XaCursor<'a>;

    fn deref(&self) -> &XaCursor<'a> {
        // SAFETY: `XaCursor` is a transparent wrapper of `xa_state`, and by
        // the type invariant the cursor is into the `i_pages` of a DAX file
        // (value entries, where the DAX core may store), valid and locked
        // while the guard lives; it is borrowed with `self`.
        unsafe { &*core::ptr::from_ref(&self.xas).cast::<XaCursor<'a>>() }
    }
}

impl<'a> DerefMut for DaxPagesGuard<'a> {
    fn deref_mut(&mut self) -> &mut XaCursor<'a> {
        // SAFETY: As for `deref`, borrowed mutably with `self`.
        unsafe { XaCursor::from_raw(&mut self.xas) }
    }
}

impl Drop for DaxPagesGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held; it is dropped once.
        unsafe { bindings::xa_unlock_irq(self.xas.xa) };
    }
}

/// Where the DAX entry of a folio is (see [`DaxPagesGuard::lock_folio`]).
pub enum FolioDaxPages<'a> {
    /// The folio belongs to no DAX mapping.
    NotDax,
    /// The folio is memory of a device DAX instance, which keeps no entries.
    Device,
    /// The DAX entries of the folio's file, locked, the cursor at the
    /// folio's index.
    Locked(DaxPagesGuard<'a>),
}

/// Returns `folio->mapping` as an address space, or NULL for none, or for
/// one with flag bits (anonymous or movable memory).
///
/// # Safety
///
/// `folio` is a valid folio.
unsafe fn folio_mapping(folio: *const bindings::folio) -> *mut bindings::address_space {
    // SAFETY: The folio is valid; the helper reads the field once.
    let mapping = unsafe { bindings::folio_mapping_field(folio) };
    if mapping as usize & bindings::PAGE_MAPPING_FLAGS as usize != 0 {
        return core::ptr::null_mut();
    }
    mapping.cast()
}

impl<'a> DaxPagesGuard<'a> {
    /// Finds the mapping `folio` belongs to, and if it is a DAX file's,
    /// takes the lock of its `i_pages` and returns a cursor at the folio's
    /// index (the entry of the folio's first page).
    ///
    /// Only the lock keeps the mapping alive: eviction empties `i_pages` and
    /// then cycles its lock before the inode is freed.  The folio may leave
    /// the mapping until the lock is taken; the lookup is then repeated.
    ///
    /// # Safety
    ///
    /// `folio` is a valid folio for `'a` (the caller holds its pagemap, for
    /// instance; it need not hold a reference to it).
    pub unsafe fn lock_folio(folio: *const bindings::folio) -> FolioDaxPages<'a> {
        loop {
            // SAFETY: Any context may read under RCU.  An inode, and its
            // mapping, is freed after a grace period: the mapping found in the
            // folio stays valid until `rcu_read_unlock()`.
            unsafe { bindings::rcu_read_lock() };
            // SAFETY: The caller guarantees that the folio is valid.
            let raw = unsafe { folio_mapping(folio) };
            if raw.is_null() {
                // SAFETY: Taken above.
                unsafe { bindings::rcu_read_unlock() };
                return FolioDaxPages::NotDax;
            }
            // SAFETY: Valid, with its host, until `rcu_read_unlock()` (above).
            // The reference is not used after that but through the lock.
            let mapping = unsafe { AddressSpace::from_raw(raw) };
            let found = if !mapping.is_dax() {
                Some(FolioDaxPages::NotDax)
            } else if mapping.host_is_chrdev() {
                Some(FolioDaxPages::Device)
            } else {
                mapping.lock_dax_pages(0).and_then(|mut pages| {
                    // SAFETY: As above; under the lock of `i_pages` the folio
                    // stays in the mapping, or has left it.
                    if unsafe { folio_mapping(folio) } != raw {
                        return None;
                    }
                    // SAFETY: The folio is valid; the mapping is stable.
                    pages.set_index(unsafe { bindings::folio_index(folio) });
                    Some(FolioDaxPages::Locked(pages))
                })
            };
            // SAFETY: Taken above.  A returned guard keeps the mapping alive
            // with the lock of `i_pages` it holds.
            unsafe { bindings::rcu_read_unlock() };
            if let Some(found) = found {
                return found;
            }
        }
    }
}

impl<'a> DaxPages<'a> {
    /// Returns a cursor at `folio`'s index into the DAX entries of the file
    /// it belongs to, with the lock not held; `None` if that is not a DAX
    /// file (device DAX memory, for instance).
    ///
    /// # Safety
    ///
    /// `folio` is a valid folio whose mapping stays valid and does not
    /// change for `'a`: the caller holds the lock of its DAX entry, which it
    /// took with [`DaxPagesGuard::lock_folio`].
    pub unsafe fn of_folio(folio: *const bindings::folio) -> Option<Self> {
        // SAFETY: The caller guarantees that the folio is valid.
        let raw = unsafe { folio_mapping(folio) };
        if raw.is_null() {
            return None;
        }
        // SAFETY: The caller guarantees that the mapping stays valid.
        let mapping = unsafe { AddressSpace::from_raw(raw) };
        // SAFETY: The folio is valid and stays in the mapping.
        let index = unsafe { bindings::folio_index(folio) };
        mapping.dax_pages(index)
    }
}
