// SPDX-License-Identifier: GPL-2.0

//! Breaking the layout of a DAX file: making a range's pages idle before
//! the filesystem frees or moves its blocks, and removing its entries.
//!
//! A filesystem that truncates, punches, reflinks or evicts first keeps new
//! faults out of the range (its invalidate lock), then unmaps the range and
//! waits until no page of it is referenced beyond its mappings (a pin or
//! DMA), page by page: the page-free callback wakes the waiter of a page
//! once its last reference is dropped.  The idle range's entries are then
//! removed, and their folios lose this file as an owner.

use crate::{
    entry::{self, Found, Slot},
    owner,
};
use kernel::{
    bug::warn_on_once,
    dax::{
        owner::{BusyPage, OwnerLocks, StoragePages},
        DaxEntry,
    },
    error::{code::EBUSY, Result},
    fs::{address_space::AddressSpace, inode::Inode},
    page::PAGE_SHIFT,
    pr_warn,
    task::cond_resched,
    time::msecs_to_jiffies,
    wait::{WaitTable, WakeMode},
    xarray::{XaCursor, XaEntry, XaMark},
};

/// How many entries a walk of a range looks at between two chances for
/// other tasks to run (`XA_CHECK_SCHED`).
const CHECK_SCHED: usize = 4096;

/// How long eviction waits for a busy page before it reports it (again).
const IDLE_REPORT_SECS: u32 = 30;

/// `PAGECACHE_TAG_DIRTY` and `PAGECACHE_TAG_TOWRITE`.
const DIRTY: XaMark = XaMark::Mark0;
const TOWRITE: XaMark = XaMark::Mark2;

/// The storage pages of DAX entries found in `i_pages`, valid as long as
/// the mapping they were found in (given by the C entry points, which vouch
/// for what the DAX core stores there).
pub(crate) trait Storage<'a>: Fn(DaxEntry) -> Option<StoragePages<'a>> {}
impl<'a, F: Fn(DaxEntry) -> Option<StoragePages<'a>>> Storage<'a> for F {}

/// The DAX core's shared state: its wait table and owner locks.
#[derive(Clone, Copy)]
pub(crate) struct Core<'t> {
    pub(crate) table: &'t WaitTable,
    pub(crate) locks: &'t OwnerLocks,
}

/// The index of the page that holds byte `pos`.
fn first_index(pos: i64) -> usize {
    usize::try_from(pos >> PAGE_SHIFT).unwrap_or(usize::MAX)
}

/// The index of the last page of a range whose last byte is `end`; a
/// negative `end` (`LLONG_MAX` is the usual way) means the end of the file.
fn last_index(end: i64) -> usize {
    if end == i64::MAX {
        return usize::MAX;
    }
    usize::try_from(end >> PAGE_SHIFT).unwrap_or(usize::MAX)
}

/// Unmaps the pages of `mapping` from byte `start` to byte `end` and
/// returns the first of them, in index order, that is still referenced
/// beyond its mappings, after waiting for its entry to be unlocked.
///
/// The caller keeps new mappings of the range out (it holds the lock that
/// faults take), so a GUP that races the unmap either took its reference
/// before (and is found here) or finds the page table entry gone.  The
/// range is scanned even where nothing maps it any more: a page unmapped
/// while O_DIRECT I/O still holds it is busy too.
pub(crate) fn busy_page_range<'a>(
    core: Core<'a>,
    mapping: &'a AddressSpace,
    start: i64,
    end: i64,
    storage: &impl Storage<'a>,
) -> Option<BusyPage<'a>> {
    if !mapping.is_dax() {
        return None;
    }
    let (first, last) = (first_index(start), last_index(end));
    // Whole-file ranges wrap to 0 pages, which `unmap_mapping_pages()`
    // takes as "to the end", as the C core passes them.
    mapping.unmap_pages(first, last.wrapping_sub(first).wrapping_add(1));
    // A device DAX instance keeps no entries.
    let mut pages = mapping.lock_dax_pages(first)?;
    let mut scanned = 0usize;
    while let Some(found) = pages.find(last) {
        if warn_on_once(!matches!(found, XaEntry::Value(_))) {
            continue;
        }
        let slot = entry::wait_unlocked_exclusive(core.table, &mut pages, Slot::of(found));
        let busy = match slot {
            Slot::Dax(entry) => owner::busy_page(core.locks, storage(entry)),
            Slot::Empty | Slot::Foreign(_) => None,
        };
        entry::put_unlocked(core.table, pages.as_state(), slot, WakeMode::Next);
        if busy.is_some() {
            return busy;
        }
        scanned += 1;
        if scanned % CHECK_SCHED == 0 {
            pages.pause();
            pages.unlocked(cond_resched);
        }
    }
    None
}

