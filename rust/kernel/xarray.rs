// SPDX-License-Identifier: GPL-2.0

//! XArrays holding value entries, such as a DAX file's `i_pages`, worked on
//! with a cursor (`struct xa_state`) under the array's IRQ-safe lock.
//!
//! C header: [`include/linux/xarray.h`](srctree/include/linux/xarray.h)

use crate::{
    alloc::Flags,
    bindings,
    error::{Error, Result},
    prelude::*,
    types::Opaque,
};
use core::{ffi::c_void, marker::PhantomData, marker::PhantomPinned};

/// The largest value a value entry holds (`LONG_MAX`).
pub const MAX_VALUE: usize = usize::MAX >> 1;

/// An entry of an XArray, as a cursor sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XaEntry {
    /// Nothing is stored at the index.
    Empty,
    /// A value entry (`xa_mk_value()`).
    Value(usize),
    /// A pointer stored by C code (a page cache folio, for instance); only its
    /// identity is given.
    Pointer(*const c_void),
}

impl XaEntry {
    fn from_raw(ptr: *mut c_void) -> Self {
        let bits = ptr as usize;
        if ptr.is_null() {
            Self::Empty
        } else if bits & 1 == 1 {
            Self::Value(bits >> 1)
        } else {
            Self::Pointer(ptr.cast_const())
        }
    }
}

/// A mark of XArray entries (`XA_MARK_0` to `XA_MARK_2`); the page cache uses
/// them as the dirty and towrite tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum XaMark {
    /// `XA_MARK_0` (`PAGECACHE_TAG_DIRTY`).
    Mark0,
    /// `XA_MARK_1` (`PAGECACHE_TAG_WRITEBACK`).
    Mark1,
    /// `XA_MARK_2` (`PAGECACHE_TAG_TOWRITE`).
    Mark2,
}

impl XaMark {
    fn as_raw(self) -> bindings::xa_mark_t {
        match self {
            Self::Mark0 => 0,
            Self::Mark1 => 1,
            Self::Mark2 => 2,
        }
    }
}

