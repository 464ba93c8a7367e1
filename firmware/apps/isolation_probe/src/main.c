/*
 * isolation_probe: does the board's MPU/MMU really enforce memory domains?
 *
 * The supervisor (main) runs a list of cases. Each case is a fresh K_USER
 * thread in memory domain dom_a that performs ONE access. Controls must
 * survive; forbidden accesses must be stopped by the hardware (the fault
 * is caught in k_sys_fatal_error_handler, which lets Zephyr abort the
 * thread). After each case main checks that no sentinel was modified.
 * UART protocol: see README.rst.
 *
 * SPDX-License-Identifier: Apache-2.0
 */

#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>
#include <zephyr/logging/log.h>
#include <zephyr/logging/log_ctrl.h>
#include <zephyr/app_memory/app_memdomain.h>
/* The generated version header moved under zephyr/ with the include prefix. */
#if __has_include(<zephyr/version.h>)
#include <zephyr/version.h>
#else
#include <version.h>
#endif

/* The exception stack frame type: z_arch_esf_t until Zephyr 3.7 made it
 * struct arch_esf (the old name was removed in 4.x). */
#if KERNEL_VERSION_NUMBER >= 0x030700
typedef struct arch_esf probe_esf_t;
#else
typedef z_arch_esf_t probe_esf_t;
#endif

LOG_MODULE_REGISTER(isolation_probe);

#define SENTINEL_A 0xA5A5A5A5u
#define SENTINEL_B 0xB0B0B0B0u
#define SENTINEL_K 0xC0FFEE00u
#define POISON     0xDEADBEEFu /* what forbidden writes try to store */

/* A word that is a valid "return" instruction if it were executed:
 * Thumb "bx lr" (0x4770) twice, or IA-32 "ret" (0xc3) four times.
 * If the hardware does not enforce execute-never, exec_data returns
 * harmlessly and reports SURVIVED.
 */
#if defined(CONFIG_ARM)
#define RET_WORD   0x47704770u
#define THUMB_BIT  1u /* branch targets need bit 0 set, else UsageFault */
#else
#define RET_WORD   0xC3C3C3C3u
#define THUMB_BIT  0u
#endif

#define PROBE_STACK_SIZE 1024
#define PROBE_PRIO       K_PRIO_PREEMPT(1) /* below main: main joins first */
#define JOIN_TIMEOUT     K_MSEC(2000)

K_APPMEM_PARTITION_DEFINE(part_a);
K_APPMEM_PARTITION_DEFINE(part_b);

K_APP_DMEM(part_a) volatile uint32_t probe_a_value = SENTINEL_A;
K_APP_DMEM(part_a) volatile uint32_t probe_code_word = RET_WORD;
K_APP_DMEM(part_b) volatile uint32_t probe_b_value = SENTINEL_B;
/* Lowest address of the probe thread's stack, set by main (do_stack). */
K_APP_BMEM(part_a) uintptr_t probe_stack_lo;
/* Kernel-only: a plain global in no partition. */
volatile uint32_t probe_kernel_value = SENTINEL_K;

static struct k_mem_domain dom_a;
static struct k_mem_domain dom_b;

K_SEM_DEFINE(probe_sem, 0, 1); /* granted to the probe thread (syscall) */

struct k_thread probe_thread;
K_THREAD_STACK_DEFINE(probe_stack, PROBE_STACK_SIZE);

/* ---- the accesses, executed in user mode ------------------------------ */

typedef uint32_t (*probe_fn_t)(volatile uint32_t *target);

static uint32_t do_read(volatile uint32_t *t)
{
	return *t; /* exactly one load */
}

static uint32_t do_write(volatile uint32_t *t)
{
	*t = POISON; /* exactly one store */
	return POISON;
}

/* Control: write our own partition, check, and restore the sentinel. */
static uint32_t do_own_write(volatile uint32_t *t)
{
	uint32_t old = *t;

	*t = POISON;
	uint32_t seen = *t;

	*t = old;
	return seen;
}

static uint32_t do_exec(volatile uint32_t *t)
{
	void (*fn)(void) = (void (*)(void))((uintptr_t)t | THUMB_BIT);

	fn(); /* instruction fetch from a data partition */
	return *t;
}

/* Control: real system calls on a semaphore we were granted. */
static uint32_t do_syscall(volatile uint32_t *t)
{
	ARG_UNUSED(t);
	k_sem_give(&probe_sem);
	return k_sem_count_get(&probe_sem); /* 1 if both calls worked */
}

/* Every frame holds a volatile array that is written before and read after
 * the recursive call, so the calls can be neither inlined, merged nor
 * turned into a loop. Recursion stops by itself only once a frame lies
 * 256 bytes below the stack's lowest address, i.e. when no guard stopped
 * it (frame sizes differ between compilers, so the bound is an address).
 */
static __attribute__((noinline)) uint32_t recurse(uintptr_t limit)
{
	volatile uint32_t pad[16];

	pad[0] = (uint32_t)(uintptr_t)&pad[0];
	if ((uintptr_t)&pad[0] < limit) {
		return pad[0];
	}
	uint32_t lowest = recurse(limit);

	return (pad[0] < lowest) ? pad[0] : lowest; /* lowest frame reached */
}

