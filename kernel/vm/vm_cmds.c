/*
 * The `vmstat` shell command: the fault counters of the kernel's address
 * space and what its runtime region and vm_mmap areas hold.
 */
#include <karst/arch.h>
#include <karst/shell.h>
#include <karst/vm.h>

static int cmd_vmstat(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct vm_stats st;
	vm_get_stats(&st);
	shell_printf("accessed/dirty     %s\n",
		     arch_vm_hw_access_flag() ? "set by the CPU" : "set by fault handlers");
	shell_printf("access-flag faults %lu\n", (unsigned long)st.access_faults);
	shell_printf("dirty faults       %lu\n", (unsigned long)st.dirty_faults);
	shell_printf("runtime region     %lu pages mapped at 0x%lx\n",
		     (unsigned long)st.mapped_pages, (unsigned long)VM_KERNEL_BASE);
	struct vm_space *vs = vm_kernel_space();
	if (vs) {
		struct vm_fault_stats fs;
		uint64_t resident;
		vm_space_stats(vs, &fs, &resident);
		shell_printf("mmap areas         %lu pages resident at 0x%lx\n",
			     (unsigned long)resident, (unsigned long)VM_AREA_BASE);
		shell_printf("demand-zero faults %lu\n", (unsigned long)fs.demand_zero);
		shell_printf("file faults        %lu\n", (unsigned long)fs.file);
		shell_printf("copy-on-write      %lu\n", (unsigned long)fs.cow);
		shell_printf("write notify       %lu\n", (unsigned long)fs.write_notify);
		shell_printf("spurious faults    %lu\n", (unsigned long)fs.spurious);
		shell_printf("protection faults  %lu\n", (unsigned long)fs.protection);
		shell_printf("faults, no area    %lu\n", (unsigned long)fs.no_area);
	}
	return 0;
}
SHELL_CMD("vmstat", cmd_vmstat, "vmstat: VM fault counters and the runtime mapping region");
