/*
 * cowfs on-disk format: constants, the decoded forms of every on-disk
 * structure, and the pure functions that encode and decode them (FORMAT.md
 * documents the bytes). Shared by the filesystem, mkcowfs and the cowfs
 * inspector. Every field is written and read one by one, little-endian; no
 * struct is ever copied to or from the medium. Decoders check magic,
 * version and checksum and give a one-line reason (why) when they refuse.
 *
 * None of these functions allocates, locks or sleeps, except the lz4
 * compressor (cowfs_compress), which takes its state from kmalloc.
 */
#ifndef KARST_COWFS_FORMAT_H
#define KARST_COWFS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COWFS_VERSION 1

/* Space is handed out in sectors of 512 bytes; every address and psize is a
 * multiple of this. */
#define COWFS_SECTOR_SHIFT 9
#define COWFS_SECTOR	   (1u << COWFS_SECTOR_SHIFT)
#define ALIGN_UP_SECTOR(x) (((x) + COWFS_SECTOR - 1) & ~(uint64_t)(COWFS_SECTOR - 1))

/* Labels: one at each end of the provider. */
#define COWFS_LABEL_SIZE    (256u << 10)
#define COWFS_LABEL_HDRSIZE 512		 /* the encoded label header */
#define COWFS_UB_RING_OFF   (128u << 10) /* ring offset inside a label */
#define COWFS_UB_SLOT	    1024u
#define COWFS_UB_SLOTS	    128u
#define COWFS_LABEL_MAGIC   "KARST-COWFS-LBL"	  /* 16 bytes with its NUL */
#define COWFS_UB_MAGIC	    0x0042557366776f63ULL /* "cowfsUB\0" little-endian */
#define COWFS_ROOT_MAGIC    0x544f4f5273776f63ULL /* "cowsROOT" */

/* The smallest provider that holds two labels and a useful data area. */
#define COWFS_MIN_SIZE (4u << 20)
/* The space map: one bit per sector, in chunks of COWFS_SM_CHUNK bytes
 * (each covers 16 MiB of the provider), at most COWFS_SM_MAXCHUNKS. */
#define COWFS_SM_CHUNK	       4096u
#define COWFS_SM_CHUNK_SECTORS (COWFS_SM_CHUNK * 8u) /* 16 MiB of disk per chunk */
#define COWFS_SM_MAXCHUNKS     2048u		     /* 32 GiB pools */
#define COWFS_MAX_SIZE	       ((uint64_t)COWFS_SM_MAXCHUNKS * COWFS_SM_CHUNK_SECTORS * COWFS_SECTOR)

/* Block pointers. */
#define COWFS_BP_SIZE	    64
#define COWFS_IND_SHIFT	    14 /* indirect blocks: 16 KiB, 256 pointers */
#define COWFS_IND_SIZE	    (1u << COWFS_IND_SHIFT)
#define COWFS_IND_NBP	    (COWFS_IND_SIZE / COWFS_BP_SIZE)
#define COWFS_IND_NBP_SHIFT 8
#define COWFS_MAX_LEVELS    7 /* 1 data level + 6 indirect levels */

/* Objects (dnodes). */
#define COWFS_DNODE_SIZE     256
#define COWFS_DNODE_BLKSIZE  (16u << 10) /* blocks of the dnode array */
#define COWFS_DNODES_PER_BLK (COWFS_DNODE_BLKSIZE / COWFS_DNODE_SIZE)
#define COWFS_ROOT_OBJ	     1 /* the root directory; object 0 is never used */
#define COWFS_MAX_OBJECTS    (1ULL << 40)

/* Records. */
#define COWFS_MIN_RECORDSIZE	 4096u
#define COWFS_MAX_RECORDSIZE	 (1u << 20)
#define COWFS_DEFAULT_RECORDSIZE (128u << 10)

/* Directories: hashed buckets. */
#define COWFS_DIR_BUCKET    4096u
#define COWFS_DIR_HDR	    16
#define COWFS_DIR_ENT_FIXED 18 /* key 8, obj 8, type 1, namelen 1 */
#define COWFS_NAME_MAX	    255
#define COWFS_DIR_MAXBITS   24
#define COWFS_DIR_KEY_END   (1ULL << 63) /* readdir cookie after the last entry */
#define COWFS_DIR_KEY_FIRST 3		 /* keys 0..2 are ".", ".." cookies */

