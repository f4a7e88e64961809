/*
 * Control requests: `geom CLASS VERB key=value ...` from the shell arrives
 * here as words, is packed into a struct g_ctlreq and handed to the class's
 * ctlreq() on the event thread (topology locked), so a class never races
 * with its own tasting. Replies and one-line errors go to the caller's
 * g_sbuf.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/format.h>
#include <stdlib.h>
#include <string.h>

const char *g_ctl_get(struct g_ctlreq *req, const char *key)
{
	size_t kl = strlen(key);
	for (int i = 0; i < req->argc; i++) {
		const char *a = req->argv[i];
		if (strncmp(a, key, kl) == 0 && (a[kl] == '=' || a[kl] == '\0'))
			return a[kl] == '=' ? a + kl + 1 : a + kl;
	}
	return NULL;
}

int g_ctl_get_u64(struct g_ctlreq *req, const char *key, uint64_t *v)
{
	const char *s = g_ctl_get(req, key);
	if (!s)
		return -ENOENT;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		char *end;
		if (!s[2])
			return -EINVAL;
		unsigned long long x = strtoull(s + 2, &end, 16);
		if (*end || s[2] == '-' || s[2] == '+' || s[2] == ' ')
			return -EINVAL;
		*v = x;
		return 0;
	}
	return kparse_size(s, strlen(s), v);
}

int g_ctl_error(struct g_ctlreq *req, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (req->out)
		g_sbuf_vprintf(req->out, fmt, ap);
	va_end(ap);
	if (req->out)
		g_sbuf_printf(req->out, "\n");
	return -EINVAL;
}

struct g_ctl_call {
	const char *class_name;
	struct g_ctlreq req;
	int result;
};

static void g_ctl_event(void *arg)
{
	struct g_ctl_call *c = arg;
	struct g_class *mp = g_find_class(c->class_name);
	if (!mp || !mp->registered) {
		if (c->req.out)
			g_sbuf_printf(c->req.out, "geom: no class %s\n", c->class_name);
		c->result = -ENOENT;
		return;
	}
	if (!mp->ctlreq) {
		c->result = -EOPNOTSUPP;
		return;
	}
	c->result = mp->ctlreq(mp, &c->req);
}

int g_ctl(const char *class_name, int argc, const char *const *argv, struct g_sbuf *out)
{
	struct g_ctl_call c = {.class_name = class_name};
	if (argc < 1 || argc - 1 > G_CTL_MAXARGS)
		return -EINVAL;
	c.req.verb = argv[0];
	c.req.argc = argc - 1;
	for (int i = 1; i < argc; i++)
		c.req.argv[i - 1] = argv[i];
	c.req.out = out;
	g_waitfor_event(g_ctl_event, &c);
	return c.result;
}

int g_std_ctl_destroy(struct g_class *mp, struct g_ctlreq *req, const char *name)
{
	g_topology_assert();
	struct g_geom *gp = g_find_geom(mp, name);
	int err = gp ? mp->destroy_geom(mp, gp, g_ctl_get(req, "force") != NULL) : -ENOENT;
	if (err)
		g_ctl_error(req, "%s: cannot destroy %s: error %d", mp->name, name, err);
	return err;
}
