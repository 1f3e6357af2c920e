// SPDX-License-Identifier: GPL-2.0

//! Reflinks of DAX files: what the filesystem's remap code asks of the
//! DAX core before it shares blocks between files (`FICLONE`,
//! `FIDEDUPERANGE`).
//!
//! Deduplication shares blocks only where both files hold the same data:
//! [`dedupe_compare`] reads the two ranges through direct access to their
//! storage, in step, and stops at the first difference.  The caller holds
//! both inodes' locks and has broken both files' layouts.

use crate::io::page_offset;
use kernel::{
    dax::AccessMode,
    error::{code::EIO, Result},
    fs::iomap::{InodeIomapOps, Iomap, IomapFlags, IomapIter, IomapType},
    page::{PAGE_SHIFT, PAGE_SIZE},
};

/// Compares `len` bytes of the file of `src` from `src_pos` with those of
/// the file of `dst` from `dst_pos` (`dax_dedupe_file_range_compare()`),
/// through the filesystems' mappings `src` and `dst`: `*same` says whether
/// they hold the same data (holes hold zeroes only where both are holes).
/// An error leaves `*same` as it was.
pub(crate) fn dedupe_compare(
    src: InodeIomapOps<'_>,
    src_pos: i64,
    dst: InodeIomapOps<'_>,
    dst_pos: i64,
    len: u64,
    same: &mut bool,
) -> Result {
    src.iterate_pair(src_pos, &dst, dst_pos, len, IomapFlags::DAX, |s, d| {
        compare(s, d, same)
    })
}

/// Compares the part of the two files that `s` and `d` map, as much as both
/// map: returns how much was the same, 0 at a difference.
fn compare(s: &IomapIter, d: &IomapIter, same: &mut bool) -> Result<u64> {
    let len = s.length().min(d.length());
    let (smap, dmap) = (s.iomap(), d.iomap());
    let hole = |map: &Iomap| map.kind() == Some(IomapType::Hole);
    if hole(smap) || hole(dmap) {
        *same = hole(smap) && hole(dmap);
        return Ok(if *same { len } else { 0 });
    }
    // Any failure to read either is an I/O error of the comparison.
    let len_bytes = usize::try_from(len).map_err(|_| EIO)?;
    *same = same_data(smap, s.pos(), dmap, d.pos(), len_bytes).map_err(|_| EIO)?;
    Ok(if *same { len } else { 0 })
}

/// Whether the `len` bytes of storage that `smap` maps for file position
/// `spos` equal those `dmap` maps for `dpos`.
fn same_data(smap: &Iomap, spos: i64, dmap: &Iomap, dpos: i64, len: usize) -> Result<bool> {
    let (soff, doff) = (page_offset(spos), page_offset(dpos));
    let (ssize, dsize) = (pages_of(len, soff)?, pages_of(len, doff)?);
    let src_range = smap.dax_range(spos - offset(soff)?, ssize).ok_or(EIO)?;
    let dst_range = dmap.dax_range(dpos - offset(doff)?, dsize).ok_or(EIO)?;
    let (src_guard, dst_guard) = (src_range.read_lock(), dst_range.read_lock());
    let src = src_guard.direct_access(0, ssize >> PAGE_SHIFT, AccessMode::Access)?;
    let dst = dst_guard.direct_access(0, dsize >> PAGE_SHIFT, AccessMode::Access)?;
    src.same_as(soff, &dst, doff, len)
}

/// An offset in a page, as a file position difference.
fn offset(off: usize) -> Result<i64> {
    i64::try_from(off).map_err(|_| EIO)
}

/// The bytes of whole pages that `len` bytes from `offset` of a page span.
fn pages_of(len: usize, offset: usize) -> Result<usize> {
    len.checked_add(offset)
        .and_then(|end| end.checked_next_multiple_of(PAGE_SIZE))
        .ok_or(EIO)
}
