// SPDX-License-Identifier: GPL-2.0

//! DAX: direct access to persistent memory through the page tables.
//!
//! C headers: [`include/linux/dax.h`](srctree/include/linux/dax.h),
//! [`include/linux/xarray.h`](srctree/include/linux/xarray.h)

use crate::{
    error::{code::EINVAL, Result},
    mm::pgtable::PMD_ORDER,
};

/// What a DAX entry in a mapping's page cache stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaxContent {
    /// The file's storage, at page frame `.0`.
    Storage(usize),
    /// The zero page (or the huge zero folio) at page frame `.0`, mapped
    /// read-only over a hole.
    Zero(usize),
    /// A placeholder that holds the index while storage is being looked up.
    Empty,
}

/// How much of the file a DAX entry covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaxSize {
    /// One page, mapped by a PTE.
    Pte,
    /// A PMD-sized, PMD-aligned range.
    Pmd,
}

/// A DAX entry of a mapping's page cache (`i_pages`), as the DAX core stores
/// it in an XArray value entry.
///
/// The layout is the one `fs/dax.c` uses: the page frame number shifted left
/// by four, and four flag bits (locked, PMD, zero page, empty).  Combinations
/// the C code never makes (an entry that is both zero page and empty, an
/// empty entry with a page frame, a PMD entry whose page frame is not PMD
/// aligned) cannot be built here and are refused when decoded.
///
/// # Examples
///
/// ```
/// use kernel::dax::{DaxContent, DaxEntry, DaxSize};
///
/// let e = DaxEntry::new(DaxContent::Storage(0x1234), DaxSize::Pte)?;
/// assert_eq!(e.to_value(), 0x1234 << 4);
/// assert!(!e.is_locked());
///
/// let locked = e.locked();
/// assert_eq!(locked.to_value(), (0x1234 << 4) | 1);
/// assert_eq!(DaxEntry::from_value(locked.to_value())?, locked);
/// assert_eq!(locked.unlocked(), e);
///
/// let pmd = DaxEntry::new(DaxContent::Zero(0x200), DaxSize::Pmd)?;
/// assert_eq!(pmd.order(), kernel::mm::pgtable::PMD_ORDER);
/// assert_eq!(DaxEntry::from_value(pmd.to_value())?, pmd);
///
/// let empty = DaxEntry::new(DaxContent::Empty, DaxSize::Pte)?.locked();
/// assert_eq!(empty.to_value(), 8 | 1);
/// assert_eq!(empty.content(), DaxContent::Empty);
///
/// // A PMD entry must be PMD aligned; zero-page-and-empty and an empty entry
/// // with a page frame do not decode.
/// assert_eq!(DaxEntry::new(DaxContent::Storage(0x201), DaxSize::Pmd).err(), Some(EINVAL));
/// assert_eq!(DaxEntry::from_value(4 | 8).err(), Some(EINVAL));
/// assert_eq!(DaxEntry::from_value((7 << 4) | 8).err(), Some(EINVAL));
/// // A page frame number too large for a value entry is refused.
/// assert_eq!(DaxEntry::new(DaxContent::Storage(usize::MAX >> 4), DaxSize::Pte).err(),
///            Some(EINVAL));
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaxEntry {
    content: DaxContent,
    size: DaxSize,
    locked: bool,
}

impl DaxEntry {
    const SHIFT: u32 = 4;
    const LOCKED: usize = 1 << 0;
    const PMD: usize = 1 << 1;
    const ZERO_PAGE: usize = 1 << 2;
    const EMPTY: usize = 1 << 3;
    /// XArray value entries hold `LONG_MAX` at most (`xa_mk_value()`).
    const MAX_VALUE: usize = usize::MAX >> 1;

    /// Returns an unlocked entry, or `EINVAL` if `content` cannot be stored
    /// at `size` (a page frame that is not aligned to it, or too large).
    pub fn new(content: DaxContent, size: DaxSize) -> Result<Self> {
        let pfn = match content {
            DaxContent::Storage(pfn) | DaxContent::Zero(pfn) => pfn,
            DaxContent::Empty => 0,
        };
        if pfn > Self::MAX_VALUE >> Self::SHIFT {
            return Err(EINVAL);
        }
        if size == DaxSize::Pmd && pfn & ((1 << PMD_ORDER) - 1) != 0 {
            return Err(EINVAL);
        }
        Ok(Self {
            content,
            size,
            locked: false,
        })
    }

    /// Decodes the number stored in an XArray value entry.
    pub fn from_value(value: usize) -> Result<Self> {
        if value > Self::MAX_VALUE {
            return Err(EINVAL);
        }
        let pfn = value >> Self::SHIFT;
        let size = if value & Self::PMD != 0 {
            DaxSize::Pmd
        } else {
            DaxSize::Pte
        };
        let content = match (value & Self::ZERO_PAGE != 0, value & Self::EMPTY != 0) {
            (false, false) => DaxContent::Storage(pfn),
            (true, false) => DaxContent::Zero(pfn),
            (false, true) if pfn == 0 => DaxContent::Empty,
            _ => return Err(EINVAL),
        };
        let entry = Self::new(content, size)?;
        Ok(if value & Self::LOCKED != 0 {
            entry.locked()
        } else {
            entry
        })
    }

    /// Returns the number to store in an XArray value entry.
    pub fn to_value(self) -> usize {
        let (pfn, kind) = match self.content {
            DaxContent::Storage(pfn) => (pfn, 0),
            DaxContent::Zero(pfn) => (pfn, Self::ZERO_PAGE),
            DaxContent::Empty => (0, Self::EMPTY),
        };
        let size = match self.size {
            DaxSize::Pte => 0,
            DaxSize::Pmd => Self::PMD,
        };
        let locked = if self.locked { Self::LOCKED } else { 0 };
        (pfn << Self::SHIFT) | kind | size | locked
    }

    /// Returns what the entry stands for.
    pub fn content(self) -> DaxContent {
        self.content
    }

    /// Returns how much of the file the entry covers.
    pub fn size(self) -> DaxSize {
        self.size
    }

    /// Returns the folio order of the range the entry covers.
    pub fn order(self) -> u32 {
        match self.size {
            DaxSize::Pte => 0,
            DaxSize::Pmd => PMD_ORDER,
        }
    }

    /// Returns whether the entry is locked.
    pub fn is_locked(self) -> bool {
        self.locked
    }

    /// Returns the entry, locked.
    pub fn locked(self) -> Self {
        Self {
            locked: true,
            ..self
        }
    }

    /// Returns the entry, unlocked.
    pub fn unlocked(self) -> Self {
        Self {
            locked: false,
            ..self
        }
    }
}
