*** Settings ***
Documentation     Zephyr's samples/userspace/prod_consumer reaches SUCCESS through
...               the expected payload chain on every board and emulator.
Library           harness.robot.Emulation    out=${HARNESS_OUT}
Suite Teardown    Stop All Emulations
Test Teardown     Stop Emulation
Test Template     Prod Consumer Should Succeed

*** Variables ***
${HARNESS_OUT}    harness-out

*** Test Cases ***        BOARD                  EMULATOR
mps2_an385 on QEMU        mps2_an385             qemu
qemu_x86 on QEMU          qemu_x86               qemu
mps2_an385 on Renode      mps2_an385             renode
stm32f4_disco on Renode   stm32f4_disco          renode
nrf52840dk on Renode      nrf52840dk_nrf52840    renode

*** Keywords ***
Prod Consumer Should Succeed
    [Arguments]    ${board}    ${emulator}
    Require Emulator    ${emulator}    ${board}
    Start Emulation    ${board}    ${emulator}
    Create Terminal Tester    timeout=30
    Register Failing Uart String    ZEPHYR FATAL ERROR
    Wait For Line On Uart    Booting Zephyr OS
    Wait For Line On Uart    monitor thread got data payload #\\d+    treatAsRegex=True
    Wait For Expected Sequence    prod_consumer
