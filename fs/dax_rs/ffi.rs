// SPDX-License-Identifier: GPL-2.0

//! The C entry points: the entry locking functions that `fs/dax.c` calls,
//! under the names and with the contracts of the C versions it leaves out
//! (declared in `fs/dax_rs/dax_rs.h`).  Here the cursors and entries C
//! passes become the types of [`crate::entry`].

use crate::entry::{self, Cookie, Found, Slot};
use core::ffi::{c_uint, c_ulong, c_void};
use kernel::{
    bindings,
    bug::warn_on_once,
    dax::DaxContent,
    fs::address_space::{AddressSpace, DaxPages, DaxPagesGuard},
    wait::{WaitTable, WakeMode},
    xarray::{XaCursor, XaEntry, XaState},
};

/// `DAX_WAIT_TABLE_BITS` of `fs/dax_rs/dax_rs.h`.
const WAIT_TABLE_BITS: u32 = 12;

extern "C" {
    /// The DAX core's wait queues, defined and initialised by `fs/dax.c`.
    static mut dax_wait_table: [bindings::wait_queue_head; 1 << WAIT_TABLE_BITS];
}

/// The wait queues that DAX entry waiters sleep on.
// SAFETY: `fs/dax.c` defines `dax_wait_table` with `1 << WAIT_TABLE_BITS`
// queues and initialises them in an fs_initcall, before any filesystem can
// have a DAX entry; only this crate queues waiters on them and wakes them,
// through `KeyedWaitQueue`.
pub(crate) static WAIT_TABLE: WaitTable = unsafe {
    WaitTable::from_raw(
        core::ptr::addr_of_mut!(dax_wait_table).cast(),
        WAIT_TABLE_BITS,
    )
};

/// `enum dax_wake_mode` of `fs/dax_rs/dax_rs.h`: `WAKE_ALL` is 0.
fn wake_mode(mode: c_uint) -> WakeMode {
    if mode == 0 {
        WakeMode::All
    } else {
        WakeMode::Next
    }
}

fn slot(entry: *mut c_void) -> Slot {
    Slot::of(XaEntry::from_raw(entry))
}

/// Wakes the waiters of `entry`, which was at `xas`'s index.
///
/// # Safety
///
/// `xas` is an initialised cursor into the `i_pages` of a DAX mapping,
/// valid for the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_wake_entry(
    xas: *mut bindings::xa_state,
    entry: *mut c_void,
    mode: c_uint,
) {
    // SAFETY: As the caller guarantees; its lock is not taken here.
    let xas = unsafe { XaState::from_raw(xas) };
    if let Slot::Dax(entry) = slot(entry) {
        entry::wake(&WAIT_TABLE, xas, entry, wake_mode(mode));
    }
}

/// Returns the first entry of `xas`'s range once it is unlocked: NULL for
/// none, `XA_RETRY_ENTRY` for an entry of an order below `order`.
///
/// # Safety
///
/// `xas` is an initialised cursor into the `i_pages` of a DAX mapping,
/// whose lock the caller holds; it is dropped and taken again to sleep.
#[no_mangle]
pub(crate) unsafe extern "C" fn get_next_unlocked_entry(
    xas: *mut bindings::xa_state,
    order: c_uint,
) -> *mut c_void {
    // SAFETY: As the caller guarantees.
    let xas = unsafe { XaCursor::from_raw(xas) };
    match entry::next_unlocked(&WAIT_TABLE, xas, order) {
        Found::Free => core::ptr::null_mut(),
        Found::Unlocked(entry) => XaEntry::Value(entry.to_value()).into_raw(),
        Found::Conflict => XaEntry::Internal.into_raw(),
        Found::Foreign(entry) => entry.into_raw(),
    }
}

/// Waits until `entry`, found at `xas`'s index, is unlocked; returns what
/// the index holds then, or NULL if that is not a value entry.
///
/// # Safety
///
/// As for [`get_next_unlocked_entry`].
#[no_mangle]
pub(crate) unsafe extern "C" fn wait_entry_unlocked_exclusive(
    xas: *mut bindings::xa_state,
    entry: *mut c_void,
) -> *mut c_void {
    // SAFETY: As the caller guarantees.
    let xas = unsafe { XaCursor::from_raw(xas) };
    match entry::wait_unlocked_exclusive(&WAIT_TABLE, xas, slot(entry)).entry() {
        entry @ XaEntry::Value(_) => entry.into_raw(),
        _ => core::ptr::null_mut(),
    }
}

/// Gives up `entry`, found unlocked and not locked by the caller.
///
/// # Safety
///
/// As for [`dax_wake_entry`].
#[no_mangle]
pub(crate) unsafe extern "C" fn put_unlocked_entry(
    xas: *mut bindings::xa_state,
    entry: *mut c_void,
    mode: c_uint,
) {
    // SAFETY: As the caller guarantees; its lock is not taken here.
    let xas = unsafe { XaState::from_raw(xas) };
    entry::put_unlocked(&WAIT_TABLE, xas, slot(entry), wake_mode(mode));
}

