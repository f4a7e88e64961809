/*
 * virtio-fs: a host directory, read-only, over FUSE on a virtio device.
 *
 * Three parts meet here:
 *  - a connection (struct virtiofs_conn) is one FUSE session with one
 *    device, named by its tag. The driver (virtiofs_dev.c, kernel only)
 *    makes one per device and registers it; a host test can register a
 *    fake one. A connection carries requests with conn->ops->call (a
 *    request queue, waits for the reply) and conn->ops->forget (the
 *    high-priority queue, no reply).
 *  - the FUSE messages (virtiofs_fuse.c, portable, host-tested): reply
 *    validation and directory-entry decoding, with the wire structures of
 *    Debian's <linux/fuse.h>.
 *  - the filesystem `virtiofs` (virtiofs_vfsops.c, virtiofs_vnops.c): a
 *    mount finds the connection by tag; the first mount sends FUSE_INIT,
 *    the last unmount FUSE_DESTROY. Every mount is read-only: writes and
 *    changes are EROFS.
 *
 * Errors are negative errno values (Linux's numbers, which are FUSE's).
 */
#ifndef KARST_VIRTIOFS_H
#define KARST_VIRTIOFS_H

#include "virtiofs_wire.h"
#include <karst/list.h>
#include <karst/sync.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTIOFS_TAG_MAX 36 /* bytes of a tag, without the NUL (spec) */
#define VIRTIOFS_OPS	 64 /* opcodes counted in the statistics */

/*
 * One request. Input: the opcode, the node, up to three argument blocks
 * (copied by the transport before call returns or sleeps). Output: one
 * buffer for the reply's payload (after struct fuse_out_header), which the
 * device writes directly: it must be physically contiguous (kmalloc'd),
 * or NULL with out_len 0. A reply payload shorter than out_min or longer
 * than out_len (plus out2_len) is a protocol error (-EIO). out2, optional
 * (out2_len 0 without), takes the payload's bytes after the first out_len
 * (a buffer that wraps around, as the read window's rotated chunks do).
 */
struct fuse_call {
	uint32_t opcode;
	uint64_t nodeid;
	const void *in[3];
	uint32_t in_len[3];
	unsigned nin;
	void *out;
	uint32_t out_len;
	void *out2;
	uint32_t out2_len;
	uint32_t out_min;
	uint32_t out_got; /* set by call: payload bytes received */
};

struct virtiofs_conn;

struct virtiofs_conn_ops {
	/* Send c and wait for its reply: 0, the host's error (negative
	 * errno), or -EIO when the device broke the protocol or stopped
	 * answering. Thread context, may sleep. */
	int (*call)(struct virtiofs_conn *conn, struct fuse_call *c);
	/* Optional, both or neither (without them virtiofs_call_start sends
	 * requests one after the other): start puts n requests (at most
	 * VIRTIOFS_START_MAX) in flight and returns without waiting (0 or
	 * -ENOMEM; a request that could not be sent is wait's error), *token
	 * is for wait, which waits for every reply, returns
	 * 0 or the first error and frees token. The caller keeps c[] and the
	 * buffers alive until wait returns. */
	int (*start)(struct virtiofs_conn *conn, struct fuse_call *const *c, unsigned n,
		     void **token);
	int (*wait)(struct virtiofs_conn *conn, void *token);
	/* Optional (with start and wait): true when every reply of token's
	 * batch is in, so wait would not sleep. Never sleeps. */
	bool (*done)(struct virtiofs_conn *conn, void *token);
	/* Queue FUSE_BATCH_FORGET (or FORGET for one) on the high-priority
	 * queue without waiting for the device. Thread context, may sleep
	 * for queue space. A dead device drops it. */
	int (*forget)(struct virtiofs_conn *conn, const struct fuse_forget_one *f, unsigned n);
	/* Optional: wait (bounded) until the device has taken every forget
	 * queued; called before FUSE_DESTROY. */
	void (*drain)(struct virtiofs_conn *conn);
};

