#!/usr/bin/env python3
"""The flash command of a stand-in board (standin_board.py), as a hardware map's
flash_command gives it:

    standin_flash.py CONTROL_SOCKET ELF [--mute | --fail | --hang]

It (re)starts the stand-in's QEMU with ELF and exits 0 once the new image runs, as a
west runner exits after it reset the board. --mute: the board's UART stays silent;
--fail: exits 1 like a probe that lost the target; --hang: never returns.
"""
import socket
import sys
import time


def main():
    control, elf, *mode = sys.argv[1:]
    print(f"standin_flash: {elf} -> {control} {' '.join(mode)}", flush=True)
    if "--fail" in mode:
        print("Error: no target connected (the probe reports: target not responding)",
              flush=True)
        return 1
    if "--hang" in mode:
        while True:
            time.sleep(1)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(control)
        s.sendall(f"{'flash-mute' if '--mute' in mode else 'flash'} {elf}\n".encode())
        answer = s.makefile().readline().strip()
    print(f"standin_flash: {answer}", flush=True)
    return 0 if answer == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
