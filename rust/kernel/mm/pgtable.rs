// SPDX-License-Identifier: GPL-2.0

//! Page table entries: values of `pte_t`, `pmd_t` and `pud_t`.
//!
//! These are values, not references into a page table: building one maps
//! nothing.  Installing an entry needs the page table lock and a fault context
//! that proves the address, alignment and VMA; the fault abstractions provide
//! those.  A huge entry can only be built for a page frame number aligned to
//! its size, and from a folio only if the folio has exactly that size.
//!
//! C header: [`include/linux/pgtable.h`](srctree/include/linux/pgtable.h)

use crate::{
    bindings,
    error::{code::EINVAL, Result},
    mm::folio::Folio,
};

/// The folio order a PMD maps (`PMD_SHIFT - PAGE_SHIFT`).
pub const PMD_ORDER: u32 = bindings::PMD_SHIFT - bindings::PAGE_SHIFT;

/// The folio order a PUD maps (`PUD_SHIFT - PAGE_SHIFT`).
pub const PUD_ORDER: u32 = bindings::PUD_SHIFT - bindings::PAGE_SHIFT;

/// `VM_*` flags of a mapping, as [`PageProt::from_vm_flags`] takes them.
pub mod vm_flags {
    use crate::bindings;

    /// The mapping may be read (`VM_READ`).
    pub const READ: usize = bindings::VM_READ as usize;
    /// The mapping may be written (`VM_WRITE`).
    pub const WRITE: usize = bindings::VM_WRITE as usize;
    /// Writes go to the file, not to private copies (`VM_SHARED`).
    pub const SHARED: usize = bindings::VM_SHARED as usize;
}

/// Page protection bits (`pgprot_t`).
#[derive(Clone, Copy)]
pub struct PageProt(bindings::pgprot_t);

impl PageProt {
    /// Returns the protection of a mapping with the `VM_*` flags `flags`
    /// (`vm_get_page_prot()`).
    #[inline]
    pub fn from_vm_flags(flags: usize) -> Self {
        // SAFETY: `vm_get_page_prot()` only looks the flags up in a table.
        Self(unsafe { bindings::vm_get_page_prot(flags) })
    }

    /// Returns the raw `pgprot_t`.
    #[inline]
    pub fn as_raw(self) -> bindings::pgprot_t {
        self.0
    }
}

/// A page table entry that maps one page (`pte_t`).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Pte(bindings::pte_t);

/// A page middle directory entry (`pmd_t`); those built here map a PMD-sized
/// folio as one huge leaf.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Pmd(bindings::pmd_t);

/// A page upper directory entry (`pud_t`); those built here map a PUD-sized
/// folio as one huge leaf.
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct Pud(bindings::pud_t);

/// The accessors and modifiers all three entry types share; each calls the C
/// function of its level.
macro_rules! entry_ops {
    ($ty:ident, $raw:ident, $pfn:ident, $present:ident, $write:ident, $dirty:ident, $young:ident,
     $mkwrite:ident, $mkdirty:ident, $mkyoung:ident, $wrprotect:ident) => {
        impl $ty {
            /// Wraps a raw entry value (read from a page table under its lock).
            #[inline]
            pub fn from_raw(raw: bindings::$raw) -> Self {
                Self(raw)
            }

            /// Returns the raw entry value.
            #[inline]
            pub fn as_raw(self) -> bindings::$raw {
                self.0
            }

            /// Returns the page frame number the entry points at.
            #[inline]
            pub fn pfn(self) -> usize {
                // SAFETY: The C accessor only computes on the entry value.
                unsafe { bindings::$pfn(self.0) }
            }

            /// Returns whether the entry is present.
            #[inline]
            pub fn is_present(self) -> bool {
                // SAFETY: The C accessor only computes on the entry value.
                unsafe { bindings::$present(self.0) }
            }

            /// Returns whether the entry allows writes.
            #[inline]
            pub fn is_write(self) -> bool {
                // SAFETY: The C accessor only computes on the entry value.
                unsafe { bindings::$write(self.0) }
            }

            /// Returns whether the entry is dirty.
            #[inline]
            pub fn is_dirty(self) -> bool {
                // SAFETY: The C accessor only computes on the entry value.
                unsafe { bindings::$dirty(self.0) }
            }

            /// Returns whether the entry is young (accessed).
            #[inline]
            pub fn is_young(self) -> bool {
                // SAFETY: The C accessor only computes on the entry value.
                unsafe { bindings::$young(self.0) }
            }

            /// Returns the entry with writes allowed.
            #[inline]
            pub fn mkwrite(self) -> Self {
                // SAFETY: The C modifier only computes on the entry value.
                Self(unsafe { bindings::$mkwrite(self.0) })
            }

            /// Returns the entry marked dirty.
            #[inline]
            pub fn mkdirty(self) -> Self {
                // SAFETY: The C modifier only computes on the entry value.
                Self(unsafe { bindings::$mkdirty(self.0) })
            }

            /// Returns the entry marked young (accessed).
            #[inline]
            pub fn mkyoung(self) -> Self {
                // SAFETY: The C modifier only computes on the entry value.
                Self(unsafe { bindings::$mkyoung(self.0) })
            }

            /// Returns the entry with writes refused.
            #[inline]
            pub fn wrprotect(self) -> Self {
                // SAFETY: The C modifier only computes on the entry value.
                Self(unsafe { bindings::$wrprotect(self.0) })
            }
        }
    };
}

