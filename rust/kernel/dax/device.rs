// SPDX-License-Identifier: GPL-2.0

//! DAX devices (`struct dax_device`) and direct access to their memory.
//!
//! A DAX device spans a whole disk, while its users own only part of it: a
//! file system owns the extents its allocator gave out, a partition its
//! sectors.  Direct access is therefore only offered on a [`DaxRange`], a
//! range of page offsets its creator owns, and every offset handed to the
//! driver is checked against that range first: the drivers themselves do
//! not bound them (pmem computes `virt_addr + offset` for any offset).
//!
//! C header: [`include/linux/dax.h`](srctree/include/linux/dax.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    error::{code::*, from_err_ptr, to_result, Error, Result},
    mm::virt::DevmapPfn,
    page::{PAGE_SHIFT, PAGE_SIZE},
    str::CStr,
    types::Opaque,
};
use core::{ffi::c_void, marker::PhantomData, ops::Deref, ptr::NonNull};

/// A DAX device (`struct dax_device`): persistent memory that a file system
/// or a device-DAX character device maps directly.
///
/// Only borrowed (`&DaxDevice`): from [`DaxDevice::from_raw`] with a reference
/// the C code holds (an iomap's `dax_dev`), or from a [`BdevDax`].  Its memory
/// is reached through a [`DaxRange`].
///
/// # Invariants
///
/// The inner `struct dax_device` is valid (its inode is referenced) for as
/// long as the `&DaxDevice` exists.
#[repr(transparent)]
pub struct DaxDevice(Opaque<bindings::dax_device>);

// SAFETY: The DAX device may be used from any thread: its state is a flag word
// read under SRCU, and its operations may run concurrently.
unsafe impl Sync for DaxDevice {}

// SAFETY: As for `Sync`; a `DaxDevice` is not tied to a thread.
unsafe impl Send for DaxDevice {}

/// How [`DaxRangeGuard::direct_access`] is to map the memory
/// (`enum dax_access_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMode {
    /// Plain access: fails with `EHWPOISON` over known-poisoned memory.
    Access,
    /// Access for [`DirectAccess::recovery_write`], which may clear poison.
    RecoveryWrite,
}

impl DaxDevice {
    /// Creates a reference to a DAX device from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must be a DAX device the caller holds a reference to for `'a`.
    pub unsafe fn from_raw<'a>(ptr: *mut bindings::dax_device) -> &'a Self {
        // SAFETY: `DaxDevice` is a transparent wrapper, valid for `'a` as the
        // caller guarantees.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns the raw `struct dax_device` pointer.
    pub fn as_raw(&self) -> *mut bindings::dax_device {
        self.0.get()
    }

    /// Returns the holder (a file system's or device mapper's cookie) that
    /// claimed the device, or NULL.  The pointer is an identity only.
    ///
    /// Not every user claims the device: in 6.12 XFS does, ext4 and ext2 do
    /// not, so a NULL holder does not mean that nothing uses the device.
    pub fn holder(&self) -> *const c_void {
        // SAFETY: By the type invariant the device is valid; `dax_holder()`
        // reads one field.
        unsafe { bindings::dax_holder(self.as_raw()) }.cast_const()
    }

    /// Enters a DAX read-side section (`dax_read_lock()`), in which the device
    /// is not killed.
    pub fn read_lock(&self) -> DaxReadGuard<'_> {
        // SAFETY: `dax_read_lock()` may be called in any sleepable context.
        let id = unsafe { bindings::dax_read_lock() };
        // INVARIANT: The read-side section was just entered with `id`, by the
        // current task, which the guard cannot leave.
        DaxReadGuard {
            dax: self,
            id,
            _not_send: PhantomData,
        }
    }
}