/* Block-pointer fields. */
enum cowfs_comp { COWFS_COMP_OFF = 0, COWFS_COMP_LZ4 = 1, COWFS_COMP_NTYPES };
enum cowfs_cksum_type { COWFS_CKSUM_XXH3_128 = 1 };
enum cowfs_btype {
	COWFS_BT_NONE = 0,
	COWFS_BT_DATA = 1,  /* file or symlink data */
	COWFS_BT_IND = 2,   /* indirect block of any object */
	COWFS_BT_DNODE = 3, /* a block of the dnode array */
	COWFS_BT_DIR = 4,   /* a directory bucket */
	COWFS_BT_ROOT = 5,  /* the root block an uberblock points to */
	COWFS_BT_SMAP = 6,  /* a chunk of the space map */
	COWFS_BT_SMIDX = 7, /* the space map's index of chunks */
	COWFS_BT_NTYPES = 8
};

/* Object types. */
enum cowfs_otype {
	COWFS_OT_FREE = 0,
	COWFS_OT_FILE = 1,
	COWFS_OT_DIR = 2,
	COWFS_OT_SYMLINK = 3,
	COWFS_OT_META = 4, /* the dnode array itself (only in the root block) */
	COWFS_OT_NTYPES
};

struct cowfs_cksum {
	uint64_t lo, hi;
};

/* A decoded block pointer. A hole is all zero (birth 0). dva[1] is the
 * ditto copy of metadata blocks (0 for data). */
struct cowfs_bp {
	uint64_t dva[2];
	uint32_t lsize, psize;
	uint8_t type, level, comp, cksum_type;
	uint64_t birth;
	uint64_t fill; /* data blocks beneath (1 for a data block) */
	struct cowfs_cksum cksum;
};

static inline bool cowfs_bp_is_hole(const struct cowfs_bp *bp)
{
	return bp->birth == 0;
}

/* A decoded dnode (object). */
struct cowfs_dnode {
	uint8_t type;	 /* enum cowfs_otype */
	uint8_t nlevels; /* 1..COWFS_MAX_LEVELS */
	uint8_t dirbits; /* directories: log2 of the number of buckets */
	uint32_t blksz;	 /* size of every data block of the object */
	uint32_t mode;	 /* S_IFMT | permissions */
	uint32_t nlink;
	uint64_t size; /* files and symlinks: bytes; directories: entries */
	uint64_t atime, mtime, ctime;
	uint64_t parent;   /* directories: the parent's object number */
	uint64_t gen;	   /* transaction group that created the object */
	uint64_t maxblkid; /* highest data block id that may be non-hole, + 1 */
	struct cowfs_bp root;
};

/* The label header (one at each end). */
struct cowfs_label {
	uint32_t version;
	uint32_t index; /* 0 at the start, 1 at the end */
	uint64_t pool_guid;
	uint64_t psize;	     /* provider size the pool was made for */
	uint32_t recordsize; /* default record size */
	uint8_t comp;	     /* default compression */
	uint64_t ctime;	     /* creation time (ns since the epoch, or as given) */
	char name[32];	     /* pool name, NUL-padded */
};

/* An uberblock. */
struct cowfs_ub {
	uint32_t version;
	uint64_t txg;
	uint64_t time;
	uint64_t pool_guid;
	struct cowfs_bp root;
};

/* The root block. */
struct cowfs_rootblk {
	uint32_t version;
	uint64_t txg;
	struct cowfs_dnode meta; /* the dnode array */
	uint32_t sm_nchunks;
	struct cowfs_bp sm_index; /* block of sm_nchunks bps */
	uint64_t alloc_sectors;	  /* sectors marked in the space map */
	uint64_t nobjects;	  /* live objects */
	uint64_t next_obj;	  /* allocation hint */
	uint32_t recordsize;
	uint8_t comp;
};
#define COWFS_ROOTBLK_SIZE 1024u

/* One directory entry as decoded from a bucket. name points into the
 * bucket (not NUL-terminated). */
struct cowfs_dirent {
	uint64_t key;
	uint64_t obj;
	uint8_t type; /* enum cowfs_otype */
	uint8_t namelen;
	const char *name;
};

