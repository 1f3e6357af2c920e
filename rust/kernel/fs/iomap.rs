// SPDX-License-Identifier: GPL-2.0

//! The mapping of a file range to storage that a filesystem reports to
//! iomap (`struct iomap`), and the iteration over a range that asks for it
//! (`struct iomap_iter`).
//!
//! Only borrowed: iomap's iteration owns both, calls the filesystem's
//! `->iomap_begin()` to fill the mapping and then the operation's actor,
//! which is given a borrow of the iteration for the one mapping.
//!
//! C header: [`include/linux/iomap.h`](srctree/include/linux/iomap.h)

use crate::{bindings, types::Opaque};

/// A file range's mapping to storage (`struct iomap`).
///
/// # Invariants
///
/// The inner `struct iomap` is valid and does not change for as long as the
/// `Iomap` can be reached (the filesystem filled it in `->iomap_begin()`,
/// and only the iteration that borrowed it out changes it, once the borrow
/// ends).
#[repr(transparent)]
pub struct Iomap(Opaque<bindings::iomap>);

impl Iomap {
    #[inline]
    fn flags(&self) -> u32 {
        // SAFETY: By the type invariant the mapping is valid and stable.
        u32::from(unsafe { (*self.0.get()).flags })
    }

    /// Returns whether other files may map the blocks too
    /// (`IOMAP_F_SHARED`): a write must not go to them in place.
    #[inline]
    pub fn is_shared(&self) -> bool {
        self.flags() & bindings::IOMAP_F_SHARED != 0
    }

    /// Returns whether the filesystem has metadata of the range that is not
    /// yet on stable storage (`IOMAP_F_DIRTY`): a synchronous fault must
    /// commit it before it maps the blocks writable.
    #[inline]
    pub fn has_dirty_metadata(&self) -> bool {
        self.flags() & bindings::IOMAP_F_DIRTY != 0
    }
}

/// An iteration of iomap over a file range, with the mapping of the part
/// the actor is given (`struct iomap_iter`).
///
/// # Invariants
///
/// The inner `struct iomap_iter` is valid, and its flags and mapping do not
/// change, for as long as the `IomapIter` can be reached: iomap hands it to
/// the actor after `->iomap_begin()` and changes it again only once the
/// actor returned.
///
/// # Examples
///
/// ```
/// use kernel::{bindings, fs::iomap::IomapIter};
///
/// // SAFETY: All-zero is a valid `iomap_iter` (no inode, no mapping).
/// let mut raw: bindings::iomap_iter = unsafe { core::mem::zeroed() };
/// raw.flags = bindings::IOMAP_WRITE | bindings::IOMAP_FAULT;
/// raw.iomap.flags = bindings::IOMAP_F_SHARED as u16;
/// // SAFETY: `raw` is valid and not changed while `iter` is used.
/// let iter = unsafe { IomapIter::from_raw(&raw) };
/// assert!(iter.is_write());
/// assert!(iter.iomap().is_shared());
/// assert!(!iter.iomap().has_dirty_metadata());
///
/// raw.flags = bindings::IOMAP_FAULT;
/// raw.iomap.flags = bindings::IOMAP_F_DIRTY as u16;
/// // SAFETY: As above.
/// let iter = unsafe { IomapIter::from_raw(&raw) };
/// assert!(!iter.is_write());
/// assert!(!iter.iomap().is_shared());
/// assert!(iter.iomap().has_dirty_metadata());
/// ```
#[repr(transparent)]
pub struct IomapIter(Opaque<bindings::iomap_iter>);

impl IomapIter {
    /// Creates a reference to an iteration from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `struct iomap_iter` whose flags and mapping do not
    /// change for `'a` (the actor of an iteration borrows it).
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *const bindings::iomap_iter) -> &'a Self {
        // SAFETY: `IomapIter` is a transparent wrapper of the C struct,
        // valid and stable for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns whether the operation writes (`IOMAP_WRITE`): blocks are
    /// allocated for holes of the range.
    #[inline]
    pub fn is_write(&self) -> bool {
        // SAFETY: By the type invariant the iteration is valid and its flags
        // stable.
        unsafe { (*self.0.get()).flags & bindings::IOMAP_WRITE != 0 }
    }

    /// Returns the mapping of the range being handled.
    #[inline]
    pub fn iomap(&self) -> &Iomap {
        // SAFETY: By the type invariant the iteration is valid and its
        // mapping stable while `self` is borrowed; `Iomap` is a transparent
        // wrapper of `struct iomap`.
        unsafe { &*core::ptr::addr_of!((*self.0.get()).iomap).cast::<Iomap>() }
    }
}
