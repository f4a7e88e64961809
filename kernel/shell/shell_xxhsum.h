/*
 * The xxhsum command's internals, shared by shell_xxhsum.c (printing
 * checksums) and shell_xxhsum_check.c (checking them, -c).
 */
#ifndef KARST_SHELL_XXHSUM_H
#define KARST_SHELL_XXHSUM_H

#include <stdbool.h>
#include <stddef.h>

/* xxhash's C11 static assertions would pull in <assert.h>. */
#define XXH_STATIC_ASSERT(c) _Static_assert((c), #c)
#define XXH_INLINE_ALL
#include <xxhash.h>

#define XXHSUM_BUF (128u * 1024)

enum xxhsum_algo { XXHSUM_32, XXHSUM_64, XXHSUM_128, XXHSUM_3 };

extern const char *const xxhsum_algo_name[]; /* "XXH32", "XXH64", "XXH128", "XXH3" */

/* The hash state of any algorithm; XXH128 and XXH3 share XXH3's. */
struct xxhsum_state {
	enum xxhsum_algo algo;
	union {
		XXH32_state_t s32;
		XXH64_state_t s64;
		XXH3_state_t s3;
	};
};

void xxhsum_reset(struct xxhsum_state *st);
void xxhsum_update(struct xxhsum_state *st, const void *p, size_t n);
/* The digest in canonical (big-endian) lower-case hex, as xxhsum prints it. */
void xxhsum_digest_hex(struct xxhsum_state *st, char out[33]);
/* Hash the file at path with st->algo into hex, reading through buf
 * (XXHSUM_BUF bytes); 0 or a negative errno. Sleeps (VFS reads). */
int xxhsum_file(const char *path, struct xxhsum_state *st, char *buf, char hex[33]);
/* xxhsum -c: check the "HEX  NAME" and "ALGO (NAME) = HEX" lines of each
 * sum file as Debian's xxhsum 0.8.1 does (same messages and status; -q
 * leaves out the OK lines), hashing with st and buf (as xxhsum_file).
 * Returns the command's status. */
int xxhsum_check(struct xxhsum_state *st, char *buf, int nfiles, char **files, bool quiet);

#endif
