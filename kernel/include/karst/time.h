/*
 * Time: part of the kernel-service interface.
 *
 * time_ns() is a monotonic clock in nanoseconds since boot (host: since an
 * arbitrary point); it may be called from any context.
 */
#ifndef KARST_TIME_H
#define KARST_TIME_H

#include <stdint.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC  1000000000ULL

uint64_t time_ns(void);

#endif
