/*
 * The registry of virtio-fs connections (one per device, by tag) and the
 * statistics every request goes through.
 *
 * Drivers register connections at probe time; mounts look them up by tag.
 * Connections are never unregistered (devices do not go away; a dead one
 * stays, failing its requests with EIO). The registry's mutex guards the
 * list only.
 */
#include "virtiofs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>

static struct list_node virtiofs_conns = LIST_HEAD_INIT(virtiofs_conns);
static struct mutex virtiofs_conns_lock;
static bool virtiofs_conns_ready;

static void conns_lock(void)
{
	/* Registration happens at probe, single-threaded, before any mount:
	 * the lazy init cannot race. */
	if (!virtiofs_conns_ready) {
		mutex_init(&virtiofs_conns_lock, "virtiofs_conns");
		virtiofs_conns_ready = true;
	}
	mutex_lock(&virtiofs_conns_lock);
}

int virtiofs_conn_register(struct virtiofs_conn *conn)
{
	mutex_init(&conn->lock, "virtiofs_conn");
	conns_lock();
	list_for_each(it, &virtiofs_conns)
	{
		struct virtiofs_conn *c = list_entry(it, struct virtiofs_conn, link);
		if (!strcmp(c->tag, conn->tag)) {
			mutex_unlock(&virtiofs_conns_lock);
			return -EEXIST;
		}
	}
	list_add_tail(&virtiofs_conns, &conn->link);
	mutex_unlock(&virtiofs_conns_lock);
	return 0;
}

struct virtiofs_conn *virtiofs_conn_find(const char *tag)
{
	struct virtiofs_conn *found = NULL;
	conns_lock();
	list_for_each(it, &virtiofs_conns)
	{
		struct virtiofs_conn *c = list_entry(it, struct virtiofs_conn, link);
		if (!strcmp(c->tag, tag)) {
			found = c;
			break;
		}
	}
	mutex_unlock(&virtiofs_conns_lock);
	return found;
}

void virtiofs_conn_tags(char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	conns_lock();
	list_for_each(it, &virtiofs_conns)
	{
		struct virtiofs_conn *c = list_entry(it, struct virtiofs_conn, link);
		int w = ksnprintf(buf + n, len - n, "%s'%s'", n ? ", " : "", c->tag);
		if (w < 0 || (size_t)w >= len - n) {
			buf[n] = '\0'; /* whole tags only */
			break;
		}
		n += (size_t)w;
	}
	mutex_unlock(&virtiofs_conns_lock);
	if (!n)
		ksnprintf(buf, len, "none");
}

void virtiofs_conn_foreach(void (*fn)(struct virtiofs_conn *conn, void *arg), void *arg)
{
	/* Connections are never removed: walking without the lock after
	 * taking a snapshot of the head is safe, and fn may sleep. */
	conns_lock();
	struct list_node *first = virtiofs_conns.next;
	mutex_unlock(&virtiofs_conns_lock);
	for (struct list_node *it = first; it != &virtiofs_conns; it = it->next)
		fn(list_entry(it, struct virtiofs_conn, link), arg);
}

static struct virtiofs_opstat *opstat(struct virtiofs_conn *conn, const struct fuse_call *c)
{
	return &conn->ops_stat[c->opcode < VIRTIOFS_OPS ? c->opcode : 0];
}

static void count_out(struct virtiofs_conn *conn, struct fuse_call *c)
{
	struct virtiofs_opstat *s = opstat(conn, c);
	uint64_t in = sizeof(struct fuse_in_header);
	for (unsigned i = 0; i < c->nin; i++)
		in += c->in_len[i];
	atomic_fetch_add(&s->requests, 1);
	atomic_fetch_add(&s->bytes_out, in);
	c->out_got = 0;
}

static void count_in(struct virtiofs_conn *conn, struct fuse_call *const *c, unsigned n, int e)
{
	for (unsigned i = 0; i < n; i++)
		atomic_fetch_add(&opstat(conn, c[i])->bytes_in,
				 sizeof(struct fuse_out_header) + c[i]->out_got);
	if (e)
		atomic_fetch_add(&opstat(conn, c[0])->errors, 1);
}

int virtiofs_call(struct virtiofs_conn *conn, struct fuse_call *c)
{
	count_out(conn, c);
	int e = conn->ops->call(conn, c);
	count_in(conn, &c, 1, e);
	return e;
}

struct virtiofs_pending {
	struct fuse_call *const *c;
	unsigned n;
	void *token; /* ops->start's, or NULL: done already with err */
	int err;
};

/* virtiofs_call_start without ops->start or for more than
 * VIRTIOFS_START_MAX requests: done before it returns. */
static int call_all(struct virtiofs_conn *conn, struct fuse_call *const *c, unsigned n)
{
	if (!conn->ops->start) {
		for (unsigned i = 0; i < n; i++) {
			int e = virtiofs_call(conn, c[i]);
			if (e)
				return e;
		}
		return 0;
	}
	while (n > 0) {
		unsigned k = n < VIRTIOFS_START_MAX ? n : VIRTIOFS_START_MAX;
		struct virtiofs_pending *p;
		int e = virtiofs_call_start(conn, c, k, &p);
		if (!e)
			e = virtiofs_call_wait(conn, p);
		if (e)
			return e;
		c += k;
		n -= k;
	}
	return 0;
}

int virtiofs_call_start(struct virtiofs_conn *conn, struct fuse_call *const *c, unsigned n,
			struct virtiofs_pending **pp)
{
	struct virtiofs_pending *p = kmalloc(sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct virtiofs_pending){.c = c, .n = n};
	if (!conn->ops->start || n > VIRTIOFS_START_MAX) {
		p->err = call_all(conn, c, n);
	} else {
		for (unsigned i = 0; i < n; i++)
			count_out(conn, c[i]);
		int e = conn->ops->start(conn, c, n, &p->token);
		if (e) {
			kfree(p);
			return e;
		}
	}
	*pp = p;
	return 0;
}

int virtiofs_call_wait(struct virtiofs_conn *conn, struct virtiofs_pending *p)
{
	int e = p->err;
	if (p->token) {
		e = conn->ops->wait(conn, p->token);
		count_in(conn, p->c, p->n, e);
	}
	kfree(p);
	return e;
}

bool virtiofs_call_done(struct virtiofs_conn *conn, struct virtiofs_pending *p)
{
	return !p->token || !conn->ops->done || conn->ops->done(conn, p->token);
}

void virtiofs_forget(struct virtiofs_conn *conn, const struct fuse_forget_one *f, unsigned n)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < n; i++)
		sum += f[i].nlookup;
	if (n)
		conn->ops->forget(conn, f, n);
	atomic_fetch_add(&conn->forgets, n);
	atomic_fetch_add(&conn->lookups_forgotten, sum);
}
