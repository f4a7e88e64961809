/*
 * GEOM-style block layer: the interface.
 *
 * The block layer is a graph. A class (struct g_class) is a kind of
 * transformation: MD (a disk in memory), PART (partition tables), LABEL
 * (a named view of a provider), NOP (pass-through with fault injection),
 * DISK (a driver's disk, kernel only). A geom (struct g_geom) is an instance
 * of a class. A geom offers storage upwards through providers
 * (struct g_provider, the nodes a filesystem opens: md0, md0p1,
 * label/root) and uses storage below through consumers (struct g_consumer),
 * each attached to one provider. Every provider that becomes ready is
 * offered to every registered class to taste; a class that recognises its
 * metadata builds a geom on top of it.
 *
 * I/O is asynchronous: a requester fills a struct bio and hands it to
 * g_io_request() on its consumer. The g_down thread calls the provider's
 * geom's start(), which either completes the bio with g_io_deliver() or
 * clones it (g_clone_bio) and requests the clone from the layer below. The
 * g_up thread calls each bio's done() on completion; g_std_done() gathers
 * the children of a cloned request into their parent. The I/O threads never
 * sleep: start() and done() may take spinlocks and call kmalloc (which does
 * not sleep) but never a mutex, a condvar, a semaphore wait or
 * g_read_data(); debug builds assert it.
 *
 * Topology (creating, attaching, opening, orphaning and destroying things)
 * happens under the topology lock, a mutex. The g_event thread holds it
 * while it runs events: tasting, orphan notifications, class ctlreqs and the
 * "washer" that frees withered geoms once their I/O has drained. Threads
 * that may sleep can take it too (g_topology_lock()).
 *
 * Lifetime: a provider is destroyed only when no consumer is attached to
 * it; a consumer is detached only when it has no I/O in flight; a withering
 * geom keeps its consumers until its providers are gone. So a bio's
 * provider, consumer and both geoms stay valid until the bio has been
 * completed to its requester.
 *
 * Errors are negative errno values everywhere, including bio->error.
 */
#ifndef KARST_GEOM_H
#define KARST_GEOM_H

#include <karst/compiler.h>
#include <karst/init.h>
#include <karst/list.h>
#include <karst/printk.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define G_NAME_MAX 64

struct g_class;
struct g_geom;
struct g_provider;
struct g_consumer;
struct g_sbuf;
struct g_ctlreq;
struct bio;

/* ------------------------------------------------------------------ */
/* Text buffers for dumps (`geom list`), ctlreq replies and messages.  */

/* Appends into a caller's buffer; always NUL-terminated; len counts what
 * would have been written, like snprintf, so overflow is visible. */
struct g_sbuf {
	char *buf;
	size_t size;
	size_t len;
};

void g_sbuf_init(struct g_sbuf *sb, char *buf, size_t size);
__printf(2, 3) void g_sbuf_printf(struct g_sbuf *sb, const char *fmt, ...);
void g_sbuf_vprintf(struct g_sbuf *sb, const char *fmt, va_list ap);
/* "1.0M", "512B", "3.5G": sizes the way gpart shows them. */
void g_humanize(char *buf, size_t size, uint64_t bytes);

/* ------------------------------------------------------------------ */
/* Methods.                                                            */

typedef struct g_geom *g_taste_t(struct g_class *mp, struct g_provider *pp);
typedef int g_ctlreq_t(struct g_class *mp, struct g_ctlreq *req);
typedef int g_destroy_geom_t(struct g_class *mp, struct g_geom *gp, bool force);
typedef void g_start_t(struct bio *bp);
typedef int g_access_t(struct g_provider *pp, int dr, int dw, int de);
typedef void g_orphan_t(struct g_consumer *cp);
typedef void g_spoiled_t(struct g_consumer *cp);
typedef void g_dumpconf_t(struct g_sbuf *sb, const char *indent, struct g_geom *gp,
			  struct g_consumer *cp, struct g_provider *pp);
typedef void g_release_t(struct g_geom *gp);

