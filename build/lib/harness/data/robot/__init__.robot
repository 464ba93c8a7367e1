*** Settings ***
Documentation     Firmware harness suites: prod_consumer, the isolation proof and a
...               negative control, on each supported board and emulator.
...               Run: robot --xunit xunit.xml robot/   (artifacts: harness-out/)
