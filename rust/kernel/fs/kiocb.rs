// SPDX-License-Identifier: GPL-2.0

//! I/O control blocks (`struct kiocb`): a read or a write of an open file,
//! at a position, with the flags it was issued with.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::address_space::AddressSpace;
use crate::bindings;
use core::{marker::PhantomData, ptr::NonNull};

/// A borrowed I/O control block, of a read or write of an open file that
/// the file's `->read_iter()` or `->write_iter()` is handling; the file
/// stays open for `'a`.
///
/// # Invariants
///
/// `raw` points to a valid `struct kiocb` whose file is open, with its
/// mapping and inode, for `'a`; nothing else uses the control block
/// meanwhile.
///
/// # Examples
///
/// ```
/// use kernel::{bindings, fs::kiocb::Kiocb};
///
/// let mut raw = bindings::kiocb {
///     ki_pos: 0x1000,
///     ki_flags: bindings::IOCB_NOWAIT,
///     ..Default::default()
/// };
/// // SAFETY: Only the position and the flags are looked at here; nothing
/// // else uses `raw` while `iocb` lives.
/// let mut iocb = unsafe { Kiocb::from_raw(&mut raw) };
/// assert_eq!(iocb.pos(), 0x1000);
/// assert!(iocb.is_nowait());
/// iocb.set_pos(0x1800);
/// assert_eq!(iocb.pos(), 0x1800);
/// ```
pub struct Kiocb<'a> {
    raw: NonNull<bindings::kiocb>,
    _file: PhantomData<&'a mut bindings::kiocb>,
}

impl<'a> Kiocb<'a> {
    /// Borrows the control block at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` points to a valid `struct kiocb` whose file is open for `'a`,
    /// and which nothing else uses during `'a`.
    #[inline]
    pub unsafe fn from_raw(ptr: *mut bindings::kiocb) -> Self {
        // INVARIANT: As the caller guarantees.
        Self {
            // SAFETY: The caller gives a valid control block.
            raw: unsafe { NonNull::new_unchecked(ptr) },
            _file: PhantomData,
        }
    }

    /// Returns the file position of the I/O (`ki_pos`).
    #[inline]
    pub fn pos(&self) -> i64 {
        // SAFETY: The control block is valid and only `self` uses it (type
        // invariant).
        unsafe { (*self.raw.as_ptr()).ki_pos }
    }

    /// Sets the file position, to where the I/O got.
    #[inline]
    pub fn set_pos(&mut self, pos: i64) {
        // SAFETY: As for `pos()`.
        unsafe { (*self.raw.as_ptr()).ki_pos = pos };
    }

    /// Returns whether the I/O must not sleep for locks or for blocks to be
    /// allocated (`IOCB_NOWAIT`): it fails with `EAGAIN` instead.
    #[inline]
    pub fn is_nowait(&self) -> bool {
        // SAFETY: As for `pos()`.
        unsafe { (*self.raw.as_ptr()).ki_flags & bindings::IOCB_NOWAIT != 0 }
    }

    /// Returns the mapping of the file's pages (`ki_filp->f_mapping`), valid
    /// while the file is open.
    #[inline]
    pub fn mapping(&self) -> &'a AddressSpace {
        // SAFETY: The file is open for `'a` (type invariant), and holds its
        // mapping and inode; `f_mapping` does not change while the file does
        // I/O.
        unsafe { AddressSpace::from_raw((*(*self.raw.as_ptr()).ki_filp).f_mapping) }
    }
}
