// SPDX-License-Identifier: GPL-2.0
/*
 * daxbench: the guest side of `daxrs bench` (project tooling, not part of
 * the series).  Each invocation runs one case for a number of rounds and
 * prints one line per round:
 *
 *   <nanoseconds per operation> TAB <operations in the round>
 *
 * Under QEMU -icount shift=0,sleep=off the guest clock advances one
 * nanosecond per guest instruction, so these are instructions per
 * operation.  Only the operation is timed: mapping, populating, writing the
 * file back and cleaning up happen between the clock reads.
 *
 *   daxbench fault PATH read|write pte|pmd|pud SIZE ROUNDS
 *	map PATH (a DAX file, a device-DAX instance or a tmpfs file) and
 *	touch it once per 4 KiB (pte: the mapping is placed 4 KiB off the
 *	file offset's 2 MiB congruence, so no PMD can map it), per 2 MiB
 *	(pmd) or per 1 GiB (pud); an operation is one fault
 *   daxbench munmap PATH pte|pmd SIZE ROUNDS
 *	munmap of a populated mapping of SIZE; an operation is one munmap
 *   daxbench truncate PATH pmd SIZE ROUNDS
 *	ftruncate to 0 of a written file whose mapping is populated; an
 *	operation is one ftruncate
 *   daxbench gup PATH fast|slow SIZE ROUNDS
 *	pin and unpin (FOLL_PIN) the pages of a populated PTE mapping with
 *	gup_test (pin_user_pages_fast or pin_user_pages); an operation is
 *	one page; the time is gup_test's own (microseconds, scaled)
 *   daxbench longterm PATH SIZE
 *	FOLL_LONGTERM pin of a populated mapping (gup_test); prints
 *	"pinned N of M pages" and exits 0 when none was pinned
 *   daxbench odirect PATH BLOCKDEV SIZE ROUNDS
 *	O_DIRECT read of SIZE from BLOCKDEV into a populated PTE mapping of
 *	PATH (the block layer pins the DAX pages); an operation is 4 KiB
 *   daxbench reflink PATH clone|fault SIZE ROUNDS
 *	(xfs) with a PMD mapping of PATH populated, clone: FICLONE of PATH
 *	into a new file PATH.clone, which breaks the layout of both files;
 *	an operation is one FICLONE.  fault: after an untimed FICLONE, PMD
 *	read faults of a mapping of the clone, whose blocks and folios the
 *	two files share; an operation is one fault.  The clone is removed
 *	after every round.
 *   daxbench rw PATH read|write SIZE IOSIZE ROUNDS
 *	read(2)/write(2) I/O on a written file of SIZE (on DAX: the kernel's
 *	dax_iomap_rw): pread() of the whole file, or pwrite() over all of
 *	it, IOSIZE at a time from offset 0; an operation is one call of
 *	IOSIZE bytes.  The user buffer is allocated and written once, before
 *	the first round, so no round takes a fault on it.
 *   daxbench holefault PATH pte|pmd SIZE ROUNDS
 *	read faults over holes: before every round PATH is truncated to 0
 *	and then to SIZE, a file without blocks (a fresh, empty mapping:
 *	truncation also drops the zero entries the last round's faults
 *	stored); then a mapping of it, placed as for `fault`, is read once
 *	per 4 KiB (pte) or 2 MiB (pmd); an operation is one fault.  The file
 *	must have no blocks before the round and after it (a read fault over
 *	a hole allocates nothing; on DAX it maps the zero page).
 *
 * Files (PATH not a character device) are created SIZE long, with their
 * data written, before the first round (holefault: without data).  Errors go to stderr with the
 * failing step; the exit status is then 1 (2 for bad usage).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KiB (1UL << 10)
#define MiB (1UL << 20)
#define GiB (1UL << 30)
#define PAGE (4 * KiB)
#define PMD (2 * MiB)

/* mm/gup_test.h of the kernel: not exported as a uapi header */
struct gup_test {
	uint64_t get_delta_usec;
	uint64_t put_delta_usec;
	uint64_t addr;
	uint64_t size;
	uint32_t nr_pages_per_call;
	uint32_t gup_flags;
	uint32_t test_flags;
	uint32_t which_pages[8];
};

#define PIN_FAST_BENCHMARK	_IOWR('g', 2, struct gup_test)
#define PIN_LONGTERM_BENCHMARK	_IOWR('g', 3, struct gup_test)
#define PIN_BASIC_TEST		_IOWR('g', 5, struct gup_test)
#define GUP_TEST_PATH "/sys/kernel/debug/gup_test"

static const char *prog = "daxbench";

