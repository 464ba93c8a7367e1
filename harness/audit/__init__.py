"""The domain audit: which memory each user thread of the firmware could reach, from the
protection unit's configuration during the run, named from the ELF and held against
what the app intends.

collector (Armv7-M MPU tables per thread switch: QEMU's trace of its MPU register
writes replayed, or a Renode hook on PendSV) | x86_snapshot (qemu_x86: each user
thread's page tables in guest memory saved over QMP) -> elf_map (names from the ELF)
-> harness.judging.domains, harness.judging.pagetables (pure: decode, matrix, check)
-> run (the verdict).
"""
