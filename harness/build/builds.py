"""The firmware of a session: a toolchain per architecture and one incremental
`west build` per (app, board), shared by parallel runs."""
from __future__ import annotations

import dataclasses
import shutil
import threading
from pathlib import Path
from typing import Callable

from harness.build import toolchain as toolchain_mod
from harness.build import west_build as build_mod
from harness.build.toolchain import Toolchain
from harness.build.west_build import Built
from harness.errors import BuildError, SetupError
from harness.inputs import boards
from harness.inputs.workspace import Workspace


class Builds:
    def __init__(self, *, workspace: Workspace, out_dir: Path, environ: dict,
                 pristine: bool = False, say: Callable[[str], None] = print,
                 cancel: threading.Event | None = None,
                 build_dirs: dict[tuple[str, str], Path] | None = None,
                 find_toolchain: Callable[[str, dict], Toolchain] = toolchain_mod.find) -> None:
        self.workspace = workspace
        self.out_dir = out_dir
        self.environ = environ
        self.pristine = pristine
        self.say = say
        self.cancel = cancel or threading.Event()
        self.build_dirs = dict(build_dirs or {})     # (app, board) -> an existing build dir
        self._find_toolchain = find_toolchain
        self._built: dict[tuple[str, str], Built] = {}
        self._failed: dict[tuple[str, str], Exception] = {}
        self._toolchains: dict[str, Toolchain] = {}
        self._locks: dict[tuple, threading.Lock] = {}
        self._guard = threading.Lock()

    def toolchain(self, board) -> Toolchain:
        with self._guard:
            if board.arch not in self._toolchains:
                self._toolchains[board.arch] = toolchain_mod.for_workspace(
                    self._find_toolchain(board.arch, self.environ), self.workspace.zephyr_base,
                    self.environ)
            return self._toolchains[board.arch]

    def firmware(self, app, board, before_compile=None, coverage: bool = False) -> Built:
        """Build (incrementally) once per session for each (app, board).
        `before_compile(build_dir)` looks at the configured build first (filters).
        `coverage`: the gcov image, in a build directory of its own (<board>.coverage)."""
        key = (app.name, board.name, "coverage") if coverage else (app.name, board.name)
        with self.lock(key):
            if key in self._failed:
                raise self._failed[key]
            if key not in self._built:
                try:
                    self._built[key] = self._build(app, board, before_compile, coverage)
                except (BuildError, SetupError) as exc:    # once per session, like a success
                    self._failed[key] = exc
                    raise
            return self._built[key]

    def prefetch(self, app, board) -> None:
        """Build in the background; the run's own `firmware` call then waits for it and
        sees its result (or its error)."""
        try:
            self.firmware(app, board)
        except Exception:                       # noqa: BLE001  reported by the run's own call
            pass

    def earlier_image(self, app, board, dest: Path, coverage: bool = False) -> Built | None:
        """A copy in `dest` of the ELF an earlier build of (app, board) left, to boot
        while this session's build checks it; None when there is none to trust yet
        (never built, --pristine, built already this session, or building elsewhere)."""
        key = (app.name, board.name, "coverage") if coverage else (app.name, board.name)
        build_dir = self.build_dir(app, board, coverage)
        elf = build_dir / "zephyr" / "zephyr.elf"
        if self.pristine or key in self._built or key in self._failed \
                or not build_mod.finished(build_dir) or not elf.is_file():
            return None
        copy = dest / "zephyr.elf"
        shutil.copyfile(elf, copy)
        return Built(copy, build_dir, self.log_path(*key), 0.0, build_mod.sha256(copy), coverage)

    def provide(self, app: str, board: str, built: Built) -> None:
        """Use firmware built elsewhere for (app, board) instead of building it."""
        self._built[(app, board)] = built

    def lock(self, key: tuple) -> threading.Lock:
        """A lock per key, for work that parallel runs share (builds, certificates)."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def log_path(self, app: str, board: str, variant: str = "") -> Path:
        name = f"{board}.{variant}" if variant else board
        return self.out_dir / "build" / app / f"{name}.build.log"

    def build_dir(self, app, board, coverage: bool = False) -> Path:
        """Where (app, board) is built; its coverage image beside it, in <dir>.coverage."""
        plain = self.build_dirs.get((app.name, board.name),
                                    self.out_dir / "build" / app.name / board.name)
        return plain.with_name(plain.name + ".coverage") if coverage else plain

    def _build(self, app, board, before_compile, coverage: bool = False) -> Built:
        build_dir = self.build_dir(app, board, coverage)
        self.say(f"building {app.name} for {board.name} (west build -d {build_dir})")
        environ = self.environ
        if build_dir.parent.parent == self.out_dir / "build":
            environ = {**build_mod.shared_compiles(self.out_dir / "build", environ), **environ}
        extra = build_mod.COVERAGE_KCONFIG if coverage else ()
        built = build_mod.build(
            source=app.source_dir(self.workspace.zephyr_base),
            board=boards.zephyr_name(board, self.workspace.version()),
            build_dir=build_dir,
            log_path=self.log_path(app.name, board.name, "coverage" if coverage else ""),
            workspace=self.workspace, toolchain=self.toolchain(board), environ=environ,
            pristine=self.pristine, say=self.say, cancel=self.cancel, cmake_args=app.cmake_args,
            extra_configs=(*app.extra_configs, *extra), overlay_confs=app.overlay_confs,
            before_compile=before_compile,
            label=f"{app.name}/{board.name}{' (coverage)' if coverage else ''}")
        return dataclasses.replace(built, coverage=coverage)