/*
 * A class. init/fini run at registration/unregistration (topology locked).
 * taste(), ctlreq() and destroy_geom() run on the event thread with the
 * topology lock held and may sleep (read metadata with g_read_data).
 * The geom methods below are copied into every geom g_new_geom() makes.
 */
struct g_class {
	const char *name;
	void (*init)(struct g_class *mp);
	void (*fini)(struct g_class *mp);
	g_taste_t *taste;
	g_ctlreq_t *ctlreq;
	/* Start tearing gp down (usually g_wither_geom); -EBUSY when it is
	 * open and !force. */
	g_destroy_geom_t *destroy_geom;

	g_start_t *start;
	g_access_t *access;
	g_orphan_t *orphan;
	g_spoiled_t *spoiled;
	g_dumpconf_t *dumpconf;
	g_release_t *release;

	/* Owned by the GEOM core. */
	struct list_node link;
	struct list_node geoms;
	bool registered;
};

enum {
	G_GEOM_WITHER = 1 << 0, /* being torn down; freed once drained */
};

/*
 * A geom. start() runs on g_down (never sleeps); access() runs with the
 * topology lock held and may refuse an open; orphan() runs on the event
 * thread when the provider below one of its consumers goes away (it must
 * eventually close and detach that consumer, usually by withering the
 * geom); spoiled() when someone else opens that provider for writing;
 * release() frees the softc when the washer destroys the geom (after every
 * bio through it has completed).
 */
struct g_geom {
	char name[G_NAME_MAX];
	struct g_class *class;
	void *softc;
	unsigned flags;
	int rank; /* 1 for geoms with no consumers, else 1 + max rank below */
	g_start_t *start;
	g_access_t *access;
	g_orphan_t *orphan;
	g_spoiled_t *spoiled;
	g_dumpconf_t *dumpconf;
	g_release_t *release;

	struct list_node link;	    /* in class->geoms */
	struct list_node providers; /* struct g_provider.link */
	struct list_node consumers; /* struct g_consumer.link */
};

enum {
	G_PF_NEW = 1 << 0,	 /* not yet offered for tasting */
	G_PF_ORPHAN = 1 << 1,	 /* orphaned: I/O fails with ->error */
	G_PF_ANNOUNCED = 1 << 2, /* observers were told it is ready, not yet gone */
};

/*
 * A provider: storage a geom offers. mediasize and sectorsize are set by
 * the creator before g_provider_ready() and then never change. acr/acw/ace
 * are the sums of the access counts of the attached consumers.
 */
struct g_provider {
	char name[G_NAME_MAX];
	struct g_geom *geom;
	uint64_t mediasize;
	uint32_t sectorsize;
	_Atomic int acr, acw, ace; /* written under the topology lock */
	_Atomic int error;	   /* non-zero (negative errno) once orphaned */
	unsigned flags;
	void *private; /* for the geom that owns it */
	unsigned index;
	_Atomic uint64_t nstart, nend; /* bios requested / completed */

	struct list_node link;	    /* in geom->providers */
	struct list_node consumers; /* struct g_consumer.plink */
};

enum {
	G_CF_ORPHAN = 1 << 0, /* orphan() has been called */
	G_CF_SPOILED = 1 << 1,
};

struct g_consumer {
	struct g_geom *geom;
	struct g_provider *provider;
	_Atomic int acr, acw, ace; /* written under the topology lock */
	unsigned flags;
	void *private;
	_Atomic uint64_t nstart, nend;

	struct list_node link;	/* in geom->consumers */
	struct list_node plink; /* in provider->consumers */
};

/* ------------------------------------------------------------------ */
/* Setup and registration.                                             */

/* Start the g_down, g_up and g_event threads. The kernel calls it through
 * KARST_INIT; host programs call it themselves. */
int g_init(void);
/* Host programs: unregister every class (destroying its geoms, which must
 * all be closed) and stop the threads; -EBUSY (threads left running) when
 * something is still open. */
int g_fini(void);
/* Register a class: init() is called and every existing provider is
 * offered to it for tasting. May sleep. */
int g_class_register(struct g_class *mp);
/* Destroy every geom of the class, wait for them to drain, call fini().
 * -EBUSY (and the class stays) when one of its geoms is open. May sleep. */