/// An XArray whose lock is taken with interrupts disabled
/// (`XA_FLAGS_LOCK_IRQ`, as a mapping's `i_pages`).
///
/// An owned one is made with [`XArray::new`] and destroyed when dropped; a
/// borrowed one (`&XArray`) comes from [`XArray::from_raw`].
///
/// # Invariants
///
/// The inner `struct xarray` is initialised, with `XA_FLAGS_LOCK_IRQ`.
///
/// # Examples
///
/// ```
/// use kernel::xarray::{XArray, XaEntry, XaMark};
///
/// let xa = KBox::pin_init(XArray::new(), GFP_KERNEL)?;
///
/// // A value over the 512 indices from 1024 (order 9), marked.
/// xa.with_cursor(1024 + 100, 9, GFP_KERNEL, |xas| {
///     assert_eq!(xas.load(), XaEntry::Empty);
///     assert_eq!(xas.store(Some(42))?, XaEntry::Empty);
///     xas.set_mark(XaMark::Mark0);
///     Ok::<(), kernel::error::Error>(())
/// })??;
///
/// xa.with_cursor(1024 + 511, 0, GFP_KERNEL, |xas| {
///     assert_eq!(xas.load(), XaEntry::Value(42));
///     assert!(xas.get_mark(XaMark::Mark0));
///     assert!(!xas.get_mark(XaMark::Mark2));
/// })?;
/// xa.with_cursor(1024 + 512, 0, GFP_KERNEL, |xas| assert_eq!(xas.load(), XaEntry::Empty))?;
///
/// // Walk the marked entries from index 0.
/// let found = xa.with_cursor(0, 0, GFP_KERNEL, |xas| {
///     let first = xas.find_marked(usize::MAX, XaMark::Mark0).map(|e| (xas.index(), e));
///     (first, xas.find_marked(usize::MAX, XaMark::Mark0))
/// })?;
/// assert_eq!(found, (Some((1024, XaEntry::Value(42))), None));
///
/// assert_eq!(xa.with_cursor(0, 64, GFP_KERNEL, |_| ()), Err(EINVAL));
///
/// // Values above `MAX_VALUE` are refused; erasing gives back the old entry.
/// xa.with_cursor(1024, 9, GFP_KERNEL, |xas| {
///     assert_eq!(xas.store(Some(usize::MAX)), Err(EINVAL));
///     assert_eq!(xas.store(None), Ok(XaEntry::Value(42)));
/// })?;
/// # Ok::<(), kernel::error::Error>(())
/// ```
#[pin_data(PinnedDrop)]
#[repr(transparent)]
pub struct XArray {
    #[pin]
    xa: Opaque<bindings::xarray>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The XArray is protected by its own lock and may be used and dropped
// on any thread; it holds value entries, not objects tied to a thread.
unsafe impl Send for XArray {}

// SAFETY: All access goes through the XArray's lock (`with_cursor`).
unsafe impl Sync for XArray {}

impl XArray {
    /// Creates an empty XArray.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `xa` is valid for writes; `xa_init_flags()` initialises it.
            xa <- Opaque::ffi_init(|xa| unsafe {
                bindings::xa_init_flags(xa, bindings::XA_FLAGS_LOCK_IRQ)
            }),
            _pin: PhantomPinned,
        })
    }

    /// Creates a reference to an XArray from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must be an initialised XArray with `XA_FLAGS_LOCK_IRQ` (such as a
    /// mapping's `i_pages`) that stays initialised for `'a`, whose other users
    /// take its lock with interrupts disabled.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::xarray) -> &'a Self {
        // SAFETY: `XArray` is a transparent-layout wrapper of `struct xarray`
        // (the marker is zero-sized), valid for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct xarray` pointer.
    pub fn as_raw(&self) -> *mut bindings::xarray {
        self.xa.get()
    }

    /// Runs `f` with a cursor at `index` for entries of order `order` (spanning
    /// `2^order` indices), under the XArray's lock with interrupts disabled.
    /// When a store in `f` needed memory it could not get under the lock, the
    /// memory is allocated with `gfp` after unlocking and `f` runs again, so
    /// `f` must decide from what it finds (it may run more than once).
    ///
    /// Fails with `EINVAL` for an order beyond the index width (or above zero
    /// without `CONFIG_XARRAY_MULTI`), `ENOMEM` if the allocation fails, or
    /// with the error the cursor was left in.
    pub fn with_cursor<R>(
        &self,
        index: usize,
        order: u32,
        gfp: Flags,
        mut f: impl FnMut(&mut XaCursor<'_>) -> R,
    ) -> Result<R> {
        if order >= usize::BITS || (order > 0 && !cfg!(CONFIG_XARRAY_MULTI)) {
            return Err(EINVAL);
        }
        let mut xas = XaCursor {
            // SAFETY: All-zero is a valid `xa_state`; the helper fills it in.
            xas: unsafe { core::mem::zeroed() },
            _lock: PhantomData,
        };
        // SAFETY: `xas` is valid for writes, and by the type invariant the
        // XArray is initialised; the cursor only lives in this function.
        unsafe { bindings::xas_init_order(&mut xas.xas, self.as_raw(), index, order) };
        loop {
            // SAFETY: By the type invariant the lock is initialised.
            unsafe { bindings::xa_lock_irq(self.as_raw()) };
            // INVARIANT: The cursor is used by `f` under the lock just taken.
            let r = f(&mut xas);
            // SAFETY: The lock was taken above.
            unsafe { bindings::xa_unlock_irq(self.as_raw()) };
            // SAFETY: The cursor is valid; `xas_nomem()` frees what the cursor
            // allocated, or allocates what a store lacked, outside the lock.
            if !unsafe { bindings::xas_nomem(&mut xas.xas, gfp.as_raw()) } {
                // SAFETY: The cursor is valid.
                let err = unsafe { bindings::xas_error(&xas.xas) };
                return if err != 0 {
                    Err(Error::from_errno(err))
                } else {
                    Ok(r)
                };
            }
        }
    }
}

