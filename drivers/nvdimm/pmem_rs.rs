// SPDX-License-Identifier: GPL-2.0

//! The FS DAX pagemap of a pmem namespace.
//!
//! With `CONFIG_DAX_RUST`, pmem.c registers the memory map of an fsdax
//! namespace through this file rather than its own C code: the pagemap's
//! page-free op tells the DAX core that a page became idle, and its
//! memory-failure op forwards a failure to the holder of the namespace's DAX
//! device (the file system on it), with the pfns turned into an offset on the
//! disk.  The C code still fills in the pagemap's ranges and altmap (from
//! the namespace's info block) and owns the namespace's memory.
//!
//! The C entry points are in `pmem_rs/ffi.rs`; this file has no `unsafe`.

use kernel::{
    dax::{fsdax_page_free, DaxDeviceLink},
    mm::memremap::{DevPagemapOps, FreePage},
    page::PAGE_SIZE,
    prelude::*,
};

#[path = "pmem_rs/ffi.rs"]
mod ffi;

/// The driver data of a pmem namespace's FS DAX pagemap.
#[pin_data]
struct PmemPagemap {
    /// Physical address of the disk's first byte (the namespace's start plus
    /// its info block and, with `--map=dev`, its memory map).
    data_start: u64,
    /// The namespace's DAX device, once pmem.c has allocated it.
    #[pin]
    dax: DaxDeviceLink,
}

impl PmemPagemap {
    fn new(data_start: u64) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            data_start,
            dax <- DaxDeviceLink::new(),
        })
    }

    /// Returns the byte offset on the disk and the length of `nr_pages` pages
    /// from page frame `pfn`; `ENXIO` for pages before the disk's data (the
    /// info block or memory map) or a range that overflows.
    fn disk_range(&self, pfn: usize, nr_pages: usize) -> Result<(u64, u64)> {
        let page_size = u64::try_from(PAGE_SIZE)?;
        let phys = u64::try_from(pfn)?.checked_mul(page_size).ok_or(ENXIO)?;
        let offset = phys.checked_sub(self.data_start).ok_or(ENXIO)?;
        let len = u64::try_from(nr_pages)?
            .checked_mul(page_size)
            .ok_or(ENXIO)?;
        offset.checked_add(len).ok_or(ENXIO)?;
        Ok((offset, len))
    }
}

#[vtable]
impl DevPagemapOps for PmemPagemap {
    fn page_free(&self, page: &FreePage) {
        fsdax_page_free(page);
    }

    fn memory_failure(&self, pfn: usize, nr_pages: usize, mf_flags: i32) -> Result {
        let (offset, len) = self.disk_range(pfn, nr_pages)?;
        self.dax
            .with(|dax| dax.notify_failure(offset, len, mf_flags))
            .unwrap_or(Err(ENXIO))
    }
}
