// SPDX-License-Identifier: GPL-2.0

#include <linux/fs.h>

loff_t rust_helper_i_size_read(const struct inode *inode)
{
	return i_size_read(inode);
}
