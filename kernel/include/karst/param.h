/*
 * Machine-independent constants.
 */
#ifndef KARST_PARAM_H
#define KARST_PARAM_H

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (PAGE_SIZE - 1)

#define KARST_PATH_MAX 1024
#define KARST_NAME_MAX 255

#endif
