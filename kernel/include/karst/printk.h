/*
 * Printing, panics and assertions: part of the kernel-service interface.
 *
 * printk() writes to the console (kernel) or stdout (host) and may be called
 * from any context, including interrupt handlers; it never sleeps.
 * panic() never returns: the kernel dumps registers and a backtrace and
 * powers off with a failure status; the host build aborts.
 *
 * KASSERT is an INVARIANTS-style check compiled only into debug builds
 * (KARST_DEBUG); VERIFY is always compiled in.
 */
#ifndef KARST_PRINTK_H
#define KARST_PRINTK_H

#include <karst/compiler.h>
#include <stdarg.h>
#include <stddef.h>

__printf(1, 2) int printk(const char *fmt, ...);
int vprintk(const char *fmt, va_list ap);
__printf(1, 2) __noreturn void panic(const char *fmt, ...);

/* The kernel's formatter; the host maps these to libc's. */
__printf(3, 4) int ksnprintf(char *buf, size_t size, const char *fmt, ...);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#define VERIFY(expr)                                                                               \
	do {                                                                                       \
		if (unlikely(!(expr)))                                                             \
			panic("assertion \"%s\" failed at %s:%d", #expr, __FILE__, __LINE__);      \
	} while (0)

#define VERIFY_MSG(expr, fmt, ...)                                                                 \
	do {                                                                                       \
		if (unlikely(!(expr)))                                                             \
			panic("assertion \"%s\" failed at %s:%d: " fmt, #expr, __FILE__, __LINE__, \
			      ##__VA_ARGS__);                                                      \
	} while (0)

#ifdef KARST_DEBUG
#define KASSERT(expr)		    VERIFY(expr)
#define KASSERT_MSG(expr, fmt, ...) VERIFY_MSG(expr, fmt, ##__VA_ARGS__)
#else
#define KASSERT(expr)		    ((void)0)
#define KASSERT_MSG(expr, fmt, ...) ((void)0)
#endif

#endif
