#!/usr/bin/env python3
"""A fake qemu-system-* speaking QEMU's wire formats: a TCP server chardev for
the UART (waits for the client, like server=on,wait=on) and QMP on TCP.

The "-kernel" argument is a JSON scenario instead of an ELF:
  {"log": "path or inline text", "chunk": 64, "delay": 0.0,
   "then": "hang" | "exit" | "close" | "babble" | "die" | "idle" | "spin" | "shell",
   "rc": 0, "ignore_quit": false, "ignore_sigterm": false, "child": false,
   "bind_fail": false, "bad_args": false}
Nothing is sent before the UART client connects (wait=on), nor, with -S, before QMP `cont`.
A real ELF as "-kernel" (a fake board in a project of the tests) takes its scenario
from the file $FAKE_QEMU_SCENARIO, or $FAKE_QEMU_PROBE for the isolation probe's ELF.
"remove_run_dir": true deletes the run directory (the fake's cwd) before the log.
"shell": a tiny Zephyr-like shell after the log: prompt "uart:~$ " (no line end),
echoes what it reads, and on CR or LF answers `version` and `echo TEXT`; with
"deaf_s" it drops what it reads for that long after its first prompt.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time


def arg(flag):
    return sys.argv[sys.argv.index(flag) + 1]


def load_scenario(kernel):
    with open(kernel, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return json.load(open(kernel))
    name = "FAKE_QEMU_PROBE" if "isolation_probe" in kernel else "FAKE_QEMU_SCENARIO"
    return json.load(open(os.environ[name]))


def main():
    scenario = load_scenario(arg("-kernel"))
    if scenario.get("bad_args"):
        print("qemu-system-arm: -machine mps2-an999: unsupported machine type", file=sys.stderr)
        return 1
    if scenario.get("bind_fail"):
        print("qemu-system-arm: -chardev socket: Failed to bind socket: Address already in use",
              file=sys.stderr)
        return 1
    if scenario.get("ignore_sigterm"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    if scenario.get("child"):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    uart_port = int(re.search(r"port=(\d+)", arg("-chardev")).group(1))
    qmp_port = int(re.search(r"tcp:127.0.0.1:(\d+)", arg("-qmp")).group(1))
    qmp_srv = socket.create_server(("127.0.0.1", qmp_port))
    uart_srv = socket.create_server(("127.0.0.1", uart_port))
    uart, _ = uart_srv.accept()
    running = threading.Event()
    if "-S" not in sys.argv:            # wait=on held the machine until the UART connected
        running.set()
    threading.Thread(target=qmp_loop, args=(qmp_srv, running, scenario), daemon=True).start()
    running.wait()
    if scenario.get("remove_run_dir"):
        # The harness may be writing into it meanwhile (the build log of a boot that
        # overlaps the build check), which fails a single rmtree: until it is gone.
        run_dir, deadline = os.getcwd(), time.monotonic() + 10
        while os.path.exists(run_dir) and time.monotonic() < deadline:
            shutil.rmtree(run_dir, ignore_errors=True)
    text = scenario.get("log", "")
    data = open(text, "rb").read() if os.path.isfile(text) else text.encode("latin-1")
    chunk = scenario.get("chunk", 64)
    for i in range(0, len(data), chunk):
        uart.sendall(data[i:i + chunk])
        time.sleep(scenario.get("delay", 0.0))
    then = scenario.get("then", "hang")
    if then == "exit":
        time.sleep(0.05)
        return scenario.get("rc", 0)
    if then == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    if then == "close":
        uart.close()

    if then == "shell":
        return shell(uart, scenario.get("deaf_s", 0.0))
    if then == "idle":          # a guest halted with nothing armed: QEMU uses no CPU
        time.sleep(3600)
    while True:
        if then == "babble":
            uart.sendall(b"I: still alive, nothing to see\r\n")
        if then == "spin":      # a guest in a busy loop: QEMU uses a whole core
            end = time.monotonic() + 0.01
            while time.monotonic() < end:
                pass
            continue
        time.sleep(0.01)


def shell(uart, deaf_s=0.0):
    prompt = b"\x1b[1;32muart:~$ \x1b[m"
    uart.sendall(prompt)
    deaf_until = time.monotonic() + deaf_s      # Zephyr's shell flushes its input as it starts
    typed = b""
    while True:
        data = uart.recv(1)
        if not data:
            return 0
        if time.monotonic() < deaf_until:
            continue
        if data not in b"\r\n":
            typed += data
            uart.sendall(data)              # the echo
            continue
        command, typed = typed.decode(), b""
        answer = ""
        if command == "version":
            answer = "Zephyr version 4.3.0\r\n"
        elif command.startswith("echo "):
            answer = command[5:] + "\r\n"
        elif command:
            answer = f"{command}: command not found\r\n"
        uart.sendall(b"\r\n" + answer.encode() + prompt)


def qmp_loop(server, running, scenario):
    conn, _ = server.accept()
    f = conn.makefile("rwb")
    f.write(b'{"QMP": {"version": {"qemu": {"major": 7}}, "capabilities": []}}\n')
    f.flush()
    for raw in f:
        cmd = json.loads(raw).get("execute")
        if cmd == "quit" and scenario.get("ignore_quit"):
            continue
        f.write(b'{"return": {}}\n')
        f.flush()
        if cmd == "cont":
            running.set()
        if cmd == "quit":
            os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
