"""Fault dumps in the exact formats Zephyr 3.0 prints (arch/*/core/fatal.c, kernel/fatal.c)."""
from harness.judging.triage import FaultDump, is_fatal, parse_dump

ARM_MPU = """\
E: ***** MPU FAULT *****
E:   Data Access Violation
E:   MMFAR Address: 0x20001000
E: r0/a1:  0x20001000  r1/a2:  0x00000001  r2/a3:  0x00000000
E: r3/a4:  0x00000000 r12/ip:  0x00000000 r14/lr:  0x00000a11
E:  xpsr:  0x61000000
E: Faulting instruction address (r15/pc): 0x00000a2c
E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0
E: Current thread: 0x20000ef0 (unknown)""".splitlines()

X86_PF = """\
E: Page fault at address 0x116000 (error code 0x6)
E: Access violation: user thread not allowed to write
E: EAX: 0x00000000, EBX: 0x00000000, ECX: 0x00000000, EDX: 0x00000000
E: ESI: 0x00000000, EDI: 0x00000000, EBP: 0x00117ef0, ESP: 0x00117ee0
E: EFLAGS: 0x00000202 CS: 0x002b CR3: 0x00120000
E: call trace:
E: EIP: 0x00101234
E:      0x00101500 (0x0)
E:      0x00101600 (0x0)
E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0
E: Current thread: 0x00118000 (writer)
E: Halting system""".splitlines()


def dump(lines):
    d = FaultDump()
    for i, text in enumerate(["I: unrelated"] + lines, 1):
        d.feed(text, i)
    return d


def test_arm_mpu_data_access_violation():
    d = dump(ARM_MPU)
    assert d.started and d.complete
    s = d.summary()
    assert (s["reason_code"], s["reason"], s["kind"]) == (0, "CPU exception",
                                                          "mpu_data_access_violation")
    assert (s["address"], s["pc"], s["thread"]) == ("0x20001000", "0x00000a2c", "0x20000ef0")
    assert s["trace"][0] == "0x00000a2c"


def test_x86_page_fault_write_with_call_trace():
    s = dump(X86_PF).summary()
    assert s["kind"] == "page_fault_write" and s["user"] is True
    assert s["address"] == "0x116000"
    assert s["trace"] == ["0x00101234", "0x00101500", "0x00101600"]
    assert s["thread_name"] == "writer"


def test_x86_page_fault_read_and_exec_bits():
    assert parse_dump(["E: Page fault at address 0x1 (error code 0x4)"])["kind"] == "page_fault_read"
    assert parse_dump(["E: Page fault at address 0x1 (error code 0x15)"])["kind"] == \
        "page_fault_execute"


def test_reason_codes_name_stack_overflow_oops_and_panic():
    assert parse_dump([">>> ZEPHYR FATAL ERROR 2: Stack overflow on CPU 0"])["kind"] == \
        "stack_overflow"
    assert parse_dump([">>> ZEPHYR FATAL ERROR 3: Kernel oops on CPU 0"])["kind"] == "kernel_oops"
    assert parse_dump([">>> ZEPHYR FATAL ERROR 4: Kernel panic on CPU 0"])["kind"] == "kernel_panic"


def test_assertion():
    s = parse_dump(["ASSERTION FAIL [x != 0] @ WEST_TOPDIR/zephyr/kernel/sem.c:42"])
    assert s["kind"] == "assertion" and s["assertion"]["condition"] == "x != 0"


def test_ordinary_lines_are_not_fatal():
    assert not is_fatal("I: processing payload #1 complete")
    assert not is_fatal("I: SUCCESS")
    assert not dump([]).started


def test_x86_stack_guard_page_fault_is_a_stack_overflow():
    s = parse_dump(["E: Page fault at address 0x126fc0 (error code 0x6)",
                    "E: >>> ZEPHYR FATAL ERROR 2: Stack overflow on CPU 0"])
    assert s["kind"] == "stack_overflow" and s["access_kind"] == "page_fault_write"
