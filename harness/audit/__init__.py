"""The domain audit: which memory each user thread of the firmware could reach, from the
protection unit's configuration during the run (replayed from QEMU's trace of its MPU
register writes), named from the ELF and held against what the app intends.

collector (replays the trace, a table per thread switch) -> elf_map (names from the
ELF) -> harness.judging.domains (pure: decode, matrix, check) -> run (the verdict).
"""