int g_class_unregister(struct g_class *mp);

/* ------------------------------------------------------------------ */
/* Topology: every function here requires the topology lock.          */

void g_topology_lock(void);
void g_topology_unlock(void);
bool g_topology_locked(void);
#define g_topology_assert() KASSERT(g_topology_locked())

__printf(2, 3) struct g_geom *g_new_geom(struct g_class *mp, const char *fmt, ...);
/* Free a geom that has no providers and no consumers (tasting that failed).
 * Withered geoms are freed by the washer instead. */
void g_destroy_geom(struct g_geom *gp);
__printf(2, 3) struct g_provider *g_new_provider(struct g_geom *gp, const char *fmt, ...);
/* The provider's sizes are set: let consumers attach and offer it to every
 * class for tasting. */
void g_provider_ready(struct g_provider *pp);
/* Free a provider with no consumers (normally the washer does this). */
void g_destroy_provider(struct g_provider *pp);
struct g_consumer *g_new_consumer(struct g_geom *gp);
int g_attach(struct g_consumer *cp, struct g_provider *pp);
/* The consumer must be closed (acr = acw = ace = 0); waits for a done()
 * callback still returning on g_up, panics on I/O really in flight. */
void g_detach(struct g_consumer *cp);
void g_destroy_consumer(struct g_consumer *cp);
/*
 * Change cp's access counts by the deltas. The provider's geom's access()
 * may refuse. Opening for exclusive use fails with -EPERM when someone else
 * writes, opening for writing fails when someone else has exclusive use,
 * and any open fails with the provider's error once it is orphaned. The
 * first writer spoils the other consumers of the provider; when the last
 * writer closes, the provider is tasted again.
 */
int g_access(struct g_consumer *cp, int dr, int dw, int de);
/* The provider goes away: I/O fails with `error` from now on and each
 * attached consumer's geom is told through orphan() (on the event thread). */
void g_orphan_provider(struct g_provider *pp, int error);
/* Tear gp down: orphan its providers; the washer frees the providers once
 * nobody is attached, then the consumers once their I/O has drained and
 * they are closed, then the geom itself (release()). */
void g_wither_geom(struct g_geom *gp, int error);

/* Standard methods: orphan and spoiled wither the geom; access passes the
 * change down to the geom's consumers. */
void g_std_orphan(struct g_consumer *cp);
void g_std_spoiled(struct g_consumer *cp);
int g_std_access(struct g_provider *pp, int dr, int dw, int de);
/* destroy_geom of a geom with one provider: -EBUSY while it is open,
 * unless force; else wither it (its users see ENXIO). Topology lock held. */
int g_std_destroy_geom(struct g_class *mp, struct g_geom *gp, bool force);
/* The ctl verb "destroy name=NAME [force]": mp->destroy_geom of the geom
 * `name`, -ENOENT when there is none; an error is also written to req. */
int g_std_ctl_destroy(struct g_class *mp, struct g_ctlreq *req, const char *name);

struct g_class *g_find_class(const char *name);
struct g_geom *g_find_geom(struct g_class *mp, const char *name);
struct g_provider *g_find_provider(const char *name);

/* ------------------------------------------------------------------ */
/* Observers: code outside the graph that follows providers coming and  */
/* going (g_dev.c makes /dev nodes of them) without the core naming it. */

/*
 * provider_ready(pp) is called once for each provider that has become
 * ready (sizes set, not orphaned), before it is offered for tasting;
 * provider_gone(pp) once when that provider is orphaned or destroyed,
 * whichever comes first. Every ready is followed by exactly one gone for
 * the same provider while the observer stays registered.
 *
 * Contract: both run on the event thread with the topology lock held. They
 * may read pp (name, sizes) and sleep (kmalloc, other subsystems' mutexes),
 * but must not take the topology lock again or wait for GEOM (g_open,
 * g_close, g_ctl, g_waitidle, g_waitfor_event: each would deadlock), must
 * not change the graph, and must not keep pp after provider_gone returns.
 * The observer struct must stay valid until unregistered.
 */
