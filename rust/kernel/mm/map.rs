// SPDX-License-Identifier: GPL-2.0

//! Filling the page table entries of a fault with referenced folios.
//!
//! An entry that maps a folio holds a folio reference, a file rmap and file
//! RSS, which the zap and split paths give back; an entry of the zero page
//! holds none of them and is marked special.  The slots here ([`PteSlot`],
//! [`PmdSlot`], [`PudSlot`]) are the entries of a fault, locked; they only
//! offer operations that keep the entry and its folio's accounting in step.
//! They are the building blocks of `vmf_insert_page_mkwrite()`,
//! `vmf_insert_folio_pmd()` and `vmf_insert_folio_pud()`.
//!
//! C headers: [`include/linux/mm.h`](srctree/include/linux/mm.h),
//! [`include/linux/pgtable.h`](srctree/include/linux/pgtable.h),
//! [`include/linux/rmap.h`](srctree/include/linux/rmap.h)

use crate::{
    bindings,
    error::{code::*, Result},
    mm::{
        folio::Folio,
        pgtable::{Pmd, Pte, PMD_ORDER},
        virt::{flags, HugeFault, PmdLevel, VmArea, VmFault, VmFaultReason},
    },
};
use core::{marker::PhantomData, ptr::NonNull};

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
use crate::mm::{
    pgtable::{Pud, PUD_ORDER},
    virt::PudLevel,
};

impl Folio {
    /// Returns whether this is the shared zero page's folio.
    #[inline]
    pub fn is_zero(&self) -> bool {
        // SAFETY: By the type invariant the folio is valid.
        unsafe { bindings::is_zero_folio(self.as_raw()) }
    }

    /// Returns whether the folio may be mapped into a file VMA with a page
    /// table entry that references it: memory of a file or a device, not
    /// anonymous memory, a slab, a typed page (page tables and the like), or
    /// the zero page or huge zero folio (which are mapped without a
    /// reference).
    pub fn is_file_mappable(&self) -> bool {
        let f = self.as_raw();
        // SAFETY: By the type invariant the folio is valid; the helpers read
        // its flags and its first page's type.
        let other = unsafe {
            bindings::folio_test_anon(f)
                || bindings::folio_test_slab(f)
                || bindings::page_has_type(bindings::folio_page(f, 0).cast_const())
                || bindings::is_huge_zero_folio(f)
        };
        !other && !self.is_zero()
    }
}

impl Pte {
    /// Returns whether the entry maps the shared zero page.
    pub fn is_zero_page(self) -> bool {
        // SAFETY: The helper only compares the page frame number.
        self.is_present() && unsafe { bindings::is_zero_pfn(self.pfn()) }
    }
}

impl VmArea {
    /// Returns whether core mm gives the huge entries of the VMA back as
    /// folios when it zaps or splits them: not in a file's `VM_PFNMAP` or
    /// `VM_MIXEDMAP` VMA (`vma_is_special_huge()`), whose huge entries it
    /// takes for raw pfns, unless the VMA is DAX.
    #[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
    pub fn huge_entries_hold_folios(&self) -> bool {
        // SAFETY: By the type invariant the VMA, its file and flags are stable.
        self.is_dax() || !unsafe { bindings::vma_is_special_huge(self.as_raw()) }
    }

