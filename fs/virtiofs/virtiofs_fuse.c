/*
 * FUSE messages: what a reply must look like, directory entries, INIT.
 *
 * The device is outside karst's trust: every length it gives is checked
 * before a byte of the payload is used. A reply that breaks the protocol
 * becomes -EIO for the request it answers (and a message from the
 * caller); nothing here trusts a count or a length it has not bounded.
 */
#include "virtiofs.h"

#include <errno.h>
#include <karst/compiler.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <string.h>

/* Errors a FUSE server may return: Linux accepts -1..-511. */
#define FUSE_ERRNO_MAX 511

int fuse_reply_check(const struct fuse_out_header *oh, uint32_t used, uint64_t unique,
		     uint32_t out_min, uint32_t out_max, uint32_t *payload, const char **why)
{
	*payload = 0;
	if (used < sizeof(*oh)) {
		*why = "shorter than its header";
		return -EIO;
	}
	if (oh->unique != unique) {
		*why = "for another request (unique does not match)";
		return -EIO;
	}
	if (oh->len != used) {
		*why = oh->len > used ? "header claims more than the device wrote"
				      : "header claims less than the device wrote";
		return -EIO;
	}
	if (oh->error > 0 || oh->error < -FUSE_ERRNO_MAX) {
		*why = "impossible error code";
		return -EIO;
	}
	uint32_t n = used - (uint32_t)sizeof(*oh);
	if (oh->error) {
		if (n) {
			*why = "error reply with a payload";
			return -EIO;
		}
		return oh->error;
	}
	if (n > out_max) {
		*why = "payload longer than the request allows";
		return -EIO;
	}
	if (n < out_min) {
		*why = "payload shorter than the request needs";
		return -EIO;
	}
	*payload = n;
	return 0;
}

int fuse_dirent_next(const void *buf, uint32_t len, uint32_t *pos, bool plus,
		     struct fuse_dirent_view *d)
{
	uint32_t p = *pos;
	if (p >= len)
		return 0;
	uint32_t head = plus ? (uint32_t)FUSE_NAME_OFFSET_DIRENTPLUS : (uint32_t)FUSE_NAME_OFFSET;
	if (len - p < head)
		return -EIO;
	const uint8_t *b = (const uint8_t *)buf + p;
	struct fuse_dirent de;
	const struct fuse_entry_out *eo = NULL;
	if (plus) {
		eo = (const struct fuse_entry_out *)b;
		memcpy(&de, b + offsetof(struct fuse_direntplus, dirent), sizeof(de));
	} else {
		memcpy(&de, b, sizeof(de));
	}
	if (de.namelen == 0 || de.namelen > KARST_NAME_MAX || de.namelen > len - p - head)
		return -EIO;
	const char *name = (const char *)b + head;
	if (memchr(name, '/', de.namelen) || memchr(name, '\0', de.namelen))
		return -EIO;
	/* Records are 8-byte aligned; the last one may end without padding. */
	uint64_t next = (uint64_t)p + FUSE_DIRENT_ALIGN((uint64_t)head + de.namelen);
	*pos = next > len ? len : (uint32_t)next;
	d->name = name;
	d->namelen = de.namelen;
	d->ino = de.ino;
	d->off = de.off;
	d->type = de.type;
	d->entry = eo;
	return 1;
}

static const char *const fuse_opnames[] = {
    [FUSE_LOOKUP] = "LOOKUP",
    [FUSE_FORGET] = "FORGET",
    [FUSE_GETATTR] = "GETATTR",
    [FUSE_SETATTR] = "SETATTR",
    [FUSE_READLINK] = "READLINK",
    [FUSE_OPEN] = "OPEN",
    [FUSE_READ] = "READ",
    [FUSE_WRITE] = "WRITE",
    [FUSE_STATFS] = "STATFS",
    [FUSE_RELEASE] = "RELEASE",
    [FUSE_INIT] = "INIT",
    [FUSE_OPENDIR] = "OPENDIR",
    [FUSE_READDIR] = "READDIR",
    [FUSE_RELEASEDIR] = "RELEASEDIR",
    [FUSE_DESTROY] = "DESTROY",
    [FUSE_BATCH_FORGET] = "BATCH_FORGET",
    [FUSE_READDIRPLUS] = "READDIRPLUS",
    [FUSE_SETUPMAPPING] = "SETUPMAPPING",
    [FUSE_REMOVEMAPPING] = "REMOVEMAPPING",
};

const char *fuse_opname(uint32_t opcode, char *buf, size_t len)
{
	if (opcode < ARRAY_SIZE(fuse_opnames) && fuse_opnames[opcode])
		return fuse_opnames[opcode];
	ksnprintf(buf, len, "op %u", opcode);
	return buf;
}

/* The flags we ask for; the host's reply says which it grants. */
#define KARST_FUSE_FLAGS                                                                           \
	(FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES |           \
	 FUSE_MAP_ALIGNMENT)

/* Minor 27 (Linux 4.20: max_pages) is the oldest we speak; virtiofsd of
 * QEMU 5 and later speaks 31 or more. */
#define KARST_FUSE_MINOR_MIN 27

void fuse_init_request(struct fuse_init_in *in, uint32_t max_readahead)
{
	memset(in, 0, sizeof(*in));
	in->major = FUSE_KERNEL_VERSION;
	in->minor = FUSE_KERNEL_MINOR_VERSION;
	in->max_readahead = max_readahead;
	in->flags = KARST_FUSE_FLAGS;
}

int fuse_init_accept(struct virtiofs_conn *conn, const struct fuse_init_out *out, uint32_t len)
{
	if (len < FUSE_COMPAT_22_INIT_OUT_SIZE)
		return -EIO;
	struct fuse_init_out o;
	memset(&o, 0, sizeof(o));
	memcpy(&o, out, len < sizeof(o) ? len : sizeof(o));
	if (o.major != FUSE_KERNEL_VERSION || o.minor < KARST_FUSE_MINOR_MIN)
		return -ENOTSUP;
	conn->minor = o.minor < FUSE_KERNEL_MINOR_VERSION ? o.minor : FUSE_KERNEL_MINOR_VERSION;
	conn->flags = o.flags & KARST_FUSE_FLAGS;
	conn->readdirplus = conn->flags & FUSE_DO_READDIRPLUS;
	conn->max_readahead = o.max_readahead;
	conn->max_write = o.max_write;
	/* Without FUSE_MAX_PAGES the host takes 32 pages per request. */
	uint32_t pages = (conn->flags & FUSE_MAX_PAGES) && o.max_pages ? o.max_pages : 32;
	uint64_t max_read = (uint64_t)pages * 4096;
	if (conn->max_transfer && max_read > conn->max_transfer)
		max_read = conn->max_transfer;
	if (max_read < FUSE_MIN_READ_BUFFER)
		max_read = FUSE_MIN_READ_BUFFER;
	conn->max_read = (uint32_t)max_read;
	if (conn->flags & FUSE_MAP_ALIGNMENT) {
		if (o.map_alignment > 30)
			return -EIO;
		conn->map_alignment = o.map_alignment;
	} else {
		conn->map_alignment = 12;
	}
	return 0;
}
