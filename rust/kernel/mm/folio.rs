// SPDX-License-Identifier: GPL-2.0

//! Folios: physically contiguous groups of pages that memory management
//! handles as a unit.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/pagemap.h`](srctree/include/linux/pagemap.h)

use crate::{
    alloc::{AllocError, Flags},
    bindings,
    page::PAGE_SIZE,
    types::{ARef, AlwaysRefCounted, Opaque},
};
use core::{ops::Deref, ptr::NonNull};

/// The largest order [`Folio::alloc`] accepts (`MAX_PAGE_ORDER`).
pub const MAX_ORDER: u32 = bindings::MAX_PAGE_ORDER;

/// A folio: `2^order` physically contiguous pages with one reference count.
///
/// A `Folio` is never owned by value.  It is either borrowed (`&Folio`, valid
/// while its lender holds a reference) or owned through [`ARef<Folio>`], which
/// holds one reference and drops it with `folio_put()`.
///
/// # Invariants
///
/// The inner `struct folio` is valid and its reference count is above zero for
/// as long as the `Folio` can be reached.
#[repr(transparent)]
pub struct Folio(Opaque<bindings::folio>);

// SAFETY: Folio references may be taken and dropped on any thread: `folio_get()`
// and `folio_put()` are atomic and a folio is not tied to a thread.
unsafe impl Send for Folio {}

// SAFETY: Every method on `&Folio` calls C functions that may run concurrently
// on one folio (atomic reference count and flag operations, the folio lock).
unsafe impl Sync for Folio {}

// SAFETY: `folio_get()` and `folio_put()` keep the reference count; the folio is
// freed by `folio_put()` when the last reference goes.
unsafe impl AlwaysRefCounted for Folio {
    #[inline]
    fn inc_ref(&self) {
        // SAFETY: By the type invariant the reference count is above zero, so
        // taking one more reference is allowed.
        unsafe { bindings::folio_get(self.as_raw()) };
    }

    #[inline]
    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns a reference to the folio and gives it up here.
        unsafe { bindings::folio_put(obj.cast().as_ptr()) };
    }
}

impl Folio {
    /// Allocates a folio of `2^order` pages.
    ///
    /// Fails with [`AllocError`] when memory is short or `order` is above
    /// [`MAX_ORDER`] (which the page allocator would warn about).
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::folio::{Folio, MAX_ORDER};
    /// use kernel::page::PAGE_SIZE;
    ///
    /// let folio = Folio::alloc(GFP_KERNEL, 2)?;
    /// assert_eq!(folio.order(), 2);
    /// assert_eq!(folio.nr_pages(), 4);
    /// assert_eq!(folio.size(), 4 * PAGE_SIZE);
    /// assert_eq!(folio.ref_count(), 1);
    /// assert!(!folio.is_zone_device());
    ///
    /// // Each `ARef` owns one reference.
    /// let other = folio.clone();
    /// assert_eq!(folio.ref_count(), 2);
    /// drop(other);
    /// assert_eq!(folio.ref_count(), 1);
    ///
    /// assert!(Folio::alloc(GFP_KERNEL, MAX_ORDER + 1).is_err());
    /// # Ok::<(), kernel::alloc::AllocError>(())
    /// ```
    pub fn alloc(flags: Flags, order: u32) -> Result<ARef<Self>, AllocError> {
        if order > MAX_ORDER {
            return Err(AllocError);
        }
        // SAFETY: `folio_alloc()` accepts any flags and an order up to
        // `MAX_PAGE_ORDER`; it returns NULL when it cannot allocate.
        let ptr = unsafe { bindings::folio_alloc(flags.as_raw(), order) };
        let ptr = NonNull::new(ptr.cast::<Self>()).ok_or(AllocError)?;
        // SAFETY: A new folio comes with one reference, which the `ARef` takes over.
        Ok(unsafe { ARef::from_raw(ptr) })
    }

