#!/usr/bin/env python3
"""A fake `renode --disable-xwt --plain --port N`: a telnet-ish monitor that
negotiates options like Renode, echoes commands, answers with a prompt, and a
server socket terminal that streams a scenario once `start` is given.

`sysbus LoadELF @FILE` takes a JSON scenario instead of an ELF:
  {"log": "path or inline text", "then": "hang" | "exit" | "freeze", "bad_command": "connector",
   "ignore_quit": false, "port_taken": false, "clear_hangs": false, "leak_mib": 0}
"freeze" stops virtual time (ElapsedVirtualTime no longer advances). "leak_mib" keeps
that much more memory for good at each load, as Renode grows from run to run.
`Clear` starts a fresh emulation as Renode does (machines, terminals, virtual
time); with "clear_hangs" it never answers. A real ELF takes its scenario from
$FAKE_RENODE_SCENARIO ($FAKE_RENODE_PROBE for the isolation probe). Renode's output (stdout) names
each loaded file and each Clear, so logs can be told apart per run.
"""
import json
import os
import re
import socket
import sys
import threading
import time

IAC, WILL, DO = 255, 251, 253
LEAKED = []          # what "leak_mib" holds on to


def load_scenario(path):
    """A JSON scenario, or for a real ELF (a fake board of the tests) $FAKE_RENODE_SCENARIO
    ($FAKE_RENODE_PROBE for the isolation probe's ELF)."""
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return json.load(open(path))
    name = "FAKE_RENODE_PROBE" if "isolation_probe" in path else "FAKE_RENODE_SCENARIO"
    return json.load(open(os.environ[name]))


def main():
    if "--version" in sys.argv:
        print("Renode v1.15.3.0 (fake)")
        return
    port = int(sys.argv[sys.argv.index("--port") + 1])
    if "--robot-server-port" in sys.argv:      # accepts connections; serves no keyword
        robot = socket.create_server(("127.0.0.1", int(sys.argv[sys.argv.index(
            "--robot-server-port") + 1])))
        print(f"[INFO] robot server listening on port {robot.getsockname()[1]}", flush=True)
    server = socket.create_server(("127.0.0.1", port))
    conn, _ = server.accept()
    conn.sendall(bytes([IAC, WILL, 1, IAC, WILL, 3, IAC, DO, 34]))     # echo, SGA, linemode
    conn.sendall(b"Renode, version 1.14.0.0 (fake)\n\r\n\r(monitor) ")
    emulation = {"now": fresh_emulation()}
    buf = b""
    while True:
        data = conn.recv(4096)
        if not data:
            return 0
        buf += re.sub(rb"\xff[\xfb-\xfe].", b"", data)  # drop telnet replies (IAC WONT x...)
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            command = line.decode().strip()
            if command == "Clear":
                clear(emulation)
                reply = ""
            else:
                reply = handle(command, emulation["now"])
            state = emulation["now"]
            conn.sendall(f"{command}\n\r{reply}(\x1b[0m{state['prompt']}) ".encode())
            if command == "start":
                state["started"].set()          # the CPU runs once `start` has answered


def fresh_emulation() -> dict:
    return {"prompt": "monitor", "scenario": {}, "uart": None, "vtime": 0.0,
            "started": threading.Event(), "servers": [], "cleared": False}


def clear(emulation: dict) -> None:
    old = emulation["now"]
    if old["scenario"].get("clear_hangs"):
        time.sleep(3600)
    old["cleared"] = True                              # its threads stop
    for sock in old["servers"] + [old["uart"]]:
        if sock:
            sock.close()
    emulation["now"] = fresh_emulation()
    print("[INFO] emulation cleared", flush=True)


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
    if command.startswith("$bin=@"):
        state["bin"] = command.split("@", 1)[1]
        return ""
    if command.startswith("include @"):
        return include(command.split("@", 1)[1], state)
    if command.startswith("sysbus LoadELF"):
        path = command.split("@", 1)[1]
        state["scenario"] = load_scenario(path)
        LEAKED.append(b"\x01" * (state["scenario"].get("leak_mib", 0) << 20))   # resident
        print(f"[INFO] sysbus: Loading {path}", flush=True)
        return ""
    if command.startswith("emulation CreateServerSocketTerminal"):
        port = int(command.split()[2])
        if scenario.get("port_taken"):
            return ("There was an error executing command '" + command + "'\n\r"
                    "Address already in use\n\r")
        srv = socket.create_server(("127.0.0.1", port))
        state["servers"].append(srv)
        threading.Thread(target=accept_uart, args=(srv, state), daemon=True).start()
        return ""
    if " CreateFileBackend @" in command:
        path = command.split("@", 1)[1].rsplit(" ", 1)[0]
        if os.path.exists(path):
            return f"There was an error executing command '{command}'\n\rFile exists\n\r"
        state["uart"] = FileUart(path)
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


def include(path: str, state: dict) -> str:
    """Just enough of a .resc: mach create, platform files that must exist, a macro that
    loads $bin; showAnalyzer fails as a headless Renode with no window would."""
    if not os.path.isfile(path):
        return f"Could not find file '{path}'\n\r"
    text = open(path).read()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("showAnalyzer"):
            return f"There was an error executing command '{line}'\n\rno window (headless)\n\r"
        m = re.match(r"mach create \$?(\S+)", line)
        if m:
            state["prompt"] = m.group(1).strip('"')
        m = re.match(r"machine LoadPlatformDescription @(\S+)", line)
        if m and not os.path.isfile(m.group(1)):
            return f"Could not find file '{m.group(1)}'\n\r"
    if "LoadELF $bin" in text:
        state["scenario"] = load_scenario(state["bin"])
        print(f"[INFO] sysbus: Loading {state['bin']}", flush=True)
    return ""


class FileUart:
    """Renode's UART file backend with immediate flush: bytes appended one by one."""

    def __init__(self, path):
        self.file = open(path, "xb")

    def sendall(self, data):
        self.file.write(data)
        self.file.flush()

    def close(self):
        self.file.close()


def accept_uart(server, state):
    try:
        state["uart"], _ = server.accept()
    except OSError:                                    # closed by Clear
        pass


def play(state):
    scenario = state["scenario"]
    state["started"].wait()
    while state["uart"] is None and not state["cleared"]:
        time.sleep(0.01)
    try:
        text = scenario.get("log", "")                  # a path or inline text
        for ch in open(text, "rb").read() if os.path.isfile(text) else text.encode():
            state["uart"].sendall(bytes([ch]))        # Renode sends byte by byte
            state["vtime"] += 0.0001
    except (OSError, AttributeError):
        return                                          # cleared mid-run
    if scenario.get("then") == "exit":
        os._exit(3)
    while not state["cleared"]:
        if scenario.get("then") != "freeze":
            state["vtime"] += 0.01
        time.sleep(0.01)


if __name__ == "__main__":
    sys.exit(main())
