/*
 * The kernel's printf formatter, portable so the host tests can compare it
 * with libc's. Kernel code calls ksnprintf()/printk() (<karst/printk.h>).
 */
#ifndef KARST_FORMAT_H
#define KARST_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

int kfmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif
