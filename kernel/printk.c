/*
 * printk: format into a stack buffer and write it to the console under a
 * spinlock, so lines from different contexts don't interleave. Output also
 * goes to a ring buffer (`dmesg`). Callable from any context; never sleeps.
 */
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/format.h>
#include <karst/printk.h>
#include <karst/sync.h>

#define PRINTK_RING 16384

static struct spinlock printk_lock;
static bool printk_ready;
static char ring[PRINTK_RING];
static size_t ring_head; /* total bytes ever written */

static void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			arch_console_putc('\r');
		arch_console_putc(s[i]);
		ring[ring_head++ % PRINTK_RING] = s[i];
	}
}

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int n = kfmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1;
	if (!printk_ready) {
		/* No lock class: the lock-order checker reports through printk. */
		spin_lock_init_class(&printk_lock, NULL);
		printk_ready = true;
	}
	spin_lock(&printk_lock);
	console_write(buf, len);
	spin_unlock(&printk_lock);
	return n;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintk(fmt, ap);
	va_end(ap);
	return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return kfmt_vsnprintf(buf, size, fmt, ap);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kfmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/* Write without the lock: for panic, when the lock holder may be the one
 * that crashed. */
void printk_emergency(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	console_write(s, n);
}

size_t printk_ring_copy(char *out, size_t size)
{
	spin_lock(&printk_lock);
	size_t avail = ring_head < PRINTK_RING ? ring_head : PRINTK_RING;
	size_t n = avail < size ? avail : size;
	size_t start = ring_head - n;
	for (size_t i = 0; i < n; i++)
		out[i] = ring[(start + i) % PRINTK_RING];
	spin_unlock(&printk_lock);
	return n;
}

void printk_unlocked(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	kfmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk_emergency(buf);
}