static void die(const char *what, const char *path)
{
	fprintf(stderr, "%s: %s %s: %s\n", prog, what, path ? path : "", strerror(errno));
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: %s fault PATH read|write pte|pmd|pud SIZE ROUNDS\n"
		"       %s munmap PATH pte|pmd SIZE ROUNDS\n"
		"       %s truncate PATH pmd SIZE ROUNDS\n"
		"       %s gup PATH fast|slow SIZE ROUNDS\n"
		"       %s longterm PATH SIZE\n"
		"       %s odirect PATH BLOCKDEV SIZE ROUNDS\n"
		"       %s reflink PATH clone|fault SIZE ROUNDS\n"
		"       %s rw PATH read|write SIZE IOSIZE ROUNDS\n"
		"       %s holefault PATH pte|pmd SIZE ROUNDS\n"
		"SIZE, IOSIZE: bytes, with an optional K, M or G suffix\n",
		prog, prog, prog, prog, prog, prog, prog, prog, prog);
	exit(2);
}

static unsigned long parse_size(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	switch (*end) {
	case 'K':
		v *= KiB;
		end++;
		break;
	case 'M':
		v *= MiB;
		end++;
		break;
	case 'G':
		v *= GiB;
		end++;
		break;
	}
	if (*end || !v) {
		fprintf(stderr, "%s: '%s' is not a size\n", prog, s);
		usage();
	}
	return v;
}

static int parse_rounds(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > 10000) {
		fprintf(stderr, "%s: '%s' is not a number of rounds (1..10000)\n", prog, s);
		usage();
	}
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int is_chardev(const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		if (errno == ENOENT)
			return 0;	/* a file to create */
		die("stat", path);
	}
	return S_ISCHR(st.st_mode);
}

/*
 * Give the file SIZE of written data.  One fallocate first: the file
 * system allocates the whole range at once, aligned to its stripe unit
 * (2 MiB, see mkfs_mount in lib.sh), where writes of 1 MiB at a time
 * could leave extents that no PMD can map.
 */
static void fill_file(int fd, const char *path, unsigned long size)
{
	static char buf[MiB];
	unsigned long off;

	memset(buf, 0x5a, sizeof(buf));
	if (ftruncate(fd, 0))
		die("ftruncate", path);
	if (fallocate(fd, 0, 0, size))
		die("fallocate", path);
	for (off = 0; off < size; off += sizeof(buf)) {
		size_t n = size - off < sizeof(buf) ? size - off : sizeof(buf);

		if (pwrite(fd, buf, n, off) != (ssize_t)n)
			die("pwrite", path);
	}
	if (fsync(fd))
		die("fsync", path);
}

