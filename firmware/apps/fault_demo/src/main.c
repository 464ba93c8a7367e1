/*
 * fault_demo: a user-mode thread writes a kernel-only variable. With the
 * MPU/MMU enforcing, Zephyr's default fatal handler reports the fault and
 * halts the system; the harness must call that a CRASH and name the fault.
 */
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

static volatile uint32_t kernel_only = 0x600DF00D;

#define STACK_SIZE 1024
K_THREAD_STACK_DEFINE(user_stack, STACK_SIZE);
static struct k_thread user_thread;

static void user_entry(void *p1, void *p2, void *p3)
{
	printk("fault_demo: user thread writing kernel memory at %p\n", (void *)&kernel_only);
	kernel_only = 0xBAD;
	printk("fault_demo: the write went through: memory protection is NOT enforced\n");
}

int main(void)
{
	printk("fault_demo: start\n");
	k_thread_create(&user_thread, user_stack, STACK_SIZE, user_entry, NULL, NULL, NULL,
			K_PRIO_PREEMPT(1), K_USER, K_NO_WAIT);
	k_thread_name_set(&user_thread, "fault_demo");
	k_thread_join(&user_thread, K_FOREVER);
	printk("fault_demo: done\n");
	return 0;
}
