#!/usr/bin/env python3
"""A fake `west` at the process boundary of `west flash`: it records its argv (one JSON
list per line) to $FAKE_WEST_LOG and then, by $FAKE_WEST_MODE:
  ok (default)  flashes BUILD_DIR/zephyr/zephyr.elf onto the stand-in board whose control
                socket is $FAKE_WEST_BOARD (standin_board.py), if set
  fail          exits 1 with a runner's error, as west flash does when the probe is absent
"""
import json
import os
import socket
import sys


def main():
    argv = sys.argv[1:]
    if os.environ.get("FAKE_WEST_LOG"):
        with open(os.environ["FAKE_WEST_LOG"], "a") as f:
            f.write(json.dumps(argv) + "\n")
    if argv[:1] != ["flash"]:
        print(f"fake west: only `west flash` is faked, not {argv[:1]}", file=sys.stderr)
        return 2
    if os.environ.get("FAKE_WEST_MODE") == "fail":
        print("FATAL ERROR: command exited with status 1: nrfjprog --program zephyr.hex",
              file=sys.stderr)
        return 1
    build_dir = argv[argv.index("-d") + 1]
    control = os.environ.get("FAKE_WEST_BOARD")
    if control:
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(control)
            s.sendall(f"flash {build_dir}/zephyr/zephyr.elf\n".encode())
            if s.makefile().readline().strip() != "ok":
                return 1
    print("-- west flash: using runner fake", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
