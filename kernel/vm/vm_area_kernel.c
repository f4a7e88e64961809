/*
 * The kernel's address space for vm_mmap (<karst/vm.h>): VM_AREA_BASE ..
 * + VM_AREA_SIZE in the runtime region's tree, frames from the page
 * allocator, and the architecture fault handlers' slow path.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/init.h>
#include <karst/kmem_kernel.h>
#include <karst/sched.h>
#include <karst/thread.h>
#include <karst/vm.h>

static struct vm_space vm_kspace;
static bool vm_kspace_ready;

static uint64_t vm_frame_alloc(void *arg)
{
	(void)arg;
	void *p = page_alloc(0);
	return p ? virt_to_phys(p) : 0;
}

static void vm_frame_free(uint64_t pa, void *arg)
{
	(void)arg;
	page_free(phys_to_virt(pa), 0);
}

static const struct vm_frame_ops vm_kframes = {.alloc = vm_frame_alloc, .free = vm_frame_free};

static int vm_area_kernel_init(void)
{
	int e = vm_space_init(&vm_kspace, vm_kernel_pgtable(), VM_AREA_BASE, VM_AREA_SIZE,
			      &vm_kframes, MMU_GLOBAL);
	if (e == 0)
		__atomic_store_n(&vm_kspace_ready, true, __ATOMIC_RELEASE);
	return e;
}
KARST_INIT(INIT_CORE, vm_area_kernel_init);

struct vm_space *vm_kernel_space(void)
{
	return __atomic_load_n(&vm_kspace_ready, __ATOMIC_ACQUIRE) ? &vm_kspace : NULL;
}

int vm_kernel_fault_trap(uintptr_t va, unsigned access, bool irqs_were_on)
{
	if (!__atomic_load_n(&vm_kspace_ready, __ATOMIC_ACQUIRE) || va < VM_AREA_BASE ||
	    va - VM_AREA_BASE >= VM_AREA_SIZE)
		return -ERANGE;
	if (!irqs_were_on || in_interrupt())
		return -EAGAIN;
	arch_irq_enable();
	int rc = vm_fault(&vm_kspace, va, access);
	(void)arch_irq_save();
	return rc;
}

const char *vm_fault_reason(int rc)
{
	switch (rc) {
	case -EFAULT:
		return "nothing mapped there (unmapped, or past the end of the object)";
	case -EACCES:
		return "protection violation: the mapping does not allow this access";
	case -ENOMEM:
		return "out of memory resolving the fault";
	case -EIO:
		return "I/O error: the file's filesystem could not read the page";
	case -EAGAIN:
		return "fault on mapped memory where sleeping is not allowed";
	default:
		return "the pager failed";
	}
}