    /// Returns whether the VMA forbids the shared zero page in its entries
    /// (`vm_mixed_zeropage_allowed()` is false): a writable shared mapping
    /// whose zero pages could be pinned by GUP and then replaced, unless it is
    /// an FS DAX or `VM_IO` mapping with a `pfn_mkwrite` handler.
    pub fn zero_page_forbidden(&self) -> bool {
        // SAFETY: By the type invariant the VMA, its mm and its operations
        // are stable; the helper reads them.
        if unsafe { bindings::mm_forbids_zeropage(self.mm_raw()) } {
            return true;
        }
        let f = self.flags();
        let cow = f & flags::SHARED == 0 && f & flags::MAYWRITE != 0;
        if cow || f & (flags::WRITE | flags::MAYWRITE) == 0 {
            return false;
        }
        // SAFETY: As above; `vm_ops` is NULL or a static table of callbacks.
        let pfn_mkwrite = unsafe {
            let ops = (*self.as_raw()).vm_ops;
            !ops.is_null() && (*ops).pfn_mkwrite.is_some()
        };
        // SAFETY: As above.
        let fsdax = unsafe { bindings::vma_is_fsdax(self.as_raw()) };
        !(pfn_mkwrite && (fsdax || f & flags::IO != 0))
    }
}

/// A page table entry, allocated if needed, mapped and locked for a fault
/// (`get_locked_pte()` at its address); unlocked when dropped.
///
/// # Invariants
///
/// `pte` is the entry of `vmf`'s address in its VMA's mm, mapped, and its
/// page table lock `ptl` is held by this slot.
#[must_use = "the page table is unlocked when the slot is dropped"]
pub struct PteSlot<'a> {
    vmf: &'a VmFault,
    pte: NonNull<bindings::pte_t>,
    ptl: *mut bindings::spinlock_t,
}

impl VmFault {
    /// Maps page `index` of `folio` at the faulting address
    /// (`vmf_insert_page_mkwrite()`): the entry takes its own reference, a
    /// file rmap and file RSS.  A `write` fault makes the entry young, dirty
    /// and writable (in a shared, writable VMA), also when it finds the page
    /// already mapped there; a fault that finds another page mapped leaves
    /// it and returns [`VmFaultReason::NOPAGE`], to be retried.
    ///
    /// `SIGBUS` for an `index` outside the folio, a folio that cannot be
    /// mapped this way, a `write` to the zero page or in a private VMA;
    /// `OOM` if no page table could be allocated.
    pub fn insert_page(&self, folio: &Folio, index: usize, write: bool) -> VmFaultReason {
        if index >= folio.nr_pages() {
            return VmFaultReason::SIGBUS;
        }
        // SAFETY: By the type invariant the fault is being handled; `folio` is
        // referenced for the duration of the call and `index` is inside it.
        VmFaultReason::from_insert(unsafe {
            bindings::vmf_insert_page_mkwrite(
                self.as_raw(),
                bindings::folio_page(folio.as_raw(), index),
                write,
            )
        })
    }

    /// Locks the page table entry of the faulting address, allocating the
    /// page tables down to it if needed.  `ENOMEM` if a table cannot be
    /// allocated (or a huge entry is in the way, as `get_locked_pte()`
    /// reports it).
    pub fn lock_pte_slot(&self) -> Result<PteSlot<'_>> {
        let mut ptl = core::ptr::null_mut();
        // SAFETY: By the type invariants the fault's VMA is locked, so its mm
        // is alive and its page tables may be allocated and walked; `ptl` is
        // valid for writes.
        let pte =
            unsafe { bindings::get_locked_pte(self.vma().mm_raw(), self.address(), &mut ptl) };
        let pte = NonNull::new(pte).ok_or(ENOMEM)?;
        // INVARIANT: `get_locked_pte()` mapped the entry and took its lock.
        Ok(PteSlot {
            vmf: self,
            pte,
            ptl,
        })
    }
}

