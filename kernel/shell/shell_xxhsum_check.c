/*
 * xxhsum -c [-q] SUMFILE...: check files against checksum lines made by
 * Debian's xxhsum on the host (or by karst's), with the messages and the
 * exit status of Debian's xxhsum 0.8.1:
 *
 *   NAME: OK                    (left out with -q)
 *   NAME: FAILED
 *   SUMFILE:LINE: Could not open or read 'NAME': REASON.
 * and after each sum file, those that apply:
 *   N line(s) is/are improperly formatted
 *   N listed file(s) could not be read
 *   N computed checksum(s) did NOT match
 *
 * Lines are "HEX  NAME" (the algorithm from the length of HEX: 8 XXH32,
 * 16 XXH64, 32 XXH128) or "ALGO (NAME) = HEX" (--tag style, also XXH3).
 * Hex may be in either case. A line that is neither is counted, not
 * checked, and does not change the status; a file that cannot be read or
 * does not match does (status 1), as does a sum file with no checksum line
 * at all. Names are relative to the shell's directory; a name can hold any
 * byte but a newline, up to KARST_PATH_MAX. The sum file is read through
 * the VFS in pieces, so it may list any number of files. Sleeps.
 */
#include <errno.h>
#include <karst/format.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <string.h>
#include <vfs.h>

#include "shell_xxhsum.h"

#define XXHCHK_LINE  (KARST_PATH_MAX + 64) /* "ALGO (" + name + ") = " + 32 hex digits */
#define XXHCHK_CHUNK 4096

struct xxhchk {
	struct xxhsum_state *st;
	char *buf; /* XXHSUM_BUF, for the listed files */
	char chunk[XXHCHK_CHUNK];
	char line[XXHCHK_LINE];
	bool quiet;
	const char *sumfile;
	unsigned long lineno, bad_lines, unreadable, mismatched, checked;
};

/* The text glibc's strerror gives (what the host's xxhsum prints). */
static const char *xxhchk_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "No such file or directory";
	case -EISDIR:
		return "Is a directory";
	case -ENOTDIR:
		return "Not a directory";
	case -EIO:
		return "Input/output error";
	case -ELOOP:
		return "Too many levels of symbolic links";
	case -EACCES:
		return "Permission denied";
	case -ENAMETOOLONG:
		return "File name too long";
	case -ENOMEM:
		return "Cannot allocate memory";
	default:
		return vfs_errname(err);
	}
}

/* Lower-case copy of exactly n hex digits at s (and nothing after them
 * when whole), or false. */
static bool xxhchk_hex(const char *s, size_t n, bool whole, char out[33])
{
	for (size_t i = 0; i < n; i++) {
		int v = khexval(s[i]);
		if (v < 0)
			return false;
		out[i] = "0123456789abcdef"[v];
	}
	out[n] = 0;
	return !whole || s[n] == 0;
}

static const size_t xxhchk_hexlen[] = {
    [XXHSUM_32] = 8, [XXHSUM_64] = 16, [XXHSUM_128] = 32, [XXHSUM_3] = 16};

/* One line (no newline) -> algorithm, expected hex and name (in line). */
static bool xxhchk_parse(char *line, enum xxhsum_algo *algo, char hex[33], char **name)
{
	for (int a = XXHSUM_32; a <= XXHSUM_3; a++) {
		size_t nl = strlen(xxhsum_algo_name[a]);
		if (strncmp(line, xxhsum_algo_name[a], nl) != 0 || line[nl] != ' ' ||
		    line[nl + 1] != '(')
			continue;
		char *close = NULL; /* the last ") = ": names may hold parentheses */
		for (char *p = line + nl + 2; (p = strstr(p, ") = ")) != NULL; p++)
			close = p;
		if (!close || !xxhchk_hex(close + 4, xxhchk_hexlen[a], true, hex))
			return false;
		*close = 0;
		*algo = (enum xxhsum_algo)a;
		*name = line + nl + 2;
		return true;
	}
	size_t h = 0;
	while (khexval(line[h]) >= 0)
		h++;
	if ((h != 8 && h != 16 && h != 32) || line[h] != ' ' || line[h + 1] == 0)
		return false;
	*algo = h == 8 ? XXHSUM_32 : h == 16 ? XXHSUM_64 : XXHSUM_128;
	xxhchk_hex(line, h, false, hex);
	*name = line + h + 2; /* after the two separator characters, whatever they are */
	return true;
}

