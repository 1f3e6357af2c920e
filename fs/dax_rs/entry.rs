// SPDX-License-Identifier: GPL-2.0

//! The DAX entries of a mapping's `i_pages`, and their locks.
//!
//! An entry is locked by storing it with its lock bit set: whoever finds it
//! locked sleeps on the wait queue its key hashes to, and the holder wakes
//! it when it stores the entry unlocked again (or removes it).  A PMD entry
//! is waited for by the index of its first page, so that every index in its
//! range waits for the same lock.

use kernel::{
    bug::warn_on_once,
    dax::{DaxContent, DaxEntry, DaxSize},
    fs::address_space::{AddressSpace, DaxPagesGuard, FolioDaxPages},
    mm::pgtable::PMD_ORDER,
    wait::{WaitKey, WaitMode, WaitTable, WakeMode},
    xarray::{XaCursor, XaEntry, XaState},
};

/// The index bits of a page inside its PMD.
const PG_PMD_COLOUR: usize = (1 << PMD_ORDER) - 1;

/// What a slot of a DAX mapping's `i_pages` holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Nothing.
    Empty,
    /// A DAX entry.
    Dax(DaxEntry),
    /// Something no DAX code stores (a bug elsewhere), kept as found so that
    /// it is handed back unchanged.
    Foreign(XaEntry),
}

impl Slot {
    /// Returns what `entry`, found in a DAX mapping, is.
    pub(crate) fn of(entry: XaEntry) -> Self {
        match entry {
            XaEntry::Empty => Self::Empty,
            XaEntry::Value(v) => match DaxEntry::from_value(v) {
                Ok(dax) => Self::Dax(dax),
                Err(_) => Self::Foreign(entry),
            },
            XaEntry::Pointer(_) | XaEntry::Internal => Self::Foreign(entry),
        }
    }

    /// Returns the entry as the XArray holds it.
    pub(crate) fn entry(self) -> XaEntry {
        match self {
            Self::Empty => XaEntry::Empty,
            Self::Dax(dax) => XaEntry::Value(dax.to_value()),
            Self::Foreign(entry) => entry,
        }
    }
}

/// What a search for an unlocked entry to take found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// The index is free.
    Free,
    /// An unlocked DAX entry, of the order asked for or larger.
    Unlocked(DaxEntry),
    /// A DAX entry of a smaller order than asked for lies in the range.
    Conflict,
    /// An entry that is not a DAX entry (warned about).
    Foreign(XaEntry),
}

/// Returns the key the waiters of `entry`, found at `index` of the XArray
/// at `xa`, wait for.
fn wait_key(xa: *const kernel::bindings::xarray, index: usize, entry: DaxEntry) -> WaitKey {
    let index = match entry.size() {
        DaxSize::Pmd => index & !PG_PMD_COLOUR,
        DaxSize::Pte => index,
    };
    WaitKey::new(xa, index)
}

/// Wakes the waiters of `entry`, which was at the cursor's index: all of
/// them, or the next exclusive one.  `entry` tells whether the index held a
/// PMD entry; it need not be there any more.
pub(crate) fn wake(table: &WaitTable, xas: &XaState<'_>, entry: DaxEntry, mode: WakeMode) {
    let key = wait_key(xas.array_ptr(), xas.index(), entry);
    // The entry was locked or stored under the XArray's lock, under which a
    // waiter queues itself before it sleeps: every task that saw the entry
    // locked is on the queue.
    table.queue(&key).wake(&key, mode);
}

/// Returns the first entry in the cursor's range once it is unlocked,
/// sleeping (as an exclusive waiter) while it is locked.  An entry of a
/// smaller order than `order` is a conflict.  Once it slept, the cursor may
/// have found a later entry of the range than the first.
///
/// Unless it locks the entry, the caller passes the result to
/// [`put_unlocked`], which passes the wake-up it may have had on.
pub(crate) fn next_unlocked(table: &WaitTable, xas: &mut XaCursor<'_>, order: u32) -> Found {
    loop {
        let entry = match Slot::of(xas.find_conflict()) {
            Slot::Empty => return Found::Free,
            Slot::Foreign(entry) => {
                warn_on_once(true);
                return Found::Foreign(entry);
            }
            Slot::Dax(entry) => entry,
        };
        if entry.order() < order {
            return Found::Conflict;
        }
        if !entry.is_locked() {
            return Found::Unlocked(entry);
        }
        let key = wait_key(xas.array_ptr(), xas.index(), entry);
        xas.sleep(table.queue(&key), key, WaitMode::Exclusive);
    }
}

