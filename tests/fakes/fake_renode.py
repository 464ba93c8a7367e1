#!/usr/bin/env python3
"""A fake `renode --disable-xwt --plain --port N`: a telnet-ish monitor that
negotiates options like Renode, echoes commands, answers with a prompt, and a
server socket terminal that streams a scenario once `start` is given.

`sysbus LoadELF @FILE` takes a JSON scenario instead of an ELF:
  {"log": "...", "then": "hang" | "exit" | "freeze", "bad_command": "connector",
   "ignore_quit": false, "port_taken": false}
"freeze" stops virtual time (ElapsedVirtualTime no longer advances).
"""
import json
import os
import re
import socket
import sys
import threading
import time

IAC, WILL, DO = 255, 251, 253


def main():
    port = int(sys.argv[sys.argv.index("--port") + 1])
    server = socket.create_server(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.sendall(bytes([IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 34]))     # echo, SGA, linemode
    conn.sendall(b"Renode, version 1.14.0.0 (fake)\n\r\n\r(monitor) ")
    state = {"prompt": "monitor", "scenario": {}, "uart": None, "vtime": 0.0,
             "started": threading.Event()}
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return 0
        buf += bytes(b for b in data if b < 128)      # drop telnet replies
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            command = line.decode().strip()
            reply = handle(command, state)
            if reply is None:
                return 0
            conn.sendall(f"{command}\n\r{reply}(\x1b[0m{state['prompt']}) ".encode())
            if command == "start":
                state["started"].set()          # the CPU runs once `start` has answered


def handle(command: str, state: dict):
    scenario = state["scenario"]
    if command == "quit":
        if scenario.get("ignore_quit"):
            return ""
        os._exit(0)
    if command.startswith("mach create"):
        state["prompt"] = re.search(r'"(.*)"', command).group(1)
        return ""
    if command.startswith("machine LoadPlatformDescription"):
        path = command.split("@", 1)[1]
        return "" if os.path.isfile(path) else f"Could not find file '{path}'\n\r"
    if command.startswith("sysbus LoadELF"):
        state["scenario"] = json.load(open(command.split("@", 1)[1]))
        return ""
    if command.startswith("emulation CreateServerSocketTerminal"):
        port = int(command.split()[2])
        if scenario.get("port_taken"):
            return ("There was an error executing command '" + command + "'\n\r"
                    "Address already in use\n\r")
        srv = socket.create_server(("127.0.0.1", port))
        threading.Thread(target=accept_uart, args=(srv, state), daemon=True).start()
        return ""
    if scenario.get("bad_command") and command.startswith(scenario["bad_command"]):
        return "There was an error executing command 'connector Connect sysbus.uart9 term'\n\r"
    if command == "start":
        threading.Thread(target=play, args=(state,), daemon=True).start()
        return "Starting emulation...\n\r"
    if command == "machine ElapsedVirtualTime":
        v = state["vtime"]
        return (f"[Domain = Elapsed Virtual Time: 00:00:{v:09.6f}\n\rElapsed Host Time: x\n\r"
                "Quantum: 00:00:00.000100]\n\r")
    return ""


def accept_uart(server, state):
    state["uart"], _ = server.accept()


def play(state):
    scenario = state["scenario"]
    state["started"].wait()
    while state["uart"] is None:
        time.sleep(0.01)
    for ch in scenario.get("log", "").encode():
        state["uart"].sendall(bytes([ch]))            # Renode sends byte by byte
        state["vtime"] += 0.0001
    if scenario.get("then") == "exit":
        os._exit(3)
    while True:
        if scenario.get("then") != "freeze":
            state["vtime"] += 0.01
        time.sleep(0.01)


if __name__ == "__main__":
    sys.exit(main())
