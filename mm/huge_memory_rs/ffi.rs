// SPDX-License-Identifier: GPL-2.0

//! The C entry points: the exported functions of `include/linux/mm.h` and
//! `include/linux/huge_mm.h`, whose C versions `CONFIG_DAX_RUST` leaves out.
//! Here the pointers C passes become references, on the contract those
//! functions have with their callers.

use kernel::{
    bindings,
    mm::{folio::Folio, virt::VmFault},
};

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
use kernel::mm::virt::{HugeFault, PmdLevel};

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
use kernel::mm::virt::PudLevel;

/// Maps a referenced page from a fault handler (see `mm/memory.c`).
///
/// # Safety
///
/// As for the C function: `vmf` is a fault its caller is handling, with the
/// mmap or VMA lock held, and the caller holds a reference to the folio of
/// `page` for the duration of the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn vmf_insert_page_mkwrite(
    vmf: *mut bindings::vm_fault,
    page: *mut bindings::page,
    write: bool,
) -> bindings::vm_fault_t {
    // SAFETY: The caller is handling `vmf` for the whole call.
    let vmf = unsafe { VmFault::from_raw(vmf) };
    // SAFETY: The caller holds a reference to the folio of `page`.
    let (folio, index) = unsafe { Folio::from_page(page) };
    crate::insert::page_mkwrite(vmf, folio, index, write).as_raw()
}

/// Maps a referenced PMD-sized folio from a huge fault handler (see
/// `mm/huge_memory.c`).
///
/// # Safety
///
/// As for the C function: `vmf` is a fault its caller is handling, with the
/// mmap or VMA lock held and `vmf->pmd` set, whose PMD range around the
/// address lies inside the VMA and matches the file offset (FS DAX checks this in
/// `dax_fault_check_fallback()`, device DAX in its alignment checks); the
/// caller holds a reference to `folio` for the duration of the call.
#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
#[no_mangle]
pub(crate) unsafe extern "C" fn vmf_insert_folio_pmd(
    vmf: *mut bindings::vm_fault,
    folio: *mut bindings::folio,
    write: bool,
) -> bindings::vm_fault_t {
    // SAFETY: The caller is handling `vmf` for the whole call.
    let vmf = unsafe { VmFault::from_raw(vmf) };
    // SAFETY: The caller holds a reference to `folio`.
    let folio = unsafe { Folio::from_raw(folio) };
    // SAFETY: The caller made the checks of a PMD mapping (above).
    let huge = unsafe { HugeFault::<PmdLevel>::new_unchecked(vmf) };
    crate::insert::folio_pmd(&huge, folio, write).as_raw()
}

/// Maps a referenced PUD-sized folio from a huge fault handler (see
/// `mm/huge_memory.c`).
///
/// # Safety
///
/// As for [`vmf_insert_folio_pmd`], at the PUD level (`vmf->pud` set; device
/// DAX is the caller).
#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
#[no_mangle]
pub(crate) unsafe extern "C" fn vmf_insert_folio_pud(
    vmf: *mut bindings::vm_fault,
    folio: *mut bindings::folio,
    write: bool,
) -> bindings::vm_fault_t {
    // SAFETY: The caller is handling `vmf` for the whole call.
    let vmf = unsafe { VmFault::from_raw(vmf) };
    // SAFETY: The caller holds a reference to `folio`.
    let folio = unsafe { Folio::from_raw(folio) };
    // SAFETY: The caller made the checks of a PUD mapping (above).
    let huge = unsafe { HugeFault::<PudLevel>::new_unchecked(vmf) };
    crate::insert::folio_pud(&huge, folio, write).as_raw()
}
