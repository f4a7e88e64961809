/*
 * The host has no direct map: a "physical" address is the host address
 * (page tables, page-cache frames). A file of its own, so that a program
 * defining its own (the page-table suites) does not pull this one in.
 */
#include <karst/arch.h>

void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}
