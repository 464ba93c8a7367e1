"""The domain audit: which memory each user thread of the firmware could reach, read from
the protection unit's live configuration during the run (through the emulator's GDB
server), named from the ELF and held against what the app intends.

gdb_remote (the wire) -> collector (stops at each switch into a thread, reads the MPU)
-> elf_map (names from the ELF) -> harness.judging.domains (pure: decode, matrix, check).
"""
