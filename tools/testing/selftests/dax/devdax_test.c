// SPDX-License-Identifier: GPL-2.0
/*
 * Device-DAX behaviour tests.  The device is $DAX_TEST_DEVDAX, or else the
 * first /dev/daxX.Y; without one every test is skipped.  The tests write
 * to the device: do not point them at one that holds data.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "dax_common.h"

/* device-DAX instances made by ndctl with the default --align 2M */
#define DEV_ALIGN PMD_SIZE

FIXTURE(devdax) {
	char dev[256];
	int fd;
};

FIXTURE_SETUP(devdax)
{
	const char *env = getenv("DAX_TEST_DEVDAX");
	glob_t g;

	self->fd = -1;
	if (env && *env) {
		snprintf(self->dev, sizeof(self->dev), "%s", env);
	} else {
		if (glob("/dev/dax*.*", 0, NULL, &g) || !g.gl_pathc)
			SKIP(return, "no device-DAX instance (/dev/daxX.Y)");
		snprintf(self->dev, sizeof(self->dev), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	self->fd = open(self->dev, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->dev, strerror(errno));
}

FIXTURE_TEARDOWN(devdax)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(devdax, map_read_write)
{
	char *win = dax_pmd_window(2 * DEV_ALIGN);
	char *p = mmap(win, 2 * DEV_ALIGN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		       self->fd, 0);
	char *q;

	ASSERT_NE(MAP_FAILED, p);
	dax_fill(p, 2 * DEV_ALIGN, 0, 21);
	ASSERT_EQ(0, munmap(p, 2 * DEV_ALIGN));
	/* a second mapping of the same device range sees the data */
	q = mmap(NULL, 2 * DEV_ALIGN, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(-1, dax_check(q, 2 * DEV_ALIGN, 0, 21));
	munmap(q, 2 * DEV_ALIGN);
}

TEST_F(devdax, unaligned_refused)
{
	char *win = dax_pmd_window(2 * DEV_ALIGN);
	char *p;

	/* length not a multiple of the device alignment */
	p = mmap(NULL, DEV_ALIGN + 4 * KiB, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, DEV_ALIGN + 4 * KiB);
	/* an address that is not aligned */
	p = mmap(win + 4 * KiB, DEV_ALIGN, PROT_READ, MAP_SHARED | MAP_FIXED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, DEV_ALIGN);
	/* a file offset that is not aligned */
	p = mmap(NULL, DEV_ALIGN, PROT_READ, MAP_SHARED, self->fd, 4 * KiB);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, DEV_ALIGN);
}

TEST_F(devdax, private_refused)
{
	char *p = mmap(NULL, DEV_ALIGN, PROT_READ, MAP_PRIVATE, self->fd, 0);

	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, DEV_ALIGN);
}

/* Device-DAX memory may be pinned long term (RDMA does): io_uring fixed buffers. */
TEST_F(devdax, longterm_pin_allowed)
{
	struct io_uring_params params = { 0 };
	char *p = mmap(NULL, DEV_ALIGN, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	struct iovec iov = { .iov_base = p, .iov_len = DEV_ALIGN };
	int ufd;

	ASSERT_NE(MAP_FAILED, p);
	dax_fill(p, DEV_ALIGN, 0, 22);
	ufd = syscall(__NR_io_uring_setup, 4, &params);
	if (ufd < 0)
		SKIP(goto out, "io_uring_setup() fails (%s): no io_uring in this kernel",
		     strerror(errno));
	EXPECT_EQ(0, syscall(__NR_io_uring_register, ufd, IORING_REGISTER_BUFFERS, &iov, 1))
		TH_LOG("io_uring buffer registration of device-DAX: %s", strerror(errno));
	close(ufd);
out:
	munmap(p, DEV_ALIGN);
}

TEST_HARNESS_MAIN
