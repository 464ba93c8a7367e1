"""Run one harness session against the fake QEMU (or the fake Renode), under
the CLI's signal and exit-code handling, so a test can signal it mid-run.

usage: interruptible.py OUT_DIR SCENARIO_JSON [qemu|renode [BOARDS...]]
Prints READY once the session starts booting.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from harness.build.toolchain import Toolchain  # noqa: E402
from harness.build.west_build import Built  # noqa: E402
from harness.frontends import cli  # noqa: E402
from harness.inputs import apps  # noqa: E402
from harness.inputs.workspace import Workspace  # noqa: E402
from harness.runner import Session  # noqa: E402


def main() -> int:
    out, scenario = Path(sys.argv[1]), Path(sys.argv[2])
    emulator = sys.argv[3] if len(sys.argv) > 3 else "qemu"
    boards = sys.argv[4:] or ["mps2_an385"]
    zephyr = out / "ws" / "zephyr"
    zephyr.mkdir(parents=True, exist_ok=True)
    (zephyr / "VERSION").write_text("VERSION_MAJOR = 3\nVERSION_MINOR = 0\nPATCHLEVEL = 99\n")
    session = Session(workspace=Workspace(out / "ws", zephyr, "test"), out_dir=out, environ={},
                      timeout_s=60, isolation=False, say=lambda m: None,
                      find_toolchain=lambda arch, environ: Toolchain("fake", version="fake"),
                      emulator_overrides={"qemu": {"binary": str(HERE / "fake_qemu.py")},
                                          "renode": {"binary": str(HERE / "fake_renode.py")}})
    log = out / "fake.build.log"
    log.write_text("fake build\n")
    for board in boards:
        session.builds.provide("prod_consumer", board, Built(scenario, out, log, 0.0, "0" * 64))
    print("READY", flush=True)

    def run() -> int:
        with session:                  # as the CLI: the session closes inside guarded()
            return max(r.verdict.code for r in session.run(
                apps.load("prod_consumer"), boards, [emulator]))
    return cli.guarded(run)


if __name__ == "__main__":
    sys.exit(main())