/// Waits until `slot`, found at the cursor's index, is not a locked DAX
/// entry, and returns what the index holds then.  The cursor stays at its
/// index, so a scan of a range goes on after an entry that went away.
/// The caller passes the result to [`put_unlocked`].
pub(crate) fn wait_unlocked_exclusive(
    table: &WaitTable,
    xas: &mut XaCursor<'_>,
    mut slot: Slot,
) -> Slot {
    while let Slot::Dax(entry) = slot {
        if !entry.is_locked() {
            break;
        }
        let key = wait_key(xas.array_ptr(), xas.index(), entry);
        xas.sleep(table.queue(&key), key, WaitMode::Exclusive);
        slot = Slot::of(xas.load());
    }
    slot
}

/// Gives up an entry that [`next_unlocked`] or [`wait_unlocked_exclusive`]
/// found and the caller did not lock: wakes the next waiter (or all, as
/// `mode` says), which may have been woken in the caller's stead.
pub(crate) fn put_unlocked(table: &WaitTable, xas: &XaState<'_>, slot: Slot, mode: WakeMode) {
    if let Slot::Dax(entry) = slot {
        wake(table, xas, entry, mode);
    }
}

/// Stores `entry` locked at the cursor and returns what was there.
pub(crate) fn lock(xas: &mut XaCursor<'_>, entry: DaxEntry) -> XaEntry {
    // A store over an existing entry needs no memory; a failed one leaves
    // the slot as it was, and its error in the cursor for the caller.
    xas.store(Some(entry.locked().to_value()))
        .unwrap_or(XaEntry::Empty)
}

/// Unlocks the entry at the cursor, whose lock the caller holds, storing
/// `entry` unlocked, and wakes the next waiter.
pub(crate) fn unlock(table: &WaitTable, xas: &mut XaState<'_>, entry: DaxEntry) {
    let entry = entry.unlocked();
    // The lock was dropped since the cursor last walked.
    xas.reset();
    let old = xas.lock(|xas| xas.store(Some(entry.to_value())));
    let was_locked = matches!(old.map(Slot::of), Ok(Slot::Dax(old)) if old.is_locked());
    warn_on_once(!was_locked);
    wake(table, xas, entry, WakeMode::Next);
}

/// What locking the DAX entry of a folio or of a file index gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cookie {
    /// No entry could be locked: no DAX file holds the folio, or the slot
    /// holds something that is not a DAX entry.
    Failed,
    /// There was nothing to lock: device DAX memory, or a file index
    /// without storage (no entry, or a zero or empty one).
    Unlocked,
    /// The entry, stored locked; the caller unlocks it with this value.
    Locked(DaxEntry),
}

/// Locks the DAX entry that `pages`, locked by the caller at an index,
/// finds there, or sleeps until it is unlocked and returns `None` for the
/// caller to look again.  A DAX entry is locked if `lock_it` allows it;
/// otherwise the caller is told there is nothing to lock.
fn lock_found(
    table: &WaitTable,
    mut pages: DaxPagesGuard<'_>,
    lock_it: impl FnOnce(DaxEntry) -> bool,
) -> Option<Cookie> {
    match Slot::of(pages.load()) {
        Slot::Dax(entry) if entry.is_locked() => {
            let key = wait_key(pages.array_ptr(), pages.index(), entry);
            // The mapping may go once its lock is dropped: the caller finds
            // it again.
            pages.sleep_unlocked(table.queue(&key), key);
            None
        }
        Slot::Dax(entry) if lock_it(entry) => {
            lock(&mut pages, entry);
            Some(Cookie::Locked(entry))
        }
        Slot::Dax(_) | Slot::Empty => Some(Cookie::Unlocked),
        Slot::Foreign(_) => Some(Cookie::Failed),
    }
}

/// Locks the DAX entry of a folio: `lookup` finds the folio's mapping and,
/// for a DAX file, locks its `i_pages` at the folio's index, each time it
/// is called.  A file index without an entry locks nothing (`Failed`): a
/// DAX file's folio always has one while it is owned.
pub(crate) fn lock_folio<'a>(
    table: &WaitTable,
    mut lookup: impl FnMut() -> FolioDaxPages<'a>,
) -> Cookie {
    loop {
        let pages = match lookup() {
            FolioDaxPages::NotDax => return Cookie::Failed,
            FolioDaxPages::Device => return Cookie::Unlocked,
            FolioDaxPages::Locked(pages) => pages,
        };
        match lock_found(table, pages, |_| true) {
            Some(Cookie::Unlocked) => return Cookie::Failed,
            Some(cookie) => return cookie,
            None => continue,
        }
    }
}

/// Locks the DAX entry of `index` in `mapping`, if it has storage.
pub(crate) fn lock_mapping_entry(
    table: &WaitTable,
    mapping: &AddressSpace,
    index: usize,
) -> Cookie {
    loop {
        let Some(pages) = mapping.lock_dax_pages(index) else {
            return Cookie::Failed;
        };
        let storage = |entry: DaxEntry| matches!(entry.content(), DaxContent::Storage(_));
        if let Some(cookie) = lock_found(table, pages, storage) {
            return cookie;
        }
    }
}
