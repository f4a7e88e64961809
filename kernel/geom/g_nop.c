/*
 * NOP: a pass-through geom with fault injection, for testing what sits
 * above a failing disk.
 *
 * A NOP geom on provider P offers "P.nop" of the same size. start() counts
 * the request and decides, from its configuration and a deterministic
 * PRNG (splitmix64 from the configured seed, so a test replays exactly),
 * whether to fail it: reads and writes fail with a given probability
 * (parts per million), or every request after the first fail_after ones
 * fails. A request that survives is cloned and sent down. A successful
 * read may have one bit flipped (chosen by the PRNG) on its way back up.
 *
 * Power cut: with drop set, every write after the first drop_after ones
 * (counted from the configuration) is dropped: completed as a success,
 * nothing written, as by a disk whose power went while its cache held the
 * data. With torn, the first dropped write is torn instead: each of its
 * sectors is written or not by a PRNG bit (one clone per run of written
 * sectors, every clone made before any is requested; each clone completes
 * for its own sectors and the skipped ones after it, so the request
 * reports all its bytes). Reads and flushes go on as before.
 *
 * Delay: g_down may not sleep, so a delayed clone is queued for the geom's
 * own worker thread, which sleeps until the clone's deadline (enqueue time
 * plus delay) and then requests it. Deadlines are kept per request, so
 * many delayed requests in flight overlap instead of queueing up behind
 * each other.
 *
 * Locking: the configuration, PRNG and counters sit under a spinlock taken
 * by start(), done() and the configuration calls; the worker's queue under
 * another spinlock. Configure through g_nop_configure() or
 * `geom NOP configure name=P.nop rfail=50 seed=7 ...`.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>

struct g_nop_softc {
	struct spinlock lock;
	struct g_nop_config cfg;
	uint64_t prng;
	uint64_t nreq;	  /* reads and writes seen, for fail_after */
	uint64_t nwrites; /* writes seen, for drop_after */
	struct g_nop_stats st;
	struct g_consumer *cp;

	struct spinlock qlock;
	struct list_node queue; /* delayed clones, deadline in t_start */
	struct semaphore work;
	bool stop;
	struct thread *td;
};

/* splitmix64: the next number of the stream whose state is *s. */
static uint64_t g_nop_splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t g_nop_rand(struct g_nop_softc *sc)
{
	return g_nop_splitmix(&sc->prng);
}

static bool g_nop_chance(struct g_nop_softc *sc, uint32_t ppm)
{
	if (ppm == 0)
		return false;
	if (ppm >= 1000000)
		return true;
	return g_nop_rand(sc) % 1000000 < ppm;
}

