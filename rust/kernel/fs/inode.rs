// SPDX-License-Identifier: GPL-2.0

//! Inodes (`struct inode`), as far as memory management code needs them:
//! the mapping of their pages and how to name them in a report.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::address_space::AddressSpace;
use crate::{bindings, ffi::c_ulong, str::CStr, types::Opaque};

/// An inode that the caller holds a reference to, or that is being
/// evicted by the caller.
///
/// # Invariants
///
/// The inner `struct inode`, its superblock and its `i_mapping` are valid
/// for as long as the `Inode` can be reached.
#[repr(transparent)]
pub struct Inode(Opaque<bindings::inode>);

// SAFETY: An inode is shared by every task that uses the file; its fields
// are protected by its own locks.
unsafe impl Sync for Inode {}

impl Inode {
    /// Creates a reference to an inode from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` is a valid `struct inode` that stays valid, with its superblock
    /// and mapping, for `'a`: the caller holds a reference to it, or evicts
    /// it.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::inode) -> &'a Self {
        // SAFETY: `Inode` is a transparent wrapper of the C struct, valid
        // for `'a` as the caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct inode` pointer.
    pub fn as_raw(&self) -> *mut bindings::inode {
        self.0.get()
    }

    /// Returns the mapping of the inode's pages (`i_mapping`).
    pub fn mapping(&self) -> &AddressSpace {
        // SAFETY: By the type invariant the inode and its mapping are valid
        // while `self` is; `i_mapping` is set when the inode is made and
        // does not change while the inode is in use.
        unsafe { AddressSpace::from_raw((*self.as_raw()).i_mapping) }
    }

    /// Returns the inode number.
    pub fn ino(&self) -> c_ulong {
        // SAFETY: By the type invariant the inode is valid; the number does
        // not change.
        unsafe { (*self.as_raw()).i_ino }
    }

    /// Returns the name of the filesystem's device, as reports name it
    /// (`i_sb->s_id`).
    pub fn sb_id(&self) -> &CStr {
        // SAFETY: By the type invariant the inode and its superblock are
        // valid while `self` is; `s_id` is a NUL-terminated string set at
        // mount time.
        unsafe { CStr::from_char_ptr((*(*self.as_raw()).i_sb).s_id.as_ptr()) }
    }
}