/// Removes the DAX entries of `mapping` from byte `start` to byte `end`,
/// each once it is unlocked; their folios lose this owner.  The caller made
/// the range idle and keeps new faults out; an entry's dirty mark goes with
/// it (the range is being truncated, punched, moved or evicted).
pub(crate) fn delete_range<'a>(
    core: Core<'a>,
    mapping: &'a AddressSpace,
    start: i64,
    end: i64,
    storage: &impl Storage<'a>,
) {
    let last = last_index(end);
    let Some(mut pages) = mapping.lock_dax_pages(first_index(start)) else {
        return;
    };
    let mut scanned = 0usize;
    while let Some(found) = pages.find(last) {
        if !matches!(found, XaEntry::Value(_)) {
            continue;
        }
        let entry = match entry::wait_unlocked_exclusive(core.table, &mut pages, Slot::of(found)) {
            Slot::Dax(entry) => entry,
            Slot::Empty => continue,
            Slot::Foreign(_) => {
                warn_on_once(true);
                continue;
            }
        };
        let next = (pages.index() | ((1usize << entry.order()) - 1)).wrapping_add(1);
        remove(core, mapping, &mut pages, entry, true, storage);
        scanned += 1;
        if scanned % CHECK_SCHED != 0 {
            continue;
        }
        // Not `pause()`: a store that empties a node leaves the cursor on an
        // ancestor at an index not aligned to it, and `xas_pause()` would
        // then step over live entries.  Go on after the removed entry.
        if next == 0 {
            break;
        }
        pages.set_index(next);
        pages.unlocked(cond_resched);
    }
}

/// Removes `entry`, unlocked at the cursor of `pages`: its folio loses this
/// owner (`trunc`: after a layout break), the mapping's page count drops,
/// and all its waiters are woken (it is gone).
fn remove<'a>(
    core: Core<'a>,
    mapping: &'a AddressSpace,
    pages: &mut XaCursor<'_>,
    entry: DaxEntry,
    trunc: bool,
    storage: &impl Storage<'a>,
) {
    owner::disassociate(core.locks, storage(entry), mapping.as_raw(), trunc);
    // Erasing needs no memory: it cannot fail.
    warn_on_once(pages.store(None).is_err());
    // The cursor is into `mapping`'s `i_pages`, whose lock it holds.
    warn_on_once(
        mapping
            .add_dax_pages(pages, -(1isize << entry.order()))
            .is_err(),
    );
    entry::put_unlocked(
        core.table,
        pages.as_state(),
        Slot::Dax(entry),
        WakeMode::All,
    );
}