    /// Takes a reference to the folio that holds page frame `pfn`
    /// (with `CONFIG_ZONE_DEVICE`, which the DAX code that needs it has).
    ///
    /// Returns `None` unless `pfn` is online memory or `ZONE_DEVICE` memory
    /// (pmem, DAX) whose pagemap is live, and `None` if the folio is free (its
    /// reference count is zero).  A folio that is split or merged while the
    /// reference is taken is looked up again, so the folio returned is the one
    /// that holds `pfn`.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::folio::Folio;
    ///
    /// let folio = Folio::alloc(GFP_KERNEL, 1)?;
    /// # #[cfg(CONFIG_ZONE_DEVICE)]
    /// # {
    /// let again = Folio::try_get_from_pfn(folio.pfn() + 1).expect("an allocated folio");
    /// assert!(core::ptr::eq(&*folio, &*again));
    /// assert_eq!(folio.ref_count(), 2);
    ///
    /// // No memory map entry for the highest page frame number.
    /// assert!(Folio::try_get_from_pfn(usize::MAX >> kernel::page::PAGE_SHIFT).is_none());
    /// # }
    /// # Ok::<(), kernel::alloc::AllocError>(())
    /// ```
    #[cfg(CONFIG_ZONE_DEVICE)]
    pub fn try_get_from_pfn(pfn: usize) -> Option<ARef<Self>> {
        // A `pfn_valid()` pfn is not enough: the memory map of offline memory
        // may be uninitialised (poisoned with CONFIG_DEBUG_VM).  Online memory
        // has an initialised `struct page`; so does `ZONE_DEVICE` memory while
        // its pagemap is live, which the pagemap reference keeps it.
        let mut pgmap = core::ptr::null_mut();
        // SAFETY: `pfn_to_online_page()` accepts any value.
        let mut page = unsafe { bindings::pfn_to_online_page(pfn) };
        if page.is_null() {
            // SAFETY: `get_dev_pagemap()` accepts any value; with no pagemap to
            // reuse it looks the pfn up and returns a referenced pagemap or NULL.
            pgmap = unsafe { bindings::get_dev_pagemap(pfn, core::ptr::null_mut()) };
            if pgmap.is_null() {
                return None;
            }
            // SAFETY: The pagemap covering `pfn` is live, so `pfn` has a
            // `struct page`.
            page = unsafe { bindings::pfn_to_page(pfn) };
        }
        let folio = Self::try_get_page_folio(page);
        if !pgmap.is_null() {
            // SAFETY: `pgmap` was referenced by `get_dev_pagemap()` above; the
            // folio reference, if taken, keeps the memory from going away.
            unsafe { bindings::put_dev_pagemap(pgmap) };
        }
        folio
    }

    /// Takes a reference to the folio `page` belongs to, unless it is free.
    #[cfg(CONFIG_ZONE_DEVICE)]
    fn try_get_page_folio(page: *mut bindings::page) -> Option<ARef<Self>> {
        loop {
            // SAFETY: The caller's lookup made sure `page` is an initialised
            // `struct page` for the duration of this call; `page_folio()` reads
            // its compound head.
            let folio = unsafe { bindings::page_folio(page) };
            // SAFETY: `folio` is the folio `page` belonged to a moment ago; a
            // speculative reference on it is what `folio_try_get()` is for.
            if !unsafe { bindings::folio_try_get(folio) } {
                return None;
            }
            // SAFETY: As above.
            if unsafe { bindings::page_folio(page) } == folio {
                // SAFETY: `folio_try_get()` took the reference the `ARef` now
                // owns, and `folio` is not NULL: it was just referenced.
                return Some(unsafe { ARef::from_raw(NonNull::new_unchecked(folio.cast())) });
            }
            // The folio was split or freed and reused meanwhile: drop the
            // reference and look again.
            // SAFETY: The reference was taken by `folio_try_get()` above.
            unsafe { bindings::folio_put(folio) };
        }
    }

    /// Creates a reference to a folio from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `struct folio` whose reference count stays
    /// above zero for the whole of `'a`, for instance because the caller holds a
    /// reference for that long.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::folio) -> &'a Self {
        // SAFETY: `Folio` is a transparent wrapper of `struct folio`, and the caller
        // keeps the folio alive for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct folio` pointer.
    #[inline]
    pub fn as_raw(&self) -> *mut bindings::folio {
        self.0.get()
    }

    /// Returns the order of the folio: it spans `2^order` pages.
    #[inline]
    pub fn order(&self) -> u32 {
        // SAFETY: By the type invariant the folio is valid.
        unsafe { bindings::folio_order(self.as_raw()) }
    }

    /// Returns the number of pages in the folio.
    #[inline]
    pub fn nr_pages(&self) -> usize {
        1 << self.order()
    }

    /// Returns the size of the folio in bytes.
    #[inline]
    pub fn size(&self) -> usize {
        PAGE_SIZE << self.order()
    }

    /// Returns the page frame number of the folio's first page.
    #[inline]
    pub fn pfn(&self) -> usize {
        // SAFETY: By the type invariant the folio is valid.
        unsafe { bindings::folio_pfn(self.as_raw()) }
    }

    /// Returns the folio's reference count (a snapshot: it may change at once).
    #[inline]
    pub fn ref_count(&self) -> i32 {
        // SAFETY: By the type invariant the folio is valid.
        unsafe { bindings::folio_ref_count(self.as_raw()) }
    }

    /// Returns whether the folio is `ZONE_DEVICE` memory (device, pmem, DAX).
    #[inline]
    pub fn is_zone_device(&self) -> bool {
        // SAFETY: By the type invariant the folio is valid.
        unsafe { bindings::folio_is_zone_device(self.as_raw()) }
    }