/// A DAX read-side section (SRCU); left when dropped.
///
/// It is neither `Send` nor `Sync`: the section belongs to the task that
/// entered it (lockdep tracks SRCU readers per task).
///
/// # Invariants
///
/// `id` is the index `dax_read_lock()` returned to the current task; the
/// section is left once, by that task.
#[must_use = "the read-side section ends when the guard is dropped"]
pub struct DaxReadGuard<'a> {
    dax: &'a DaxDevice,
    id: i32,
    _not_send: PhantomData<*mut ()>,
}

impl DaxReadGuard<'_> {
    /// Returns whether the device is alive (not killed by the removal of its
    /// driver or by a failure).
    pub fn is_alive(&self) -> bool {
        // SAFETY: By the type invariant the DAX read lock is held, which
        // `dax_alive()` asserts.
        unsafe { bindings::dax_alive(self.dax.as_raw()) }
    }
}

impl Drop for DaxReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the section was entered with `id` by
        // this task and is left once, here.
        unsafe { bindings::dax_read_unlock(self.id) };
    }
}

/// A range of page offsets of a DAX device that its creator may access
/// directly.  Offsets given to its methods are relative to the range.
///
/// # Invariants
///
/// - `dax` has DAX operations (it was registered for a disk by its driver,
///   unlike a device-DAX character device's `dax_device`, which has none).
/// - The pages `start..start + nr_pages` of `dax` are backed by the device
///   and belong to the creator of the range for `'a`: nobody else writes
///   them through this device, and the driver maps each of them.
/// - `start + nr_pages` does not overflow.
pub struct DaxRange<'a> {
    dax: &'a DaxDevice,
    start: usize,
    nr_pages: usize,
}

impl<'a> DaxRange<'a> {
    /// Creates the range of `nr_pages` pages from page offset `start` of
    /// `dax`; `EINVAL` if the end overflows.
    ///
    /// # Safety
    ///
    /// `dax` must have DAX operations (a device its driver registered for a
    /// disk, as [`BdevDax`] finds; not a device-DAX character device's), and
    /// the pages must lie inside the device and be the caller's to access
    /// for `'a` (an extent its file system allocated, a partition it holds).
    pub unsafe fn new(dax: &'a DaxDevice, start: usize, nr_pages: usize) -> Result<Self> {
        start.checked_add(nr_pages).ok_or(EINVAL)?;
        // INVARIANT: The caller guarantees the operations and the ownership;
        // the end was checked above.
        Ok(Self {
            dax,
            start,
            nr_pages,
        })
    }

    /// Returns the device.
    pub fn device(&self) -> &'a DaxDevice {
        self.dax
    }

    /// Returns the page offset of the range in the device.
    pub fn start(&self) -> usize {
        self.start
    }

    /// Returns the number of pages in the range.
    pub fn nr_pages(&self) -> usize {
        self.nr_pages
    }

    /// Enters a DAX read-side section for access to the range.
    pub fn read_lock(&self) -> DaxRangeGuard<'_> {
        DaxRangeGuard {
            range: self,
            lock: self.dax.read_lock(),
        }
    }

    /// Returns the device's page offset of page `pgoff` of the range, and how
    /// many pages of the range start there; `EINVAL` outside the range.
    fn offset(&self, pgoff: usize) -> Result<(usize, usize)> {
        if pgoff >= self.nr_pages {
            return Err(EINVAL);
        }
        // By the type invariant `start + nr_pages` does not overflow.
        Ok((self.start + pgoff, self.nr_pages - pgoff))
    }
}

/// A [`DaxRange`] in a DAX read-side section, in which its memory may be
/// accessed; the section is left when dropped.
#[must_use = "the read-side section ends when the guard is dropped"]
pub struct DaxRangeGuard<'a> {
    range: &'a DaxRange<'a>,
    lock: DaxReadGuard<'a>,
}

