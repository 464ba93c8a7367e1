#!/usr/bin/env python3
"""A fake `mono --aot=outfile=OUT ASSEMBLY`: writes OUT, or fails as Mono's AOT
compiler does for an assembly whose name holds "Broken" (every assembly with
$FAKE_MONO_FAIL set, as without an assembler). Each call is appended to
$FAKE_MONO_LOG."""
import os
import sys
from pathlib import Path

if os.environ.get("FAKE_MONO_LOG"):
    with open(os.environ["FAKE_MONO_LOG"], "a") as log:
        log.write(" ".join(sys.argv[1:]) + "\n")
option, assembly = sys.argv[1], sys.argv[2]
if not option.startswith("--aot=outfile="):
    sys.exit(f"fake mono: unexpected {sys.argv[1:]}")
if os.environ.get("FAKE_MONO_FAIL"):
    sys.exit("Executing the native assembler now:\nas: not found\nAOT of image failed.")
if "Broken" in assembly:
    print(f"Mono Ahead of Time compiler - compiling assembly {assembly}\n"
          f"AOT of image {assembly} failed.", file=sys.stderr)
    sys.exit(1)
Path(option.split("=", 2)[2]).write_bytes(b"\x7fELF an AOT image of " + assembly.encode())