/// Makes the DAX pages of `inode` from byte `start` to byte `end` idle and
/// removes their entries.  While a page is busy, `sleep` sleeps (it drops
/// the filesystem's lock that keeps new mappings out, schedules and retakes
/// it); without it the break fails with `EBUSY`.  A signal ends the wait
/// with `ERESTARTSYS`.
pub(crate) fn break_layout<'a>(
    core: Core<'a>,
    inode: &'a Inode,
    start: i64,
    end: i64,
    mut sleep: Option<impl FnMut()>,
    storage: &impl Storage<'a>,
) -> Result {
    let mapping = inode.mapping();
    if !mapping.is_dax() {
        return Ok(());
    }
    while let Some(page) = busy_page_range(core, mapping, start, end, storage) {
        let Some(sleep) = sleep.as_mut() else {
            return Err(EBUSY);
        };
        page.wait_idle(sleep)?;
    }
    delete_range(core, mapping, start, end, storage);
    Ok(())
}

/// Waits at eviction until no DAX page of `inode` is in use, without a
/// lock and uninterruptibly (eviction cannot fail), and removes the
/// entries.  A page that stays busy (a leaked reference) is reported every
/// [`IDLE_REPORT_SECS`] seconds rather than hanging the unmount silently.
pub(crate) fn break_layout_final<'a>(core: Core<'a>, inode: &'a Inode, storage: &impl Storage<'a>) {
    let mapping = inode.mapping();
    if !mapping.is_dax() {
        return;
    }
    while let Some(page) = busy_page_range(core, mapping, 0, i64::MAX, storage) {
        while !page.wait_idle_timeout(msecs_to_jiffies(IDLE_REPORT_SECS * 1000)) {
            pr_warn!(
                "inode {} of {}: pfn {:#x} still busy (refcount {}, mapcount {}) after {}s at eviction\n",
                inode.ino(),
                inode.sb_id(),
                page.pfn(),
                page.refcount(),
                page.mapcount(),
                IDLE_REPORT_SECS
            );
        }
    }
    delete_range(core, mapping, 0, i64::MAX, storage);
}

/// Removes the DAX entry at `index` of `mapping` once it is unlocked, and
/// returns whether there was one; `trunc` is false for an invalidation,
/// which leaves a dirty entry (or one being written back) in place.
pub(crate) fn invalidate_entry<'a>(
    core: Core<'a>,
    mapping: &'a AddressSpace,
    index: usize,
    trunc: bool,
    storage: &impl Storage<'a>,
) -> bool {
    let Some(mut pages) = mapping.lock_dax_pages(index) else {
        return false;
    };
    let (slot, entry) = match entry::next_unlocked(core.table, &mut pages, 0) {
        Found::Unlocked(entry) => (Slot::Dax(entry), Some(entry)),
        Found::Free | Found::Conflict => (Slot::Empty, None),
        // (Warned about by `next_unlocked()`.)
        Found::Foreign(found) => (Slot::Foreign(found), None),
    };
    let removable = entry.filter(|_| trunc || !(pages.get_mark(DIRTY) || pages.get_mark(TOWRITE)));
    match removable {
        Some(entry) => remove(core, mapping, &mut pages, entry, trunc, storage),
        None => entry::put_unlocked(core.table, pages.as_state(), slot, WakeMode::All),
    }
    removable.is_some()
}

/// Clears the dirty and to-write marks of the DAX entries of `mapping` from
/// index `start` to index `end`, each once it is unlocked: their data was
/// written through the DAX device directly.
pub(crate) fn clear_dirty_range(core: Core<'_>, mapping: &AddressSpace, start: usize, end: usize) {
    let Some(mut pages) = mapping.lock_dax_pages(start) else {
        return;
    };
    let mut scanned = 0usize;
    while let Some(found) = pages.find(end) {
        let slot = entry::wait_unlocked_exclusive(core.table, &mut pages, Slot::of(found));
        if !matches!(slot.entry(), XaEntry::Value(_)) {
            continue;
        }
        pages.clear_mark(DIRTY);
        pages.clear_mark(TOWRITE);
        entry::put_unlocked(core.table, pages.as_state(), slot, WakeMode::Next);
        scanned += 1;
        if scanned % CHECK_SCHED == 0 {
            pages.pause();
            pages.unlocked(cond_resched);
        }
    }
}
