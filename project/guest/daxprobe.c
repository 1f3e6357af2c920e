// SPDX-License-Identifier: GPL-2.0
/*
 * daxprobe: the guest-side helper of daxrs (project tooling, not part of the
 * series).  It maps DAX files and device-DAX instances the way the demo and
 * the smoke tests need and reports what the kernel did, from /proc/self/smaps.
 *
 *   daxprobe map FILE        PMD- and PTE-sized mappings of FILE, smaps report
 *   daxprobe smoke FILE      write/mmap/fsync/truncate smoke, KTAP
 *   daxprobe devdax DEV      map a device-DAX instance, write, read back
 *   daxprobe p2pmem DIR      map PCI P2PDMA memory (DIR = .../p2pmem), check
 *                            that unmapping returns the pages to the pool; KTAP
 *   daxprobe hwpoison FILE   MADV_HWPOISON a mapped DAX page: which SIGBUS
 *
 * The KTAP modes print "KTAP version 1", one numbered result per check (a
 * failed one preceded by a "# " line saying why) and, when the mode returns,
 * the plan "1..N": a daxprobe killed half-way leaves no plan behind.  The
 * exit status is non-zero when a check failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <linux/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB (1UL << 10)
#define MiB (1UL << 20)
#define PMD_SIZE (2 * MiB)

static int failures, results;

static void check(int ok, const char *step, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One KTAP result; the detail of a failure goes on a diagnostic line first. */
static void check(int ok, const char *step, const char *fmt, ...)
{
	va_list ap;

	results++;
	if (!ok && fmt) {
		printf("# ");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	printf("%s %d %s\n", ok ? "ok" : "not ok", results, step);
	/* line by line: a crash or a kill must not lose what came before */
	fflush(stdout);
	if (!ok)
		failures++;
}

/* Runs a KTAP mode between its header and its plan. */
static int ktap_mode(int (*mode)(const char *), const char *arg)
{
	int rc;

	printf("KTAP version 1\n");
	fflush(stdout);
	rc = mode(arg);
	printf("1..%d\n", results);
	fflush(stdout);
	return rc || failures ? 1 : 0;
}

/* smaps fields (in kB) of the VMA starting at @addr; -1 if absent */
struct smaps {
	long rss, file_pmd, pss;
};

static struct smaps smaps_of(void *addr)
{
	struct smaps s = { -1, -1, -1 };
	char line[512], want[32];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return s;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = !strncmp(line, want, strlen(want));
			continue;
		}
		if (!in)
			continue;
		sscanf(line, "Rss: %ld kB", &s.rss);
		sscanf(line, "Pss: %ld kB", &s.pss);
		sscanf(line, "FilePmdMapped: %ld kB", &s.file_pmd);
	}
	fclose(f);
	return s;
}

/* A PMD-aligned window of @len bytes of address space. */
static void *aligned_window(size_t len)
{
	char *p = mmap(NULL, len + PMD_SIZE, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return (void *)(((uintptr_t)p + PMD_SIZE - 1) & ~(PMD_SIZE - 1));
}

/* The pattern is a function of the file offset, so any part can be checked. */
static uint64_t pattern(size_t off, unsigned int seed)
{
	return (off * 0x9e3779b97f4a7c15ULL) ^ seed;
}

static void fill(char *p, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i += 8)
		*(uint64_t *)(p + i) = pattern(i, seed);
}

/* 0 if [p, p + len) holds the pattern of file offsets [off, off + len),
 * else 1 + the offset of the first difference */
static size_t mismatch_at(const char *p, size_t len, unsigned int seed, size_t off)
{
	for (size_t i = 0; i < len; i += 8)
		if (*(const uint64_t *)(p + i) != pattern(off + i, seed))
			return off + i + 1;
	return 0;
}

static size_t mismatch(const char *p, size_t len, unsigned int seed)
{
	return mismatch_at(p, len, seed, 0);
}

static int is_dax(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))
		return -1;
	return !!(stx.stx_attributes & STATX_ATTR_DAX);
}

static int pread_full(int fd, char *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, off + done);

		if (n <= 0)
			return -1;
		done += n;
	}
	return 0;
}