#[pinned_drop]
impl PinnedDrop for XArray {
    fn drop(self: core::pin::Pin<&mut Self>) {
        // SAFETY: By the type invariant the XArray is initialised, and an owned
        // one is dropped once; its entries are values, which need no freeing.
        unsafe { bindings::xa_destroy(self.as_raw()) };
    }
}

/// A cursor (`struct xa_state`) into an [`XArray`], used under the XArray's
/// lock, inside [`XArray::with_cursor`].
///
/// # Invariants
///
/// `xas` was initialised for the XArray, whose lock is held while the cursor
/// is reachable by the closure of `with_cursor`.
pub struct XaCursor<'a> {
    xas: bindings::xa_state,
    _lock: PhantomData<&'a XArray>,
}

impl XaCursor<'_> {
    /// Returns the index the cursor is at.
    pub fn index(&self) -> usize {
        self.xas.xa_index
    }

    /// Moves the cursor to `index`, keeping its order.
    pub fn set_index(&mut self, index: usize) {
        // SAFETY: By the type invariant the cursor is initialised.
        unsafe { bindings::xas_set(&mut self.xas, index) };
    }

    /// Returns the entry at the cursor's index.
    pub fn load(&mut self) -> XaEntry {
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held.
        XaEntry::from_raw(unsafe { bindings::xas_load(&mut self.xas) })
    }

    /// Stores the value `value` (or, for `None`, nothing) over the indices of
    /// the cursor's order, and returns what was there.  Fails with `EINVAL` for
    /// a value above [`MAX_VALUE`], and with `ENOMEM` when a node is needed:
    /// [`XArray::with_cursor`] then allocates it and runs its closure again.
    pub fn store(&mut self, value: Option<usize>) -> Result<XaEntry> {
        let entry: *mut c_void = match value {
            None => core::ptr::null_mut(),
            Some(v) if v > MAX_VALUE => return Err(EINVAL),
            // A value entry is the value shifted left by one, with bit 0 set
            // (`xa_mk_value()`); it is never dereferenced.
            Some(v) => ((v << 1) | 1) as *mut c_void,
        };
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held; `entry` is NULL or a value entry.
        let old = unsafe { bindings::xas_store(&mut self.xas, entry) };
        // SAFETY: As above.
        let err = unsafe { bindings::xas_error(&self.xas) };
        if err != 0 {
            return Err(Error::from_errno(err));
        }
        Ok(XaEntry::from_raw(old))
    }

    /// Returns whether the entry at the cursor has `mark`.
    pub fn get_mark(&self, mark: XaMark) -> bool {
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held.
        unsafe { bindings::xas_get_mark(&self.xas, mark.as_raw()) }
    }

    /// Sets `mark` on the entry at the cursor (which must have been loaded or
    /// stored).
    pub fn set_mark(&mut self, mark: XaMark) {
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held.
        unsafe { bindings::xas_set_mark(&self.xas, mark.as_raw()) };
    }

    /// Clears `mark` on the entry at the cursor.
    pub fn clear_mark(&mut self, mark: XaMark) {
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held.
        unsafe { bindings::xas_clear_mark(&self.xas, mark.as_raw()) };
    }

    /// Finds the next present entry from the cursor up to index `max` and moves
    /// the cursor to it; `None` if there is none.
    pub fn find(&mut self, max: usize) -> Option<XaEntry> {
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held.
        match XaEntry::from_raw(unsafe { bindings::xas_find(&mut self.xas, max) }) {
            XaEntry::Empty => None,
            e => Some(e),
        }
    }

    /// Finds the next entry with `mark` from the cursor up to index `max` and
    /// moves the cursor to it; `None` if there is none.
    pub fn find_marked(&mut self, max: usize, mark: XaMark) -> Option<XaEntry> {
        // SAFETY: By the type invariant the cursor is initialised and the lock
        // is held.
        let entry = unsafe { bindings::xas_find_marked(&mut self.xas, max, mark.as_raw()) };
        match XaEntry::from_raw(entry) {
            XaEntry::Empty => None,
            e => Some(e),
        }
    }
}