impl PteSlot<'_> {
    /// Returns the entry.
    pub fn entry(&self) -> Pte {
        // SAFETY: By the type invariant the entry is mapped and locked.
        Pte::from_raw(unsafe { bindings::ptep_get(self.pte.as_ptr()) })
    }

    /// Returns whether the entry is empty.
    pub fn is_none(&self) -> bool {
        // SAFETY: The helper only looks at the value.
        unsafe { bindings::pte_none(self.entry().as_raw()) }
    }

    /// Maps page `index` of `folio` with the empty entry, with the VMA's
    /// protection: the entry takes its own folio reference, a file rmap and
    /// file RSS.  With `write`, the entry is young, dirty and (if the VMA is
    /// writable) writable.
    ///
    /// Fails with `EBUSY` if the entry is not empty; `EINVAL` for a folio
    /// that cannot be mapped this way (see [`Folio::is_file_mappable`]), an
    /// `index` outside it, a VMA of raw page frames (`VM_PFNMAP`), or a
    /// `write` mapping of a private VMA (which must copy instead).
    pub fn set_folio_page(&mut self, folio: &Folio, index: usize, write: bool) -> Result {
        let vma = self.vmf.vma();
        if !self.is_none() {
            return Err(EBUSY);
        }
        if !folio.is_file_mappable()
            || index >= folio.nr_pages()
            || vma.flags() & flags::PFNMAP != 0
            || (write && !vma.is_shared())
        {
            return Err(EINVAL);
        }
        // SAFETY: The folio is valid and referenced (type invariant of
        // `Folio`), `index` is inside it, and it is memory that may be mapped
        // with a reference (checked above).  The entry is empty and locked (type
        // invariant), so the reference, rmap and RSS added here belong to the
        // entry set under the same lock, which zapping it gives back.
        unsafe {
            let f = folio.as_raw();
            let page = bindings::folio_page(f, index);
            bindings::flush_dcache_folio(f);
            bindings::folio_get(f);
            bindings::inc_mm_counter(vma.mm_raw(), bindings::mm_counter_file(f));
            bindings::folio_add_file_rmap_pte(f, page, vma.as_raw());
            let mut entry = bindings::mk_pte(page, vma.page_prot_raw());
            if write {
                entry = bindings::pte_mkyoung(bindings::pte_mkdirty(entry));
                entry = bindings::maybe_mkwrite(entry, vma.as_raw());
            }
            bindings::set_pte_at(vma.mm_raw(), self.vmf.address(), self.pte.as_ptr(), entry);
            if write {
                bindings::update_mmu_cache(vma.as_raw(), self.vmf.address(), self.pte.as_ptr());
            }
        }
        Ok(())
    }

    /// Maps `zero`, the shared zero page's folio, read-only with the empty
    /// entry: a special entry, with no reference, rmap or RSS.
    ///
    /// Fails with `EBUSY` if the entry is not empty, `EINVAL` if `zero` is not
    /// the zero page, or if the VMA may not hold it (see
    /// [`VmArea::zero_page_forbidden`]) or maps raw page frames.
    pub fn set_zero_page(&mut self, zero: &Folio) -> Result {
        let vma = self.vmf.vma();
        if !self.is_none() {
            return Err(EBUSY);
        }
        if !zero.is_zero() || vma.flags() & flags::PFNMAP != 0 || vma.zero_page_forbidden() {
            return Err(EINVAL);
        }
        let addr = self.vmf.address();
        // SAFETY: The entry is empty and locked (type invariant); the zero page
        // is never freed and a special entry holds nothing of it.
        unsafe {
            let page = bindings::folio_page(zero.as_raw(), 0);
            let entry = bindings::pte_mkspecial(bindings::mk_pte(page, vma.page_prot_raw()));
            bindings::set_pte_at(vma.mm_raw(), addr, self.pte.as_ptr(), entry);
        }
        Ok(())
    }

    /// Makes the present entry young and dirty, and writable if the VMA is
    /// (a write fault that found its page mapped read-only).  `EINVAL` if
    /// the entry is not present, or if it maps the zero page or the VMA is
    /// private (neither may become writable).
    pub fn upgrade_write(&mut self) -> Result {
        let vma = self.vmf.vma();
        let old = self.entry();
        // SAFETY: The helper only looks at the value.
        if !old.is_present() || !vma.is_shared() || unsafe { bindings::is_zero_pfn(old.pfn()) } {
            return Err(EINVAL);
        }
        let addr = self.vmf.address();
        // SAFETY: The entry is present, mapped and locked (type invariant); only
        // its access bits change, which keeps what it maps and accounts.
        unsafe {
            let entry = bindings::maybe_mkwrite(
                bindings::pte_mkdirty(bindings::pte_mkyoung(old.as_raw())),
                vma.as_raw(),
            );
            if bindings::ptep_set_access_flags(vma.as_raw(), addr, self.pte.as_ptr(), entry, 1) != 0
            {
                bindings::update_mmu_cache(vma.as_raw(), addr, self.pte.as_ptr());
            }
        }
        Ok(())
    }
}

