/* A user thread says hello from its own memory domain. */
#include <zephyr/kernel.h>
#include <zephyr/sys/printk.h>

#define STACK_SIZE 1024

K_THREAD_STACK_DEFINE(user_stack, STACK_SIZE);
static struct k_thread user_thread;

static void user_entry(void *a, void *b, void *c)
{
	printk("hello from user mode: %d\n", k_is_user_context());
}

void main(void)
{
	k_thread_create(&user_thread, user_stack, STACK_SIZE, user_entry, NULL, NULL, NULL,
			-1, K_USER, K_NO_WAIT);
	k_thread_join(&user_thread, K_FOREVER);
	printk("example done\n");
}
