// SPDX-License-Identifier: GPL-2.0

//! Reads and writes of DAX files (`read(2)`, `write(2)` and their kin):
//! copies between the caller's buffers and the file's storage on the DAX
//! device, with no page cache between them.
//!
//! [`rw`] asks the filesystem for the storage of the I/O's range, one
//! mapping at a time, and [`copy`] copies each: a read of a hole or of an
//! unwritten extent reads zeroes, and stops at the end of the file; a
//! write goes to allocated blocks only, or to new ones of a shared range,
//! whose data around the write is copied first from the old ones.  Pages of
//! the range that a fault had mapped before the write allocated or
//! unshared its blocks are invalidated, so that the next fault maps the
//! new blocks.
//!
//! The caller holds the inode's `i_rwsem` (for writing, for a write): it
//! keeps truncation and other writes out.

use crate::{layout, Core};
use kernel::{
    bug::warn_on_once,
    current,
    dax::{AccessMode, DirectAccess},
    error::{
        code::{EFAULT, EHWPOISON, EINTR, EIO},
        Error, Result,
    },
    fs::{
        address_space::AddressSpace,
        iomap::{InodeIomapOps, Iomap, IomapFlags, IomapIter, IomapType},
        kiocb::Kiocb,
    },
    iov::IovIter,
    page::{PAGE_SHIFT, PAGE_SIZE},
};

/// Reads or writes (as `io` is the destination of a read or the source of
/// a write) the file of `iocb` from its position, through `ops`, the
/// filesystem's iomap operations for the file, and moves the position on
/// by what was copied.  Returns how many bytes were copied; if none, the
/// error that stopped the I/O, if any.
pub(crate) fn rw(
    core: Core<'_>,
    iocb: &mut Kiocb<'_>,
    io: &mut IovIter,
    ops: InodeIomapOps<'_>,
) -> Result<usize> {
    let len = io.count();
    if len == 0 {
        return Ok(0);
    }
    let mapping = iocb.mapping();
    let write = io.is_source();
    ops.inode().assert_io_locked(write);
    let mut flags = IomapFlags::DAX;
    if write {
        flags = flags | IomapFlags::WRITE;
    }
    if iocb.is_nowait() {
        flags = flags | IomapFlags::NOWAIT;
    }
    let start = iocb.pos();
    let mut done = 0u64;
    let ended = ops.iterate(start, len as u64, flags, |iter| {
        let copied = copy(core, mapping, iter, io)?;
        // What `iomap_iter()` moves the iteration on by (it refuses more
        // than the mapping).
        if copied <= iter.length() {
            done += copied;
        }
        Ok(copied)
    });
    // Within the I/O's `len`, which the position does not overflow.
    let done = usize::try_from(done).map_err(|_| EIO)?;
    let moved = i64::try_from(done).map_err(|_| EIO)?;
    iocb.set_pos(start.checked_add(moved).ok_or(EIO)?);
    if done > 0 {
        return Ok(done);
    }
    ended.map(|()| 0)
}

/// The error a read or write reports for a failed direct access: poison is
/// an I/O error (`dax_mem2blk_err()`).
fn io_error(err: Error) -> Error {
    if err == EHWPOISON {
        EIO
    } else {
        err
    }
}

/// The offset of file position `pos` in its page.
fn page_offset(pos: i64) -> usize {
    // Positions of I/O are not negative.
    usize::try_from(pos).map_or(0, |pos| pos & (PAGE_SIZE - 1))
}

/// The index of the page that holds file position `pos` (not negative).
fn page_index(pos: i64) -> Result<usize> {
    usize::try_from(pos >> PAGE_SHIFT).map_err(|_| EIO)
}

/// Copies the part of the I/O that `iter` maps (its position and length)
/// between `io` and the storage the filesystem gave for it, in the file of
/// `mapping`.  Returns how many bytes were copied; an error only if none
/// was.
fn copy(core: Core<'_>, mapping: &AddressSpace, iter: &IomapIter, io: &mut IovIter) -> Result<u64> {
    let iomap = iter.iomap();
    let mut pos = iter.pos();
    let mut length = iter.length();
    let write = io.is_source();
    let cow = write && iomap.is_shared();
    let mut end = i64::try_from(length)
        .ok()
        .and_then(|len| pos.checked_add(len))
        .ok_or(EIO)?;
    if !write {
        end = end.min(mapping.host().size());
        if pos >= end {
            return Ok(0);
        }
        if matches!(iomap.kind(), Some(IomapType::Hole | IomapType::Unwritten)) {
            // `end` is past `pos`, at most `length` after it.
            let left = usize::try_from(end - pos).map_err(|_| EIO)?;
            return Ok(io.zero(left) as u64);
        }
    }
    // Writes go to allocated blocks, or to new blocks of a shared range.
    if warn_on_once(iomap.kind() != Some(IomapType::Mapped) && !iomap.is_shared()) {
        return Err(EIO);
    }
    if iomap.is_new() || cow {
        // Faults may have mapped the range's hole (the zero page) or, for
        // a shared range, its old blocks: drop those pages and entries, so
        // that the next fault maps the new blocks.  Failing to drop one is
        // not an error of the write, as in C.
        let (first, last) = (page_index(pos)?, page_index(end - 1)?);
        if cow {
            // Dirty entries of the old blocks cannot be invalidated; their
            // data goes to the new blocks, not back to the old ones.
            layout::clear_dirty_range(core, mapping, first, last);
        }
        let _ = mapping.invalidate_pages(first, last);
    }
    let mut done = 0u64;
    let mut ret = Ok(());
    while pos < end {
        if current!().fatal_signal_pending() {
            ret = Err(EINTR);
            break;
        }
        // Within the mapping: below `end`, which is at most `length` away.
        let left = usize::try_from(end - pos).map_err(|_| EIO)?;
        let (xfer, wanted) = match copy_pages(iter, io, pos, length, left, cow) {
            Ok(copied) => copied,
            Err(err) => {
                ret = Err(err);
                break;
            }
        };
        // At most `wanted`, which is at most `left`.
        pos += i64::try_from(xfer).map_err(|_| EIO)?;
        length -= xfer as u64;
        done += xfer as u64;
        if xfer == 0 {
            ret = Err(EFAULT);
        }
        if xfer < wanted {
            break;
        }
    }
    if done > 0 {
        Ok(done)
    } else {
        ret.map(|()| 0)
    }
}