static void xxhchk_line(struct xxhchk *c)
{
	enum xxhsum_algo algo;
	char want[33], got[33], *name;
	c->lineno++;
	if (!xxhchk_parse(c->line, &algo, want, &name)) {
		c->bad_lines++;
		return;
	}
	c->checked++;
	c->st->algo = algo;
	int err = xxhsum_file(name, c->st, c->buf, got);
	if (err) {
		c->unreadable++;
		shell_printf("%s:%lu: Could not open or read '%s': %s.\n", c->sumfile, c->lineno,
			     name, xxhchk_strerror(err));
	} else if (strcmp(want, got) != 0) {
		c->mismatched++;
		shell_printf("%s: FAILED\n", name);
	} else if (!c->quiet) {
		shell_printf("%s: OK\n", name);
	}
}

/* Check one sum file; its status (0 or 1). */
static int xxhchk_file(struct xxhchk *c, const char *sumfile)
{
	int fd = vfs_open(sumfile, O_RDONLY, 0);
	if (fd < 0) {
		printk("Error: Could not open '%s': %s\n", sumfile, xxhchk_strerror(fd));
		return 1;
	}
	c->sumfile = sumfile;
	c->lineno = c->bad_lines = c->unreadable = c->mismatched = c->checked = 0;
	size_t len = 0;
	bool overlong = false;
	long n;
	while ((n = vfs_read(fd, c->chunk, sizeof(c->chunk))) > 0) {
		for (long i = 0; i < n; i++) {
			char ch = c->chunk[i];
			if (ch != '\n') {
				if (len + 1 < sizeof(c->line))
					c->line[len++] = ch;
				else
					overlong = true;
				continue;
			}
			c->line[len] = 0;
			if (overlong) { /* longer than any name: improperly formatted */
				c->lineno++;
				c->bad_lines++;
			} else {
				xxhchk_line(c);
			}
			len = 0;
			overlong = false;
		}
	}
	vfs_close(fd);
	if (n < 0) {
		printk("Error: a failure occurred reading '%s': %s\n", sumfile,
		       xxhchk_strerror((int)n));
		return 1;
	}
	if (len > 0 || overlong) { /* a last line without a newline */
		c->line[len] = 0;
		if (overlong) {
			c->lineno++;
			c->bad_lines++;
		} else {
			xxhchk_line(c);
		}
	}
	if (c->checked == 0) {
		printk("%s: no properly formatted xxHash checksum lines found\n", sumfile);
		return 1;
	}
	if (c->bad_lines)
		shell_printf("%lu line%s improperly formatted\n", c->bad_lines,
			     c->bad_lines == 1 ? " is" : "s are");
	if (c->unreadable)
		shell_printf("%lu listed file%s could not be read\n", c->unreadable,
			     c->unreadable == 1 ? "" : "s");
	if (c->mismatched)
		shell_printf("%lu computed checksum%s did NOT match\n", c->mismatched,
			     c->mismatched == 1 ? "" : "s");
	return c->unreadable || c->mismatched ? 1 : 0;
}

int xxhsum_check(struct xxhsum_state *st, char *buf, int nfiles, char **files, bool quiet)
{
	struct xxhchk *c = kmalloc(sizeof(*c));
	if (!c) {
		printk("xxhsum: out of memory\n");
		return 1;
	}
	*c = (struct xxhchk){.st = st, .buf = buf, .quiet = quiet};
	int status = 0;
	for (int i = 0; i < nfiles; i++)
		status |= xxhchk_file(c, files[i]);
	kfree(c);
	return status;
}