/* The demo: a PMD-sized mapping and a deliberately misaligned PTE one. */
static int do_map(const char *path)
{
	const size_t len = 8 * MiB, pte_len = 64 * KiB;
	char *win, *pmd, *pte, *buf;
	struct smaps s;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || posix_fallocate(fd, 0, len)) {
		fprintf(stderr, "daxprobe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("file            %s (%lu MiB, STATX_ATTR_DAX %s)\n", path, len / MiB,
	       is_dax(fd) == 1 ? "set" : "NOT set");

	/* PMD faults: 2 MiB-aligned address, 2 MiB-aligned file offset. */
	win = aligned_window(len);
	pmd = mmap(win, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (pmd == MAP_FAILED) {
		perror("daxprobe: mmap");
		return 1;
	}
	fill(pmd, 4 * MiB, 1);
	s = smaps_of(pmd);
	printf("PMD-able map    %p, 8 MiB, wrote the first 4 MiB through it\n", pmd);
	printf("  smaps         Rss %ld kB, Pss %ld kB, FilePmdMapped %ld kB\n",
	       s.rss, s.pss, s.file_pmd);

	/* PTE faults: file offset 0 at an address that is 4 KiB off a PMD. */
	win = aligned_window(len);
	pte = mmap((char *)win + 4 * KiB, pte_len, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_FIXED, fd, 0);
	if (pte == MAP_FAILED) {
		perror("daxprobe: mmap");
		return 1;
	}
	printf("PTE-only map    %p, 64 KiB of file offset 0 (address not PMD-aligned)\n",
	       pte);
	printf("  read back     %s\n", mismatch(pte, pte_len, 1) ?
	       "MISMATCH with the PMD mapping" : "same data as the PMD mapping");
	s = smaps_of(pte);
	printf("  smaps         Rss %ld kB, Pss %ld kB, FilePmdMapped %ld kB\n",
	       s.rss, s.pss, s.file_pmd);
	if (msync(pmd, len, MS_SYNC))
		perror("daxprobe: msync");
	munmap(pmd, len);
	munmap(pte, pte_len);

	buf = malloc(4 * MiB);
	if (!buf || pread_full(fd, buf, 4 * MiB, 0))
		return 1;
	printf("read(2)         %s\n", mismatch(buf, 4 * MiB, 1) ?
	       "MISMATCH: the data written through the mapping is not in the file" :
	       "4 MiB written through the mapping read back intact");
	close(fd);
	return mismatch(buf, 4 * MiB, 1) ? 1 : 0;
}

/* write, mmap read/write, fsync, truncate: one KTAP result a step. */
static int do_smoke(const char *path)
{
	const size_t len = 8 * MiB;
	char *buf = malloc(len), *map;
	struct stat st;
	size_t bad;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	check(fd >= 0, "open", "%s", strerror(errno));
	if (fd < 0 || !buf)
		return 1;
	check(is_dax(fd) == 1, "statx-dax", "STATX_ATTR_DAX not set: not a DAX file");

	fill(buf, len, 7);
	check(pwrite(fd, buf, len, 0) == (ssize_t)len, "write", "%s", strerror(errno));
	check(fsync(fd) == 0, "fsync", "%s", strerror(errno));

	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	check(map != MAP_FAILED, "mmap", "%s", strerror(errno));
	if (map == MAP_FAILED)
		return 1;
	bad = mismatch(map, len, 7);
	check(!bad, "mmap-read", "mismatch at offset %zu", bad - 1);
	fill(map, len / 2, 9);
	check(msync(map, len, MS_SYNC) == 0, "msync", "%s", strerror(errno));
	check(munmap(map, len) == 0, "munmap", "%s", strerror(errno));

	memset(buf, 0, len);
	check(pread_full(fd, buf, len, 0) == 0, "read", "%s", strerror(errno));
	bad = mismatch(buf, len / 2, 9);
	check(!bad, "mmap-write-visible-to-read", "mismatch at offset %zu", bad - 1);
	bad = mismatch_at(buf + len / 2, len / 2, 7, len / 2);
	check(!bad, "unwritten-half-intact", "mismatch at offset %zu", bad - 1);

	check(ftruncate(fd, 3 * MiB + 100) == 0, "truncate", "%s", strerror(errno));
	check(fstat(fd, &st) == 0 && st.st_size == (off_t)(3 * MiB + 100),
	      "truncate-size", "size %lld", (long long)st.st_size);
	map = mmap(NULL, 4 * MiB, PROT_READ, MAP_SHARED, fd, 0);
	check(map != MAP_FAILED, "mmap-after-truncate", "%s", strerror(errno));
	if (map != MAP_FAILED) {
		pid_t pid;
		int status = 0;

		bad = mismatch(map, 3 * MiB, 9);
		check(!bad, "data-after-truncate", "mismatch at offset %zu", bad - 1);
		/* a page wholly past EOF must raise SIGBUS */
		pid = fork();
		if (pid == 0) {
			volatile char c = map[3 * MiB + 8 * KiB];
			(void)c;
			_exit(0);
		}
		waitpid(pid, &status, 0);
		check(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
		      "sigbus-past-eof", "access past EOF gave status 0x%x", status);
		munmap(map, 4 * MiB);
	}
	check(fsync(fd) == 0 && close(fd) == 0, "fsync-close", "%s", strerror(errno));
	free(buf);
	return failures ? 1 : 0;
}

static int do_devdax(const char *dev)
{
	const size_t len = 2 * MiB;
	char *win, *map, *priv;
	struct smaps s;
	int fd = open(dev, O_RDWR);

	if (fd < 0) {
		fprintf(stderr, "daxprobe: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	win = aligned_window(len);
	map = mmap(win, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "daxprobe: mmap %s: %s\n", dev, strerror(errno));
		return 1;
	}
	fill(map, len, 3);
	s = smaps_of(map);
	printf("device-dax      %s mapped at %p, 2 MiB written and read back: %s\n", dev, map,
	       mismatch(map, len, 3) ? "MISMATCH" : "intact");
	printf("  smaps         Rss %ld kB, FilePmdMapped %ld kB\n", s.rss, s.file_pmd);
	priv = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	printf("  MAP_PRIVATE   %s\n", priv == MAP_FAILED ?
	       "refused, as device-DAX must" : "ALLOWED (unexpected)");
	munmap(map, len);
	close(fd);
	return 0;
}

/* a number from a sysfs file; -1 on error */
static long sysfs_long(const char *dir, const char *name)
{
	char path[512];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%li", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/*
 * PCI P2PDMA pages: each mmap() of p2pmem/allocate takes pages from the
 * device's pool (refcount set to 1 and mapped), munmap() drops the last
 * reference and page_free puts them back: "available" must return to its
 * value before the mapping, every time.
 */
static int do_p2pmem(const char *dir)
{
	const size_t len = 1 * MiB;
	long avail0 = sysfs_long(dir, "available"), avail;
	char path[512];
	int round, fd;
	char *map;

	check(avail0 >= (long)len, "pool has room", "available %ld", avail0);
	snprintf(path, sizeof(path), "%s/allocate", dir);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		check(0, "open allocate", "%s", strerror(errno));
		return 1;
	}
	for (round = 0; round < 3; round++) {
		map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			check(0, "mmap", "round %d: %s", round, strerror(errno));
			return 1;
		}
		avail = sysfs_long(dir, "available");
		if (round == 0)
			check(avail == avail0 - (long)len, "mapping takes its pages from the pool",
			      "available %ld -> %ld", avail0, avail);
		fill(map, len, 7 + round);
		if (round == 0)
			check(!mismatch(map, len, 7), "write and read back", "data differs");
		munmap(map, len);
		avail = sysfs_long(dir, "available");
		if (round == 0)
			check(avail == avail0, "munmap returns the pages to the pool",
			      "available %ld, was %ld", avail, avail0);
	}
	check(sysfs_long(dir, "available") == avail0, "three map/unmap rounds leave the pool whole",
	      "available %ld, was %ld", sysfs_long(dir, "available"), avail0);
	map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	check(map == MAP_FAILED, "private mapping refused", "mapped");
	close(fd);
	return failures != 0;
}

static sigjmp_buf hwp_env;
static volatile sig_atomic_t hwp_code = -1;

static void hwp_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	hwp_code = si->si_code;
	siglongjmp(hwp_env, 1);
}