impl DaxRangeGuard<'_> {
    /// Returns whether the device is alive.
    pub fn is_alive(&self) -> bool {
        self.lock.is_alive()
    }

    /// Maps up to `nr_pages` pages from page `pgoff` of the range for direct
    /// access (`dax_direct_access()`): returns how many contiguous pages from
    /// `pgoff` are mapped (at least one, never past the range), their kernel
    /// address and their page frames, valid in this read-side section.
    ///
    /// Fails with `EINVAL` for a `pgoff` outside the range or no pages,
    /// `ENXIO` if the device is dead, `EHWPOISON` over poisoned memory
    /// ([`AccessMode::Access`]), `ERANGE` or `EIO` if the driver maps nothing
    /// there.
    pub fn direct_access(
        &self,
        pgoff: usize,
        nr_pages: usize,
        mode: AccessMode,
    ) -> Result<DirectAccess<'_>> {
        let (first, left) = self.range.offset(pgoff)?;
        if nr_pages == 0 {
            return Err(EINVAL);
        }
        let want = nr_pages.min(left);
        let nr = isize::try_from(want).map_err(|_| EINVAL)?;
        let mut kaddr = core::ptr::null_mut();
        // SAFETY: All-zero is a valid `pfn_t`.
        let mut pfn: bindings::pfn_t = unsafe { core::mem::zeroed() };
        let mode = match mode {
            AccessMode::Access => bindings::dax_access_mode_DAX_ACCESS,
            AccessMode::RecoveryWrite => bindings::dax_access_mode_DAX_RECOVERY_WRITE,
        };
        // SAFETY: The read lock is held; by the `DaxRange` invariants the
        // device has operations and pages `first..first + want` lie inside it,
        // so the driver translates an offset it backs; `kaddr` and `pfn` are
        // valid for writes.
        let avail = unsafe {
            bindings::dax_direct_access(
                self.range.dax.as_raw(),
                first,
                nr,
                mode,
                &mut kaddr,
                &mut pfn,
            )
        };
        if avail < 0 {
            return Err(i32::try_from(avail).map_or(EIO, Error::from_errno));
        }
        let kaddr = NonNull::new(kaddr.cast::<u8>()).ok_or(EIO)?;
        let nr_pages = usize::try_from(avail).map_err(|_| EIO)?.min(want);
        if nr_pages == 0 {
            return Err(EIO);
        }
        // INVARIANT: `dax_direct_access()` mapped `nr_pages` pages of the range
        // (at most `want`, which does not pass its end) at `kaddr`, valid while
        // the read lock (borrowed by the result) is held.
        Ok(DirectAccess {
            pgoff: first,
            nr_pages,
            kaddr,
            pfn,
            dax: self.range.dax,
            _guard: PhantomData,
        })
    }

    /// Zeroes page `pgoff` of the range and clears its known poison
    /// (`dax_zero_page_range()`, which does one page at a time); `EINVAL`
    /// outside the range, `ENXIO` if the device is dead.
    pub fn zero_page(&self, pgoff: usize) -> Result {
        let (first, _) = self.range.offset(pgoff)?;
        // SAFETY: The read lock is held; by the `DaxRange` invariants the
        // device has operations (`zero_page_range` is mandatory for them) and
        // page `first` lies inside it and belongs to the range's owner.
        to_result(unsafe { bindings::dax_zero_page_range(self.range.dax.as_raw(), first, 1) })
    }
}

/// Pages of a DAX device mapped for direct access, valid in the read-side
/// section it borrows.
///
/// # Invariants
///
/// `kaddr` maps `nr_pages` pages from page offset `pgoff` of `dax`, whose
/// page frames start at `pfn`, while the read-side section is held; the
/// pages lie inside the [`DaxRange`] they were mapped from.
pub struct DirectAccess<'a> {
    pgoff: usize,
    nr_pages: usize,
    kaddr: NonNull<u8>,
    pfn: bindings::pfn_t,
    dax: &'a DaxDevice,
    _guard: PhantomData<&'a DaxRangeGuard<'a>>,
}