impl Drop for PteSlot<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the entry is mapped and locked; both are
        // undone once, here.
        unsafe { bindings::pte_unmap_unlock(self.pte.as_ptr(), self.ptl) };
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
/// A page table page set aside for a huge PMD entry, on architectures that
/// keep one deposited under every huge PMD (`arch_needs_pgtable_deposit()`)
/// to split it later without allocating; freed when dropped unused.
///
/// # Invariants
///
/// `table` was allocated by `pte_alloc_one()` for `mm`, which outlives it,
/// and is owned by this value.
pub struct DepositTable<'a> {
    mm: *mut bindings::mm_struct,
    table: bindings::pgtable_t,
    _mm: PhantomData<&'a VmArea>,
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl<'a> DepositTable<'a> {
    /// Returns whether the architecture deposits a page table under huge
    /// PMDs.
    pub fn needed() -> bool {
        // SAFETY: The helper reads a constant of the architecture.
        unsafe { bindings::arch_needs_pgtable_deposit() }
    }

    /// Allocates a page table page for the mm of `vma`; `ENOMEM` if none
    /// can be had.
    pub fn alloc(vma: &'a VmArea) -> Result<Self> {
        let mm = vma.mm_raw();
        // SAFETY: `mm` is the live mm of a locked VMA.
        let table = unsafe { bindings::pte_alloc_one(mm) };
        if table.is_null() {
            return Err(ENOMEM);
        }
        // INVARIANT: Allocated for `mm` just now.
        Ok(Self {
            mm,
            table,
            _mm: PhantomData,
        })
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl Drop for DepositTable<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the table is ours and unused.
        unsafe { bindings::pte_free(self.mm, self.table) };
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
/// The PMD of a huge fault, under its lock (`pmd_lock()`); unlocked when
/// dropped.
///
/// # Invariants
///
/// `pmd` is the PMD of the fault `huge` proved a PMD mapping may serve, and
/// its lock `ptl` is held by this slot.
#[must_use = "the PMD is unlocked when the slot is dropped"]
pub struct PmdSlot<'a> {
    huge: &'a HugeFault<'a, PmdLevel>,
    pmd: NonNull<bindings::pmd_t>,
    ptl: *mut bindings::spinlock_t,
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl<'a> HugeFault<'a, PmdLevel> {
    /// Locks the PMD this fault would fill.
    pub fn lock(&'a self) -> PmdSlot<'a> {
        let pmd = self.pmd_ptr();
        // SAFETY: By the `HugeFault` invariant `pmd` is the fault's PMD, in the
        // mm of its locked VMA.
        let ptl = unsafe { bindings::pmd_lock(self.vmf().vma().mm_raw(), pmd.as_ptr()) };
        // INVARIANT: `pmd_lock()` took the lock of `pmd`.
        PmdSlot {
            huge: self,
            pmd,
            ptl,
        }
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl PmdSlot<'_> {
    /// Returns the entry.
    pub fn entry(&self) -> Pmd {
        // SAFETY: By the type invariant the PMD is locked and allocated.
        Pmd::from_raw(unsafe { bindings::pmdp_get(self.pmd.as_ptr()) })
    }

    /// Returns whether the entry is empty.
    pub fn is_none(&self) -> bool {
        // SAFETY: The helper only looks at the value.
        unsafe { bindings::pmd_none(self.entry().as_raw()) }
    }

    /// Returns whether the entry maps the huge zero folio.
    pub fn is_huge_zero(&self) -> bool {
        // SAFETY: The helper only looks at the value.
        unsafe { bindings::is_huge_zero_pmd(self.entry().as_raw()) }
    }

    /// Maps `folio`, of PMD order, with the empty entry and the VMA's
    /// protection: the entry takes its own folio reference, a PMD file rmap
    /// and file RSS.  With `write`, the entry is young, dirty and (if the VMA
    /// is writable) writable.  Where the architecture keeps a page table under
    /// each huge PMD ([`DepositTable::needed`]), the one in `deposit` is taken
    /// for it.
    ///
    /// Fails with `EBUSY` if the entry is not empty, `EINVAL` for a folio of
    /// another order or that cannot be mapped this way, a VMA whose huge
    /// entries core mm would not give back as folios (see
    /// [`VmArea::huge_entries_hold_folios`]) or that maps raw page frames, a
    /// missing deposit where one is needed, or a `write` mapping of a private
    /// VMA; `deposit` is left alone then.
    pub fn set_folio(
        &mut self,
        folio: &Folio,
        write: bool,
        deposit: &mut Option<DepositTable<'_>>,
    ) -> Result {
        let vma = self.huge.vmf().vma();
        if !self.is_none() {
            return Err(EBUSY);
        }
        if folio.order() != PMD_ORDER
            || !folio.is_file_mappable()
            || vma.flags() & flags::PFNMAP != 0
            || !vma.huge_entries_hold_folios()
            || (DepositTable::needed() && deposit.is_none())
            || (write && !vma.is_shared())
        {
            return Err(EINVAL);
        }
        let table = if DepositTable::needed() {
            deposit.take()
        } else {
            None
        };
        let addr = self.huge.start();
        let mm = vma.mm_raw();
        // SAFETY: The folio is valid, referenced and of PMD order, and may be
        // mapped with a reference (checked above).  By the `HugeFault`
        // invariant the PMD range at `addr` lies inside the VMA and matches its
        // file offset; the entry is empty and locked (type invariant), so the
        // reference, rmap and RSS added here belong to the entry set under the
        // same lock.  The deposited table is ours (its type invariant) and
        // belongs to the same mm; the PMD owns it from here on.
        unsafe {
            let f = folio.as_raw();
            bindings::folio_get(f);
            bindings::folio_add_file_rmap_pmd(f, bindings::folio_page(f, 0), vma.as_raw());
            bindings::add_mm_counter(mm, bindings::mm_counter_file(f), 1 << PMD_ORDER);
            let mut entry =
                bindings::pmd_mkhuge(bindings::pfn_pmd(folio.pfn(), vma.page_prot_raw()));
            if write {
                entry = bindings::pmd_mkyoung(bindings::pmd_mkdirty(entry));
                if vma.flags() & flags::WRITE != 0 {
                    entry = bindings::pmd_mkwrite(entry, vma.as_raw());
                }
            }
            if let Some(table) = table {
                let table = core::mem::ManuallyDrop::new(table);
                bindings::pgtable_trans_huge_deposit(mm, self.pmd.as_ptr(), table.table);
                bindings::mm_inc_nr_ptes(mm);
            }
            bindings::set_pmd_at(mm, addr, self.pmd.as_ptr(), entry);
            bindings::update_mmu_cache_pmd(vma.as_raw(), addr, self.pmd.as_ptr());
        }
        Ok(())
    }

    /// Makes the present huge entry young and dirty, and writable if the VMA
    /// is.  `EINVAL` if the entry is not a present leaf, maps the huge zero
    /// folio, or the VMA is private.
    pub fn upgrade_write(&mut self) -> Result {
        let vma = self.huge.vmf().vma();
        let old = self.entry();
        if !old.is_present() || !old.is_leaf() || self.is_huge_zero() || !vma.is_shared() {
            return Err(EINVAL);
        }
        let addr = self.huge.start();
        let mut entry = old.mkyoung().mkdirty();
        if vma.flags() & flags::WRITE != 0 {
            // SAFETY: The helper only computes on the value.
            entry = Pmd::from_raw(unsafe { bindings::pmd_mkwrite(entry.as_raw(), vma.as_raw()) });
        }
        // SAFETY: The entry is a present leaf and locked (type invariant); only
        // its access bits change.
        unsafe {
            if bindings::pmdp_set_access_flags(
                vma.as_raw(),
                addr,
                self.pmd.as_ptr(),
                entry.as_raw(),
                1,
            ) != 0
            {
                bindings::update_mmu_cache_pmd(vma.as_raw(), addr, self.pmd.as_ptr());
            }
        }
        Ok(())
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl Drop for PmdSlot<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held; it is released once.
        unsafe { bindings::spin_unlock(self.ptl) };
    }
}

/// The PUD of a huge fault, under its lock (`pud_lock()`); unlocked when
/// dropped.
///
/// # Invariants
///
/// `pud` is the PUD of the fault `huge` proved a PUD mapping may serve, and
/// its lock `ptl` is held by this slot.
#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
#[must_use = "the PUD is unlocked when the slot is dropped"]
pub struct PudSlot<'a> {
    huge: &'a HugeFault<'a, PudLevel>,
    pud: NonNull<bindings::pud_t>,
    ptl: *mut bindings::spinlock_t,
}

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
impl<'a> HugeFault<'a, PudLevel> {
    /// Locks the PUD this fault would fill.
    pub fn lock(&'a self) -> PudSlot<'a> {
        let pud = self.pud_ptr();
        // SAFETY: By the `HugeFault` invariant `pud` is the fault's PUD, in the
        // mm of its locked VMA.
        let ptl = unsafe { bindings::pud_lock(self.vmf().vma().mm_raw(), pud.as_ptr()) };
        // INVARIANT: `pud_lock()` took the lock of `pud`.
        PudSlot {
            huge: self,
            pud,
            ptl,
        }
    }
}

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
impl PudSlot<'_> {
    /// Returns the entry.
    pub fn entry(&self) -> Pud {
        // SAFETY: By the type invariant the PUD is locked and allocated.
        Pud::from_raw(unsafe { bindings::pudp_get(self.pud.as_ptr()) })
    }

    /// Returns whether the entry is empty.
    pub fn is_none(&self) -> bool {
        // SAFETY: The helper only looks at the value.
        unsafe { bindings::pud_none(self.entry().as_raw()) }
    }

    /// Maps `folio`, of PUD order, with the empty entry and the VMA's
    /// protection, as [`PmdSlot::set_folio`] does a PMD (PUDs have no
    /// deposited table).
    ///
    /// Fails with `EBUSY` if the entry is not empty, `EINVAL` for a folio of
    /// another order or that cannot be mapped this way, a VMA whose huge
    /// entries core mm would not give back as folios or that maps raw page
    /// frames, or a `write` mapping of a private VMA.
    pub fn set_folio(&mut self, folio: &Folio, write: bool) -> Result {
        let vma = self.huge.vmf().vma();
        if !self.is_none() {
            return Err(EBUSY);
        }
        if folio.order() != PUD_ORDER
            || !folio.is_file_mappable()
            || vma.flags() & flags::PFNMAP != 0
            || !vma.huge_entries_hold_folios()
            || (write && !vma.is_shared())
        {
            return Err(EINVAL);
        }
        let addr = self.huge.start();
        let mm = vma.mm_raw();
        // SAFETY: As for `PmdSlot::set_folio()`, at the PUD level: a valid,
        // referenced folio of PUD order for a range the `HugeFault` invariant
        // places inside the VMA, in an empty entry whose lock is held.
        unsafe {
            let f = folio.as_raw();
            bindings::folio_get(f);
            bindings::folio_add_file_rmap_pud(f, bindings::folio_page(f, 0), vma.as_raw());
            bindings::add_mm_counter(mm, bindings::mm_counter_file(f), 1 << PUD_ORDER);
            let mut entry =
                bindings::pud_mkhuge(bindings::pfn_pud(folio.pfn(), vma.page_prot_raw()));
            if write {
                entry = bindings::pud_mkyoung(bindings::pud_mkdirty(entry));
                if vma.flags() & flags::WRITE != 0 {
                    entry = bindings::pud_mkwrite(entry);
                }
            }
            bindings::set_pud_at(mm, addr, self.pud.as_ptr(), entry);
            bindings::update_mmu_cache_pud(vma.as_raw(), addr, self.pud.as_ptr());
        }
        Ok(())
    }

    /// Makes the present huge entry young and dirty, and writable if the VMA
    /// is.  `EINVAL` if the entry is not a present leaf or the VMA is private.
    pub fn upgrade_write(&mut self) -> Result {
        let vma = self.huge.vmf().vma();
        let old = self.entry();
        if !old.is_present() || !old.is_leaf() || !vma.is_shared() {
            return Err(EINVAL);
        }
        let addr = self.huge.start();
        let mut entry = old.mkyoung().mkdirty();
        if vma.flags() & flags::WRITE != 0 {
            entry = entry.mkwrite();
        }
        // SAFETY: The entry is a present leaf and locked (type invariant); only
        // its access bits change.
        unsafe {
            if bindings::pudp_set_access_flags(
                vma.as_raw(),
                addr,
                self.pud.as_ptr(),
                entry.as_raw(),
                1,
            ) != 0
            {
                bindings::update_mmu_cache_pud(vma.as_raw(), addr, self.pud.as_ptr());
            }
        }
        Ok(())
    }
}

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
impl Drop for PudSlot<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lock is held; it is released once.
        unsafe { bindings::spin_unlock(self.ptl) };
    }
}

#[cfg(CONFIG_TRANSPARENT_HUGEPAGE)]
impl HugeFault<'_, PmdLevel> {
    /// Maps `folio`, of PMD order, over the huge range with one PMD
    /// (`vmf_insert_folio_pmd()`): the entry takes its own reference, a PMD
    /// file rmap and file RSS.  A `write` fault that finds `folio` already
    /// mapped there upgrades the entry; an entry of something else is left
    /// alone.
    ///
    /// `SIGBUS` for a folio of another order or that cannot be mapped this
    /// way; `OOM` if a page table to deposit could not be allocated.
    pub fn insert_folio(&self, folio: &Folio, write: bool) -> VmFaultReason {
        if folio.order() != PMD_ORDER || !folio.is_file_mappable() {
            return VmFaultReason::SIGBUS;
        }
        // SAFETY: By the `HugeFault` invariant the fault is being handled and
        // a PMD mapping fits it; `folio` is referenced and of PMD order.
        VmFaultReason::from_insert(unsafe {
            bindings::vmf_insert_folio_pmd(self.vmf().as_raw(), folio.as_raw(), write)
        })
    }
}

#[cfg(CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD)]
impl HugeFault<'_, PudLevel> {
    /// Maps `folio`, of PUD order, over the huge range with one PUD
    /// (`vmf_insert_folio_pud()`), as [`HugeFault::insert_folio`] does with
    /// a PMD.
    pub fn insert_folio(&self, folio: &Folio, write: bool) -> VmFaultReason {
        if folio.order() != PUD_ORDER || !folio.is_file_mappable() {
            return VmFaultReason::SIGBUS;
        }
        // SAFETY: As for the PMD level, with a folio of PUD order.
        VmFaultReason::from_insert(unsafe {
            bindings::vmf_insert_folio_pud(self.vmf().as_raw(), folio.as_raw(), write)
        })
    }
}