entry_ops!(
    Pte,
    pte_t,
    pte_pfn,
    pte_present,
    pte_write,
    pte_dirty,
    pte_young,
    pte_mkwrite_novma,
    pte_mkdirty,
    pte_mkyoung,
    pte_wrprotect
);
entry_ops!(
    Pmd,
    pmd_t,
    pmd_pfn,
    pmd_present,
    pmd_write,
    pmd_dirty,
    pmd_young,
    pmd_mkwrite_novma,
    pmd_mkdirty,
    pmd_mkyoung,
    pmd_wrprotect
);
entry_ops!(
    Pud,
    pud_t,
    pud_pfn,
    pud_present,
    pud_write,
    pud_dirty,
    pud_young,
    pud_mkwrite,
    pud_mkdirty,
    pud_mkyoung,
    pud_wrprotect
);

/// `EINVAL` unless `pfn` is aligned to `2^order` pages.
fn check_aligned(pfn: usize, order: u32) -> Result {
    if pfn & ((1 << order) - 1) != 0 {
        return Err(EINVAL);
    }
    Ok(())
}

impl Pte {
    /// Returns an entry that maps page frame `pfn` with protection `prot`.
    #[inline]
    pub fn new(pfn: usize, prot: PageProt) -> Self {
        // SAFETY: `pfn_pte()` only computes the entry value.
        Self(unsafe { bindings::pfn_pte(pfn, prot.as_raw()) })
    }

    /// Returns an entry that maps page `index` of `folio`, or `EINVAL` if the
    /// folio has no such page.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::folio::Folio;
    /// use kernel::mm::pgtable::{vm_flags, PageProt, Pte};
    ///
    /// let folio = Folio::alloc(GFP_KERNEL, 1)?;
    /// let ro = PageProt::from_vm_flags(vm_flags::READ | vm_flags::SHARED);
    /// let pte = Pte::for_folio_page(&folio, 1, ro)?;
    /// assert_eq!(pte.pfn(), folio.pfn() + 1);
    /// assert!(pte.is_present() && !pte.is_write() && !pte.is_dirty());
    ///
    /// let rw = pte.mkwrite().mkdirty().mkyoung();
    /// assert!(rw.is_write() && rw.is_dirty() && rw.is_young());
    /// assert!(!rw.wrprotect().is_write());
    ///
    /// assert_eq!(Pte::for_folio_page(&folio, 2, ro).err(), Some(EINVAL));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn for_folio_page(folio: &Folio, index: usize, prot: PageProt) -> Result<Self> {
        if index >= folio.nr_pages() {
            return Err(EINVAL);
        }
        Ok(Self::new(folio.pfn() + index, prot))
    }
}

