*** Settings ***
Documentation     Negative control: a firmware whose user thread writes kernel memory
...               must fail the expected way (a crash naming the protection fault).
Library           harness.robot.Emulation    out=${HARNESS_OUT}
Suite Teardown    Stop All Emulations
Test Teardown     Stop Emulation

*** Variables ***
${HARNESS_OUT}    harness-out

*** Test Cases ***
Waiting On A Crashing Firmware Fails With The Fault
    Start Emulation    mps2_an385    qemu    app=fault_demo
    Wait For Line On Uart    fault_demo: start    timeout=20
    Run Keyword And Expect Error    *firmware crashed*mpu data access violation*
    ...    Wait For Line On Uart    fault_demo: done    timeout=20

A Full Run Of The Crashing Firmware Is A Crash
    ${verdict}=    Run Firmware    fault_demo    qemu_x86    qemu    isolation=${False}
    Should Be Equal    ${verdict}    CRASH