struct g_observer {
	const char *name;
	void (*provider_ready)(struct g_provider *pp, void *arg);
	void (*provider_gone)(struct g_provider *pp, void *arg);
	void *arg;
};

#define G_OBSERVER_MAX 8

/* Register obs and call its provider_ready for every provider that is
 * ready already. -EEXIST (registered already), -ENOSPC (G_OBSERVER_MAX
 * reached). May sleep; not from the event thread. */
int g_observer_register(const struct g_observer *obs);
/* After it returns no callback of obs runs or is running. -ENOENT when not
 * registered. May sleep; not from the event thread. */
int g_observer_unregister(const struct g_observer *obs);

/* ------------------------------------------------------------------ */
/* Events. The event thread runs them in order, topology locked.       */

typedef void g_event_t(void *arg);
/* Any context, never sleeps. ref names an object whose destruction
 * cancels the event (NULL: none). -ENOMEM when no memory. */
int g_post_event(g_event_t *fn, void *arg, void *ref);
/* Post and wait for it to run; returns -ENOMEM or 0. May sleep; not from
 * the event thread. */
int g_waitfor_event(g_event_t *fn, void *arg);
/* Drop queued events that reference ref (topology locked). */
void g_cancel_event(void *ref);
/* Wait until the event queue is empty (tasting done). May sleep. */
void g_waitidle(void);

/* ------------------------------------------------------------------ */
/* Requests.                                                           */

enum bio_cmd {
	BIO_READ = 1,
	BIO_WRITE,
	BIO_DELETE, /* the range's contents become undefined (discard) */
	BIO_FLUSH,  /* earlier completed writes are durable */
};

enum {
	BIO_F_SYNC = 1 << 0, /* internal: g_read_data/g_write_data wait on it */
};

typedef void bio_done_t(struct bio *bp);

/*
 * A request. The requester sets cmd, offset, length, data, done and its
 * caller fields; g_io_request fills from/to. The provider (or the layer
 * that answers) sets completed (bytes transferred) and delivers the error.
 * A request that reaches past the media end is truncated there, as in
 * FreeBSD, so check completed against what you asked for.
 */
struct bio {
	enum bio_cmd cmd;
	unsigned flags;
	uint64_t offset;
	uint64_t length;
	void *data;
	uint64_t completed;
	_Atomic int error;
	bio_done_t *done;

	struct g_consumer *from;
	struct g_provider *to;

	struct bio *parent;
	uint32_t children;	     /* clones made (by the parent's owner) */
	_Atomic uint32_t inbed;	     /* clones completed */
	_Atomic uint64_t ccompleted; /* bytes completed by the children */

	void *caller1, *caller2; /* for the requester */
	void *driver1, *driver2; /* for the geom that serves it */
	uint64_t t_start;	 /* time_ns() at g_io_request */

	struct list_node queue; /* g_down/g_up queues, or a driver's own */
};

/* Never sleep; NULL when memory is short. */
struct bio *g_new_bio(void);
/*
 * A child of bp with the same command, range and data, done = g_std_done.
 * Make every clone of a request before requesting any of them: the parent
 * completes when as many children are done as were made.
 */
struct bio *g_clone_bio(struct bio *bp);
void g_destroy_bio(struct bio *bp);
/* Queue bp for its provider's start() on g_down. Any context. */
void g_io_request(struct bio *bp, struct g_consumer *cp);
/*
 * Complete bp with error (0 or negative errno); its done() runs on g_up.
 * May be called from any context, including interrupt handlers (it takes a
 * spinlock and posts a semaphore). Set bp->completed first.
 */
void g_io_deliver(struct bio *bp, int error);
/* done() for clones: adds the child's result to the parent, keeps the first
 * error, destroys the child, and delivers the parent with the last one. */
void g_std_done(struct bio *bp);

/* Synchronous helpers for callers that may sleep (never the I/O threads):
 * 0 when all of len was transferred, -EIO on a short transfer, or the
 * request's error. */
int g_read_data(struct g_consumer *cp, uint64_t offset, void *buf, size_t len);
int g_write_data(struct g_consumer *cp, uint64_t offset, const void *buf, size_t len);
int g_flush(struct g_consumer *cp);