/// Maps the storage of the mapping of `iter` from the page of file
/// position `pos` to the mapping's end (`length` bytes from `pos`) for
/// direct access, and copies up to `left` bytes from `pos` between it and
/// `io`: as many as direct access mapped.  A write to a shared range
/// (`cow`) first copies the old data around it into the new blocks.
/// Returns how many bytes were copied, and how many could have been.
fn copy_pages(
    iter: &IomapIter,
    io: &mut IovIter,
    pos: i64,
    length: u64,
    left: usize,
    cow: bool,
) -> Result<(usize, usize)> {
    let write = io.is_source();
    let offset = page_offset(pos);
    let size = usize::try_from(length)
        .ok()
        .and_then(|len| len.checked_add(offset))
        .and_then(|len| len.checked_next_multiple_of(PAGE_SIZE))
        .ok_or(EIO)?;
    let start = pos - i64::try_from(offset).map_err(|_| EIO)?;
    let range = iter.iomap().dax_range(start, size).ok_or(EIO)?;
    let guard = range.read_lock();
    let nr = size >> PAGE_SHIFT;
    let (access, recovery) = match guard.direct_access(0, nr, AccessMode::Access) {
        Ok(access) => (access, false),
        // A write over poison goes through the driver's recovery path,
        // which clears it.
        Err(err) if err == EHWPOISON && write => (
            guard
                .direct_access(0, nr, AccessMode::RecoveryWrite)
                .map_err(io_error)?,
            true,
        ),
        Err(err) => return Err(io_error(err)),
    };
    if cow {
        copy_around(iter.srcmap(), pos, length, &access)?;
    }
    let wanted = (access.nr_pages() * PAGE_SIZE - offset).min(left);
    let xfer = if recovery {
        access.recovery_write_iter(offset, wanted, io)?
    } else if write {
        access.copy_from_iter(offset, wanted, io)?
    } else {
        access.copy_to_iter(offset, wanted, io)?
    };
    Ok((xfer, wanted))
}

/// Fills the new blocks that `dst` maps from the page of `pos` on, given
/// for a write of `length` bytes from `pos` to a shared range, with what the
/// write leaves of their first and last pages: the old data, from
/// `srcmap`, or zeroes where that has none (an unwritten extent, or a
/// hole, for which the source mapping is the new blocks' own, shared one).
/// A write of whole pages zeroes them all first, as C does.  Poison in the
/// old blocks is an I/O error; pages that `dst` does not map are `EINVAL`
/// (C would copy past them).
fn copy_around(srcmap: &Iomap, pos: i64, length: u64, dst: &DirectAccess<'_>) -> Result {
    let head = page_offset(pos);
    let tail = usize::try_from(length)
        .ok()
        .and_then(|len| len.checked_add(head))
        .ok_or(EIO)?;
    let size = tail.checked_next_multiple_of(PAGE_SIZE).ok_or(EIO)?;
    let whole = head == 0 && tail == size;
    if srcmap.is_shared() || srcmap.kind() == Some(IomapType::Unwritten) {
        if whole {
            return dst.zero(0, size);
        }
        if head > 0 {
            dst.zero(0, head)?;
        }
        if tail < size {
            dst.zero(tail, size - tail)?;
        }
        return Ok(());
    }
    let start = pos - i64::try_from(head).map_err(|_| EIO)?;
    let src_range = srcmap.dax_range(start, size).ok_or(EIO)?;
    let src_guard = src_range.read_lock();
    let src = src_guard
        .direct_access(0, size >> PAGE_SHIFT, AccessMode::Access)
        .map_err(io_error)?;
    // `copy_from()` fails with `EIO` at poison.
    if whole {
        return dst.copy_from(0, &src, 0, size);
    }
    if head > 0 {
        dst.copy_from(0, &src, 0, head)?;
    }
    if tail < size {
        dst.copy_from(tail, &src, tail, size - tail)?;
    }
    Ok(())
}
