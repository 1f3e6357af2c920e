// SPDX-License-Identifier: GPL-2.0

//! I/O vector iterators (`struct iov_iter`): the buffers of a read or a
//! write, in user or kernel memory, with a position that copies advance.
//!
//! An iterator is only borrowed here, from the C code that set it up for a
//! read or a write (the `->read_iter()` and `->write_iter()` of a file), for
//! the time it lends it.  Its buffers are reached only through the copy
//! functions of C, which check user addresses and stop at a fault, so
//! nothing here hands out a Rust reference to them.
//!
//! C header: [`include/linux/uio.h`](srctree/include/linux/uio.h)

use crate::{bindings, types::Opaque};

/// A borrowed I/O vector iterator (`struct iov_iter`).
///
/// It is the source of a write ([`IovIter::is_source`]), whose buffers are
/// copied from, or the destination of a read, whose buffers are copied to.
///
/// # Invariants
///
/// The inner `struct iov_iter` is valid, and its buffers are valid for
/// the copies the iterator's type and direction allow (user memory is
/// checked by the copies themselves), for as long as the `&mut IovIter`
/// exists; nothing else uses it meanwhile.
///
/// # Examples
///
/// An iterator over a kernel buffer, the destination of a read:
///
/// ```
/// use kernel::{bindings, iov::IovIter};
///
/// let mut buf = [0xffu8; 64];
/// let kvec = bindings::kvec {
///     iov_base: buf.as_mut_ptr().cast(),
///     iov_len: buf.len(),
/// };
/// let mut raw = bindings::iov_iter::default();
/// // SAFETY: `kvec` describes `buf`, and both outlive `raw`.
/// unsafe { bindings::iov_iter_kvec(&mut raw, bindings::ITER_DEST, &kvec, 1, 64) };
/// // SAFETY: `raw` was just set up and is used by nothing else while `iter`
/// // is borrowed.
/// let iter = unsafe { IovIter::from_raw(&mut raw) };
/// assert!(!iter.is_source());
/// assert_eq!(iter.count(), 64);
/// assert_eq!(iter.zero(16), 16);
/// assert_eq!(iter.count(), 48);
/// // Only what is left is zeroed.
/// assert_eq!(iter.zero(100), 48);
/// assert_eq!((iter.count(), iter.zero(1)), (0, 0));
/// assert!(buf.iter().all(|&b| b == 0));
///
/// // The source of a write is not written to.
/// let data = [0x5au8; 8];
/// let kvec = bindings::kvec {
///     iov_base: data.as_ptr().cast_mut().cast(),
///     iov_len: data.len(),
/// };
/// // SAFETY: As above; the iterator only reads `data`.
/// unsafe { bindings::iov_iter_kvec(&mut raw, bindings::ITER_SOURCE, &kvec, 1, 8) };
/// // SAFETY: As above.
/// let iter = unsafe { IovIter::from_raw(&mut raw) };
/// assert!(iter.is_source());
/// assert_eq!((iter.zero(8), iter.count()), (0, 8));
/// assert_eq!(data, [0x5a; 8]);
/// ```
#[repr(transparent)]
pub struct IovIter(Opaque<bindings::iov_iter>);

impl IovIter {
    /// Borrows the iterator at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to a valid `struct iov_iter` whose buffers are valid for
    /// the copies it allows, for `'a`, and which nothing else uses during
    /// `'a`.
    #[inline]
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::iov_iter) -> &'a mut Self {
        // SAFETY: `IovIter` is a transparent wrapper of the C struct, valid
        // and not used elsewhere for `'a`, as the caller guarantees.
        unsafe { &mut *ptr.cast::<Self>() }
    }

    /// Returns the raw `struct iov_iter` pointer.
    #[inline]
    pub fn as_raw(&mut self) -> *mut bindings::iov_iter {
        self.0.get()
    }

    /// Returns the number of bytes left (`iov_iter_count()`).
    #[inline]
    pub fn count(&self) -> usize {
        // SAFETY: The iterator is valid (type invariant), and only this
        // borrow changes it.  `count` sits beside the segment pointer in
        // every type of iterator (C overlays it with the `iovec` of a
        // single user buffer, whose length is the same field).
        unsafe {
            (*self.0.get())
                .__bindgen_anon_1
                .__bindgen_anon_1
                .as_ref()
                .count
        }
    }

    /// Returns whether the iterator is the source of a write, whose buffers
    /// are copied from (`iov_iter_rw()` is `WRITE`), rather than the
    /// destination of a read.
    #[inline]
    pub fn is_source(&self) -> bool {
        // SAFETY: As for `count()`.
        unsafe { (*self.0.get()).data_source }
    }

    /// Zeroes up to `len` bytes of the destination's buffers from its
    /// position and advances past them (`iov_iter_zero()`); returns how many
    /// were zeroed, fewer than asked at the end of the iterator or at an
    /// address that faults, 0 for a source.
    #[inline]
    pub fn zero(&mut self, len: usize) -> usize {
        // Unlike the copies, `iov_iter_zero()` does not check the direction:
        // a source's buffers may be memory that must not change.
        if self.is_source() {
            return 0;
        }
        // SAFETY: The iterator is valid and, as a destination, its buffers
        // are valid for copies to them (type invariant); `iov_iter_zero()`
        // checks user addresses and stops at a fault.
        unsafe { bindings::iov_iter_zero(len, self.as_raw()) }
    }
}
