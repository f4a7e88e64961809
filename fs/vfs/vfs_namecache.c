/*
 * The name cache: (directory vnode, name) -> vnode, or "no such name".
 *
 * Path lookup asks here before asking the filesystem. A positive entry
 * holds a reference on the vnode it names, so a hot path stays resolved
 * without the filesystem; a negative entry records that the name did not
 * exist (a miss that costs nothing the second time). Entries do not hold
 * their directory: when a directory vnode is reclaimed its entries (listed
 * on dvp->v_ncsrc) go with it. "." and ".." are never cached (lookup
 * answers them), and mounts flagged VFS_MNTK_NONAMECACHE are never entered.
 * On mounts flagged VFS_MNTK_NCTTL (names change on a host) positive
 * entries lapse mnt_nc_ttl_ns after they were entered: a lookup that finds
 * a lapsed entry is a miss and asks the filesystem, while the entry keeps
 * its vnode (and so the vnode's caches) until the answer replaces it (the
 * same vnode again, another one, or no entry for ENOENT); negative entries
 * are not kept.
 *
 * Consistency: entries are entered by lookups that hold the directory's
 * mnt_ns_lock shared, and removed by namespace changes (create, unlink,
 * rmdir, rename, link, symlink) that hold it exclusively, so the cache
 * never disagrees with the filesystem.
 *
 * The cache is bounded (VFS_NC_MAX entries) and evicts least recently used.
 * When memory is low (the reclaimers' lowmem hint, after the other caches
 * could not give enough) the bound drops to half the entries held (not
 * below VFS_NC_MIN); entering names then evicts down to it, at most
 * VFS_NC_SHRINK_BATCH more per entry, so no one lookup pays for thousands
 * of vnode reclaims. Each entry made without memory pressure raises the
 * bound by one again, back to VFS_NC_MAX. A positive entry is often the
 * only reference to its vnode, so shrinking frees vnodes and their
 * filesystems' state too. (Evicting in lowmem itself could reclaim a
 * vnode from a thread that holds locks its filesystem needs: the
 * registry calls it with its own lock held.)
 * One spinlock (vfs_nc_lock) guards the hash, the LRU list, every v_ncsrc
 * list and the statistics; references are dropped only after it is
 * released, since dropping one may reclaim a vnode.
 */
#include "vfs_impl.h"

#include <karst/reclaim.h>
#include <karst/time.h>
#include <string.h>

#define VFS_NC_HASH	    4096
#define VFS_NC_MAX	    16384
#define VFS_NC_MIN	    256
#define VFS_NC_SHRINK_BATCH 64

struct vfs_ncentry {
	struct list_node hash; /* in its bucket */
	struct list_node lru;  /* most recent at the front */
	struct list_node src;  /* in dvp->v_ncsrc */
	struct vnode *dvp;
	struct vnode *vp; /* referenced; NULL: negative entry */
	uint64_t expire;  /* time_ns it lapses at (VFS_MNTK_NCTTL), else UINT64_MAX */
	uint32_t h;
	uint16_t namelen;
	char name[];
};

static struct spinlock vfs_nc_lock;
static struct list_node vfs_nc_hash[VFS_NC_HASH];
static struct list_node vfs_nc_lru;
static struct vfs_nc_stats vfs_nc_st;
static uint64_t vfs_nc_limit; /* entries allowed now: VFS_NC_MIN..VFS_NC_MAX */
static struct reclaimer vfs_nc_reclaimer;

/* The lowmem hint: half the entries held, evicted by later entries. */
static void nc_lowmem(void *arg)
{
	(void)arg;
	spin_lock(&vfs_nc_lock);
	uint64_t half = vfs_nc_st.entries / 2;
	vfs_nc_limit = half > VFS_NC_MIN ? half : VFS_NC_MIN;
	vfs_nc_st.limit = vfs_nc_limit;
	vfs_nc_st.lowmem++;
	spin_unlock(&vfs_nc_lock);
}

