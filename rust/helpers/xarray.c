// SPDX-License-Identifier: GPL-2.0

#include <linux/xarray.h>

void rust_helper_xa_init_flags(struct xarray *xa, gfp_t flags)
{
	xa_init_flags(xa, flags);
}

/* XA_STATE_ORDER() for a cursor that Rust keeps. */
void rust_helper_xas_init_order(struct xa_state *xas, struct xarray *xa,
				unsigned long index, unsigned int order)
{
	XA_STATE_ORDER(tmp, xa, index, order);

	*xas = tmp;
}

void rust_helper_xa_lock_irq(struct xarray *xa)
{
	xa_lock_irq(xa);
}

void rust_helper_xa_unlock_irq(struct xarray *xa)
{
	xa_unlock_irq(xa);
}

int rust_helper_xas_error(const struct xa_state *xas)
{
	return xas_error(xas);
}

void rust_helper_xas_set(struct xa_state *xas, unsigned long index)
{
	xas_set(xas, index);
}
