// SPDX-License-Identifier: GPL-2.0

#include <linux/pgtable.h>

pte_t rust_helper_pfn_pte(unsigned long pfn, pgprot_t prot)
{
	return pfn_pte(pfn, prot);
}

unsigned long rust_helper_pte_pfn(pte_t pte)
{
	return pte_pfn(pte);
}

bool rust_helper_pte_present(pte_t pte)
{
	return pte_present(pte);
}

bool rust_helper_pte_write(pte_t pte)
{
	return pte_write(pte);
}

bool rust_helper_pte_dirty(pte_t pte)
{
	return pte_dirty(pte);
}

bool rust_helper_pte_young(pte_t pte)
{
	return pte_young(pte);
}

pte_t rust_helper_pte_mkwrite_novma(pte_t pte)
{
	return pte_mkwrite_novma(pte);
}

pte_t rust_helper_pte_mkdirty(pte_t pte)
{
	return pte_mkdirty(pte);
}

pte_t rust_helper_pte_mkyoung(pte_t pte)
{
	return pte_mkyoung(pte);
}

pte_t rust_helper_pte_wrprotect(pte_t pte)
{
	return pte_wrprotect(pte);
}

pmd_t rust_helper_pfn_pmd(unsigned long pfn, pgprot_t prot)
{
	return pfn_pmd(pfn, prot);
}

unsigned long rust_helper_pmd_pfn(pmd_t pmd)
{
	return pmd_pfn(pmd);
}

bool rust_helper_pmd_present(pmd_t pmd)
{
	return pmd_present(pmd);
}

bool rust_helper_pmd_leaf(pmd_t pmd)
{
	return pmd_leaf(pmd);
}

bool rust_helper_pmd_write(pmd_t pmd)
{
	return pmd_write(pmd);
}

bool rust_helper_pmd_dirty(pmd_t pmd)
{
	return pmd_dirty(pmd);
}

bool rust_helper_pmd_young(pmd_t pmd)
{
	return pmd_young(pmd);
}

pmd_t rust_helper_pmd_mkhuge(pmd_t pmd)
{
	return pmd_mkhuge(pmd);
}

pmd_t rust_helper_pmd_mkwrite_novma(pmd_t pmd)
{
	return pmd_mkwrite_novma(pmd);
}

pmd_t rust_helper_pmd_mkdirty(pmd_t pmd)
{
	return pmd_mkdirty(pmd);
}

pmd_t rust_helper_pmd_mkyoung(pmd_t pmd)
{
	return pmd_mkyoung(pmd);
}

pmd_t rust_helper_pmd_wrprotect(pmd_t pmd)
{
	return pmd_wrprotect(pmd);
}

pud_t rust_helper_pfn_pud(unsigned long pfn, pgprot_t prot)
{
	return pfn_pud(pfn, prot);
}

unsigned long rust_helper_pud_pfn(pud_t pud)
{
	return pud_pfn(pud);
}

bool rust_helper_pud_present(pud_t pud)
{
	return pud_present(pud);
}

bool rust_helper_pud_leaf(pud_t pud)
{
	return pud_leaf(pud);
}

bool rust_helper_pud_write(pud_t pud)
{
	return pud_write(pud);
}

bool rust_helper_pud_dirty(pud_t pud)
{
	return pud_dirty(pud);
}

bool rust_helper_pud_young(pud_t pud)
{
	return pud_young(pud);
}

pud_t rust_helper_pud_mkhuge(pud_t pud)
{
	return pud_mkhuge(pud);
}

pud_t rust_helper_pud_mkwrite(pud_t pud)
{
	return pud_mkwrite(pud);
}

pud_t rust_helper_pud_mkdirty(pud_t pud)
{
	return pud_mkdirty(pud);
}

pud_t rust_helper_pud_mkyoung(pud_t pud)
{
	return pud_mkyoung(pud);
}

pud_t rust_helper_pud_wrprotect(pud_t pud)
{
	return pud_wrprotect(pud);
}
