/*
 * seqbuf: the growing buffer procfs generators print into.
 *
 * The buffer doubles as needed up to SEQBUF_MAX. seqbuf_printf formats with
 * kvsnprintf into the free space; when the text does not fit it grows the
 * buffer to the exact need and formats again.
 */
#include "procfs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <stdarg.h>
#include <string.h>

static int grow(struct seqbuf *sb, size_t need)
{
	if (sb->err)
		return sb->err;
	if (sb->len + need <= sb->cap)
		return 0;
	if (sb->len + need > SEQBUF_MAX) {
		sb->err = -EFBIG;
		return sb->err;
	}
	size_t cap = sb->cap ? sb->cap : 256;
	while (cap < sb->len + need)
		cap *= 2;
	if (cap > SEQBUF_MAX)
		cap = SEQBUF_MAX;
	char *nb = kmalloc(cap);
	if (!nb) {
		sb->err = -ENOMEM;
		return sb->err;
	}
	if (sb->len)
		memcpy(nb, sb->buf, sb->len);
	kfree(sb->buf);
	sb->buf = nb;
	sb->cap = cap;
	return 0;
}

int seqbuf_write(struct seqbuf *sb, const void *data, size_t len)
{
	int err = grow(sb, len);
	if (err)
		return err;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	return 0;
}

int seqbuf_printf(struct seqbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	int err = grow(sb, 64); /* never format into a zero-sized buffer */
	if (err)
		return err;
	for (int attempt = 0; attempt < 2; attempt++) {
		size_t room = sb->cap - sb->len;
		va_start(ap, fmt);
		n = kvsnprintf(sb->buf + sb->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return sb->err = -EINVAL;
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return 0;
		}
		err = grow(sb, (size_t)n + 1); /* room for kvsnprintf's NUL */
		if (err)
			return err;
	}
	return sb->err = -EINVAL; /* not reached: the second attempt fits */
}

void seqbuf_free(struct seqbuf *sb)
{
	kfree(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	sb->err = 0;
}
