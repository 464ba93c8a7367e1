"""Find a toolchain for a board's architecture and say how to hand it to Zephyr.

Order: an explicit ZEPHYR_TOOLCHAIN_VARIANT (the user's environment wins), a
Zephyr SDK, GNU Arm Embedded on PATH (arm), LLVM/clang (x86), Debian's
riscv64-unknown-elf GCC (riscv: its multilibs include rv32imac/ilp32) as
Zephyr's `cross-compile` variant.
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import SetupError
from harness.host.process import tool_version, which

INSTALL = {
    "arm": "apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi",
    "x86": "apt-get install clang-14 lld-14 llvm-14 libclang-rt-14-dev",
    "riscv": "apt-get install gcc-riscv64-unknown-elf",
}
SDK_GLOBS = ("~/zephyr-sdk-*", "/opt/zephyr-sdk-*", "/usr/local/zephyr-sdk-*")


@dataclass(frozen=True)
class Toolchain:
    variant: str
    env: dict = field(default_factory=dict)          # added to west build's environment
    cmake_args: tuple = ()                            # given on first configure
    version: str = ""
    addr2line: str | None = None

    def describe(self) -> str:
        return f"{self.variant} ({self.version})"


def find(arch: str, environ: dict) -> Toolchain:
    """`environ` is the user's environment, captured once at the edge."""
    explicit = environ.get("ZEPHYR_TOOLCHAIN_VARIANT")
    if explicit:
        keep = {k: v for k, v in environ.items() if k.startswith(
            ("ZEPHYR_", "GNUARMEMB_", "LLVM_", "CLANG_", "CROSS_COMPILE"))}
        return Toolchain(explicit, keep, version="as configured by ZEPHYR_TOOLCHAIN_VARIANT",
                         addr2line=_addr2line(arch, environ))
    for finder in (_sdk, _FINDERS.get(arch)):
        found = finder(arch, environ) if finder else None
        if found:
            return found
    raise SetupError(f"no toolchain found for {arch} boards",
                     f"install one: {INSTALL.get(arch, 'a Zephyr SDK')}; or set "
                     "ZEPHYR_TOOLCHAIN_VARIANT and its path variable")


def _sdk(arch: str, environ: dict) -> Toolchain | None:
    roots = [environ["ZEPHYR_SDK_INSTALL_DIR"]] if environ.get("ZEPHYR_SDK_INSTALL_DIR") else []
    roots += sorted((p for g in SDK_GLOBS for p in glob.glob(os.path.expanduser(g))), reverse=True)
    for root in roots:
        version_file = Path(root, "sdk_version")
        if version_file.is_file():
            return Toolchain("zephyr", {"ZEPHYR_SDK_INSTALL_DIR": root},
                             version=f"Zephyr SDK {version_file.read_text().strip()}")
    return None


def _gnuarmemb(arch: str, environ: dict) -> Toolchain | None:
    gcc = which("arm-none-eabi-gcc", environ)
    if not gcc:
        return None
    prefix = str(Path(gcc).resolve().parent.parent)
    return Toolchain("gnuarmemb", {"GNUARMEMB_TOOLCHAIN_PATH": prefix},
                     version=tool_version((gcc, "--version")),
                     addr2line=which("arm-none-eabi-addr2line", environ))


def for_workspace(found: Toolchain, zephyr_base: Path, environ: dict) -> Toolchain:
    """`found`, or where the workspace's LLVM toolchain needs a newer clang than it (Zephyr
    4.3 passes `clang --config=FILE`, which clang learnt in 16), the newest LLVM that has
    it; a SetupError that says so when there is none."""
    if found.variant != "llvm":
        return found
    needed = clang_needed(zephyr_base)
    if not needed or clang_major(found.version) >= needed:
        return found
    newer = _llvm("x86", environ, needed)
    if newer is None:
        raise SetupError(f"this Zephyr builds x86 boards with `clang --config=...`, which needs "
                         f"clang {needed} or newer; found {found.version or 'an older clang'}",
                         f"install one: apt-get install clang-{needed} lld-{needed} "
                         f"llvm-{needed} libclang-rt-{needed}-dev (.ci/apt-packages.txt does), "
                         "or a Zephyr SDK")
    return newer


def clang_needed(zephyr_base: Path) -> int | None:
    """The oldest clang the workspace's LLVM toolchain file works with, where it says."""
    try:
        text = (Path(zephyr_base) / "cmake" / "toolchain" / "llvm" / "target.cmake").read_text()
    except OSError:
        return None
    return 16 if "--config=" in text else None


def clang_major(version: str) -> int:
    m = re.search(r"clang version (\d+)", version)
    return int(m.group(1)) if m else 0


def _llvm(arch: str, environ: dict, min_major: int = 0) -> Toolchain | None:
    clang = which("clang", environ)
    roots = [str(Path(clang).resolve().parent.parent)] if clang else []
    roots += sorted(glob.glob("/usr/lib/llvm-*"), reverse=True,
                    key=lambda r: int(r.rsplit("-", 1)[-1]) if r.rsplit("-", 1)[-1].isdigit() else 0)
    for root in roots:
        builtins = glob.glob(f"{root}/lib/clang/*/lib/linux/libclang_rt.builtins-i386.a")
        if min_major and clang_major(tool_version((f"{root}/bin/clang", "--version"))) < min_major:
            continue
        if Path(root, "bin", "clang").exists() and builtins:
            # clang -m32 asks for a bare libgcc; the compiler-rt builtins supply __udivdi3.
            return Toolchain("llvm", {"LLVM_TOOLCHAIN_PATH": root},
                             (f"-DEXTRA_LDFLAGS={builtins[0]}",),
                             tool_version((f"{root}/bin/clang", "--version")),
                             addr2line=f"{root}/bin/llvm-addr2line")
    return None


def _riscv(arch: str, environ: dict) -> Toolchain | None:
    gcc = which("riscv64-unknown-elf-gcc", environ)
    if not gcc:
        return None
    # GCC 12's assembler follows the 2019 ISA spec, where Zephyr 3.0's -march=rv32imac
    # lacks the CSR instructions (zicsr): ask for the spec Zephyr was written for.
    return Toolchain("cross-compile", {"CROSS_COMPILE": gcc[:-len("gcc")]},
                     ("-DEXTRA_CPPFLAGS=-misa-spec=2.2",),
                     version=tool_version((gcc, "--version")),
                     addr2line=_addr2line(arch, environ))


def _addr2line(arch: str, environ: dict) -> str | None:
    names = {"arm": ["arm-none-eabi-addr2line"], "x86": ["llvm-addr2line", "addr2line"],
             "riscv": ["riscv64-unknown-elf-addr2line"]}
    return next(filter(None, (which(n, environ) for n in names.get(arch, []))), None)


_FINDERS = {"arm": _gnuarmemb, "x86": _llvm, "riscv": _riscv}