/// Stores `entry` unlocked at `xas`'s index, where it is locked by the
/// caller, and wakes the next waiter.
///
/// # Safety
///
/// `xas` is an initialised cursor into the `i_pages` of a DAX mapping,
/// valid for the call, whose lock the caller does not hold.
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_unlock_entry(xas: *mut bindings::xa_state, entry: *mut c_void) {
    // SAFETY: As the caller guarantees.
    let xas = unsafe { XaState::from_raw(xas) };
    match slot(entry) {
        Slot::Dax(entry) => entry::unlock(&WAIT_TABLE, xas, entry),
        Slot::Empty | Slot::Foreign(_) => {
            warn_on_once(true);
        }
    }
}

/// Stores `entry` locked at `xas`'s index; returns what was there.
///
/// # Safety
///
/// As for [`get_next_unlocked_entry`].
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_lock_entry(
    xas: *mut bindings::xa_state,
    entry: *mut c_void,
) -> *mut c_void {
    // SAFETY: As the caller guarantees.
    let xas = unsafe { XaCursor::from_raw(xas) };
    match slot(entry) {
        Slot::Dax(entry) => entry::lock(xas, entry).into_raw(),
        Slot::Empty | Slot::Foreign(_) => {
            warn_on_once(true);
            core::ptr::null_mut()
        }
    }
}

/// `dax_entry_t` for a cookie: 0 for none, `~0UL` for nothing locked, or
/// the entry (as its XArray pointer) that was locked.
fn cookie_value(cookie: Cookie) -> c_ulong {
    match cookie {
        Cookie::Failed => 0,
        Cookie::Unlocked => !0,
        Cookie::Locked(entry) => XaEntry::Value(entry.to_value()).into_raw() as c_ulong,
    }
}

/// Unlocks the entry `cookie` at the cursor of `pages`.
fn unlock_cookie(pages: Option<DaxPages<'_>>, cookie: c_ulong) {
    // The cookie is an entry pointer of `i_pages`, only decoded.
    match (pages, slot(cookie as *mut c_void)) {
        (Some(mut pages), Slot::Dax(entry)) => entry::unlock(&WAIT_TABLE, &mut pages, entry),
        _ => {
            warn_on_once(true);
        }
    }
}

/// Locks the DAX entry of `folio` (see `include/linux/dax.h`).
///
/// # Safety
///
/// `folio` is a valid folio for the call (its pagemap is held).
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_lock_folio(folio: *mut bindings::folio) -> c_ulong {
    // SAFETY: The folio is valid for the call, as the caller guarantees.
    let lookup = || unsafe { DaxPagesGuard::lock_folio(folio) };
    cookie_value(entry::lock_folio(&WAIT_TABLE, lookup))
}

/// Unlocks the DAX entry of `folio` that [`dax_lock_folio`] locked.
///
/// # Safety
///
/// `folio` is a valid folio whose DAX entry the caller locked with
/// [`dax_lock_folio`], which returned `cookie`.
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_unlock_folio(folio: *mut bindings::folio, cookie: c_ulong) {
    // SAFETY: The caller holds the lock of the folio's DAX entry, which
    // keeps the folio in its mapping, and the mapping alive.
    match unsafe { DaxPages::of_folio(folio) } {
        // Device DAX memory: nothing was locked.
        None if cookie == !0 => {}
        pages => unlock_cookie(pages, cookie),
    }
}

/// Locks the DAX entry of `index` in `mapping` if it has storage, and
/// gives its page in `page` (see `include/linux/dax.h`).
///
/// # Safety
///
/// `mapping` is a valid mapping whose inode the caller holds, and `page`
/// is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_lock_mapping_entry(
    mapping: *mut bindings::address_space,
    index: usize,
    page: *mut *mut bindings::page,
) -> c_ulong {
    // SAFETY: The caller holds the inode of `mapping`.
    let mapping = unsafe { AddressSpace::from_raw(mapping) };
    let cookie = entry::lock_mapping_entry(&WAIT_TABLE, mapping, index);
    if let Cookie::Locked(entry) = cookie {
        if let DaxContent::Storage(pfn) = entry.content() {
            // SAFETY: `page` is valid for writes; `pfn` is the storage of a
            // DAX entry, a page of the filesystem's DAX device, which has a
            // memory map.
            unsafe { *page = bindings::pfn_to_page(pfn) };
        }
    }
    cookie_value(cookie)
}

/// Unlocks the DAX entry of `index` in `mapping` that
/// [`dax_lock_mapping_entry`] locked.
///
/// # Safety
///
/// As for [`dax_lock_mapping_entry`]; the caller holds the lock of the
/// entry, taken with [`dax_lock_mapping_entry`], which returned `cookie`.
#[no_mangle]
pub(crate) unsafe extern "C" fn dax_unlock_mapping_entry(
    mapping: *mut bindings::address_space,
    index: usize,
    cookie: c_ulong,
) {
    if cookie == !0 {
        return;
    }
    // SAFETY: The caller holds the inode of `mapping`.
    let mapping = unsafe { AddressSpace::from_raw(mapping) };
    unlock_cookie(mapping.dax_pages(index), cookie);
}
