/*
 * xxhsum: checksums of files, printed exactly as Debian's xxhsum (package
 * xxhash, 0.8.1) prints them, so what karst read can be compared with what
 * the host holds by running the same command on both sides.
 *
 *   xxhsum [-H0|-H1|-H2|-H3] [--tag] FILE...
 *   xxhsum -c [-q] SUMFILE...     (shell_xxhsum_check.c)
 *
 * -H0 is XXH32, -H1 (the default) XXH64, -H2 XXH128, -H3 XXH3 (64 bits);
 * -H32, -H64 and -H128 are accepted as Debian's tool does. Each file gives
 * one line: "HEX  NAME" in the GNU style, or "ALGO (NAME) = HEX" in the BSD
 * style (--tag; XXH3 always uses it, as Debian's 0.8.1 does). The hash is
 * printed in its canonical big-endian form. Names are printed as they are.
 *
 * The hashes are Debian's libxxhash (header only, inlined); files are read
 * through the VFS in 128 KiB pieces and streamed through the hash states,
 * so a file of any size (or a whole disk, /dev/vtbd0) is fine. Checksum
 * lines go to the command's output (and a `>` redirection); errors go to
 * the console and make the status 1, after the other files were done.
 */
#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <stdint.h>
#include <string.h>
#include <vfs.h>

#include "shell_xxhsum.h"

const char *const xxhsum_algo_name[] = {"XXH32", "XXH64", "XXH128", "XXH3"};

static bool xxhsum_parse_algo(const char *v, enum xxhsum_algo *out)
{
	static const struct {
		const char *name;
		enum xxhsum_algo algo;
	} table[] = {{"0", XXHSUM_32},	{"32", XXHSUM_32},   {"1", XXHSUM_64}, {"64", XXHSUM_64},
		     {"2", XXHSUM_128}, {"128", XXHSUM_128}, {"3", XXHSUM_3}};
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(v, table[i].name) == 0) {
			*out = table[i].algo;
			return true;
		}
	}
	return false;
}

void xxhsum_reset(struct xxhsum_state *st)
{
	switch (st->algo) {
	case XXHSUM_32:
		XXH32_reset(&st->s32, 0);
		break;
	case XXHSUM_64:
		XXH64_reset(&st->s64, 0);
		break;
	case XXHSUM_128:
		XXH3_128bits_reset(&st->s3);
		break;
	case XXHSUM_3:
		XXH3_64bits_reset(&st->s3);
		break;
	}
}

void xxhsum_update(struct xxhsum_state *st, const void *p, size_t n)
{
	switch (st->algo) {
	case XXHSUM_32:
		XXH32_update(&st->s32, p, n);
		break;
	case XXHSUM_64:
		XXH64_update(&st->s64, p, n);
		break;
	case XXHSUM_128:
		XXH3_128bits_update(&st->s3, p, n);
		break;
	case XXHSUM_3:
		XXH3_64bits_update(&st->s3, p, n);
		break;
	}
}

/* The digest in canonical (big-endian) hex, as xxhsum prints it. */
void xxhsum_digest_hex(struct xxhsum_state *st, char out[33])
{
	switch (st->algo) {
	case XXHSUM_32:
		ksnprintf(out, 33, "%08x", (unsigned)XXH32_digest(&st->s32));
		break;
	case XXHSUM_64:
		ksnprintf(out, 33, "%016lx", (unsigned long)XXH64_digest(&st->s64));
		break;
	case XXHSUM_128: {
		XXH128_hash_t h = XXH3_128bits_digest(&st->s3);
		ksnprintf(out, 33, "%016lx%016lx", (unsigned long)h.high64, (unsigned long)h.low64);
		break;
	}
	case XXHSUM_3:
		ksnprintf(out, 33, "%016lx", (unsigned long)XXH3_64bits_digest(&st->s3));
		break;
	}
}

/* Hash one file into hex; 0 or a negative errno (reported by the caller). */
int xxhsum_file(const char *path, struct xxhsum_state *st, char *buf, char hex[33])
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	struct vfs_stat sb;
	int err = vfs_fstat(fd, &sb);
	if (err == 0 && S_ISDIR(sb.st_mode))
		err = -EISDIR;
	if (err) {
		vfs_close(fd);
		return err;
	}
	xxhsum_reset(st);
	long n;
	while ((n = vfs_read(fd, buf, XXHSUM_BUF)) > 0)
		xxhsum_update(st, buf, (size_t)n);
	vfs_close(fd);
	if (n < 0)
		return (int)n;
	xxhsum_digest_hex(st, hex);
	return 0;
}

static int xxhsum_usage(void)
{
	printk("usage: xxhsum [-H0|-H1|-H2|-H3] [--tag] FILE...\n"
	       "       xxhsum -c [-q] SUMFILE...\n");
	return 2;
}

static int cmd_xxhsum(int argc, char **argv)
{
	enum xxhsum_algo algo = XXHSUM_64;
	bool tag = false, check = false, quiet = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "--tag") == 0)
			tag = true;
		else if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--check") == 0)
			check = true;
		else if (strcmp(argv[i], "-q") == 0 || strcmp(argv[i], "--quiet") == 0)
			quiet = true;
		else if (strncmp(argv[i], "-H", 2) == 0 && xxhsum_parse_algo(argv[i] + 2, &algo))
			;
		else {
			printk("xxhsum: unknown option '%s'\n", argv[i]);
			return xxhsum_usage();
		}
	}
	if (i >= argc)
		return xxhsum_usage(); /* no standard input in the kernel shell */
	if (algo == XXHSUM_3)
		tag = true; /* Debian's 0.8.1 prints XXH3 in the BSD style only */

	struct xxhsum_state *st = kmalloc(sizeof(*st));
	char *buf = kmalloc(XXHSUM_BUF);
	if (!st || !buf) {
		kfree(st);
		kfree(buf);
		printk("xxhsum: out of memory\n");
		return 1;
	}
	st->algo = algo;
	int status = check ? xxhsum_check(st, buf, argc - i, argv + i, quiet) : 0;
	for (; !check && i < argc; i++) {
		char hex[33];
		int err = xxhsum_file(argv[i], st, buf, hex);
		if (err) {
			printk("xxhsum: %s: %s\n", argv[i], vfs_errname(err));
			status = 1;
		} else if (tag) {
			shell_printf("%s (%s) = %s\n", xxhsum_algo_name[algo], argv[i], hex);
		} else {
			shell_printf("%s  %s\n", hex, argv[i]);
		}
	}
	kfree(buf);
	kfree(st);
	return status;
}
SHELL_CMD("xxhsum", cmd_xxhsum,
	  "xxhsum [-H0|-H1|-H2|-H3] [--tag] FILE... | -c [-q] SUMFILE...: checksums as Debian's "
	  "xxhsum prints and checks them");