impl DirectAccess<'_> {
    /// Returns the number of pages mapped.
    pub fn nr_pages(&self) -> usize {
        self.nr_pages
    }

    /// Returns the page frame number of the first page.
    pub fn pfn(&self) -> usize {
        // SAFETY: The helper only computes on the value.
        unsafe { bindings::pfn_t_to_pfn(self.pfn) }
    }

    /// Returns the page frame of page `index` as device memory that may be
    /// mapped into a process, or `ENXIO` if the pages have no `ZONE_DEVICE`
    /// memory map (a pmem namespace in raw mode, or an emulation backed by
    /// ordinary memory); `EINVAL` for an index out of range.
    pub fn devmap_pfn(&self, index: usize) -> Result<DevmapPfn> {
        if index >= self.nr_pages {
            return Err(EINVAL);
        }
        // SAFETY: The helper only computes on the value.
        if !unsafe { bindings::pfn_t_has_page(self.pfn) } {
            return Err(ENXIO);
        }
        let pfn = self.pfn() + index;
        // SAFETY: The pages `dax_direct_access()` returned with a memory map
        // have a `struct page` each, which the device keeps while the DAX
        // read lock this value borrows is held.
        let page = unsafe { bindings::pfn_to_page(pfn) };
        // SAFETY: `page` is a valid `struct page` (above).
        if !unsafe { bindings::is_zone_device_page(page) } {
            return Err(ENXIO);
        }
        // SAFETY: The page is `ZONE_DEVICE` memory (checked above).
        Ok(unsafe { DevmapPfn::new_unchecked(pfn) })
    }

    /// Checks that `len` bytes from byte `offset` lie inside the mapping.
    fn check(&self, offset: usize, len: usize) -> Result {
        let size = self.nr_pages.checked_mul(PAGE_SIZE).ok_or(EINVAL)?;
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(EINVAL),
        }
    }

    /// Writes `data` at byte `offset` of the mapped pages and flushes it from
    /// the CPU caches (`memcpy_flushcache()`); `EINVAL` past the mapping.
    pub fn write(&self, offset: usize, data: &[u8]) -> Result {
        self.check(offset, data.len())?;
        // SAFETY: By the type invariant `kaddr` maps `nr_pages` pages and the
        // range was checked; concurrent writers through other mappings race as
        // on any shared memory, which `memcpy_flushcache()` tolerates.
        unsafe {
            bindings::memcpy_flushcache(
                self.kaddr.as_ptr().add(offset).cast(),
                data.as_ptr().cast(),
                data.len(),
            )
        };
        Ok(())
    }

    /// Reads byte `offset` onwards of the mapped pages into `buf`, stopping at
    /// poisoned memory (`copy_mc_to_kernel()`); `EIO` if poison was hit,
    /// `EINVAL` past the mapping.
    pub fn read(&self, offset: usize, buf: &mut [u8]) -> Result {
        self.check(offset, buf.len())?;
        let len = u32::try_from(buf.len()).map_err(|_| EINVAL)?;
        // SAFETY: By the type invariant `kaddr` maps `nr_pages` pages and the
        // range was checked; `buf` is valid for writes of its length.
        let left = unsafe {
            bindings::copy_mc_to_kernel(
                buf.as_mut_ptr().cast(),
                self.kaddr.as_ptr().add(offset).cast(),
                len,
            )
        };
        if left != 0 {
            return Err(EIO);
        }
        Ok(())
    }

    /// Writes `data` at byte `offset` through the driver's recovery path
    /// (`dax_recovery_write()`), which clears poison of whole pages; the
    /// pages should be mapped with [`AccessMode::RecoveryWrite`].  Returns the
    /// number of bytes written.
    pub fn recovery_write(&self, offset: usize, data: &[u8]) -> Result<usize> {
        self.check(offset, data.len())?;
        let kvec = bindings::kvec {
            iov_base: data.as_ptr().cast_mut().cast(),
            iov_len: data.len(),
        };
        // SAFETY: All-zero is a valid `iov_iter`; `iov_iter_kvec()` fills it in.
        let mut iter: bindings::iov_iter = unsafe { core::mem::zeroed() };
        // SAFETY: `kvec` describes `data`, which the iterator only reads
        // (`ITER_SOURCE`), and outlives it.
        unsafe { bindings::iov_iter_kvec(&mut iter, bindings::ITER_SOURCE, &kvec, 1, data.len()) };
        let pgoff = self.pgoff + offset / PAGE_SIZE;
        // SAFETY: By the type invariant the read lock is held, `kaddr + offset`
        // is the mapped address of page offset `pgoff` (plus the offset in
        // the page), which lies in the range, and the length was checked.
        Ok(unsafe {
            bindings::dax_recovery_write(
                self.dax.as_raw(),
                pgoff,
                self.kaddr.as_ptr().add(offset).cast(),
                data.len(),
                &mut iter,
            )
        })
    }
}

