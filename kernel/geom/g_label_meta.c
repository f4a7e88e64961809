/*
 * LABEL metadata: the on-disk format, shared by the LABEL class and the
 * host tool.
 *
 * It lives in the provider's last sector, as GEOM metadata does, and is
 * encoded field by field, little-endian, from offset 0:
 *
 *    0  magic     16 bytes, "KARSTLABEL" padded with NULs
 *   16  version   uint32 (G_LABEL_VERSION)
 *   20  name      16 bytes, NUL-padded (a 16-byte name has no NUL)
 *   36  provsize  uint64, size of the labelled provider in bytes
 *   44  hash      uint64, XXH64 (seed 0) of bytes 0..43
 *
 * The rest of the sector is zero when written and ignored when read. A
 * sector that does not start with the magic is "no label" (-ENOENT, no
 * message); anything else wrong is a corrupt label (-EINVAL and a reason).
 */
#include "g_internal.h"
#include <errno.h>
#include <string.h>

/* xxhash's C11 static assertions would pull in <assert.h>. */
#define XXH_STATIC_ASSERT(c) _Static_assert((c), #c)
#define XXH_INLINE_ALL
#include <xxhash.h>

#define OFF_MAGIC    0
#define OFF_VERSION  16
#define OFF_NAME     20
#define OFF_PROVSIZE 36
#define OFF_HASH     44

bool g_label_name_valid(const char *name)
{
	size_t n = strnlen(name, G_LABEL_NAMELEN + 1);
	if (n == 0 || n > G_LABEL_NAMELEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

int g_label_encode(const struct g_label_meta *md, void *sector, size_t secsize)
{
	uint8_t *p = sector;
	if (secsize < G_LABEL_METASIZE || !g_label_name_valid(md->name))
		return -EINVAL;
	memset(p, 0, secsize);
	memcpy(p + OFF_MAGIC, G_LABEL_MAGIC, sizeof(G_LABEL_MAGIC) - 1);
	g_le32enc(p + OFF_VERSION, md->version ? md->version : G_LABEL_VERSION);
	memcpy(p + OFF_NAME, md->name, strnlen(md->name, G_LABEL_NAMELEN));
	g_le64enc(p + OFF_PROVSIZE, md->provsize);
	g_le64enc(p + OFF_HASH, XXH64(p, OFF_HASH, 0));
	return 0;
}

int g_label_decode(const void *sector, size_t secsize, uint64_t mediasize, struct g_label_meta *md,
		   const char **why)
{
	const uint8_t *p = sector;
	static const char magic[G_LABEL_MAGICLEN] = G_LABEL_MAGIC;
	*why = "";
	if (secsize < G_LABEL_METASIZE) {
		*why = "sector too small for a label";
		return -EINVAL;
	}
	if (memcmp(p + OFF_MAGIC, magic, G_LABEL_MAGICLEN) != 0) {
		*why = "no label magic";
		return -ENOENT;
	}
	if (g_le64dec(p + OFF_HASH) != XXH64(p, OFF_HASH, 0)) {
		*why = "label hash mismatch";
		return -EINVAL;
	}
	md->version = g_le32dec(p + OFF_VERSION);
	if (md->version == 0 || md->version > G_LABEL_VERSION) {
		*why = "unsupported label version";
		return -EINVAL;
	}
	memset(md->name, 0, sizeof(md->name));
	memcpy(md->name, p + OFF_NAME, G_LABEL_NAMELEN);
	/* Padding after the name must be NULs, and the name must be valid. */
	size_t n = strnlen(md->name, G_LABEL_NAMELEN);
	for (size_t i = n; i < G_LABEL_NAMELEN; i++) {
		if (p[OFF_NAME + i] != 0) {
			*why = "label name not NUL-padded";
			return -EINVAL;
		}
	}
	if (!g_label_name_valid(md->name)) {
		*why = "bad label name";
		return -EINVAL;
	}
	md->provsize = g_le64dec(p + OFF_PROVSIZE);
	if (md->provsize != mediasize) {
		*why = "label size does not match the provider";
		return -EINVAL;
	}
	return 0;
}