static uint32_t do_stack(volatile uint32_t *t)
{
	ARG_UNUSED(t);
	return recurse(probe_stack_lo - 256U);
}

/* ---- the case list ---------------------------------------------------- */

struct probe_case {
	const char *name;
	const char *kind;   /* control | forbidden */
	const char *access; /* read | write | exec | syscall | stack */
	volatile uint32_t *target;
	probe_fn_t fn;
};

static const struct probe_case cases[] = {
	/* Positive controls first: if they fail, the run proves nothing. */
	{ "own_read", "control", "read", &probe_a_value, do_read },
	{ "own_write", "control", "write", &probe_a_value, do_own_write },
	{ "syscall", "control", "syscall", NULL, do_syscall },
	{ "other_read", "forbidden", "read", &probe_b_value, do_read },
	{ "other_write", "forbidden", "write", &probe_b_value, do_write },
	{ "kernel_read", "forbidden", "read", &probe_kernel_value, do_read },
	{ "kernel_write", "forbidden", "write", &probe_kernel_value, do_write },
	{ "exec_data", "forbidden", "exec", &probe_code_word, do_exec },
	{ "stack_overflow", "forbidden", "stack", NULL, do_stack },
};

/* Case in progress, and the fatal reason seen for it (-1: none). */
static const struct probe_case *volatile active_case;
static volatile int fatal_reason = -1;

/* User-mode entry of every probe thread. */
static void probe_entry(void *p1, void *p2, void *p3)
{
	const struct probe_case *c = p1;
	uint32_t value = c->fn(c->target);

	printk("PROBE:SURVIVED name=%s value=0x%08x\n", c->name, value);
}

/* Returning from here makes Zephyr abort the faulting thread and carry on.
 * Anything that is not a fault of the current probe thread halts the
 * system, as the default handler does.
 */
void k_sys_fatal_error_handler(unsigned int reason, const probe_esf_t *esf)
{
	const struct probe_case *c = active_case;

	ARG_UNUSED(esf);
	if (reason != K_ERR_KERNEL_PANIC && c != NULL &&
	    k_current_get() == &probe_thread) {
		fatal_reason = (int)reason;
		printk("PROBE:FATAL name=%s reason=%u\n", c->name, reason);
		return;
	}
	LOG_PANIC();
	LOG_ERR("Halting system");
	k_fatal_halt(reason);
}

static bool sentinels_intact(void)
{
	return probe_a_value == SENTINEL_A && probe_b_value == SENTINEL_B &&
	       probe_kernel_value == SENTINEL_K;
}

/* After a broken case, so that the next case's intact= is its own. */
static void sentinels_restore(void)
{
	probe_a_value = SENTINEL_A;
	probe_b_value = SENTINEL_B;
	probe_kernel_value = SENTINEL_K;
	probe_code_word = RET_WORD;
}

static void run_case(const struct probe_case *c)
{
	k_tid_t tid;

	fatal_reason = -1;
	active_case = c;
	/* K_FOREVER: set up domain and permissions before it runs. */
	tid = k_thread_create(&probe_thread, probe_stack,
			      K_THREAD_STACK_SIZEOF(probe_stack), probe_entry,
			      (void *)c, NULL, NULL, PROBE_PRIO, K_USER,
			      K_FOREVER);
	probe_stack_lo = probe_thread.stack_info.start;
	/* The stack case's target is the stack's lowest address: the overflow
	 * faults just below it.
	 */
	printk("PROBE:CASE name=%s kind=%s access=%s target=0x%08x\n",
	       c->name, c->kind, c->access,
	       c->fn == do_stack ? (uint32_t)probe_stack_lo
				 : (uint32_t)(uintptr_t)c->target);
	k_thread_name_set(tid, c->name);
	k_mem_domain_add_thread(&dom_a, tid);
	k_object_access_grant(&probe_sem, tid);
	k_thread_start(tid);

	if (k_thread_join(tid, JOIN_TIMEOUT) != 0) {
		/* Hung: neither survived nor faulted (reported faulted=0). */
		k_thread_abort(tid);
	}
	active_case = NULL;
	(void)k_sem_take(&probe_sem, K_NO_WAIT); /* reset for next run */

	printk("PROBE:RESULT name=%s faulted=%d reason=%d intact=%d\n",
	       c->name, fatal_reason != -1, fatal_reason,
	       sentinels_intact());
	sentinels_restore();
}

int main(void)
{
	struct k_mem_partition *parts_a[] = { &part_a };
	struct k_mem_partition *parts_b[] = { &part_b };

	k_mem_domain_init(&dom_a, ARRAY_SIZE(parts_a), parts_a);
	k_mem_domain_init(&dom_b, ARRAY_SIZE(parts_b), parts_b);

	printk("PROBE:BEGIN v=1 board=%s cases=%d\n", CONFIG_BOARD,
	       (int)ARRAY_SIZE(cases));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		run_case(&cases[i]);
	}
	printk("PROBE:END cases=%d\n", (int)ARRAY_SIZE(cases));
	return 0;
}
