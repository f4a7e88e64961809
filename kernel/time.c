/*
 * time_ns(): the kernel's monotonic clock is the arch boot clock.
 */
#include <karst/arch.h>
#include <karst/time.h>

uint64_t time_ns(void)
{
	return arch_time_ns();
}
