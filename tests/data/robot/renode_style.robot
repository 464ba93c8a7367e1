*** Comments ***
A suite as Renode's users write them for renode-test: the machine made with Execute
Command, a terminal tester on its UART, Provides/Requires between tests. It takes the
ELF in ${ELF} (renode-test --variable ELF:@path, or `harness robot --app`) and the
board's Renode description in ${RESC} and ${UART}.

*** Settings ***
Suite Setup                   Setup
Suite Teardown                Teardown
Test Setup                    Reset Emulation
Test Teardown                 Test Teardown
Resource                      ${RENODEKEYWORDS}

*** Keywords ***
Create Machine
    Execute Command           $elf = ${ELF}
    Execute Command           include ${RESC}
    Create Terminal Tester    ${UART}    defaultPauseEmulation=True

*** Test Cases ***
Should Boot To The Shell
    Create Machine
    Start Emulation
    Wait For Prompt On Uart   uart:~$
    Provides                  shell-ready

Should Answer After Boot
    Requires                  shell-ready
    Write Line To Uart        demo ping
    Wait For Line On Uart     pong