    /// Returns whether the folio is FS DAX memory: persistent memory that a
    /// DAX file system maps (`MEMORY_DEVICE_FS_DAX`).
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::folio::{Folio, FolioOwner};
    ///
    /// let folio = Folio::alloc(GFP_KERNEL, 0)?;
    /// assert!(!folio.is_fsdax());
    /// assert!(folio.is_longterm_pinnable());
    /// // A new folio belongs to no one.
    /// assert_eq!(folio.owner(), FolioOwner::None);
    /// # Ok::<(), kernel::alloc::AllocError>(())
    /// ```
    #[inline]
    pub fn is_fsdax(&self) -> bool {
        // SAFETY: By the type invariant the folio is valid; a `ZONE_DEVICE`
        // folio's pagemap outlives its references.
        unsafe { bindings::folio_is_fsdax(self.as_raw()) }
    }

    /// Returns whether the folio may be pinned for a long time
    /// (`FOLL_LONGTERM`): not CMA, device-coherent, movable-zone or FS DAX
    /// memory (the last because truncate waits for FS DAX pages to be idle).
    #[inline]
    pub fn is_longterm_pinnable(&self) -> bool {
        // SAFETY: By the type invariant the folio is valid; a `ZONE_DEVICE`
        // folio's pagemap outlives its references.
        unsafe { bindings::folio_is_longterm_pinnable(self.as_raw()) }
    }

    /// Returns whom the folio belongs to, as `folio->mapping` (and for FS DAX
    /// the share count) says: a snapshot, stable while the folio is locked
    /// (for FS DAX, while its DAX entry is).
    pub fn owner(&self) -> FolioOwner {
        // SAFETY: By the type invariant the folio is valid; the helper reads the
        // field once.
        let mapping = unsafe { bindings::folio_mapping_field(self.as_raw()) };
        let bits = mapping as usize;
        if mapping.is_null() {
            if !self.is_fsdax() {
                return FolioOwner::None;
            }
            // SAFETY: As above; FS DAX keeps the share count of a folio whose
            // blocks several files share in place of the index, and an
            // unowned FS DAX folio has a count of 0.
            match unsafe { bindings::folio_dax_share(self.as_raw()) } {
                0 => FolioOwner::None,
                share => FolioOwner::DaxShared { share },
            }
        } else if bits & (bindings::PAGE_MAPPING_FLAGS as usize) != 0 {
            FolioOwner::Anon
        } else {
            FolioOwner::File {
                mapping: mapping.cast_const().cast(),
                // SAFETY: As above.
                index: unsafe { bindings::folio_index(self.as_raw()) },
            }
        }
    }

    /// Returns whether the folio is locked (a snapshot: it may change at once).
    #[inline]
    pub fn is_locked(&self) -> bool {
        // SAFETY: By the type invariant the folio is valid.
        unsafe { bindings::folio_test_locked(self.as_raw()) }
    }

    /// Locks the folio, sleeping until it is available.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::folio::Folio;
    ///
    /// let folio = Folio::alloc(GFP_KERNEL, 0)?;
    /// {
    ///     let locked = folio.lock();
    ///     assert!(locked.is_locked());
    ///     assert!(folio.try_lock().is_none());
    /// }
    /// assert!(!folio.is_locked());
    /// assert!(folio.try_lock().is_some());
    /// # Ok::<(), kernel::alloc::AllocError>(())
    /// ```
    #[inline]
    pub fn lock(&self) -> FolioLockGuard<'_> {
        // SAFETY: By the type invariant the folio is valid.  `folio_lock()` may
        // sleep: as with `Mutex::lock()`, calling it in atomic context is a bug
        // that `might_sleep()` reports, not a memory safety issue.
        unsafe { bindings::folio_lock(self.as_raw()) };
        // INVARIANT: The folio lock was just taken.
        FolioLockGuard { folio: self }
    }

    /// Locks the folio if it is not locked already.
    #[inline]
    pub fn try_lock(&self) -> Option<FolioLockGuard<'_>> {
        // SAFETY: By the type invariant the folio is valid.
        if unsafe { bindings::folio_trylock(self.as_raw()) } {
            // INVARIANT: The folio lock was just taken.
            Some(FolioLockGuard { folio: self })
        } else {
            None
        }
    }
}

/// The folio lock, held; released when dropped.
///
/// # Invariants
///
/// The guard holds the lock of `folio`.
pub struct FolioLockGuard<'a> {
    folio: &'a Folio,
}

impl Deref for FolioLockGuard<'_> {
    type Target = Folio;

    #[inline]
    fn deref(&self) -> &Folio {
        self.folio
    }
}

impl Drop for FolioLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held, and it is released once.
        unsafe { bindings::folio_unlock(self.folio.as_raw()) };
    }
}

/// Whom a folio belongs to (see [`Folio::owner`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FolioOwner {
    /// No one: free, or not in a mapping.
    None,
    /// A file: its mapping (an identity only, never dereferenced) and the
    /// folio's index in it, in pages.
    File {
        /// The file's `struct address_space`.
        mapping: *const bindings::address_space,
        /// The index of the folio's first page in the file.
        index: usize,
    },
    /// Anonymous memory (or KSM, or a movable driver page).
    Anon,
    /// FS DAX memory shared by several files (reflink): `share` file offsets
    /// map it.
    DaxShared {
        /// The number of file offsets mapping the folio.
        share: usize,
    },
}
