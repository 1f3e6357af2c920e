// SPDX-License-Identifier: GPL-2.0

//! The C entry points of the pmem pagemap, called by pmem.c.

use super::PmemPagemap;
use kernel::{
    bindings,
    ffi::c_void,
    mm::memremap::{EmbeddedRegistration, MemoryType},
    prelude::*,
};

type Registration = EmbeddedRegistration<PmemPagemap>;

/// Registers `pgmap`, the FS DAX pagemap of a pmem namespace whose disk data
/// starts at physical address `data_start`, and stores the registration in
/// `*handle`.  Returns the kernel address of the pagemap's range, or an
/// `ERR_PTR()`.
///
/// # Safety
///
/// `pgmap` is the namespace's `struct dev_pagemap`, not registered, with its
/// range and altmap filled in, over the namespace memory that the caller has
/// reserved; it stays valid and unused by the caller until the registration
/// is given to [`pmem_rs_unmap_pages`].  `handle` is valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn pmem_rs_map_pages(
    pgmap: *mut bindings::dev_pagemap,
    data_start: u64,
    handle: *mut *mut c_void,
) -> *mut c_void {
    let data = PmemPagemap::new(data_start);
    // SAFETY: The caller hands over the unregistered pagemap of memory it
    // owns, until `pmem_rs_unmap_pages()`.
    match unsafe { Registration::new(pgmap, MemoryType::FsDax, data, GFP_KERNEL) } {
        Ok(reg) => {
            let addr = reg.kernel_address();
            match KBox::new(reg, GFP_KERNEL) {
                Ok(reg) => {
                    // SAFETY: The caller gives a pointer valid for a write.
                    unsafe { *handle = KBox::into_raw(reg).cast() };
                    addr
                }
                Err(e) => Error::from(e).to_ptr(),
            }
        }
        Err(e) => e.to_ptr(),
    }
}

/// Tears down the pagemap registered by [`pmem_rs_map_pages`]: waits until no
/// page of it is referenced any more, then frees the registration.
///
/// # Safety
///
/// `handle` comes from [`pmem_rs_map_pages`] and is released once; no DAX
/// device is lent to it any more ([`pmem_rs_lend_dax`] with NULL).
#[no_mangle]
pub(crate) unsafe extern "C" fn pmem_rs_unmap_pages(handle: *mut c_void) {
    // SAFETY: `handle` is the registration boxed by `pmem_rs_map_pages()`,
    // released once, here.
    drop(unsafe { KBox::from_raw(handle.cast::<Registration>()) });
}

/// Lends the namespace's DAX device to the pagemap's memory-failure op, or
/// takes it back with NULL (which waits for a failure being forwarded).
///
/// # Safety
///
/// `handle` comes from [`pmem_rs_map_pages`] and is not released yet;
/// `dax_dev` is NULL or stays valid until it is taken back.
#[no_mangle]
pub(crate) unsafe extern "C" fn pmem_rs_lend_dax(
    handle: *mut c_void,
    dax_dev: *mut bindings::dax_device,
) {
    // SAFETY: `handle` is a live registration (the caller's contract); only
    // shared references are made to it.
    let reg = unsafe { &*handle.cast::<Registration>() };
    // SAFETY: The caller keeps the device valid until it is taken back.
    unsafe { reg.data().dax.set(dax_dev) };
}
