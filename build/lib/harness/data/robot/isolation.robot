*** Settings ***
Documentation     The board's MPU/MMU really enforces Zephyr memory domains: every
...               forbidden access of the probe faults on its target address.
Library           harness.robot.Emulation    out=${HARNESS_OUT}
Suite Teardown    Stop All Emulations
Test Template     Isolation Should Be Proven

*** Variables ***
${HARNESS_OUT}    harness-out

*** Test Cases ***        BOARD                  EMULATOR
mps2_an385 on QEMU        mps2_an385             qemu
qemu_x86 on QEMU          qemu_x86               qemu
mps2_an385 on Renode      mps2_an385             renode
stm32f4_disco on Renode   stm32f4_disco          renode
nrf52840dk on Renode      nrf52840dk_nrf52840    renode

*** Keywords ***
Isolation Should Be Proven
    [Arguments]    ${board}    ${emulator}
    Require Emulator    ${emulator}    ${board}
    Isolation Should Be Enforced    ${board}    ${emulator}
