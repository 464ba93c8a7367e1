"""Which scenarios run on which board: twister's static filters. Pure: the board's
facts and the user's selection come in as arguments.

`skip_reason` answers before anything is built; `filter:` expressions need the
configured build and are evaluated later (harness.build.filters).
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED_HARNESSES = ("", "console", "ztest", "test", "pytest", "shell", "robot")


@dataclass(frozen=True)
class BoardFacts:
    """What Zephyr's board file says (boards/<arch>/<board>/<board>.yaml)."""
    name: str
    arch: str
    ram_kb: int = 128           # twister's defaults when the board file says nothing
    flash_kb: int = 512
    supported: frozenset = frozenset()
    toolchains: frozenset = frozenset()
    aliases: frozenset = frozenset()   # other names twister accepts (4.x: qemu_x86 for qemu_x86/atom)
    simulation: str = "na"             # the board's first `simulation:` entry (twister 4.x)

    def known_as(self, names) -> bool:
        """True when one of `names` (a platform_allow / _exclude list) is this board."""
        return bool(set(names) & ({self.name} | self.aliases))


@dataclass(frozen=True)
class Selection:
    tags: frozenset = frozenset()          # --tag: run only scenarios with one of these
    exclude_tags: frozenset = frozenset()  # --exclude-tag
    fixtures: frozenset = frozenset()      # --fixture: what this test bench provides
    names: tuple = field(default_factory=tuple)  # --scenario: only these (exact or prefix.)
    enable_slow: bool = False              # --enable-slow: run scenarios marked slow: true


def skip_reason(scenario, board: BoardFacts, selection: Selection = Selection()) -> str | None:
    """Why `scenario` does not run on `board` (None: it runs), in twister's words."""
    keys = scenario.keys
    checks = [
        (keys["skip"], "skip: true in the scenario"),
        (selection.names and not any(scenario.name == n or scenario.name.startswith(n + ".")
                                     for n in selection.names), "not selected by --scenario"),
        (selection.tags and not (scenario.tags & selection.tags),
         f"no tag of {sorted(selection.tags)}"),
        (scenario.tags & selection.exclude_tags,
         f"tag(s) {sorted(scenario.tags & selection.exclude_tags)} excluded"),
        (keys["platform_allow"] and not board.known_as(keys["platform_allow"]),
         "Not in testcase platform allow list"),
        (board.known_as(keys["platform_exclude"]), "In test case platform exclude"),
        (keys["arch_allow"] and board.arch not in keys["arch_allow"],
         "Not in test case arch allow list"),
        (board.arch in keys["arch_exclude"], "In test case arch exclude"),
        (keys["depends_on"] and not keys["depends_on"] <= board.supported,
         f"{board.name} lacks {sorted(keys['depends_on'] - board.supported)} (depends_on)"),
        (keys["min_ram"] > board.ram_kb, f"not enough RAM ({board.ram_kb} < {keys['min_ram']} KiB)"),
        (keys["min_flash"] > board.flash_kb,
         f"not enough flash ({board.flash_kb} < {keys['min_flash']} KiB)"),
    ]
    return next((why for failed, why in checks if failed), None)


def not_runnable(scenario, selection: Selection = Selection()) -> str | None:
    """Why a scenario that is built cannot be run (None: it runs): twister builds it and
    reports it "not run" (TestInstance.check_runnable, testsuite_runnable): `slow: true`
    without --enable-slow, a harness it cannot drive, or a harness_config.fixture not
    given with --fixture (a fixture given as name:parameter provides `name`)."""
    if scenario.keys.get("slow") and not selection.enable_slow:
        return "slow: true in the scenario (--enable-slow runs it)"
    if scenario.harness not in SUPPORTED_HARNESSES:
        return f"harness {scenario.harness} is not supported"
    provided = {f.split(":")[0] for f in selection.fixtures}
    if _fixture(scenario) and _fixture(scenario) not in provided:
        return f"missing fixture {_fixture(scenario)}"
    return None


def platform_key_reason(scenario, board: BoardFacts, keyed: dict) -> str | None:
    """twister 4.x `platform_key`: a scenario runs once per distinct value of the board
    attributes it names; `keyed` (key -> board name) remembers the boards that already
    cover one within a plan. A board lacking a named attribute is left out."""
    fields = sorted(set(scenario.keys.get("platform_key") or ()))
    if not fields:
        return None
    values = tuple(getattr(board, f, None) for f in fields)
    if any(v is None or v == "na" for v in values):
        return f"Excluded platform missing key fields demanded by test {fields}"
    first = keyed.setdefault(values, board.name)
    if first != board.name:
        return f"Already covered for key {list(values)} by platform {first}"
    return None


def _fixture(scenario) -> str:
    return str(scenario.keys["harness_config"].get("fixture") or "")
