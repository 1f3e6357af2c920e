// SPDX-License-Identifier: GPL-2.0

#include <linux/ioport.h>
#include <linux/memremap.h>
#include <linux/mm.h>

struct dev_pagemap *rust_helper_page_pgmap(const struct page *page)
{
	return page_pgmap(page);
}

void rust_helper_dev_pagemap_get(struct dev_pagemap *pgmap)
{
	percpu_ref_get(&pgmap->ref);
}

unsigned long rust_helper_page_to_pfn(const struct page *page)
{
	return page_to_pfn(page);
}

/*
 * zone_device_page_init() for a page that may be in use: take a free
 * (refcount zero) page of a live device-private or device-coherent pagemap,
 * with the pagemap reference that free_zone_device_folio() drops.
 */
bool rust_helper_zone_device_page_try_init(struct page *page)
{
	struct dev_pagemap *pgmap = page_pgmap(page);

	if (!percpu_ref_tryget_live(&pgmap->ref))
		return false;
	if (atomic_cmpxchg(&page->_refcount, 0, 1) != 0) {
		percpu_ref_put(&pgmap->ref);
		return false;
	}
	return true;
}

void rust_helper_release_mem_region(resource_size_t start, resource_size_t n)
{
	release_mem_region(start, n);
}