impl Pmd {
    /// Returns a huge leaf entry that maps the PMD-sized range starting at
    /// page frame `pfn`, or `EINVAL` if `pfn` is not aligned to it.
    #[inline]
    pub fn new_huge(pfn: usize, prot: PageProt) -> Result<Self> {
        check_aligned(pfn, PMD_ORDER)?;
        // SAFETY: `pfn_pmd()` and `pmd_mkhuge()` only compute the entry value.
        Ok(Self(unsafe {
            bindings::pmd_mkhuge(bindings::pfn_pmd(pfn, prot.as_raw()))
        }))
    }

    /// Returns a huge leaf entry that maps all of `folio`, or `EINVAL` if the
    /// folio is not PMD-sized.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::folio::Folio;
    /// use kernel::mm::pgtable::{vm_flags, PageProt, Pmd, PMD_ORDER};
    ///
    /// let rw = PageProt::from_vm_flags(vm_flags::READ | vm_flags::WRITE | vm_flags::SHARED);
    /// let folio = Folio::alloc(GFP_KERNEL, PMD_ORDER)?;
    /// let pmd = Pmd::for_folio(&folio, rw)?;
    /// assert!(pmd.is_present() && pmd.is_leaf());
    /// assert_eq!(pmd.pfn(), folio.pfn());
    /// assert!(pmd.mkwrite().is_write());
    ///
    /// let small = Folio::alloc(GFP_KERNEL, 0)?;
    /// assert_eq!(Pmd::for_folio(&small, rw).err(), Some(EINVAL));
    /// assert_eq!(Pmd::new_huge(folio.pfn() + 1, rw).err(), Some(EINVAL));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn for_folio(folio: &Folio, prot: PageProt) -> Result<Self> {
        if folio.order() != PMD_ORDER {
            return Err(EINVAL);
        }
        Self::new_huge(folio.pfn(), prot)
    }

    /// Returns whether the entry maps a page range itself (a huge leaf)
    /// rather than pointing at a page table.
    #[inline]
    pub fn is_leaf(self) -> bool {
        // SAFETY: `pmd_leaf()` only computes on the entry value.
        unsafe { bindings::pmd_leaf(self.0) }
    }
}

impl Pud {
    /// Returns a huge leaf entry that maps the PUD-sized range starting at
    /// page frame `pfn`, or `EINVAL` if `pfn` is not aligned to it.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::mm::pgtable::{vm_flags, PageProt, Pud, PMD_ORDER, PUD_ORDER};
    ///
    /// let ro = PageProt::from_vm_flags(vm_flags::READ | vm_flags::SHARED);
    /// let pud = Pud::new_huge(3 << PUD_ORDER, ro)?;
    /// assert!(pud.is_present() && pud.is_leaf() && !pud.is_write());
    /// assert_eq!(pud.pfn(), 3 << PUD_ORDER);
    /// assert!(pud.mkwrite().mkdirty().is_dirty());
    ///
    /// let misaligned = (3 << PUD_ORDER) + (1 << PMD_ORDER);
    /// assert_eq!(Pud::new_huge(misaligned, ro).err(), Some(EINVAL));
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn new_huge(pfn: usize, prot: PageProt) -> Result<Self> {
        check_aligned(pfn, PUD_ORDER)?;
        // SAFETY: `pfn_pud()` and `pud_mkhuge()` only compute the entry value.
        Ok(Self(unsafe {
            bindings::pud_mkhuge(bindings::pfn_pud(pfn, prot.as_raw()))
        }))
    }

    /// Returns a huge leaf entry that maps all of `folio`, or `EINVAL` if the
    /// folio is not PUD-sized.
    pub fn for_folio(folio: &Folio, prot: PageProt) -> Result<Self> {
        if folio.order() != PUD_ORDER {
            return Err(EINVAL);
        }
        Self::new_huge(folio.pfn(), prot)
    }

    /// Returns whether the entry maps a page range itself (a huge leaf)
    /// rather than pointing at a page table.
    #[inline]
    pub fn is_leaf(self) -> bool {
        // SAFETY: `pud_leaf()` only computes on the entry value.
        unsafe { bindings::pud_leaf(self.0) }
    }
}
