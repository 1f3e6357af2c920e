// SPDX-License-Identifier: GPL-2.0

//! The refcounted inserts, on the page table slots of `kernel::mm::map`.
//!
//! Each returns `NOPAGE` when the entry maps the folio afterwards, and also
//! when it found another entry there, which it leaves alone: the fault is
//! then retried.  Write faults upgrade an entry that already maps the
//! folio.  A write fault that finds something other than the folio (or the
//! zero page a hole left) means the caller's serialisation failed, and is
//! warned about as in C.

use kernel::{
    bug::warn_on_once,
    error::code::*,
    mm::{
        folio::Folio,
        virt::{flags, VmFault, VmFaultReason},
    },
};

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
use kernel::mm::{
    map::DepositTable,
    pgtable::PMD_ORDER,
    virt::{HugeFault, PmdLevel},
};

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
use kernel::mm::{pgtable::PUD_ORDER, virt::PudLevel};

/// `vmf_insert_page_mkwrite()`: maps page `index` of `folio` at the faulting
/// address, or upgrades the entry that maps it for a `write` fault.
pub(crate) fn page_mkwrite(
    vmf: &VmFault,
    folio: &Folio,
    index: usize,
    write: bool,
) -> VmFaultReason {
    let vma = vmf.vma();
    let addr = vmf.address();
    if addr < vma.start() || addr >= vma.end() || vma.flags() & flags::PFNMAP != 0 {
        return VmFaultReason::SIGBUS;
    }
    let zero = folio.is_zero();
    let mappable = if zero {
        !vma.zero_page_forbidden() && !write
    } else {
        folio.is_file_mappable()
    };
    if !mappable || (write && !vma.is_shared()) {
        return VmFaultReason::SIGBUS;
    }
    let Ok(mut slot) = vmf.lock_pte_slot() else {
        return VmFaultReason::OOM;
    };
    let r = if !slot.is_none() {
        let mapped = slot.entry();
        if !write {
            Err(EBUSY)
        } else if mapped.pfn() != folio.pfn() + index {
            warn_on_once(!mapped.is_zero_page());
            Err(EBUSY)
        } else {
            slot.upgrade_write()
        }
    } else if zero {
        slot.set_zero_page(folio)
    } else {
        slot.set_folio_page(folio, index, write)
    };
    drop(slot);
    match r {
        Ok(()) => VmFaultReason::NOPAGE,
        Err(e) if e == EBUSY => VmFaultReason::NOPAGE,
        Err(e) if e == ENOMEM => VmFaultReason::OOM,
        Err(_) => VmFaultReason::SIGBUS,
    }
}

/// `vmf_insert_folio_pmd()`: maps `folio`, of PMD order, over the PMD range
/// of the fault, or upgrades the entry that maps it for a `write` fault.
#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
pub(crate) fn folio_pmd(
    huge: &HugeFault<'_, PmdLevel>,
    folio: &Folio,
    write: bool,
) -> VmFaultReason {
    let vma = huge.vmf().vma();
    let addr = huge.start();
    if addr < vma.start() || addr >= vma.end() {
        return VmFaultReason::SIGBUS;
    }
    if warn_on_once(folio.order() != PMD_ORDER) {
        return VmFaultReason::SIGBUS;
    }
    if !folio.is_file_mappable()
        || vma.flags() & flags::PFNMAP != 0
        || !vma.huge_entries_hold_folios()
        || (write && !vma.is_shared())
    {
        return VmFaultReason::SIGBUS;
    }
    let mut deposit = None;
    if DepositTable::needed() {
        match DepositTable::alloc(vma) {
            Ok(table) => deposit = Some(table),
            Err(_) => return VmFaultReason::OOM,
        }
    }
    let mut slot = huge.lock();
    if slot.is_none() {
        // Cannot fail: the folio, the VMA and the deposit were checked above.
        let _ = slot.set_folio(folio, write, &mut deposit);
    } else if write {
        if slot.entry().pfn() != folio.pfn() {
            warn_on_once(!slot.is_huge_zero());
        } else {
            // Cannot fail for the leaf that maps the folio in a shared VMA.
            let _ = slot.upgrade_write();
        }
    }
    drop(slot);
    // A table that was not deposited is freed, outside the PMD lock.
    drop(deposit);
    VmFaultReason::NOPAGE
}

/// `vmf_insert_folio_pud()`: maps `folio`, of PUD order, over the PUD range
/// of the fault, or upgrades the entry that maps it for a `write` fault.
#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
pub(crate) fn folio_pud(
    huge: &HugeFault<'_, PudLevel>,
    folio: &Folio,
    write: bool,
) -> VmFaultReason {
    let vma = huge.vmf().vma();
    let addr = huge.start();
    if addr < vma.start() || addr >= vma.end() {
        return VmFaultReason::SIGBUS;
    }
    if warn_on_once(folio.order() != PUD_ORDER) {
        return VmFaultReason::SIGBUS;
    }
    if !folio.is_file_mappable()
        || vma.flags() & flags::PFNMAP != 0
        || !vma.huge_entries_hold_folios()
        || (write && !vma.is_shared())
    {
        return VmFaultReason::SIGBUS;
    }
    let mut slot = huge.lock();
    if slot.is_none() {
        // Cannot fail: the folio and the VMA were checked above.
        let _ = slot.set_folio(folio, write);
    } else if write && !warn_on_once(slot.entry().pfn() != folio.pfn()) {
        // Cannot fail for the leaf that maps the folio in a shared VMA.
        let _ = slot.upgrade_write();
    }
    VmFaultReason::NOPAGE
}
