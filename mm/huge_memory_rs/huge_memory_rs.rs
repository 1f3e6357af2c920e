// SPDX-License-Identifier: GPL-2.0

//! The refcounted inserts of DAX memory, in Rust.
//!
//! `vmf_insert_page_mkwrite()`, `vmf_insert_folio_pmd()` and
//! `vmf_insert_folio_pud()` map a referenced folio from a fault handler with
//! an entry that holds its own folio reference, a file rmap and file RSS, as
//! core mm's file faults do.  FS DAX and device DAX map all their memory
//! through them.  This crate implements them, under the same names and with
//! the same behaviour as the C versions in `mm/memory.c` and
//! `mm/huge_memory.c`, which `CONFIG_DAX_RUST` leaves out.
//!
//! The logic is in [`insert`], in safe Rust on the page table slots of
//! `kernel::mm::map`; `ffi` holds the C entry points, where the pointers C
//! passes become references.
//!
//! Lock order: the caller holds the mmap lock (or the VMA lock) for the
//! fault; the page table lock is taken inside, and nothing sleeps under it.
//! A page table to deposit under a huge PMD is allocated before the PMD
//! lock is taken and freed after it is dropped when unused.

mod ffi;
mod insert;