/* ---- little-endian helpers ---- */
static inline void cowfs_le16enc(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void cowfs_le32enc(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void cowfs_le64enc(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t cowfs_le16dec(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t cowfs_le32dec(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline uint64_t cowfs_le64dec(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- checksums and compression (cowfs_cksum.c) ---- */
/* XXH3-128 of buf, by the fastest path this CPU runs (cowfs_cksum_active). */
struct cowfs_cksum cowfs_cksum_compute(const void *buf, size_t len);
/*
 * Paths of the same XXH3-128 (the same bits, other instructions). Path 0 is
 * cowfs_cksum.c's own (SSE2 on x86_64 kernels, NEON on aarch64, the host
 * compiler's choice on the host); others join by registration, e.g. AVX2
 * on x86_64 kernels (cowfs_cksum_x86.c, at INIT_EARLY). A path registered
 * with a reason in `unusable` (this CPU cannot run it) is listed but never
 * used; a usable one becomes the active path. Register before threads
 * compute checksums (init time): the active pointer is a plain store.
 */
struct cowfs_cksum_path {
	const char *name; /* "sse2", "avx2", ... */
	struct cowfs_cksum (*compute)(const void *buf, size_t len);
	const char *unusable; /* NULL, or why this CPU cannot run it */
};
#define COWFS_CKSUM_MAX_PATHS 4
void cowfs_cksum_register(const struct cowfs_cksum_path *p);
int cowfs_cksum_npaths(void);
const struct cowfs_cksum_path *cowfs_cksum_path(int i); /* NULL past the last */
const struct cowfs_cksum_path *cowfs_cksum_active(void);
bool cowfs_cksum_equal(const struct cowfs_cksum *a, const struct cowfs_cksum *b);
/* Whether buf's checksum is want: every check of bytes read from a device
 * goes through here. The fuzz build (FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
 * has a switch that makes it always true, so that mutated blocks reach the
 * decoders instead of stopping at their checksums. */
bool cowfs_cksum_verify(const void *buf, size_t len, const struct cowfs_cksum *want);
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
extern bool cowfs_fuzz_trust_cksum;
#endif
/*
 * Compress lsize bytes into dst (room for lsize bytes): the physical size
 * (a multiple of COWFS_SECTOR: 4-byte length, lz4 data, zero padding) when
 * that saves at least 1/8 and one sector, else 0 (store the block plain).
 */
size_t cowfs_compress(const void *src, size_t lsize, void *dst);
/* The lz4 payload of a compressed block: its offset is 4; its length, or 0
 * when the header is impossible for psize. */
size_t cowfs_comp_payload_len(const void *pbuf, size_t psize);
/* Decompress a physical block into lsize bytes; 0 or -EIO. */
int cowfs_decompress(const void *pbuf, size_t psize, void *dst, size_t lsize);

/* ---- encoders and decoders (cowfs_format.c) ---- */
void cowfs_bp_encode(const struct cowfs_bp *bp, uint8_t *p);
/* Decodes and checks the fields that can be checked alone (types, sizes,
 * alignment, a hole being all zero). 0 or -EINVAL with *why. */
int cowfs_bp_decode(const uint8_t *p, struct cowfs_bp *bp, const char **why);

void cowfs_dnode_encode(const struct cowfs_dnode *dn, uint8_t *p);
int cowfs_dnode_decode(const uint8_t *p, struct cowfs_dnode *dn, const char **why);

/* A whole label header sector (COWFS_LABEL_HDRSIZE bytes). */
void cowfs_label_encode(const struct cowfs_label *l, uint8_t *p);
/* -ENOENT when the magic is not there (not a cowfs label), -EINVAL when it
 * is there but something is wrong. */
int cowfs_label_decode(const uint8_t *p, struct cowfs_label *l, const char **why);

/* A whole uberblock slot (COWFS_UB_SLOT bytes). */
void cowfs_ub_encode(const struct cowfs_ub *ub, uint8_t *p);
/* -ENOENT for an empty (never written) slot, -EINVAL for a bad one. */
int cowfs_ub_decode(const uint8_t *p, struct cowfs_ub *ub, const char **why);

void cowfs_rootblk_encode(const struct cowfs_rootblk *r, uint8_t *p); /* ROOTBLK_SIZE */
int cowfs_rootblk_decode(const uint8_t *p, struct cowfs_rootblk *r, const char **why);

/* Directory buckets: COWFS_DIR_BUCKET bytes, entries sorted by key. */
void cowfs_dirbucket_init(uint8_t *b);
unsigned cowfs_dirbucket_count(const uint8_t *b);
unsigned cowfs_dirbucket_used(const uint8_t *b); /* bytes incl. header */
/* Check a bucket read from disk: header, every entry inside, keys strictly
 * increasing, names non-empty without '/' or NUL. */
int cowfs_dirbucket_check(const uint8_t *b, const char **why);
/* Iterate: *off starts at COWFS_DIR_HDR; false at the end. Only for
 * checked buckets. */
bool cowfs_dirbucket_next(const uint8_t *b, unsigned *off, struct cowfs_dirent *de);
/* Insert (keeping key order); -ENOSPC when the bucket is full. */
int cowfs_dirbucket_insert(uint8_t *b, const struct cowfs_dirent *de);
/* Remove the entry with key; -ENOENT when absent. */
int cowfs_dirbucket_remove(uint8_t *b, uint64_t key);
/* The 47-bit hash of a name, the top bits of a key. */
uint64_t cowfs_name_hash(const char *name, size_t len);

#endif
