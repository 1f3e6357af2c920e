// SPDX-License-Identifier: GPL-2.0
/*
 * Device-DAX behaviour tests.  The device is $DAX_TEST_DEVDAX, or else the
 * first /dev/daxX.Y; without one every test is skipped.  The devdax_pud
 * tests use $DAX_TEST_DEVDAX_PUD, a device-DAX instance with 1 GiB
 * alignment and at least 2 GiB (ndctl create-namespace -m devdax
 * --align 1G), and are skipped without it.  The tests write to the
 * devices: do not point them at ones that hold data.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
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

/*
 * PUD (1 GiB) mappings of a device-DAX instance with 1 GiB alignment.  Its
 * driver serves only faults of its alignment: a PMD or PTE fault in such a
 * VMA is SIGBUS, so every access below goes through a PUD entry.
 */
#define PAGE_4K (4 * KiB)
/* touching all 512 PMDs of a GiB: one fault for a PUD mapping, 512 for PMDs */
#define PUD_MAX_FAULTS 16
/* seconds for a test that goes over 1 or 2 GiB a few times, under QEMU's TCG too */
#define PUD_TIMEOUT 120

/*
 * Writing a GiB word by word takes minutes under QEMU's TCG.  The sparse
 * pattern writes every word of the first 4 KiB page of each 2 MiB and one
 * word, a different one from page to page, of every other page.  What it
 * writes depends on the device offset only, so any page-aligned part of a
 * range filled at once can be checked on its own.
 */
static size_t sparse_word(size_t off)
{
	return (off / PAGE_4K * 8) % PAGE_4K;
}

static void sparse_fill(char *p, size_t len, size_t off, unsigned int seed)
{
	for (size_t i = 0; i < len; i += PAGE_4K) {
		size_t w = i + sparse_word(off + i);

		if ((off + i) % PMD_SIZE == 0)
			dax_fill(p + i, PAGE_4K, off + i, seed);
		else
			*(uint64_t *)(p + w) = dax_pattern(off + w, seed);
	}
}

/* -1 if @p holds the sparse pattern of [@off, @off + @len), else the first bad offset */
static long sparse_check(const char *p, size_t len, size_t off, unsigned int seed)
{
	for (size_t i = 0; i < len; i += PAGE_4K) {
		size_t w = i + sparse_word(off + i);
		long bad;

		if ((off + i) % PMD_SIZE == 0) {
			bad = dax_check(p + i, PAGE_4K, off + i, seed);
			if (bad != -1)
				return bad;
		} else if (*(const uint64_t *)(p + w) != dax_pattern(off + w, seed)) {
			return (long)(off + w);
		}
	}
	return -1;
}

/* Page faults this process has taken so far. */
static long fault_count(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return -1;
	return ru.ru_minflt + ru.ru_majflt;
}

