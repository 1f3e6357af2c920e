// SPDX-License-Identifier: GPL-2.0

#include <linux/pfn_t.h>
#include <linux/string.h>

unsigned long rust_helper_pfn_t_to_pfn(pfn_t pfn)
{
	return pfn_t_to_pfn(pfn);
}

bool rust_helper_pfn_t_devmap(pfn_t pfn)
{
	return pfn_t_devmap(pfn);
}

void rust_helper_memcpy_flushcache(void *dst, const void *src, size_t cnt)
{
	memcpy_flushcache(dst, src, cnt);
}
