/*
 * Observers: code outside the graph that follows providers coming and
 * going. g_dev.c registers one to make a /dev node of every provider; the
 * core names no such user.
 *
 * How it works: the observers live in a small table guarded by the
 * topology lock and changed only on the event thread (registration is an
 * event), so a callback never runs concurrently with a registration or
 * with another callback. A provider is announced from its "new provider"
 * event (g_topology.c), before tasting, and marked G_PF_ANNOUNCED; it is
 * withdrawn from its orphan event, or from g_destroy_provider when the
 * washer frees it before that event ran (destroying a provider cancels its
 * events). The flag makes each of those happen at most once, whichever
 * path comes first. A newly registered observer is told about every
 * provider announced already, so registration order does not matter.
 */
#include "g_internal.h"
#include <errno.h>
#include <string.h>

static const struct g_observer *g_observers[G_OBSERVER_MAX];

void g_observers_reset(void)
{
	memset(g_observers, 0, sizeof(g_observers));
}

static bool g_provider_live(const struct g_provider *pp)
{
	return !(pp->flags & (G_PF_NEW | G_PF_ORPHAN)) && !atomic_load(&pp->error) &&
	       !(pp->geom->flags & G_GEOM_WITHER);
}

void g_observers_ready(struct g_provider *pp)
{
	g_topology_assert();
	if ((pp->flags & G_PF_ANNOUNCED) || !g_provider_live(pp))
		return;
	pp->flags |= G_PF_ANNOUNCED;
	for (int i = 0; i < G_OBSERVER_MAX; i++) {
		const struct g_observer *obs = g_observers[i];
		if (obs && obs->provider_ready)
			obs->provider_ready(pp, obs->arg);
	}
}

void g_observers_gone(struct g_provider *pp)
{
	g_topology_assert();
	if (!(pp->flags & G_PF_ANNOUNCED))
		return;
	pp->flags &= ~G_PF_ANNOUNCED;
	for (int i = 0; i < G_OBSERVER_MAX; i++) {
		const struct g_observer *obs = g_observers[i];
		if (obs && obs->provider_gone)
			obs->provider_gone(pp, obs->arg);
	}
}

struct g_observer_call {
	const struct g_observer *obs;
	int result;
};

static int g_observer_slot(const struct g_observer *obs)
{
	for (int i = 0; i < G_OBSERVER_MAX; i++)
		if (g_observers[i] == obs)
			return i;
	return -1;
}

static void g_observer_register_event(void *arg)
{
	struct g_observer_call *c = arg;
	const struct g_observer *obs = c->obs;
	if (g_observer_slot(obs) >= 0) {
		c->result = -EEXIST;
		return;
	}
	int slot = g_observer_slot(NULL);
	if (slot < 0) {
		c->result = -ENOSPC;
		return;
	}
	g_observers[slot] = obs;
	c->result = 0;
	if (!obs->provider_ready)
		return;
	/* Providers whose announcement is still queued are told by it. */
	list_for_each(ci, &g_classes)
	{
		struct g_class *mp = list_entry(ci, struct g_class, link);
		list_for_each(gi, &mp->geoms)
		{
			struct g_geom *gp = list_entry(gi, struct g_geom, link);
			list_for_each(pi, &gp->providers)
			{
				struct g_provider *pp = list_entry(pi, struct g_provider, link);
				if (pp->flags & G_PF_ANNOUNCED)
					obs->provider_ready(pp, obs->arg);
			}
		}
	}
}

static void g_observer_unregister_event(void *arg)
{
	struct g_observer_call *c = arg;
	int slot = g_observer_slot(c->obs);
	if (slot < 0) {
		c->result = -ENOENT;
		return;
	}
	g_observers[slot] = NULL;
	c->result = 0;
}

int g_observer_register(const struct g_observer *obs)
{
	if (!obs)
		return -EINVAL;
	struct g_observer_call c = {.obs = obs};
	int err = g_waitfor_event(g_observer_register_event, &c);
	return err ? err : c.result;
}

int g_observer_unregister(const struct g_observer *obs)
{
	if (!obs)
		return -EINVAL;
	struct g_observer_call c = {.obs = obs};
	int err = g_waitfor_event(g_observer_unregister_event, &c);
	return err ? err : c.result;
}
