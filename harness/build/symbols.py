"""Resolve code addresses to function and file:line with the toolchain's addr2line."""
from __future__ import annotations

import subprocess
from pathlib import Path


def resolve(elf: Path, addresses: list[str], addr2line: str | None) -> list[dict]:
    tool = addr2line                  # the toolchain's, resolved on the session's PATH
    if not addresses:
        return []
    if not tool:
        return [{"addr": a, "function": "?", "location": "?"} for a in addresses]
    # Thumb return addresses are odd; addr2line wants the instruction address.
    query = [hex(int(a, 16) & ~1) for a in addresses]
    try:
        out = subprocess.run([tool, "-f", "-C", "-e", str(elf), *query], capture_output=True,
                             text=True, timeout=30, stdin=subprocess.DEVNULL).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        out = []
    pairs = [out[i:i + 2] for i in range(0, len(out), 2)]
    result = []
    for addr, pair in zip(addresses, pairs + [["?", "?"]] * (len(addresses) - len(pairs))):
        func, loc = (pair + ["?"])[:2]
        result.append({"addr": addr, "function": func, "location": _short(loc)})
    return result


def _short(location: str) -> str:
    """Drop the workspace prefix and any '(discriminator N)' suffix."""
    location = location.split(" (discriminator")[0]
    for marker in ("/zephyr/", "/firmware/"):
        if marker in location:
            return marker.strip("/") + "/" + location.split(marker, 1)[1]
    return location