struct virtiofs_opstat {
	_Atomic uint64_t requests, errors, bytes_in, bytes_out;
};

struct virtiofs_conn {
	char tag[VIRTIOFS_TAG_MAX + 1];
	const struct virtiofs_conn_ops *ops;
	void *dev;	       /* the transport's */
	uint32_t max_transfer; /* the transport's limit on one reply payload */
	/* Shared-memory window (shmid 0) of the device, or 0/0; window_va is
	 * it mapped for the kernel (NULL: not usable), window_device says it
	 * is Device memory (aligned loads only). */
	uint64_t window_pa, window_len;
	void *window_va;
	bool window_device;

	/* Session: lock guards mounts and the negotiated values. */
	struct mutex lock;
	int mounts;
	bool inited;
	uint32_t minor;		/* negotiated protocol minor */
	uint32_t flags;		/* the host's INIT flags we accepted */
	uint32_t max_read;	/* bytes per FUSE_READ / READDIR */
	uint32_t max_readahead; /* as negotiated */
	uint32_t max_write;
	uint32_t map_alignment; /* log2 bytes, for SETUPMAPPING */
	bool readdirplus;

	struct virtiofs_opstat ops_stat[VIRTIOFS_OPS];
	_Atomic uint64_t forgets;	    /* FORGET/BATCH_FORGET entries sent */
	_Atomic uint64_t lookups_counted;   /* lookups the host counted (LOOKUP, READDIRPLUS) */
	_Atomic uint64_t lookups_forgotten; /* ... and given back: equal when nothing is held */
	_Atomic uint64_t bad_replies;
	/* mmap: pages lent from window chunks, filled (copied), and lent
	 * pages the access scanner saw used (chunk heat). */
	_Atomic uint64_t pages_lent, pages_filled, pages_accessed;
	_Atomic uint64_t host_changes; /* files seen changed on the host (size/mtime) */
	/* The window (dax_dev.c over the device's, else dax_guest.c in guest
	 * memory), or NULL; made at the first mount. */
	struct dax_mgr *dax;
	struct dax_dev *dax_dev; /* the device window's back end, or NULL */
	uint64_t dax_window_bytes;
	struct list_node link; /* registered connections */
};

#define VIRTIOFS_WINDOW_DEFAULT (32ULL << 20)
/* window=auto (the mount's default): VIRTIOFS_WINDOW_AUTO_NUM/DEN of the
 * kernel's memory, allocated chunk by chunk as reads need it and given
 * back under memory pressure (dax_guest.c). */
#define VIRTIOFS_WINDOW_AUTO	 UINT64_MAX
#define VIRTIOFS_WINDOW_AUTO_NUM 5
#define VIRTIOFS_WINDOW_AUTO_DEN 8
/* ... and none when that is fewer chunks than this (a guest under ~26 MiB). */
#define VIRTIOFS_WINDOW_AUTO_MIN_CHUNKS 8

struct dax_mgr;
/* The window of conn: the device's (back end (a)) when it has one mapped,
 * else one of `size` bytes in guest memory (back end (b)); nothing for
 * size 0 (window=0 turns either off). Torn down before FUSE_DESTROY. */
int virtiofs_window_create(struct virtiofs_conn *conn, uint64_t size);
void virtiofs_window_destroy(struct virtiofs_conn *conn);
/* Back end (a) over conn->window_va (dax_dev.c). */
int virtiofs_devwindow_create(struct virtiofs_conn *conn);
void virtiofs_devwindow_destroy(struct virtiofs_conn *conn);
/* Mappings the host refused (each fell back to FUSE_READ). */
uint64_t virtiofs_devwindow_refused(struct virtiofs_conn *conn);

/* Register a connection (the driver at probe); its tag must be unique
 * (-EEXIST). */