/// The DAX device of a block device, opened by path the way a file system
/// opens its device at mount time: exclusively, so that it fails with `EBUSY`
/// while a file system (or another exclusive user) has the block device.
/// Optionally also claimed as the DAX device's holder; released when dropped.
///
/// # Invariants
///
/// - `file` is the block device opened exclusively with `holder`'s address
///   as holder; `dax` is its disk's DAX device, referenced by
///   `fs_dax_get_by_bdev()` and, if `claimed`, held with that same holder.
/// - The block device covers pages `first..first + nr_pages` of the DAX
///   device (which starts at byte `start`), and that end does not overflow.
pub struct BdevDax {
    file: NonNull<bindings::file>,
    dax: NonNull<bindings::dax_device>,
    start: u64,
    first: usize,
    nr_pages: usize,
    claimed: bool,
    holder: KBox<u8>,
}

// SAFETY: The file and DAX device references may be used and dropped anywhere.
unsafe impl Send for BdevDax {}

// SAFETY: `&BdevDax` only gives out `&DaxDevice`, which is `Sync`, and ranges
// of it.
unsafe impl Sync for BdevDax {}

impl BdevDax {
    /// Opens block device `path` exclusively for reading and writing and gets
    /// its DAX device; with `claim`, also becomes the DAX device's holder (as
    /// XFS does when it mounts).
    ///
    /// Fails with the error of opening the device (`EBUSY` while it is
    /// mounted or otherwise held exclusively), `ENODEV` if it has no DAX
    /// device (or is a partition that does not start on a page), and `EBUSY`
    /// if `claim` is asked for a DAX device that has a holder (another
    /// partition's file system).
    pub fn open(path: &CStr, claim: bool) -> Result<Self> {
        // Any unique address serves as the holder of the exclusive open.
        let holder = KBox::new(0u8, GFP_KERNEL)?;
        let holder_ptr: *mut c_void = core::ptr::from_ref::<u8>(&*holder).cast_mut().cast();
        let mode = bindings::BLK_OPEN_READ | bindings::BLK_OPEN_WRITE;
        // SAFETY: `path` is a NUL-terminated string; `holder_ptr` stays valid
        // until the file is released (`Drop` releases it before the box).
        let file = unsafe {
            bindings::bdev_file_open_by_path(
                path.as_char_ptr(),
                mode,
                holder_ptr,
                core::ptr::null(),
            )
        };
        // SAFETY: `from_err_ptr()` lets only a valid file through.
        let file = unsafe { NonNull::new_unchecked(from_err_ptr(file)?) };
        let fail = |e| {
            // SAFETY: The file was opened above and is not used any more.
            unsafe { bindings::fput(file.as_ptr()) };
            Err(e)
        };
        // SAFETY: `file` is an open block device file.
        let bdev = unsafe { bindings::file_bdev(file.as_ptr()) };
        let mut start = 0;
        // SAFETY: `bdev` is open; no holder is claimed.
        let dax = unsafe {
            bindings::fs_dax_get_by_bdev(bdev, &mut start, core::ptr::null_mut(), core::ptr::null())
        };
        let Some(dax) = NonNull::new(dax) else {
            return fail(ENODEV);
        };
        // SAFETY: `bdev` is open.
        let bytes = unsafe { bindings::bdev_nr_bytes(bdev) };
        // `fs_dax_get_by_bdev()` refuses a partition that does not start on a
        // page and gives its byte offset in `start`.
        let first = usize::try_from(start >> PAGE_SHIFT).ok();
        let nr_pages = u64::try_from(bytes)
            .ok()
            .and_then(|b| usize::try_from(b >> PAGE_SHIFT).ok());
        let (first, nr_pages) = match (first, nr_pages) {
            (Some(f), Some(n)) if f.checked_add(n).is_some() => (f, n),
            _ => (0, 0),
        };
        // INVARIANT: The device's pages are `first..first + nr_pages` (an empty
        // range if they do not fit a `usize`, which no 64-bit device reaches).
        let mut this = Self {
            file,
            dax,
            start,
            first,
            nr_pages,
            claimed: false,
            holder,
        };
        if claim {
            // 6.12's fs_dax_get_by_bdev() keeps its reference when a claim
            // fails, so only claim a device that has no holder.  Other
            // partitions of the disk can still race with this (they only lose
            // a reference then, not memory safety).
            if !this.holder().is_null() {
                return Err(EBUSY);
            }
            // SAFETY: As above; the holder cookie is unique while `this` exists.
            let again = unsafe {
                bindings::fs_dax_get_by_bdev(bdev, &mut start, holder_ptr, core::ptr::null())
            };
            let Some(again) = NonNull::new(again) else {
                return Err(EBUSY);
            };
            if again != dax {
                // SAFETY: `again` was referenced and claimed above; give both up.
                unsafe { bindings::fs_put_dax(again.as_ptr(), holder_ptr) };
                return Err(EBUSY);
            }
            // The claim took a second reference: drop the unclaimed one.
            // SAFETY: `dax` was referenced above without a holder.
            unsafe { bindings::fs_put_dax(dax.as_ptr(), core::ptr::null_mut()) };
            // INVARIANT: `again` is `dax` (checked), referenced and held.
            this.claimed = true;
        }
        Ok(this)
    }