/* The bounds and permissions ("rw-s") of the VMA that holds @addr: 0, or -1 if none does. */
static int vma_of(const void *addr, unsigned long *lo, unsigned long *hi, char *perms)
{
	unsigned long a = (unsigned long)addr;
	char line[512];
	int ret = -1;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s ", lo, hi, perms) == 3 && a >= *lo && a < *hi) {
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* A number in the sysfs directory of character device @rdev; -1 if unreadable. */
static long long dev_attr(dev_t rdev, const char *name)
{
	char path[128];
	long long val;
	FILE *f;
	int n;

	/* the same directory as /sys/bus/dax/devices/daxX.Y, whatever the node's name */
	snprintf(path, sizeof(path), "/sys/dev/char/%u:%u/%s", major(rdev), minor(rdev), name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%lld", &val);
	fclose(f);
	if (n != 1) {
		errno = EINVAL;
		return -1;
	}
	return val;
}

#ifdef __x86_64__
/* Whether /proc/cpuinfo lists CPU flags and @flag is not among them. */
static int cpu_lacks(const char *flag)
{
	size_t flen = strlen(flag);
	char line[8192];
	int lacks = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");
	char *s;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		lacks = 1;
		for (s = strstr(line, flag); s; s = strstr(s + 1, flag))
			if (s[-1] == ' ' && (s[flen] == ' ' || s[flen] == '\n'))
				lacks = 0;
		break;
	}
	fclose(f);
	return lacks;
}
#endif

FIXTURE(devdax_pud) {
	char dev[256];
	int fd;
	unsigned int seed;
};

FIXTURE_SETUP(devdax_pud)
{
	const char *env = getenv("DAX_TEST_DEVDAX_PUD");
	long long align, size;
	struct stat st;

	self->fd = -1;
	/* a pattern of its own for each run of each test: data left by others cannot match */
	self->seed = (unsigned int)getpid() << 8;
	if (!env || !*env)
		SKIP(return, "no 1 GiB-aligned device-DAX instance: set DAX_TEST_DEVDAX_PUD");
	snprintf(self->dev, sizeof(self->dev), "%s", env);
	self->fd = open(self->dev, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("%s: %s", self->dev, strerror(errno));
	ASSERT_EQ(0, fstat(self->fd, &st)) TH_LOG("%s: %s", self->dev, strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("%s is not a character device", self->dev);
	errno = 0;
	align = dev_attr(st.st_rdev, "align");
	if (align == -1 && errno == ENOENT)
		align = PUD_SIZE;	/* a kernel without the attribute: nothing to check */
	ASSERT_NE(-1, align) TH_LOG("%s: sysfs align: %s", self->dev, strerror(errno));
	ASSERT_EQ((long long)PUD_SIZE, align)
		TH_LOG("%s: align %lld, not 1 GiB (ndctl create-namespace --align 1G)",
		       self->dev, align);
	size = dev_attr(st.st_rdev, "size");
	ASSERT_LE(0, size) TH_LOG("%s: no sysfs size: %s", self->dev, strerror(errno));
	if (size < (long long)(2 * PUD_SIZE))
		SKIP(return, "%s has %lld bytes: the PUD tests need 2 GiB", self->dev, size);
#ifdef __x86_64__
	/* a 1 GiB entry is a reserved-bit page fault on a CPU without 1 GiB pages */
	if (cpu_lacks("pdpe1gb"))
		SKIP(return, "the CPU has no 1 GiB pages (no pdpe1gb in /proc/cpuinfo)");
#endif
}

FIXTURE_TEARDOWN(devdax_pud)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* @len bytes of the device from offset 0, MAP_SHARED at a 1 GiB aligned address */
static char *pud_map(int fd, size_t len, int prot)
{
	char *win = dax_aligned_window(len, PUD_SIZE);

	if (!win)
		return MAP_FAILED;
	return mmap(win, len, prot, MAP_SHARED | MAP_FIXED, fd, 0);
}

TEST_F_TIMEOUT(devdax_pud, pud_fault_read_write, PUD_TIMEOUT)
{
	char *p = pud_map(self->fd, PUD_SIZE, PROT_READ | PROT_WRITE);
	long faults;
	char *q;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("1 GiB at a 1 GiB aligned address: %s", strerror(errno));
	faults = fault_count();
	sparse_fill(p, PUD_SIZE, 0, self->seed);
	faults = fault_count() - faults;
	EXPECT_GT(PUD_MAX_FAULTS, faults)
		TH_LOG("writing the GiB took %ld page faults, not one PUD fault", faults);
	ASSERT_EQ(0, munmap(p, PUD_SIZE));

	/* a second mapping, which the driver places at a 1 GiB aligned address */
	q = mmap(NULL, PUD_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, q) TH_LOG("1 GiB mapping: %s", strerror(errno));
	EXPECT_EQ(0UL, (uintptr_t)q & (PUD_SIZE - 1))
		TH_LOG("the driver placed a 1 GiB mapping at %p", q);
	faults = fault_count();
	EXPECT_EQ(-1, sparse_check(q, PUD_SIZE, 0, self->seed));
	faults = fault_count() - faults;
	EXPECT_GT(PUD_MAX_FAULTS, faults)
		TH_LOG("reading the GiB took %ld page faults, not one PUD fault", faults);
	munmap(q, PUD_SIZE);
}

/*
 * 6.12's smaps has no PUD level: its page walk splits, that is zaps, a
 * huge PUD before it walks the PMDs below, and vm_normal_page() refuses
 * devmap pages anyway.  Rss is therefore 0 kB for a PUD-mapped device-DAX
 * VMA.  What smaps does say is the VMA's page size, 1 GiB (the driver's
 * ->pagesize, asked by vma_kernel_pagesize()), and VM_HUGEPAGE, which
 * dax_mmap() sets.
 */
TEST_F_TIMEOUT(devdax_pud, pud_smaps, PUD_TIMEOUT)
{
	char *p = pud_map(self->fd, PUD_SIZE, PROT_READ | PROT_WRITE);
	char flags[512];
	long rss, faults;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("1 GiB at a 1 GiB aligned address: %s", strerror(errno));
	sparse_fill(p, PUD_SIZE, 0, self->seed);
	EXPECT_EQ((long)(PUD_SIZE / KiB), dax_smaps_kb(p, "Size"));
	/* without CONFIG_HUGETLB_PAGE vma_kernel_pagesize() is PAGE_SIZE for all */
	if (dax_proc_kb("/proc/meminfo", "Hugepagesize") < 0) {
		TH_LOG("no CONFIG_HUGETLB_PAGE: smaps page sizes not checked");
	} else {
		EXPECT_EQ((long)(PUD_SIZE / KiB), dax_smaps_kb(p, "KernelPageSize"))
			TH_LOG("the VMA's page size is not 1 GiB");
		EXPECT_EQ((long)(PUD_SIZE / KiB), dax_smaps_kb(p, "MMUPageSize"))
			TH_LOG("the VMA's MMU page size is not 1 GiB");
	}
	/* 6.12 counts none of it; a kernel that counts a PUD counts all of it */
	rss = dax_smaps_kb(p, "Rss");
	EXPECT_TRUE(rss == 0 || rss == (long)(PUD_SIZE / KiB))
		TH_LOG("Rss of a PUD-mapped GiB is %ld kB", rss);
	ASSERT_EQ(0, dax_smaps_field(p, "VmFlags", flags, sizeof(flags)));
	EXPECT_NE(NULL, strstr(flags, " sh ")) TH_LOG("VmFlags:%s", flags);
	EXPECT_NE(NULL, strstr(flags, " hg ")) TH_LOG("no VM_HUGEPAGE: VmFlags:%s", flags);

	/* in 6.12 reading smaps took the PUD down: it faults back in as a PUD */
	faults = fault_count();
	EXPECT_EQ(-1, sparse_check(p, PUD_SIZE, 0, self->seed));
	faults = fault_count() - faults;
	EXPECT_GT(PUD_MAX_FAULTS, faults)
		TH_LOG("reading the GiB after smaps took %ld page faults", faults);
	munmap(p, PUD_SIZE);
}

/* Bits of the exit status of pud_fork's child */
#define CHILD_BAD_DATA 1
#define CHILD_NOT_PUD 2

TEST_F_TIMEOUT(devdax_pud, pud_fork, PUD_TIMEOUT)
{
	char *p = pud_map(self->fd, PUD_SIZE, PROT_READ | PROT_WRITE);
	size_t half = PUD_SIZE / 2;
	int status;
	pid_t pid;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("1 GiB at a 1 GiB aligned address: %s", strerror(errno));
	sparse_fill(p, PUD_SIZE, 0, self->seed);
	pid = fork();
	ASSERT_LE(0, pid) TH_LOG("fork: %s", strerror(errno));
	if (pid == 0) {
		long faults = fault_count();
		int ret = 0;

		/* the same device memory, faulted in by the child's own PUD fault */
		if (sparse_check(p, PUD_SIZE, 0, self->seed) != -1)
			ret |= CHILD_BAD_DATA;
		if (fault_count() - faults >= PUD_MAX_FAULTS)
			ret |= CHILD_NOT_PUD;
		sparse_fill(p + half, half, half, self->seed + 1);
		_exit(ret);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("the child died: wait status %#x", status);
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child:%s%s",
		       WEXITSTATUS(status) & CHILD_BAD_DATA ?
		       " the parent's data is not in its mapping." : "",
		       WEXITSTATUS(status) & CHILD_NOT_PUD ?
		       " Reading the GiB took more page faults than a PUD fault." : "");
	/* MAP_SHARED: the parent sees what the child wrote */
	EXPECT_EQ(-1, sparse_check(p, half, 0, self->seed));
	EXPECT_EQ(-1, sparse_check(p + half, half, half, self->seed + 1))
		TH_LOG("the child's write is not in the parent's mapping");
	munmap(p, PUD_SIZE);
}

/*
 * munmap splits a VMA where the range starts and ends; __split_vma() asks
 * the driver first, and dev_dax_may_split() refuses an address that is not
 * a multiple of the device's alignment.  A refused split unmaps nothing.
 */
TEST_F_TIMEOUT(devdax_pud, pud_partial_munmap, PUD_TIMEOUT)
{
	char *p = pud_map(self->fd, 2 * PUD_SIZE, PROT_READ | PROT_WRITE);
	unsigned long lo, hi;
	char perms[8];
	long faults;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("2 GiB at a 1 GiB aligned address: %s", strerror(errno));
	sparse_fill(p, 2 * PUD_SIZE, 0, self->seed);

	/* a split at 1 GiB is allowed: unmap the second GiB */
	ASSERT_EQ(0, munmap(p + PUD_SIZE, PUD_SIZE))
		TH_LOG("munmap of the second GiB: %s", strerror(errno));
	ASSERT_EQ(0, vma_of(p, &lo, &hi, perms));
	EXPECT_EQ((unsigned long)p, lo);
	EXPECT_EQ((unsigned long)p + PUD_SIZE, hi);
	EXPECT_EQ(-1, vma_of(p + PUD_SIZE, &lo, &hi, perms))
		TH_LOG("the second GiB is still mapped: %lx-%lx %s", lo, hi, perms);
	faults = fault_count();
	EXPECT_EQ(-1, sparse_check(p, PUD_SIZE, 0, self->seed));
	EXPECT_GT(PUD_MAX_FAULTS, fault_count() - faults);

	/* 2 MiB inside the remaining GiB: both splits would cut a 1 GiB page */
	errno = 0;
	EXPECT_EQ(-1, munmap(p + 2 * MiB, 2 * MiB));
	EXPECT_EQ(EINVAL, errno) TH_LOG("munmap inside a GiB: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, munmap(p, 2 * MiB));
	EXPECT_EQ(EINVAL, errno) TH_LOG("munmap of a GiB's head: %s", strerror(errno));
	/* nothing was unmapped */
	ASSERT_EQ(0, vma_of(p, &lo, &hi, perms));
	ASSERT_EQ((unsigned long)p, lo);
	ASSERT_EQ((unsigned long)p + PUD_SIZE, hi);
	EXPECT_STREQ("rw-s", perms);
	faults = fault_count();
	EXPECT_EQ(-1, sparse_check(p, PUD_SIZE, 0, self->seed));
	EXPECT_GT(PUD_MAX_FAULTS, fault_count() - faults);
	munmap(p, PUD_SIZE);
}

/*
 * mprotect splits the VMA like munmap does (vma_modify() -> split_vma()),
 * so dev_dax_may_split() decides too; a whole PUD in the range keeps its
 * mapping, with the new protection (change_huge_pud()).
 */
TEST_F_TIMEOUT(devdax_pud, pud_mprotect, PUD_TIMEOUT)
{
	char *p = pud_map(self->fd, 2 * PUD_SIZE, PROT_READ | PROT_WRITE);
	unsigned long lo, hi;
	char perms[8];
	long faults;
	int ret;

	ASSERT_NE(MAP_FAILED, p) TH_LOG("2 GiB at a 1 GiB aligned address: %s", strerror(errno));
	sparse_fill(p, 2 * PUD_SIZE, 0, self->seed);

	ASSERT_EQ(0, mprotect(p + PUD_SIZE, PUD_SIZE, PROT_READ))
		TH_LOG("mprotect of the second GiB: %s", strerror(errno));
	ASSERT_EQ(0, vma_of(p, &lo, &hi, perms));
	EXPECT_EQ((unsigned long)p, lo);
	EXPECT_EQ((unsigned long)p + PUD_SIZE, hi);
	EXPECT_STREQ("rw-s", perms);
	ASSERT_EQ(0, vma_of(p + PUD_SIZE, &lo, &hi, perms));
	EXPECT_EQ((unsigned long)p + PUD_SIZE, lo);
	EXPECT_EQ((unsigned long)p + 2 * PUD_SIZE, hi);
	EXPECT_STREQ("r--s", perms);

	/* 2 MiB inside the first GiB (touching neither end, so no VMA merge) */
	errno = 0;
	ret = mprotect(p + 2 * MiB, 2 * MiB, PROT_READ);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EINVAL, errno) TH_LOG("mprotect inside a GiB: %s", strerror(errno));
	if (!ret)
		mprotect(p + 2 * MiB, 2 * MiB, PROT_READ | PROT_WRITE);
	ASSERT_EQ(0, vma_of(p, &lo, &hi, perms));
	EXPECT_EQ((unsigned long)p, lo);
	EXPECT_EQ((unsigned long)p + PUD_SIZE, hi);
	EXPECT_STREQ("rw-s", perms);

	faults = fault_count();
	EXPECT_EQ(-1, sparse_check(p, 2 * PUD_SIZE, 0, self->seed));
	EXPECT_GT(PUD_MAX_FAULTS, fault_count() - faults);
	/* the first GiB is still writable */
	sparse_fill(p, PMD_SIZE, 0, self->seed + 1);
	EXPECT_EQ(-1, sparse_check(p, PMD_SIZE, 0, self->seed + 1));
	EXPECT_EQ(-1, sparse_check(p + PMD_SIZE, PMD_SIZE, PMD_SIZE, self->seed));
	munmap(p, 2 * PUD_SIZE);
}

/*
 * dax_mmap() -> check_vma() refuses a VMA whose start or end is not a
 * multiple of the device's alignment with EINVAL.  Without an address
 * dax_get_unmapped_area() aligns the start, but only of a mapping that
 * holds a whole aligned GiB; a fixed address is taken as it is.
 */
TEST_F(devdax_pud, pud_unaligned_refused)
{
	char *win = dax_aligned_window(2 * PUD_SIZE, PUD_SIZE);
	char *p;

	ASSERT_NE(NULL, win);
	errno = 0;
	p = mmap(NULL, 2 * MiB, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno) TH_LOG("2 MiB mapping: %s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, 2 * MiB);

	errno = 0;
	p = mmap(NULL, PUD_SIZE + 2 * MiB, PROT_READ, MAP_SHARED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno) TH_LOG("1 GiB + 2 MiB mapping: %s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, PUD_SIZE + 2 * MiB);

	errno = 0;
	p = mmap(win + 2 * MiB, PUD_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, self->fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno) TH_LOG("MAP_FIXED 2 MiB past a GiB: %s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, PUD_SIZE);

	/* and the aligned mapping is accepted */
	p = mmap(win, PUD_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, self->fd, 0);
	EXPECT_EQ(win, p) TH_LOG("MAP_FIXED at a GiB: %s", strerror(errno));
	if (p != MAP_FAILED)
		munmap(p, PUD_SIZE);
}

TEST_HARNESS_MAIN
