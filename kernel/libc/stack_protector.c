/*
 * Stack-protector support for Debian's static libraries linked into the
 * kernel (they are built with -fstack-protector-strong). Kernel code itself
 * is built without it. On aarch64 the canary is the global below; on x86_64
 * the libraries read it from %fs:0x28, which the boot code points at a
 * per-CPU block holding the same value.
 */
#include <karst/printk.h>
#include <stdint.h>

uintptr_t __stack_chk_guard = 0x5a17c0de5a17c0deULL;

__noreturn void __stack_chk_fail(void)
{
	panic("stack smashing detected in a library function");
}