void vfs_nc_init(void)
{
	spin_lock_init(&vfs_nc_lock, "vfs_nc");
	for (int i = 0; i < VFS_NC_HASH; i++)
		list_init(&vfs_nc_hash[i]);
	list_init(&vfs_nc_lru);
	memset(&vfs_nc_st, 0, sizeof(vfs_nc_st));
	vfs_nc_limit = vfs_nc_st.limit = VFS_NC_MAX;
	if (!vfs_nc_reclaimer.lowmem) { /* once: init runs again in host tests */
		vfs_nc_reclaimer = (struct reclaimer){.name = "vfs-namecache", .lowmem = nc_lowmem};
		reclaim_register(&vfs_nc_reclaimer);
	}
}

static uint32_t nc_hash(const struct vnode *dvp, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)(uintptr_t)dvp;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 1099511628211ULL;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static struct vfs_ncentry *nc_find(struct vnode *dvp, const char *name, size_t len, uint32_t h)
{
	list_for_each(it, &vfs_nc_hash[h % VFS_NC_HASH])
	{
		struct vfs_ncentry *e = list_entry(it, struct vfs_ncentry, hash);
		if (e->h == h && e->dvp == dvp && e->namelen == len && !memcmp(e->name, name, len))
			return e;
	}
	return NULL;
}

/* Unlink e from every list (lock held); the caller frees it after unlocking. */
static void nc_unlink(struct vfs_ncentry *e, struct list_node *dead)
{
	list_del(&e->hash);
	list_del(&e->src);
	list_del(&e->lru);
	list_add(dead, &e->lru);
	vfs_nc_st.entries--;
}

static void nc_free_dead(struct list_node *dead)
{
	list_for_each_safe(it, dead)
	{
		struct vfs_ncentry *e = list_entry(it, struct vfs_ncentry, lru);
		if (e->vp)
			vnode_rele(e->vp);
		kfree(e);
	}
}

int vfs_nc_lookup(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	size_t len = strlen(name);
	uint32_t h = nc_hash(dvp, name, len);
	int r = -1;

	uint64_t now = (dvp->v_mount->mnt_kflags & VFS_MNTK_NCTTL) ? time_ns() : 0;

	spin_lock(&vfs_nc_lock);
	struct vfs_ncentry *e = nc_find(dvp, name, len, h);
	if (e && now >= e->expire)
		e = NULL; /* lapsed: ask the filesystem again (vfs_nc_enter renews it) */
	if (e) {
		list_del(&e->lru);
		list_add(&vfs_nc_lru, &e->lru);
		if (e->vp) {
			vnode_ref(e->vp);
			*vpp = e->vp;
			vfs_nc_st.hits++;
			r = 1;
		} else {
			vfs_nc_st.neg_hits++;
			r = 0;
		}
	} else {
		vfs_nc_st.misses++;
	}
	spin_unlock(&vfs_nc_lock);
	return r;
}

