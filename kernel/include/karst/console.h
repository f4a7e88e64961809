/*
 * Console plumbing behind printk (kernel only).
 */
#ifndef KARST_CONSOLE_H
#define KARST_CONSOLE_H

#include <karst/compiler.h>
#include <stddef.h>

/* Write a string to the console without taking the printk lock (panic). */
void printk_emergency(const char *s);
/* Format and write without the lock. */
__printf(1, 2) void printk_unlocked(const char *fmt, ...);
/* Copy the newest `size` bytes of console output; returns bytes copied. */
size_t printk_ring_copy(char *out, size_t size);

/* Console input (console_input.c): set up the receive interrupt, and read
 * one character, sleeping until there is one. Thread context only. */
void console_input_init(void);
int console_getc(void);

#endif
