/*
 * The g_event thread, the topology lock, and class registration.
 *
 * Events are closures (fn, arg) queued under a spinlock and counted by a
 * semaphore, so they can be posted from any context, the I/O threads
 * included. The event thread takes the topology lock, runs one event, then
 * runs the washer (g_wash, in g_topology.c) when a geom is withering or
 * somebody kicked it, and drops the lock. Tasting, orphan and spoil
 * notifications, class ctlreqs and class (un)registration all run here, so
 * they are serialised with each other and may sleep (the event thread is
 * not an I/O thread).
 *
 * An event may name an object (ref); destroying the object cancels its
 * queued events, so no event ever runs on freed memory.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>

struct g_event {
	struct list_node link;
	g_event_t *fn;
	void *arg;
	void *ref;
	struct semaphore *wait; /* g_waitfor_event: on the waiter's stack */
};

struct list_node g_classes = LIST_HEAD_INIT(g_classes);
_Atomic int g_withering;

static struct mutex g_topo;
static struct spinlock g_evlock;
static struct list_node g_events = LIST_HEAD_INIT(g_events);
static struct semaphore g_evsema;
static struct thread *g_evtd;
static bool g_evstop;
static _Atomic bool g_kicked;
static _Atomic int g_pending; /* queued or running events */
static struct mutex g_idle_lock;
static struct condvar g_idle_cv;
static bool g_running;

void g_topology_lock(void)
{
	mutex_lock(&g_topo);
}

void g_topology_unlock(void)
{
	mutex_unlock(&g_topo);
}

bool g_topology_locked(void)
{
	return mutex_owned(&g_topo);
}

bool g_event_thread_self(void)
{
	return g_evtd != NULL && thread_self() == g_evtd;
}

static void g_event_queue(struct g_event *ev)
{
	atomic_fetch_add(&g_pending, 1);
	spin_lock(&g_evlock);
	list_add_tail(&g_events, &ev->link);
	spin_unlock(&g_evlock);
	sema_up(&g_evsema);
}

int g_post_event(g_event_t *fn, void *arg, void *ref)
{
	struct g_event *ev = kzalloc(sizeof(*ev));
	if (!ev) {
		printk("geom: no memory for an event\n");
		return -ENOMEM;
	}
	ev->fn = fn;
	ev->arg = arg;
	ev->ref = ref;
	list_init(&ev->link);
	g_event_queue(ev);
	return 0;
}

int g_waitfor_event(g_event_t *fn, void *arg)
{
	thread_assert_may_sleep();
	VERIFY_MSG(!g_event_thread_self(), "g_waitfor_event from the event thread");
	KASSERT(!g_topology_locked());
	struct semaphore done;
	struct g_event ev = {.fn = fn, .arg = arg, .wait = &done};
	sema_init(&done, 0);
	list_init(&ev.link);
	g_event_queue(&ev);
	sema_down(&done);
	sema_destroy(&done);
	return 0;
}

static void g_event_done(void)
{
	mutex_lock(&g_idle_lock);
	if (atomic_fetch_sub(&g_pending, 1) == 1)
		cv_broadcast(&g_idle_cv);
	mutex_unlock(&g_idle_lock);
}

void g_cancel_event(void *ref)
{
	struct list_node dead = LIST_HEAD_INIT(dead);
	if (!ref)
		return;
	spin_lock(&g_evlock);
	list_for_each_safe(it, &g_events)
	{
		struct g_event *ev = list_entry(it, struct g_event, link);
		if (ev->ref == ref && !ev->wait) {
			list_del(&ev->link);
			list_add_tail(&dead, &ev->link);
		}
	}
	spin_unlock(&g_evlock);
	/* Their semaphore counts stay: the thread finds the queue empty. */
	list_for_each_safe(it, &dead)
	{
		struct g_event *ev = list_entry(it, struct g_event, link);
		list_del(&ev->link);
		kfree(ev);
		g_event_done();
	}
}

void g_event_kick(void)
{
	if (!atomic_exchange(&g_kicked, true))
		sema_up(&g_evsema);
}

void g_waitidle(void)
{
	thread_assert_may_sleep();
	KASSERT(!g_event_thread_self());
	mutex_lock(&g_idle_lock);
	while (atomic_load(&g_pending) > 0)
		cv_wait(&g_idle_cv, &g_idle_lock);
	mutex_unlock(&g_idle_lock);
}

static void g_event_main(void *arg)
{
	for (;;) {
		sema_down(&g_evsema);
		spin_lock(&g_evlock);
		struct g_event *ev = list_first(&g_events, struct g_event, link);
		bool stop = g_evstop;
		if (ev)
			list_del(&ev->link);
		spin_unlock(&g_evlock);
		if (!ev && stop)
			break;
		g_topology_lock();
		if (ev)
			ev->fn(ev->arg);
		if (atomic_exchange(&g_kicked, false) || atomic_load(&g_withering) > 0)
			g_wash();
		g_topology_unlock();
		if (ev) {
			struct semaphore *w = ev->wait;
			if (!w)
				kfree(ev);
			g_event_done();
			if (w)
				sema_up(w); /* last touch: ev lives on the waiter's stack */
		}
	}
}

/* ---- class registration ---- */

static void g_register_event(void *arg)
{
	struct g_class *mp = arg;
	list_init(&mp->geoms);
	list_add_tail(&g_classes, &mp->link);
	mp->registered = true;
	if (mp->init)
		mp->init(mp);
	/* Offer the new class every provider that already exists. */
	list_for_each(ci, &g_classes)
	{
		struct g_class *c = list_entry(ci, struct g_class, link);
		list_for_each(gi, &c->geoms)
		{
			struct g_geom *gp = list_entry(gi, struct g_geom, link);
			list_for_each(pi, &gp->providers)
			{
				struct g_provider *pp = list_entry(pi, struct g_provider, link);
				g_taste_provider(pp, mp);
			}
		}
	}
}

int g_class_register(struct g_class *mp)
{
	VERIFY_MSG(g_running, "g_class_register(%s) before g_init", mp->name);
	if (mp->registered || g_find_class(mp->name))
		return -EEXIST;
	return g_waitfor_event(g_register_event, mp);
}

struct g_unreg {
	struct g_class *mp;
	int error;
	bool empty;
};

static void g_unregister_destroy(void *arg)
{
	struct g_unreg *u = arg;
	struct g_class *mp = u->mp;
	mp->registered = false; /* no more tasting */
	u->error = 0;
	list_for_each_safe(it, &mp->geoms)
	{
		struct g_geom *gp = list_entry(it, struct g_geom, link);
		if (gp->flags & G_GEOM_WITHER)
			continue;
		int err = mp->destroy_geom ? mp->destroy_geom(mp, gp, false) : -EOPNOTSUPP;
		if (err && !u->error)
			u->error = err;
	}
	if (u->error)
		mp->registered = true;
}

static void g_unregister_finish(void *arg)
{
	struct g_unreg *u = arg;
	u->empty = list_empty(&u->mp->geoms);
	if (!u->empty)
		return;
	if (u->mp->fini)
		u->mp->fini(u->mp);
	list_del(&u->mp->link);
}

int g_class_unregister(struct g_class *mp)
{
	struct g_unreg u = {.mp = mp};
	if (!mp->registered)
		return -ENOENT;
	g_waitfor_event(g_unregister_destroy, &u);
	if (u.error)
		return u.error;
	/* The washer frees the geoms once their I/O drains (a few events at
	 * most unless something stays open). */
	uint64_t deadline = time_ns() + 10 * NSEC_PER_SEC;
	for (;;) {
		g_waitfor_event(g_unregister_finish, &u);
		if (u.empty)
			return 0;
		if (time_ns() > deadline) {
			printk("geom: class %s still has geoms; not unregistered\n", mp->name);
			mp->registered = true;
			return -EBUSY;
		}
		thread_sleep_ns(200 * NSEC_PER_USEC);
	}
}

struct g_class *g_find_class(const char *name)
{
	list_for_each(it, &g_classes)
	{
		struct g_class *mp = list_entry(it, struct g_class, link);
		if (strcmp(mp->name, name) == 0)
			return mp;
	}
	return NULL;
}

/* ---- start and stop ---- */

int g_init(void)
{
	if (g_running)
		return 0;
	mutex_init(&g_topo, "g_topology");
	mutex_init(&g_idle_lock, "g_idle");
	cv_init(&g_idle_cv);
	spin_lock_init(&g_evlock, "g_events");
	sema_init(&g_evsema, 0);
	list_init(&g_classes);
	list_init(&g_events);
	g_evstop = false;
	atomic_store(&g_kicked, false);
	atomic_store(&g_pending, 0);
	atomic_store(&g_withering, 0);
	g_observers_reset();
	int err = g_io_start();
	if (err)
		return err;
	g_evtd = thread_create("g_event", g_event_main, NULL, THREAD_PRIO_HIGH);
	if (!g_evtd) {
		g_io_stop();
		return -ENOMEM;
	}
	g_running = true;
	return g_class_register(&g_user_class);
}

int g_fini(void)
{
	if (!g_running)
		return 0;
	/* Newest class first: upper layers are usually registered later. */
	while (!list_empty(&g_classes)) {
		struct g_class *mp = list_last(&g_classes, struct g_class, link);
		int err = g_class_unregister(mp);
		if (err) {
			printk("geom: cannot unregister class %s: %d\n", mp->name, err);
			return err;
		}
	}
	spin_lock(&g_evlock);
	g_evstop = true;
	spin_unlock(&g_evlock);
	sema_up(&g_evsema);
	thread_join(g_evtd);
	g_evtd = NULL;
	g_io_stop();
	g_running = false;
	sema_destroy(&g_evsema);
	cv_destroy(&g_idle_cv);
	mutex_destroy(&g_idle_lock);
	mutex_destroy(&g_topo);
	return 0;
}

#ifdef KARST_KERNEL
/* Needs thread_create: the GEOM threads start with the core services. */
static int g_kinit(void)
{
	return g_init();
}
KARST_INIT(INIT_CORE, g_kinit);
#endif