void vfs_nc_enter(struct vnode *dvp, const char *name, struct vnode *vp)
{
	size_t len = strlen(name);
	struct list_node dead = LIST_HEAD_INIT(dead);

	uint64_t expire = UINT64_MAX;
	if (dvp->v_mount->mnt_kflags & VFS_MNTK_NONAMECACHE)
		return;
	if (dvp->v_mount->mnt_kflags & VFS_MNTK_NCTTL) {
		uint64_t ttl = atomic_load(&dvp->v_mount->mnt_nc_ttl_ns);
		if (!vp || ttl == 0) {
			vfs_nc_remove(dvp, name); /* a lapsed entry goes with the name */
			return;
		}
		uint64_t now = time_ns();
		expire = ttl >= UINT64_MAX - now ? UINT64_MAX - 1 : now + ttl;
	}
	struct vfs_ncentry *ne = kmalloc(sizeof(*ne) + len + 1);
	if (!ne)
		return; /* a cache may forget */
	ne->dvp = dvp;
	ne->vp = vp;
	ne->expire = expire;
	ne->h = nc_hash(dvp, name, len);
	ne->namelen = (uint16_t)len;
	memcpy(ne->name, name, len + 1);
	if (vp)
		vnode_ref(vp);

	bool pressure = reclaim_pressure(); /* a racy hint; not under the spinlock */
	spin_lock(&vfs_nc_lock);
	if (vfs_nc_limit < VFS_NC_MAX && !pressure)
		vfs_nc_st.limit = ++vfs_nc_limit;
	/* Down to a lowered bound, a batch per call (before the lookup below,
	 * which may then no longer find what was evicted). */
	for (unsigned batch = VFS_NC_SHRINK_BATCH;
	     vfs_nc_st.entries > 0 && vfs_nc_st.entries >= vfs_nc_limit && batch > 0; batch--) {
		nc_unlink(list_last(&vfs_nc_lru, struct vfs_ncentry, lru), &dead);
		vfs_nc_st.evictions++;
	}
	struct vfs_ncentry *old = nc_find(dvp, name, len, ne->h);
	if (old && old->expire != UINT64_MAX) {
		/* A timed entry: the filesystem's new answer renews it (its
		 * old vnode is dropped after the lock, below). */
		struct vnode *prev = old->vp;
		old->vp = vp;
		old->expire = expire;
		spin_unlock(&vfs_nc_lock);
		if (prev)
			vnode_rele(prev);
		kfree(ne);
		nc_free_dead(&dead);
		return;
	}
	if (old) {
		/* Entered by a racing lookup of the same name: the same answer. */
		spin_unlock(&vfs_nc_lock);
		if (vp)
			vnode_rele(vp);
		kfree(ne);
		nc_free_dead(&dead);
		return;
	}
	while (vfs_nc_st.entries >= VFS_NC_MAX) {
		nc_unlink(list_last(&vfs_nc_lru, struct vfs_ncentry, lru), &dead);
		vfs_nc_st.evictions++;
	}
	list_add(&vfs_nc_hash[ne->h % VFS_NC_HASH], &ne->hash);
	list_add(&vfs_nc_lru, &ne->lru);
	list_add(&dvp->v_ncsrc, &ne->src);
	vfs_nc_st.entries++;
	spin_unlock(&vfs_nc_lock);
	nc_free_dead(&dead);
}

void vfs_nc_remove(struct vnode *dvp, const char *name)
{
	size_t len = strlen(name);
	uint32_t h = nc_hash(dvp, name, len);
	struct list_node dead = LIST_HEAD_INIT(dead);

	spin_lock(&vfs_nc_lock);
	struct vfs_ncentry *e = nc_find(dvp, name, len, h);
	if (e)
		nc_unlink(e, &dead);
	spin_unlock(&vfs_nc_lock);
	nc_free_dead(&dead);
}

void vfs_nc_purge_dir(struct vnode *dvp)
{
	struct list_node dead = LIST_HEAD_INIT(dead);

	spin_lock(&vfs_nc_lock);
	while (!list_empty(&dvp->v_ncsrc))
		nc_unlink(list_first(&dvp->v_ncsrc, struct vfs_ncentry, src), &dead);
	spin_unlock(&vfs_nc_lock);
	nc_free_dead(&dead);
}

static void nc_purge_if(struct mount *mp)
{
	struct list_node dead = LIST_HEAD_INIT(dead);

	spin_lock(&vfs_nc_lock);
	list_for_each_safe(it, &vfs_nc_lru)
	{
		struct vfs_ncentry *e = list_entry(it, struct vfs_ncentry, lru);
		if (!mp || e->dvp->v_mount == mp)
			nc_unlink(e, &dead);
	}
	spin_unlock(&vfs_nc_lock);
	nc_free_dead(&dead);
}

void vfs_nc_purge_mount(struct mount *mp)
{
	nc_purge_if(mp);
}

void vfs_namecache_purge_all(void)
{
	nc_purge_if(NULL);
}

void vfs_namecache_stats(struct vfs_nc_stats *st)
{
	spin_lock(&vfs_nc_lock);
	*st = vfs_nc_st;
	spin_unlock(&vfs_nc_lock);
}