    /// Returns the byte offset of the block device in the DAX device.
    pub fn start_offset(&self) -> u64 {
        self.start
    }

    /// Returns whether this holds the DAX device (opened with `claim`).
    pub fn is_holder(&self) -> bool {
        self.claimed && core::ptr::eq(self.holder(), self.holder_ptr())
    }

    /// Returns the pages of the DAX device that the block device covers.
    pub fn range(&self) -> DaxRange<'_> {
        // INVARIANT: A DAX device found through a disk has operations (its
        // driver registered it with `dax_add_host()`); by the type invariant
        // the block device covers these pages, whose end does not overflow, and
        // `self`, which the range borrows, holds it exclusively.
        DaxRange {
            dax: self,
            start: self.first,
            nr_pages: self.nr_pages,
        }
    }

    fn holder_ptr(&self) -> *const c_void {
        core::ptr::from_ref::<u8>(&*self.holder).cast()
    }
}

impl Deref for BdevDax {
    type Target = DaxDevice;

    fn deref(&self) -> &DaxDevice {
        // SAFETY: By the type invariant the DAX device is referenced while
        // `self` exists.
        unsafe { DaxDevice::from_raw(self.dax.as_ptr()) }
    }
}

impl Drop for BdevDax {
    fn drop(&mut self) {
        let holder = if self.claimed {
            self.holder_ptr().cast_mut()
        } else {
            core::ptr::null_mut()
        };
        // SAFETY: By the type invariant the DAX device is referenced (and held
        // by `holder` if claimed), and the file is open; both are released
        // once, before the holder's box is freed.
        unsafe {
            bindings::fs_put_dax(self.dax.as_ptr(), holder);
            bindings::fput(self.file.as_ptr());
        }
    }
}