/*
 * Poison one page of a mapped 2 MiB DAX file with MADV_HWPOISON, as ndctl's
 * dax-pmd test does: the kernel must kill the caller with SIGBUS,
 * BUS_MCEERR_AR ("action required").  Prints "sigbus <code name>".
 */
static int do_hwpoison(const char *path)
{
	const size_t len = 2 * MiB;
	struct sigaction sa = { 0 };
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char *map;

	if (fd < 0 || ftruncate(fd, len)) {
		fprintf(stderr, "daxprobe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "daxprobe: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	fill(map, len, 5);
	sa.sa_sigaction = hwp_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	if (!sigsetjmp(hwp_env, 1)) {
		if (madvise(map + len / 2, 4096, MADV_HWPOISON)) {
			printf("madvise-failed %s\n", strerror(errno));
			return 1;
		}
		/* not killed at once: the access must be */
		*(volatile char *)(map + len / 2);
		printf("no-sigbus\n");
		return 1;
	}
	printf("sigbus %s\n", hwp_code == BUS_MCEERR_AR ? "BUS_MCEERR_AR" :
	       hwp_code == BUS_MCEERR_AO ? "BUS_MCEERR_AO" :
	       hwp_code == BUS_ADRERR ? "BUS_ADRERR" : "other");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hwpoison"))
		return do_hwpoison(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "p2pmem"))
		return ktap_mode(do_p2pmem, argv[2]);
	if (argc == 3 && !strcmp(argv[1], "map"))
		return do_map(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "smoke"))
		return ktap_mode(do_smoke, argv[2]);
	if (argc == 3 && !strcmp(argv[1], "devdax"))
		return do_devdax(argv[2]);
	fprintf(stderr, "usage: daxprobe map|smoke|hwpoison FILE | devdax DEV | p2pmem DIR\n");
	return 2;
}
