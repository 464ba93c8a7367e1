*** Settings ***
Documentation     The board's MPU/MMU really enforces Zephyr memory domains: every
...               forbidden access of the probe faults on its target address.
Library           harness.robot.Emulation    out=${HARNESS_OUT}
Suite Teardown    Stop All Emulations
Test Template     Isolation Should Be Enforced

*** Variables ***
${HARNESS_OUT}    harness-out

*** Test Cases ***        BOARD                  EMULATOR
mps2_an385 on QEMU        mps2_an385             qemu
qemu_x86 on QEMU          qemu_x86               qemu
