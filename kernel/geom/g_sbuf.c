/*
 * Text into a caller's buffer: the dumps (`geom list`, `gpart show`), ctl
 * replies and the host tool's output all go through a g_sbuf, which keeps
 * the buffer NUL-terminated and counts what did not fit, as snprintf does.
 * Never sleeps.
 */
#include "geom.h"

void g_sbuf_init(struct g_sbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->len = 0;
	if (size)
		buf[0] = '\0';
}

void g_sbuf_vprintf(struct g_sbuf *sb, const char *fmt, va_list ap)
{
	size_t room = sb->len < sb->size ? sb->size - sb->len : 0;
	char dummy[1];
	/* When full, format into a 1-byte scratch buffer just to count. */
	int n = room ? kvsnprintf(sb->buf + sb->len, room, fmt, ap)
		     : kvsnprintf(dummy, sizeof(dummy), fmt, ap);
	if (n > 0)
		sb->len += (size_t)n;
}

void g_sbuf_printf(struct g_sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_sbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

void g_humanize(char *buf, size_t size, uint64_t bytes)
{
	static const char units[] = "BKMGTPE";
	int u = 0;
	uint64_t v = bytes, rem = 0;
	while (v >= 1024 && u < 6) {
		rem = v % 1024;
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 10)
		ksnprintf(buf, size, "%llu%c", (unsigned long long)v, units[u]);
	else
		ksnprintf(buf, size, "%llu.%llu%c", (unsigned long long)v,
			  (unsigned long long)(rem * 10 / 1024), units[u]);
}