static void g_nop_done(struct bio *cbp)
{
	struct g_nop_softc *sc = cbp->caller2;
	uintptr_t flip = (uintptr_t)cbp->caller1;
	if (flip && atomic_load(&cbp->error) == 0 && cbp->completed > 0) {
		uint64_t bit = (flip - 1) % (cbp->completed * 8);
		((uint8_t *)cbp->data)[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		spin_lock(&sc->lock);
		sc->st.flips++;
		spin_unlock(&sc->lock);
	}
	g_std_done(cbp);
}

/* The torn write's clones: each reports its sectors and the skipped ones
 * after it (in caller1) as completed, so the parent completes whole. */
static void g_nop_torn_done(struct bio *cbp)
{
	if (atomic_load(&cbp->error) == 0)
		cbp->completed = (uint64_t)(uintptr_t)cbp->caller1;
	g_std_done(cbp);
}

/*
 * Tear bp: the sectors whose bit of a splitmix64 stream from `seed` is
 * set are written, one clone per run, the others not. Runs from g_down:
 * no sleep. Every clone is made before any is requested (g_clone_bio).
 */
static void g_nop_tear(struct g_nop_softc *sc, struct bio *bp, uint64_t seed, uint32_t delay_us)
{
	uint64_t ss = bp->to->sectorsize ? bp->to->sectorsize : 512;
	uint64_t nsec = bp->length / ss, bits = 0;
	struct list_node clones;
	list_init(&clones);
	struct bio *last = NULL;
	uint64_t lead = 0; /* skipped sectors before the first clone */
	bool prev = false; /* the sector before was written */
	for (uint64_t i = 0; i < nsec; i++) {
		if (i % 64 == 0)
			bits = g_nop_splitmix(&seed);
		bool write = (bits >> (i % 64)) & 1, extend = write && prev;
		prev = write;
		if (!write || extend) {
			if (last) /* skipped after it, or its run grows */
				last->caller1 = (void *)((uintptr_t)last->caller1 + ss);
			else
				lead++;
			if (extend)
				last->length += ss;
			continue;
		}
		struct bio *cbp = g_clone_bio(bp);
		if (!cbp) {
			struct bio *c;
			while ((c = list_first(&clones, struct bio, queue))) {
				list_del(&c->queue);
				g_destroy_bio(c);
			}
			bp->children = 0;
			g_io_deliver(bp, -ENOMEM);
			return;
		}
		cbp->offset = bp->offset + i * ss;
		cbp->length = ss;
		cbp->data = (uint8_t *)bp->data + i * ss;
		cbp->done = g_nop_torn_done;
		cbp->caller1 = (void *)(uintptr_t)(ss + (last ? 0 : lead * ss));
		cbp->caller2 = sc;
		list_add_tail(&clones, &cbp->queue);
		last = cbp;
	}
	if (!last) { /* no sector written: dropped whole */
		bp->completed = bp->length;
		g_io_deliver(bp, 0);
		return;
	}
	struct bio *c;
	while ((c = list_first(&clones, struct bio, queue))) {
		list_del(&c->queue);
		if (delay_us) {
			c->t_start = time_ns() + (uint64_t)delay_us * NSEC_PER_USEC;
			spin_lock(&sc->qlock);
			list_add_tail(&sc->queue, &c->queue);
			spin_unlock(&sc->qlock);
			sema_up(&sc->work);
		} else {
			g_io_request(c, sc->cp);
		}
	}
}

static void g_nop_start(struct bio *bp)
{
	struct g_nop_softc *sc = bp->to->geom->softc;
	bool fail = false, drop = false, tear = false;
	uintptr_t flip = 0;
	uint64_t tear_seed = 0;

	spin_lock(&sc->lock);
	struct g_nop_config cfg = sc->cfg;
	switch (bp->cmd) {
	case BIO_READ:
		sc->st.reads++;
		sc->nreq++;
		fail = (cfg.fail_after && sc->nreq > cfg.fail_after) ||
		       g_nop_chance(sc, cfg.rfail_ppm);
		if (fail)
			sc->st.rfailures++;
		else if (g_nop_chance(sc, cfg.flip_ppm))
			flip = (uintptr_t)(g_nop_rand(sc) >> 1) + 1;
		break;
	case BIO_WRITE:
		sc->st.writes++;
		sc->nreq++;
		sc->nwrites++;
		fail = (cfg.fail_after && sc->nreq > cfg.fail_after) ||
		       g_nop_chance(sc, cfg.wfail_ppm);
		if (fail) {
			sc->st.wfailures++;
		} else if (cfg.drop && sc->nwrites > cfg.drop_after) {
			drop = true;
			sc->st.dropped++;
			if (cfg.torn && sc->nwrites == cfg.drop_after + 1) {
				tear = true;
				tear_seed = g_nop_rand(sc);
				sc->st.torn++;
			}
		}
		break;
	default:
		sc->st.other++;
		break;
	}
	if (!fail && !(drop && !tear) && cfg.delay_us)
		sc->st.delayed++;
	spin_unlock(&sc->lock);

	if (fail) {
		bp->completed = 0;
		g_io_deliver(bp, cfg.error ? cfg.error : -EIO);
		return;
	}
	if (tear) {
		g_nop_tear(sc, bp, tear_seed, cfg.delay_us);
		return;
	}
	if (drop) {
		bp->completed = bp->length;
		g_io_deliver(bp, 0);
		return;
	}
	struct bio *cbp = g_clone_bio(bp);
	if (!cbp) {
		g_io_deliver(bp, -ENOMEM);
		return;
	}
	cbp->done = g_nop_done;
	cbp->caller1 = (void *)flip;
	cbp->caller2 = sc;
	if (cfg.delay_us) {
		/* t_start holds the deadline until the worker requests it. */
		cbp->t_start = time_ns() + (uint64_t)cfg.delay_us * NSEC_PER_USEC;
		spin_lock(&sc->qlock);
		list_add_tail(&sc->queue, &cbp->queue);
		spin_unlock(&sc->qlock);
		sema_up(&sc->work);
		return;
	}
	g_io_request(cbp, sc->cp);
}

/* The delay worker: an ordinary thread, so it may sleep. */
static void g_nop_worker(void *arg)
{
	struct g_nop_softc *sc = arg;
	for (;;) {
		sema_down(&sc->work);
		spin_lock(&sc->qlock);
		struct bio *cbp = list_first(&sc->queue, struct bio, queue);
		bool stop = sc->stop;
		if (cbp)
			list_del(&cbp->queue);
		spin_unlock(&sc->qlock);
		if (!cbp) {
			if (stop)
				return;
			continue;
		}
		uint64_t now = time_ns();
		if (cbp->t_start > now)
			thread_sleep_ns(cbp->t_start - now);
		g_io_request(cbp, sc->cp);
	}
}

static void g_nop_release(struct g_geom *gp)
{
	struct g_nop_softc *sc = gp->softc;
	if (!sc)
		return;
	if (sc->td) {
		spin_lock(&sc->qlock);
		sc->stop = true;
		spin_unlock(&sc->qlock);
		sema_up(&sc->work);
		thread_join(sc->td);
	}
	KASSERT(list_empty(&sc->queue));
	sema_destroy(&sc->work);
	kfree(sc);
	gp->softc = NULL;
}

static void g_nop_dumpconf(struct g_sbuf *sb, const char *indent, struct g_geom *gp,
			   struct g_consumer *cp, struct g_provider *pp)
{
	struct g_nop_softc *sc = gp->softc;
	if (!sc || !pp)
		return;
	spin_lock(&sc->lock);
	struct g_nop_config c = sc->cfg;
	struct g_nop_stats s = sc->st;
	spin_unlock(&sc->lock);
	g_sbuf_printf(sb,
		      "%sFaults: rfail %u ppm, wfail %u ppm, fail after %llu, delay %u us, "
		      "flip %u ppm, seed %llu\n",
		      indent, c.rfail_ppm, c.wfail_ppm, (unsigned long long)c.fail_after,
		      c.delay_us, c.flip_ppm, (unsigned long long)c.seed);
	if (c.drop)
		g_sbuf_printf(sb, "%sPower cut: writes dropped after %llu%s\n", indent,
			      (unsigned long long)c.drop_after, c.torn ? ", the first torn" : "");
	g_sbuf_printf(sb,
		      "%sCounters: %llu reads, %llu writes, %llu other, %llu read failures, "
		      "%llu write failures, %llu flips, %llu dropped, %llu torn\n",
		      indent, (unsigned long long)s.reads, (unsigned long long)s.writes,
		      (unsigned long long)s.other, (unsigned long long)s.rfailures,
		      (unsigned long long)s.wfailures, (unsigned long long)s.flips,
		      (unsigned long long)s.dropped, (unsigned long long)s.torn);
}

static void g_nop_apply(struct g_nop_softc *sc, const struct g_nop_config *cfg)
{
	spin_lock(&sc->lock);
	sc->cfg = *cfg;
	sc->prng = cfg->seed;
	sc->nreq = 0;
	sc->nwrites = 0;
	spin_unlock(&sc->lock);
}

static int g_nop_create_locked(const char *provider, const struct g_nop_config *cfg)
{
	g_topology_assert();
	struct g_provider *pp = g_find_provider(provider);
	if (!pp)
		return -ENOENT;
	if (strlen(pp->name) + 4 >= G_NAME_MAX)
		return -ENAMETOOLONG;
	char name[G_NAME_MAX];
	ksnprintf(name, sizeof(name), "%s.nop", pp->name);
	if (g_find_provider(name))
		return -EEXIST;
	struct g_nop_softc *sc = kzalloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	spin_lock_init(&sc->lock, "g_nop");
	spin_lock_init(&sc->qlock, "g_nop_queue");
	list_init(&sc->queue);
	sema_init(&sc->work, 0);
	struct g_nop_config zero = {0};
	g_nop_apply(sc, cfg ? cfg : &zero);

	int err = -ENOMEM;
	struct g_geom *gp = g_new_geom(&g_nop_class, "%s", name);
	if (!gp) {
		sema_destroy(&sc->work);
		kfree(sc);
		return err;
	}
	gp->softc = sc;
	sc->td = thread_create("g_nop", g_nop_worker, sc, THREAD_PRIO_HIGH);
	struct g_consumer *cp = sc->td ? g_new_consumer(gp) : NULL;
	struct g_provider *npp = NULL;
	if (cp) {
		err = g_attach(cp, pp);
		if (err == 0)
			npp = g_new_provider(gp, "%s", name);
		else
			cp = (g_destroy_consumer(cp), NULL);
	}
	if (!npp) {
		if (cp) {
			g_detach(cp);
			g_destroy_consumer(cp);
		}
		g_nop_release(gp);
		g_destroy_geom(gp);
		return err ? err : -ENOMEM;
	}
	sc->cp = cp;
	npp->mediasize = pp->mediasize;
	npp->sectorsize = pp->sectorsize;
	g_provider_ready(npp);
	return 0;
}

int g_nop_create(const char *provider, const struct g_nop_config *cfg)
{
	g_topology_lock();
	int err = g_nop_create_locked(provider, cfg);
	g_topology_unlock();
	return err;
}

static struct g_nop_softc *g_nop_find(const char *name)
{
	struct g_geom *gp = g_find_geom(&g_nop_class, name);
	return gp ? gp->softc : NULL;
}

int g_nop_configure(const char *nop_name, const struct g_nop_config *cfg)
{
	g_topology_lock();
	struct g_nop_softc *sc = g_nop_find(nop_name);
	if (sc)
		g_nop_apply(sc, cfg);
	g_topology_unlock();
	return sc ? 0 : -ENOENT;
}

int g_nop_get_stats(const char *nop_name, struct g_nop_stats *st)
{
	g_topology_lock();
	struct g_nop_softc *sc = g_nop_find(nop_name);
	if (sc) {
		spin_lock(&sc->lock);
		*st = sc->st;
		spin_unlock(&sc->lock);
	}
	g_topology_unlock();
	return sc ? 0 : -ENOENT;
}

static int g_nop_destroy_locked(const char *nop_name, bool force)
{
	struct g_geom *gp = g_find_geom(&g_nop_class, nop_name);
	return gp ? g_std_destroy_geom(&g_nop_class, gp, force) : -ENOENT;
}

int g_nop_destroy(const char *nop_name, bool force)
{
	g_topology_lock();
	int err = g_nop_destroy_locked(nop_name, force);
	g_topology_unlock();
	return err;
}

/* Percent (rfail=50) or parts per million (rfail_ppm=500). */
static int g_nop_ctl_rate(struct g_ctlreq *req, const char *key, uint32_t *ppm)
{
	char k[32];
	uint64_t v;
	int err = g_ctl_get_u64(req, key, &v);
	if (err == 0) {
		if (v > 100)
			return g_ctl_error(req, "NOP: %s is a percentage", key);
		*ppm = (uint32_t)v * 10000;
	} else if (err == -EINVAL) {
		return g_ctl_error(req, "NOP: bad %s", key);
	}
	ksnprintf(k, sizeof(k), "%s_ppm", key);
	err = g_ctl_get_u64(req, k, &v);
	if (err == 0) {
		if (v > 1000000)
			return g_ctl_error(req, "NOP: %s above 1000000", k);
		*ppm = (uint32_t)v;
	} else if (err == -EINVAL) {
		return g_ctl_error(req, "NOP: bad %s", k);
	}
	return 0;
}

static int g_nop_ctl_config(struct g_ctlreq *req, struct g_nop_config *c)
{
	uint64_t v;
	if (g_nop_ctl_rate(req, "rfail", &c->rfail_ppm) ||
	    g_nop_ctl_rate(req, "wfail", &c->wfail_ppm) ||
	    g_nop_ctl_rate(req, "flip", &c->flip_ppm))
		return -EINVAL;
	if (g_ctl_get_u64(req, "failafter", &v) == 0)
		c->fail_after = v;
	int err = g_ctl_get_u64(req, "dropafter", &v);
	if (err == -EINVAL)
		return g_ctl_error(req, "NOP: bad dropafter");
	if (err == 0) {
		c->drop = true;
		c->drop_after = v;
	}
	if (g_ctl_get(req, "torn")) {
		if (!c->drop)
			return g_ctl_error(req, "NOP: torn needs dropafter=N");
		c->torn = true;
	}
	if (g_ctl_get_u64(req, "seed", &v) == 0)
		c->seed = v;
	if (g_ctl_get_u64(req, "delay", &v) == 0) {
		if (v > 10 * 1000 * 1000)
			return g_ctl_error(req, "NOP: delay above 10 s");
		c->delay_us = (uint32_t)v;
	}
	if (g_ctl_get_u64(req, "error", &v) == 0) {
		if (v == 0 || v > 4095)
			return g_ctl_error(req, "NOP: error is a positive errno");
		c->error = -(int)v;
	}
	return 0;
}

/*
 * geom NOP create provider=md0 [rfail=PCT] [wfail=PCT] [flip=PCT] [failafter=N]
 *                 [dropafter=N [torn]] [delay=US] [seed=N] [error=ERRNO]
 *                 (also rfail_ppm=... etc.)
 * geom NOP configure name=md0.nop [same options; unnamed ones reset to 0]
 * geom NOP stats name=md0.nop
 * geom NOP destroy name=md0.nop [force]
 */
static int g_nop_ctlreq(struct g_class *mp, struct g_ctlreq *req)
{
	struct g_nop_config cfg = {0};
	if (strcmp(req->verb, "create") == 0) {
		const char *prov = g_ctl_get(req, "provider");
		if (!prov || !*prov)
			return g_ctl_error(req, "NOP: provider= is required");
		if (g_nop_ctl_config(req, &cfg))
			return -EINVAL;
		int err = g_nop_create_locked(prov, &cfg);
		if (err)
			g_ctl_error(req, "NOP: cannot create on %s: error %d", prov, err);
		return err;
	}
	const char *name = g_ctl_get(req, "name");
	struct g_nop_softc *sc = name ? g_nop_find(name) : NULL;
	if (!sc)
		return g_ctl_error(req, "NOP: no such geom %s", name ? name : "(name= missing)");
	if (strcmp(req->verb, "configure") == 0) {
		if (g_nop_ctl_config(req, &cfg))
			return -EINVAL;
		g_nop_apply(sc, &cfg);
		return 0;
	}
	if (strcmp(req->verb, "stats") == 0) {
		struct g_geom *gp = g_find_geom(mp, name); /* exists: g_nop_find found it */
		g_nop_dumpconf(req->out, "", gp, NULL,
			       list_first(&gp->providers, struct g_provider, link));
		return 0;
	}
	if (strcmp(req->verb, "destroy") == 0)
		return g_std_ctl_destroy(mp, req, name);
	return g_ctl_error(req, "NOP: unknown verb %s", req->verb);
}

struct g_class g_nop_class = {
    .name = "NOP",
    .ctlreq = g_nop_ctlreq,
    .destroy_geom = g_std_destroy_geom,
    .start = g_nop_start,
    .access = g_std_access,
    .orphan = g_std_orphan,
    .dumpconf = g_nop_dumpconf,
    .release = g_nop_release,
};

G_CLASS_DECLARE(g_nop_class);
