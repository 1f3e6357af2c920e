// SPDX-License-Identifier: GPL-2.0

#include <linux/err.h>
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/sched.h>

bool rust_helper_vma_is_dax(const struct vm_area_struct *vma)
{
	return vma_is_dax(vma);
}

void rust_helper_vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vm_flags_set(vma, flags);
}

pte_t *rust_helper_pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,
				       unsigned long addr, spinlock_t **ptlp)
{
	return pte_offset_map_lock(mm, pmd, addr, ptlp);
}

void rust_helper_pte_unmap_unlock(pte_t *pte, spinlock_t *ptl)
{
	pte_unmap_unlock(pte, ptl);
}

spinlock_t *rust_helper_pmd_lock(struct mm_struct *mm, pmd_t *pmd)
{
	return pmd_lock(mm, pmd);
}

pte_t rust_helper_ptep_get(pte_t *ptep)
{
	return ptep_get(ptep);
}

pmd_t rust_helper_pmdp_get(pmd_t *pmdp)
{
	return pmdp_get(pmdp);
}

pfn_t rust_helper_pfn_to_pfn_t_devmap(unsigned long pfn)
{
	return __pfn_to_pfn_t(pfn, PFN_DEV | PFN_MAP);
}

struct mm_struct *rust_helper_current_mm(void)
{
	return current->mm;
}

/* vm_munmap() in the process that mapped the range, and nowhere else. */
void rust_helper_vm_munmap_mm(struct mm_struct *mm, unsigned long start,
			      size_t len)
{
	if (mm && current->mm == mm)
		vm_munmap(start, len);
}

/* vm_mmap() into the current process, which a kernel thread does not have. */
unsigned long rust_helper_vm_mmap_current(struct file *file, unsigned long len,
					  unsigned long prot, unsigned long flag,
					  unsigned long offset)
{
	if (!current->mm)
		return -EINVAL;
	return vm_mmap(file, 0, len, prot, flag, offset);
}
