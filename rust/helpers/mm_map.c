// SPDX-License-Identifier: GPL-2.0

#include <linux/cacheflush.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/pgalloc.h>
#include <linux/rmap.h>

pte_t *rust_helper_get_locked_pte(struct mm_struct *mm, unsigned long addr,
				  spinlock_t **ptl)
{
	return get_locked_pte(mm, addr, ptl);
}

bool rust_helper_pte_none(pte_t pte)
{
	return pte_none(pte);
}

pte_t rust_helper_mk_pte(struct page *page, pgprot_t prot)
{
	return mk_pte(page, prot);
}

pte_t rust_helper_pte_mkspecial(pte_t pte)
{
	return pte_mkspecial(pte);
}

pte_t rust_helper_maybe_mkwrite(pte_t pte, struct vm_area_struct *vma)
{
	return maybe_mkwrite(pte, vma);
}

void rust_helper_set_pte_at(struct mm_struct *mm, unsigned long addr,
			    pte_t *ptep, pte_t pte)
{
	set_pte_at(mm, addr, ptep, pte);
}

void rust_helper_update_mmu_cache(struct vm_area_struct *vma,
				  unsigned long addr, pte_t *ptep)
{
	update_mmu_cache(vma, addr, ptep);
}

bool rust_helper_is_zero_folio(const struct folio *folio)
{
	return is_zero_folio(folio);
}

bool rust_helper_is_zero_pfn(unsigned long pfn)
{
	return is_zero_pfn(pfn);
}

bool rust_helper_is_huge_zero_folio(const struct folio *folio)
{
	return is_huge_zero_folio(folio);
}

bool rust_helper_mm_forbids_zeropage(struct mm_struct *mm)
{
	return mm_forbids_zeropage(mm);
}

bool rust_helper_folio_test_anon(const struct folio *folio)
{
	return folio_test_anon(folio);
}

bool rust_helper_folio_test_slab(const struct folio *folio)
{
	return folio_test_slab(folio);
}

bool rust_helper_page_has_type(const struct page *page)
{
	return page_has_type(page);
}

struct page *rust_helper_folio_page(struct folio *folio, unsigned long n)
{
	return folio_page(folio, n);
}

void rust_helper_flush_dcache_folio(struct folio *folio)
{
	flush_dcache_folio(folio);
}

int rust_helper_mm_counter_file(struct folio *folio)
{
	return mm_counter_file(folio);
}

void rust_helper_inc_mm_counter(struct mm_struct *mm, int member)
{
	inc_mm_counter(mm, member);
}

void rust_helper_add_mm_counter(struct mm_struct *mm, int member, long value)
{
	add_mm_counter(mm, member, value);
}

void rust_helper_folio_add_file_rmap_pte(struct folio *folio,
					 struct page *page,
					 struct vm_area_struct *vma)
{
	folio_add_file_rmap_pte(folio, page, vma);
}

bool rust_helper_pmd_none(pmd_t pmd)
{
	return pmd_none(pmd);
}

bool rust_helper_pud_none(pud_t pud)
{
	return pud_none(pud);
}

pud_t rust_helper_pudp_get(pud_t *pudp)
{
	return pudp_get(pudp);
}

bool rust_helper_vma_is_fsdax(struct vm_area_struct *vma)
{
	return vma_is_fsdax(vma);
}

void rust_helper_folio_add_file_rmap_pmd(struct folio *folio,
					 struct page *page,
					 struct vm_area_struct *vma)
{
	folio_add_file_rmap_pmd(folio, page, vma);
}

void rust_helper_folio_add_file_rmap_pud(struct folio *folio,
					 struct page *page,
					 struct vm_area_struct *vma)
{
	folio_add_file_rmap_pud(folio, page, vma);
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
bool rust_helper_vma_is_special_huge(const struct vm_area_struct *vma)
{
	return vma_is_special_huge(vma);
}

bool rust_helper_is_huge_zero_pmd(pmd_t pmd)
{
	return is_huge_zero_pmd(pmd);
}

pmd_t rust_helper_pmd_mkwrite(pmd_t pmd, struct vm_area_struct *vma)
{
	return pmd_mkwrite(pmd, vma);
}

void rust_helper_set_pmd_at(struct mm_struct *mm, unsigned long addr,
			    pmd_t *pmdp, pmd_t pmd)
{
	set_pmd_at(mm, addr, pmdp, pmd);
}

void rust_helper_update_mmu_cache_pmd(struct vm_area_struct *vma,
				      unsigned long addr, pmd_t *pmdp)
{
	update_mmu_cache_pmd(vma, addr, pmdp);
}

void rust_helper_mm_inc_nr_ptes(struct mm_struct *mm)
{
	mm_inc_nr_ptes(mm);
}

bool rust_helper_arch_needs_pgtable_deposit(void)
{
	return arch_needs_pgtable_deposit();
}

pgtable_t rust_helper_pte_alloc_one(struct mm_struct *mm)
{
	return pte_alloc_one(mm);
}

void rust_helper_pte_free(struct mm_struct *mm, pgtable_t table)
{
	pte_free(mm, table);
}
#endif

#ifdef CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD
spinlock_t *rust_helper_pud_lock(struct mm_struct *mm, pud_t *pud)
{
	return pud_lock(mm, pud);
}

void rust_helper_set_pud_at(struct mm_struct *mm, unsigned long addr,
			    pud_t *pudp, pud_t pud)
{
	set_pud_at(mm, addr, pudp, pud);
}

void rust_helper_update_mmu_cache_pud(struct vm_area_struct *vma,
				      unsigned long addr, pud_t *pudp)
{
	update_mmu_cache_pud(vma, addr, pudp);
}
#endif