/* I/O thread statistics (for the dump and the benchmarks). */
struct g_io_stats {
	uint64_t down_requests, up_completions, errors;
};
void g_io_get_stats(struct g_io_stats *st);

/* ------------------------------------------------------------------ */
/* Consumers outside GEOM (filesystems, the shell, tests).             */

typedef void g_user_orphan_t(struct g_consumer *cp, void *arg);
/* Attach a consumer of the built-in USER class to the provider named
 * `name` and open it with the given counts. orphan (may be NULL) is called
 * on the event thread when the provider goes away; the caller then closes
 * with g_close(). May sleep; topology not held. */
int g_open(const char *name, int r, int w, int e, g_user_orphan_t *orphan, void *arg,
	   struct g_consumer **cpp);
/* Close, detach and free a consumer from g_open. May sleep. */
void g_close(struct g_consumer *cp);

/* ------------------------------------------------------------------ */
/* /dev nodes (kernel builds, g_dev.c).                                */

/*
 * Every ready provider is a block device /dev/NAME (S_IFBLK, st_size =
 * mediasize) until it is orphaned or destroyed. Reads and writes take any
 * offset and length (partial sectors are read, modified and written back);
 * a read at or past the end returns 0 bytes, a write there -ENOSPC, and a
 * transfer that crosses the end is cut short there. An open takes GEOM
 * access (read, plus write unless O_RDONLY) and fails with GEOM's error
 * (-EPERM when another consumer holds the provider exclusively, -ENXIO once
 * it is gone). Its ioctls:
 */
#define G_DEV_IOC_MEDIASIZE  0x67640001u /* arg: uint64_t *, bytes */
#define G_DEV_IOC_SECTORSIZE 0x67640002u /* arg: uint32_t *, bytes */
/* No arg: g_flush (BIO_FLUSH). The open files of a node share one
 * consumer, so it is -EPERM only when no open file of the node writes. */
#define G_DEV_IOC_FLUSH 0x67640003u

/* ------------------------------------------------------------------ */
/* Control requests (`geom CLASS VERB key=value ...` from the shell).  */

#define G_CTL_MAXARGS 16

struct g_ctlreq {
	const char *verb;
	int argc;
	const char *argv[G_CTL_MAXARGS]; /* "key=value" (or "key") */
	struct g_sbuf *out;		 /* reply and error messages */
};

/* Value of key (the text after '='; "" for a bare key), or NULL. */
const char *g_ctl_get(struct g_ctlreq *req, const char *key);
/* 0, -ENOENT when absent (v untouched), -EINVAL when not a number:
 * decimal with an optional K/M/G/T suffix (kparse_size), or 0x hex. */
int g_ctl_get_u64(struct g_ctlreq *req, const char *key, uint64_t *v);
__printf(2, 3) int g_ctl_error(struct g_ctlreq *req, const char *fmt, ...);
/*
 * Run CLASS's ctlreq on the event thread. argv holds the verb then
 * key=value words. Replies go to out. Returns the class's result, -ENOENT
 * for an unknown class, -EINVAL for too many words. May sleep.
 */
int g_ctl(const char *class_name, int argc, const char *const *argv, struct g_sbuf *out);

/* ------------------------------------------------------------------ */
/* Dumps for the shell.                                                */

/* `geom list` style: every geom of class_name (every class when NULL). */
void g_conf_list(struct g_sbuf *sb, const char *class_name);
/* `gpart show` style: every PART geom. */
void g_conf_part_show(struct g_sbuf *sb);

/* ------------------------------------------------------------------ */
/* The portable classes.                                               */

/* Register a class at boot (kernel builds; host programs call
 * g_class_register themselves), like FreeBSD's DECLARE_GEOM_CLASS. */