static int open_target(const char *path, unsigned long size, int *dev)
{
	int fd;

	*dev = is_chardev(path);
	fd = open(path, *dev ? O_RDWR : O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		die("open", path);
	if (!*dev)
		fill_file(fd, path, size);
	return fd;
}

static unsigned long grain_size(const char *grain)
{
	if (!strcmp(grain, "pte"))
		return PAGE;
	if (!strcmp(grain, "pmd"))
		return PMD;
	if (!strcmp(grain, "pud"))
		return GiB;
	fprintf(stderr, "%s: grain '%s' is not pte, pmd or pud\n", prog, grain);
	usage();
	return 0;
}

/*
 * Map SIZE of fd from offset 0 at an address that suits the grain: aligned
 * to it (pmd, pud) or one page past a 2 MiB boundary (pte), so that the
 * virtual address and the file offset are never 2 MiB congruent.
 *
 * The address is the same in every round of a case: the first call
 * reserves a PROT_NONE window with room on both sides of the mapping and
 * keeps it for the life of the process; each round munmap()s its mapping
 * before the next one is placed into the hole (MAP_FIXED_NOREPLACE: it
 * fails rather than replace anything else that landed there).  The
 * reserved neighbours stop munmap() from freeing the page-table pages
 * above the grain (the PUD table of a pud mapping, the PMD table of a pmd
 * one), so no round pays for allocating them.  Without the window a round's cost depended on where
 * ASLR put the mapping: alone in its 512 GiB region, every 1 GiB fault also
 * allocated a PUD table.
 */
static char *map_at(int fd, const char *path, unsigned long size, unsigned long grain)
{
	static char *at;
	static unsigned long at_size, at_grain;
	unsigned long align = grain == PAGE ? PMD : grain;
	/* over our own reservation the first time, into the hole it left after */
	int how = MAP_FIXED_NOREPLACE;
	char *p;

	if (!at || size != at_size || grain != at_grain) {
		unsigned long span = size + 2 * align;
		char *win = mmap(NULL, span, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (win == MAP_FAILED)
			die("reserving address space for", path);
		/* strictly above win: the window keeps a part below the mapping */
		at = (char *)(((uintptr_t)win + align) & ~(uintptr_t)(align - 1));
		if (grain == PAGE)
			at += PAGE;
		at_size = size;
		at_grain = grain;
		how = MAP_FIXED;
	}
	p = mmap(at, size, PROT_READ | PROT_WRITE, MAP_SHARED | how, fd, 0);
	if (p == MAP_FAILED)
		die("mmap", path);
	return p;
}

static void touch(char *p, unsigned long size, unsigned long step, int write)
{
	unsigned long off;
	uint64_t sum = 0;

	for (off = 0; off < size; off += step) {
		if (write)
			*(volatile uint64_t *)(p + off) = off;
		else
			sum += *(volatile uint64_t *)(p + off);
	}
	/* keep the loads */
	if (sum == 1)
		fputc(' ', stderr);
}

static void report(uint64_t ns, unsigned long ops)
{
	printf("%.1f\t%lu\n", (double)ns / ops, ops);
	fflush(stdout);
}

static void settle(int fd, int dev, const char *path)
{
	/* clean the entries the round dirtied: each round starts alike */
	if (!dev && fsync(fd))
		die("fsync", path);
}

static int bench_fault(int argc, char **argv)
{
	const char *path;
	unsigned long size, grain;
	int rounds, write, fd, dev, r;

	if (argc != 7)
		usage();
	path = argv[2];
	if (strcmp(argv[3], "read") && strcmp(argv[3], "write"))
		usage();
	write = !strcmp(argv[3], "write");
	grain = grain_size(argv[4]);
	size = parse_size(argv[5]);
	rounds = parse_rounds(argv[6]);
	if (size % grain) {
		fprintf(stderr, "%s: SIZE must be a multiple of the %s size\n", prog, argv[4]);
		return 2;
	}
	fd = open_target(path, size, &dev);
	for (r = 0; r < rounds; r++) {
		char *p = map_at(fd, path, size, grain);
		uint64_t t0 = now_ns();

		touch(p, size, grain, write);
		report(now_ns() - t0, size / grain);
		if (munmap(p, size))
			die("munmap", path);
		settle(fd, dev, path);
	}
	close(fd);
	return 0;
}

static int bench_munmap(int argc, char **argv)
{
	const char *path;
	unsigned long size, grain;
	int rounds, fd, dev, r;

	if (argc != 6)
		usage();
	path = argv[2];
	grain = grain_size(argv[3]);
	size = parse_size(argv[4]);
	rounds = parse_rounds(argv[5]);
	fd = open_target(path, size, &dev);
	for (r = 0; r < rounds; r++) {
		char *p = map_at(fd, path, size, grain);
		uint64_t t0;

		touch(p, size, grain, 0);
		t0 = now_ns();
		if (munmap(p, size))
			die("munmap", path);
		report(now_ns() - t0, 1);
	}
	close(fd);
	return 0;
}

static int bench_truncate(int argc, char **argv)
{
	const char *path;
	unsigned long size, grain;
	int rounds, fd, dev, r;

	if (argc != 6)
		usage();
	path = argv[2];
	grain = grain_size(argv[3]);
	size = parse_size(argv[4]);
	rounds = parse_rounds(argv[5]);
	fd = open_target(path, size, &dev);
	if (dev) {
		fprintf(stderr, "%s: truncate needs a file, %s is a device\n", prog, path);
		return 2;
	}
	for (r = 0; r < rounds; r++) {
		char *p;
		uint64_t t0;

		if (r)
			fill_file(fd, path, size);
		p = map_at(fd, path, size, grain);
		touch(p, size, grain, 0);
		t0 = now_ns();
		if (ftruncate(fd, 0))
			die("ftruncate", path);
		report(now_ns() - t0, 1);
		munmap(p, size);
	}
	close(fd);
	return 0;
}

static int gup_fd(void)
{
	int fd = open(GUP_TEST_PATH, O_RDWR);

	if (fd < 0)
		die("open (CONFIG_GUP_TEST, debugfs mounted?)", GUP_TEST_PATH);
	return fd;
}

static int bench_gup(int argc, char **argv)
{
	const char *path;
	unsigned long size;
	int rounds, fd, dev, gfd, r, fast;

	if (argc != 6)
		usage();
	path = argv[2];
	if (strcmp(argv[3], "fast") && strcmp(argv[3], "slow"))
		usage();
	fast = !strcmp(argv[3], "fast");
	size = parse_size(argv[4]);
	rounds = parse_rounds(argv[5]);
	fd = open_target(path, size, &dev);
	gfd = gup_fd();
	for (r = 0; r < rounds; r++) {
		char *p = map_at(fd, path, size, PAGE);
		struct gup_test gt = {
			.addr = (uintptr_t)p,
			.size = size,
			.nr_pages_per_call = 512,
		};

		touch(p, size, PAGE, 0);
		if (ioctl(gfd, fast ? PIN_FAST_BENCHMARK : PIN_BASIC_TEST, &gt))
			die("gup_test ioctl on a mapping of", path);
		if (gt.size != size) {
			fprintf(stderr, "%s: gup_test pinned %llu of %lu bytes of %s\n", prog,
				(unsigned long long)gt.size, size, path);
			return 1;
		}
		report((gt.get_delta_usec + gt.put_delta_usec) * 1000, size / PAGE);
		munmap(p, size);
	}
	close(gfd);
	close(fd);
	return 0;
}

static int bench_longterm(int argc, char **argv)
{
	const char *path;
	unsigned long size;
	int fd, dev, gfd;
	char *p;
	struct gup_test gt = { .nr_pages_per_call = 512 };

	if (argc != 4)
		usage();
	path = argv[2];
	size = parse_size(argv[3]);
	fd = open_target(path, size, &dev);
	gfd = gup_fd();
	p = map_at(fd, path, size, PAGE);
	touch(p, size, PAGE, 0);
	gt.addr = (uintptr_t)p;
	gt.size = size;
	if (ioctl(gfd, PIN_LONGTERM_BENCHMARK, &gt))
		die("gup_test ioctl on a mapping of", path);
	printf("pinned %llu of %lu pages\n", (unsigned long long)gt.size / PAGE, size / PAGE);
	munmap(p, size);
	close(gfd);
	close(fd);
	return gt.size ? 1 : 0;
}

static int bench_odirect(int argc, char **argv)
{
	const char *path, *bdev;
	unsigned long size;
	int rounds, fd, dev, bfd, r;
	char *p;

	if (argc != 6)
		usage();
	path = argv[2];
	bdev = argv[3];
	size = parse_size(argv[4]);
	rounds = parse_rounds(argv[5]);
	fd = open_target(path, size, &dev);
	bfd = open(bdev, O_RDONLY | O_DIRECT);
	if (bfd < 0)
		die("open O_DIRECT", bdev);
	p = map_at(fd, path, size, PAGE);
	touch(p, size, PAGE, 1);
	for (r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();

		if (pread(bfd, p, size, 0) != (ssize_t)size)
			die("O_DIRECT pread into a DAX mapping from", bdev);
		report(now_ns() - t0, size / PAGE);
	}
	munmap(p, size);
	close(bfd);
	close(fd);
	return 0;
}

static int bench_reflink(int argc, char **argv)
{
	const char *path;
	char clone[4096];
	unsigned long size;
	int rounds, fault, fd, dev, r;
	char *src;

	if (argc != 6)
		usage();
	path = argv[2];
	if (strcmp(argv[3], "clone") && strcmp(argv[3], "fault"))
		usage();
	fault = !strcmp(argv[3], "fault");
	size = parse_size(argv[4]);
	rounds = parse_rounds(argv[5]);
	if (size % PMD) {
		fprintf(stderr, "%s: SIZE must be a multiple of 2 MiB\n", prog);
		return 2;
	}
	if (snprintf(clone, sizeof(clone), "%s.clone", path) >= (int)sizeof(clone)) {
		fprintf(stderr, "%s: path too long: %s\n", prog, path);
		return 2;
	}
	fd = open_target(path, size, &dev);
	if (dev) {
		fprintf(stderr, "%s: reflink needs a file, %s is a device\n", prog, path);
		return 2;
	}
	/* the source's own mapping, for the life of the run, outside map_at()'s window */
	src = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (src == MAP_FAILED)
		die("mmap", path);
	for (r = 0; r < rounds; r++) {
		int cfd;
		uint64_t t0;

		/* each FICLONE unmaps the source: map it again, untimed */
		touch(src, size, PMD, 0);
		cfd = open(clone, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (cfd < 0)
			die("open", clone);
		t0 = now_ns();
		if (ioctl(cfd, FICLONE, fd))
			die("FICLONE into", clone);
		if (!fault) {
			report(now_ns() - t0, 1);
		} else {
			char *p = map_at(cfd, clone, size, PMD);

			t0 = now_ns();
			touch(p, size, PMD, 0);
			report(now_ns() - t0, size / PMD);
			if (munmap(p, size))
				die("munmap", clone);
		}
		close(cfd);
		if (unlink(clone))
			die("unlink", clone);
	}
	munmap(src, size);
	close(fd);
	return 0;
}

static int bench_rw(int argc, char **argv)
{
	const char *path;
	unsigned long size, iosize, off;
	int rounds, write, fd, dev, r;
	char *buf;

	if (argc != 7)
		usage();
	path = argv[2];
	if (strcmp(argv[3], "read") && strcmp(argv[3], "write"))
		usage();
	write = !strcmp(argv[3], "write");
	size = parse_size(argv[4]);
	iosize = parse_size(argv[5]);
	rounds = parse_rounds(argv[6]);
	if (size % iosize) {
		fprintf(stderr, "%s: SIZE must be a multiple of IOSIZE\n", prog);
		return 2;
	}
	if (is_chardev(path)) {
		fprintf(stderr, "%s: rw needs a file, %s is a device\n", prog, path);
		return 2;
	}
	/* the buffer, faulted in (written) before any round */
	buf = mmap(NULL, iosize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap of a buffer for", path);
	memset(buf, 0xa5, iosize);
	fd = open_target(path, size, &dev);
	for (r = 0; r < rounds; r++) {
		uint64_t t0 = now_ns();

		for (off = 0; off < size; off += iosize) {
			ssize_t n = write ? pwrite(fd, buf, iosize, off) : pread(fd, buf, iosize, off);

			if (n < 0)
				die(write ? "pwrite" : "pread", path);
			if (n != (ssize_t)iosize) {
				fprintf(stderr, "%s: short %s of %s at offset %lu: %zd of %lu bytes\n",
					prog, write ? "pwrite" : "pread", path, off, n, iosize);
				exit(1);
			}
		}
		report(now_ns() - t0, size / iosize);
		settle(fd, dev, path);
	}
	munmap(buf, iosize);
	close(fd);
	return 0;
}

/* that fd, which should be all hole, has no blocks */
static void no_blocks(int fd, const char *path, const char *when)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat", path);
	if (st.st_blocks) {
		fprintf(stderr, "%s: %s has %lld blocks %s: not a hole\n", prog, path,
			(long long)st.st_blocks, when);
		exit(1);
	}
}

static int bench_holefault(int argc, char **argv)
{
	const char *path;
	unsigned long size, grain;
	int rounds, fd, r;

	if (argc != 6)
		usage();
	path = argv[2];
	if (strcmp(argv[3], "pte") && strcmp(argv[3], "pmd"))
		usage();
	grain = grain_size(argv[3]);
	size = parse_size(argv[4]);
	rounds = parse_rounds(argv[5]);
	if (size % grain) {
		fprintf(stderr, "%s: SIZE must be a multiple of the %s size\n", prog, argv[3]);
		return 2;
	}
	if (is_chardev(path)) {
		fprintf(stderr, "%s: holefault needs a file, %s is a device\n", prog, path);
		return 2;
	}
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		die("open", path);
	for (r = 0; r < rounds; r++) {
		char *p;
		uint64_t t0;

		/*
		 * A fresh hole every round: the faults leave zero entries
		 * that munmap() keeps and a second round would find; the
		 * truncation to 0 drops them (and any block).
		 */
		if (ftruncate(fd, 0))
			die("ftruncate to 0", path);
		if (ftruncate(fd, size))
			die("ftruncate to SIZE", path);
		if (fsync(fd))
			die("fsync", path);
		no_blocks(fd, path, "after ftruncate");
		p = map_at(fd, path, size, grain);
		t0 = now_ns();
		touch(p, size, grain, 0);
		report(now_ns() - t0, size / grain);
		if (munmap(p, size))
			die("munmap", path);
		no_blocks(fd, path, "after the read faults");
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (!strcmp(argv[1], "fault"))
		return bench_fault(argc, argv);
	if (!strcmp(argv[1], "munmap"))
		return bench_munmap(argc, argv);
	if (!strcmp(argv[1], "truncate"))
		return bench_truncate(argc, argv);
	if (!strcmp(argv[1], "gup"))
		return bench_gup(argc, argv);
	if (!strcmp(argv[1], "longterm"))
		return bench_longterm(argc, argv);
	if (!strcmp(argv[1], "odirect"))
		return bench_odirect(argc, argv);
	if (!strcmp(argv[1], "reflink"))
		return bench_reflink(argc, argv);
	if (!strcmp(argv[1], "rw"))
		return bench_rw(argc, argv);
	if (!strcmp(argv[1], "holefault"))
		return bench_holefault(argc, argv);
	usage();
	return 2;
}