int virtiofs_conn_register(struct virtiofs_conn *conn);
/* The connection tagged `tag`, or NULL. */
struct virtiofs_conn *virtiofs_conn_find(const char *tag);
/* Write "tag1, tag2" (or "none") into buf, for messages. */
void virtiofs_conn_tags(char *buf, size_t len);
/* Calls fn for every registered connection (stats, the shell). */
void virtiofs_conn_foreach(void (*fn)(struct virtiofs_conn *conn, void *arg), void *arg);

/* conn->ops->call with the per-opcode statistics. */
int virtiofs_call(struct virtiofs_conn *conn, struct fuse_call *c);
/*
 * n requests in flight at once, with the statistics, in two halves:
 * virtiofs_call_start puts them in flight and returns (without ops->start
 * it sends them one after the other and waits), virtiofs_call_wait waits
 * for them: 0 or
 * the first error, each c[i]->out_got set. Every started batch is waited
 * for exactly once; c[] and the buffers stay alive until then. Start
 * fails only for memory (-ENOMEM), and then nothing was sent.
 */
struct virtiofs_pending;
#define VIRTIOFS_START_MAX 64
int virtiofs_call_start(struct virtiofs_conn *conn, struct fuse_call *const *c, unsigned n,
			struct virtiofs_pending **p);
int virtiofs_call_wait(struct virtiofs_conn *conn, struct virtiofs_pending *p);
/* False while a started batch still has replies to come (ops->done);
 * true when virtiofs_call_wait would not sleep, or when the connection
 * cannot tell. Never sleeps. */
bool virtiofs_call_done(struct virtiofs_conn *conn, struct virtiofs_pending *p);
/* conn->ops->forget, counting what is given back. */
void virtiofs_forget(struct virtiofs_conn *conn, const struct fuse_forget_one *f, unsigned n);

/* ---------------------------------------------------------------------------
 * FUSE messages (virtiofs_fuse.c, portable).
 */

/*
 * Check a reply: `used` bytes came back for the request `unique`, whose
 * payload must be out_min..out_max bytes. Returns 0 (payload in
 * *payload), the host's error (-errno, 1..511 as Linux accepts), or -EIO
 * for a reply that breaks the protocol, with *why saying how: shorter
 * than its header, a header length that is not what the device wrote, a
 * payload too long or too short, another request's unique, an error code
 * out of range, an error carrying a payload.
 */
int fuse_reply_check(const struct fuse_out_header *oh, uint32_t used, uint64_t unique,
		     uint32_t out_min, uint32_t out_max, uint32_t *payload, const char **why);

/* One entry of a READDIR or READDIRPLUS reply. */
struct fuse_dirent_view {
	const char *name; /* not NUL-terminated */
	uint32_t namelen;
	uint64_t ino, off;
	uint32_t type;			    /* DT_* */
	const struct fuse_entry_out *entry; /* READDIRPLUS only */
};

/*
 * Decode the entry at *pos of a READDIR (plus=false) or READDIRPLUS reply
 * of len bytes and advance *pos. Returns 1 with *d filled, 0 at the end,
 * -EIO for a malformed entry (truncated, an empty or over-long name, a
 * name holding '/' or NUL).
 */
int fuse_dirent_next(const void *buf, uint32_t len, uint32_t *pos, bool plus,
		     struct fuse_dirent_view *d);

/* "LOOKUP" for FUSE_LOOKUP, "op 99" style for unknown ones (static or buf). */
const char *fuse_opname(uint32_t opcode, char *buf, size_t len);

/* Fill the INIT request we send: protocol 7.FUSE_KERNEL_MINOR_VERSION and
 * the flags we understand. */
void fuse_init_request(struct fuse_init_in *in, uint32_t max_readahead);
/*
 * Accept an INIT reply of `len` bytes into conn's negotiated values
 * (max_read is capped by conn->max_transfer). -ENOTSUP for a major version
 * other than 7 or a minor too old, -EIO for a malformed reply.
 */
int fuse_init_accept(struct virtiofs_conn *conn, const struct fuse_init_out *out, uint32_t len);

#endif