#ifdef KARST_KERNEL
#define G_CLASS_DECLARE(cls)                                                                       \
	static int cls##_modinit(void)                                                             \
	{                                                                                          \
		return g_class_register(&cls);                                                     \
	}                                                                                          \
	KARST_INIT(INIT_BUS, cls##_modinit)
#else
#define G_CLASS_DECLARE(cls) struct g_class_declare_unused_##cls
#endif

extern struct g_class g_md_class;
extern struct g_class g_nop_class;
extern struct g_class g_part_class;
extern struct g_class g_label_class;

/* A memory disk named `name` (mediasize a multiple of sectorsize, which is
 * a power of two from 512 to 64K). init (may be NULL) is copied in, which
 * is how tests preload an image. Memory is allocated in chunks on first
 * write; unwritten ranges read as zeros. May sleep. */
int g_md_create(const char *name, uint64_t mediasize, uint32_t sectorsize, const void *init,
		size_t initlen);
/* Destroy it; with force even when open (its users see ENXIO). */
int g_md_destroy(const char *name, bool force);

/* Fault-injection settings of a NOP geom (see g_nop.c). */
struct g_nop_config {
	uint32_t rfail_ppm, wfail_ppm; /* failure probability, parts per million */
	uint64_t fail_after;	       /* when non-zero, every request after the
					  first fail_after ones fails */
	uint32_t delay_us;	       /* complete requests this much later */
	uint32_t flip_ppm;	       /* probability a read gets one bit flipped */
	uint64_t seed;		       /* of the deterministic PRNG */
	int error;		       /* injected error, default -EIO */
	bool drop;		       /* power cut: every write after the first
					  drop_after ones (counted from the
					  configuration) succeeds unwritten */
	uint64_t drop_after;
	bool torn; /* ...and the first dropped write is torn:
		      a PRNG-chosen subset of its sectors
		      written */
};

struct g_nop_stats {
	uint64_t reads, writes, other, rfailures, wfailures, flips, delayed;
	uint64_t dropped, torn; /* writes dropped (a torn one included), torn */
};

/* A NOP geom over `provider`, offering "<provider>.nop". May sleep. */
int g_nop_create(const char *provider, const struct g_nop_config *cfg);
int g_nop_configure(const char *nop_name, const struct g_nop_config *cfg);
int g_nop_get_stats(const char *nop_name, struct g_nop_stats *st);
int g_nop_destroy(const char *nop_name, bool force);

/* ------------------------------------------------------------------ */
/* On-disk formats. Pure functions over byte buffers, shared by the     */
/* classes and the host tool (tools/geomtool). Every field is encoded   */
/* and decoded one by one, little-endian; no struct is ever copied to   */
/* or from the medium.                                                  */

/* CRC-32 of IEEE 802.3 (reflected 0xEDB88320), the one GPT uses.
 * Start with crc = 0; feed the result back in to continue. */
uint32_t g_crc32(uint32_t crc, const void *buf, size_t len);

/* Reads or writes len bytes at offset of some medium; 0 or negative errno. */
typedef int g_meta_io_t(void *ctx, uint64_t offset, void *buf, size_t len);

/* LABEL metadata, in the provider's last sector. */
#define G_LABEL_MAGIC	 "KARSTLABEL"
#define G_LABEL_MAGICLEN 16
#define G_LABEL_VERSION	 1
#define G_LABEL_NAMELEN	 16
#define G_LABEL_METASIZE 52 /* magic 16, version 4, name 16, size 8, hash 8 */

struct g_label_meta {
	uint32_t version;
	char name[G_LABEL_NAMELEN + 1];
	uint64_t provsize; /* the labelled provider's size when labelled */
};

/* Names are 1..16 of [A-Za-z0-9._-]. */
bool g_label_name_valid(const char *name);
/* Fill a whole sector (secsize >= G_LABEL_METASIZE). -EINVAL on a bad name. */
int g_label_encode(const struct g_label_meta *md, void *sector, size_t secsize);
/* Decode and check one sector read from a provider of `mediasize` bytes:
 * magic, version, hash, name and size. 0 or -EINVAL with *why set. */
int g_label_decode(const void *sector, size_t secsize, uint64_t mediasize, struct g_label_meta *md,
		   const char **why);

/* GPT. */
#define G_GPT_SIG	   "EFI PART"
#define G_GPT_REVISION	   0x00010000u
#define G_GPT_HDR_MINSIZE  92
#define G_GPT_ENT_MINSIZE  128
#define G_GPT_NAMELEN	   36 /* UTF-16 code units; we keep ASCII */
#define G_GPT_DEFAULT_ENTS 128
#define G_GPT_MAX_TABLE	   (1u << 20) /* bytes of entries we accept */

struct g_uuid {
	uint8_t b[16]; /* as stored on disk (mixed endian) */
};

struct g_gpt_hdr {
	uint32_t revision, hdr_size, hdr_crc;
	uint64_t lba_self, lba_alt, lba_first, lba_last;
	struct g_uuid disk_guid;
	uint64_t lba_table;
	uint32_t nents, entsz, table_crc;
};

struct g_gpt_ent {
	struct g_uuid type, guid;
	uint64_t lba_start, lba_end; /* inclusive */
	uint64_t attr;
	char name[G_GPT_NAMELEN + 1];
};

struct g_gpt_table {
	uint32_t secsize;
	uint64_t nsectors; /* of the medium */
	struct g_gpt_hdr hdr;
	struct g_gpt_ent *ents; /* hdr.nents entries (kmalloc'ed); unused: zero type */
	bool primary_ok, backup_ok;
};

/*
 * Read and check the protective MBR, both headers and both tables of a
 * medium of mediasize bytes; use the backup when the primary is bad. 0 with
 * *t filled (free with g_gpt_free), or -EINVAL / -ENOENT (no protective MBR)
 * / the reader's error, with a one-line reason in why.
 */
int g_gpt_read(g_meta_io_t *rd, void *ctx, uint64_t mediasize, uint32_t secsize,
	       struct g_gpt_table *t, char *why, size_t whylen);
void g_gpt_free(struct g_gpt_table *t);
/* An empty table of G_GPT_DEFAULT_ENTS entries for a medium. */
int g_gpt_create(struct g_gpt_table *t, uint64_t mediasize, uint32_t secsize,
		 const struct g_uuid *disk_guid);
/* Add a partition of nsectors at start (0: the first free range that fits,
 * aligned to `align` sectors when possible). Index (1-based) in *index. */
int g_gpt_add(struct g_gpt_table *t, uint64_t start, uint64_t nsectors, uint64_t align,
	      const struct g_uuid *type, const struct g_uuid *guid, const char *label,
	      unsigned *index);
/* Write the protective MBR, primary header and table, backup table and
 * header, with fresh CRCs. */
int g_gpt_write(g_meta_io_t *wr, void *ctx, const struct g_gpt_table *t);
/* Check a header decoded from the sector at `lba` (as primary or backup). */
int g_gpt_hdr_decode(const void *sector, size_t secsize, uint64_t nsectors, bool primary,
		     struct g_gpt_hdr *h, const char **why);
void g_gpt_hdr_encode(const struct g_gpt_hdr *h, void *sector, size_t secsize);
bool g_uuid_is_nil(const struct g_uuid *u);
int g_uuid_parse(const char *s, struct g_uuid *u);
void g_uuid_format(const struct g_uuid *u, char *buf, size_t size); /* size >= 37 */
/* "linux-data", "efi", "freebsd-ufs", "karst-cowfs", ... or a UUID string. */
int g_gpt_type_parse(const char *s, struct g_uuid *u);
/* The alias of a type, or NULL. */
const char *g_gpt_type_name(const struct g_uuid *u);
/* `gpart show` lines for a table of the medium called name. */
void g_gpt_show(struct g_sbuf *sb, const char *name, const struct g_gpt_table *t);

/* MBR (read only). */
struct g_mbr_ent {
	uint8_t active, type;
	uint32_t lba_start, nsectors;
};

struct g_mbr {
	struct g_mbr_ent ent[4];
	bool protective; /* an entry of type 0xEE: the disk holds a GPT */
};

#define G_MBR_TYPE_GPT 0xee

/* Decode sector 0: -ENOENT without the 0x55AA signature, -EINVAL when an
 * entry reaches past the medium or entries overlap. */
int g_mbr_decode(const void *sector, size_t secsize, uint64_t nsectors, struct g_mbr *m,
		 const char **why);

#endif
