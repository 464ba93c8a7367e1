"""Renode scripts (.resc): a board file's own, or the one a Zephyr board ships.

Zephyr boards that Renode models ship a script (`boards/<arch>/<board>/support/
<board>.resc`, named by `RENODE_SCRIPT` in the board's board.cmake) which Zephyr's
`west build -t run` starts as `$bin=@zephyr.elf; include @script; s`. The harness
does the same through the monitor, with two changes: the script's
`showAnalyzer UART` lines (a window, or Renode's own console) are left out and
the UART they name goes to the harness's file backend instead; `$ORIGIN` (the
script's directory) is spelled out, since Renode is given a copy.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.build.west_build import cmake_cache
from harness.errors import UsageError

SHOW_ANALYZER = re.compile(r"^\s*showAnalyzer\s+([\w.]+)\s*(?:#.*)?$")
RENODE_SCRIPT = re.compile(r"set\s*\(\s*RENODE_SCRIPT\s+(\S+?)\s*\)")


@dataclass(frozen=True)
class Script:
    path: Path             # the script as given (reports, certificate keys)
    text: str              # what the harness includes: without showAnalyzer lines
    uart: str | None       # the UART its first showAnalyzer named (sysbus.uart0), if any


def zephyr_script(build_dir: Path) -> Path:
    """The Renode script of the Zephyr board a build directory was configured for."""
    board_dir = cmake_cache(build_dir).get("BOARD_DIR")
    if not board_dir:
        raise UsageError(f"{build_dir} has no BOARD_DIR in its CMakeCache.txt",
                         "`script: zephyr` needs a configured Zephyr build of the board")
    board_dir = Path(board_dir)
    named = _named_in_board_cmake(board_dir)
    found = [named] if named else sorted(board_dir.glob("support/*.resc"))
    if not found or not found[0].is_file():
        raise UsageError(f"Zephyr board {board_dir.name} ships no Renode script "
                         f"(no RENODE_SCRIPT in {board_dir / 'board.cmake'}, no support/*.resc)",
                         "give the board file a Renode `platform:` and `uart:`, or a "
                         "`script:` path of your own")
    return found[0]


def _named_in_board_cmake(board_dir: Path) -> Path | None:
    try:
        text = (board_dir / "board.cmake").read_text(errors="replace")
    except OSError:
        return None
    m = RENODE_SCRIPT.search(text)
    if not m:
        return None
    return Path(m.group(1).replace("${CMAKE_CURRENT_LIST_DIR}", str(board_dir)).strip('"'))


def load(path: Path) -> Script:
    """The script at `path`, ready to include headless."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read the Renode script {path}: {exc.strerror}") from None
    kept, uart = [], None
    for line in lines:
        m = SHOW_ANALYZER.match(line)
        if m:
            uart = uart or m.group(1)
            kept.append(f"# (harness) {line.strip()}: the UART goes to the harness")
        else:       # $ORIGIN is the script's own directory, wherever the copy goes
            kept.append(line.replace("$ORIGIN", f"@{path.parent.resolve()}"))
    if uart and not uart.startswith("sysbus."):
        uart = f"sysbus.{uart}"
    return Script(path, "\n".join(kept) + "\n", uart)
