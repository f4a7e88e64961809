/*
 * Shell commands of the scheduler: threads (every thread with its state,
 * priority and CPU time) and cpu (how the CPU's time was spent).
 */
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/shell.h>
#include <karst/time.h>

static void print_thread(const struct thread *t, void *arg)
{
	uint64_t us = thread_cpu_ns(t) / 1000;
	printk("%4lu %-24s %-9s %4d %10lu.%03lu %10lu\n", (unsigned long)t->id, t->name,
	       thread_state_name(t->state), t->prio, (unsigned long)(us / 1000),
	       (unsigned long)(us % 1000), (unsigned long)t->switches);
}

static int cmd_threads(int argc, char **argv)
{
	printk("%4s %-24s %-9s %4s %14s %10s\n", "id", "name", "state", "prio", "cpu ms",
	       "switches");
	sched_for_each_thread(print_thread, NULL);
	printk("%d threads\n", sched_thread_count());
	return 0;
}
SHELL_CMD("threads", cmd_threads, "list threads, their state and CPU time");

static int cmd_cpu(int argc, char **argv)
{
	uint64_t up = time_ns(), idle = sched_idle_ns();
	printk("up %lu ms, idle (halted) %lu ms = %lu.%lu%%, context switches %lu\n",
	       (unsigned long)(up / NSEC_PER_MSEC), (unsigned long)(idle / NSEC_PER_MSEC),
	       (unsigned long)(idle * 100 / up), (unsigned long)(idle * 1000 / up % 10),
	       (unsigned long)sched_context_switches());
	return 0;
}
SHELL_CMD("cpu", cmd_cpu, "time the CPU spent busy and halted");
