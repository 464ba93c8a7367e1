"""Which scenarios run on which board: twister's static filters. Pure: the board's
facts and the user's selection come in as arguments.

`skip_reason` answers before anything is built; `filter:` expressions need the
configured build and are evaluated later (harness.build.filters).
"""
from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED_HARNESSES = ("", "console", "ztest", "test")


@dataclass(frozen=True)
class BoardFacts:
    """What Zephyr's board file says (boards/<arch>/<board>/<board>.yaml)."""
    name: str
    arch: str
    ram_kb: int = 128           # twister's defaults when the board file says nothing
    flash_kb: int = 512
    supported: frozenset = frozenset()
    toolchains: frozenset = frozenset()


@dataclass(frozen=True)
class Selection:
    tags: frozenset = frozenset()          # --tag: run only scenarios with one of these
    exclude_tags: frozenset = frozenset()  # --exclude-tag
    fixtures: frozenset = frozenset()      # --fixture: what this test bench provides
    names: tuple = field(default_factory=tuple)  # --scenario: only these (exact or prefix.)


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
        (keys["platform_allow"] and board.name not in keys["platform_allow"],
         "Not in testcase platform allow list"),
        (board.name in keys["platform_exclude"], "In test case platform exclude"),
        (keys["arch_allow"] and board.arch not in keys["arch_allow"],
         "Not in test case arch allow list"),
        (board.arch in keys["arch_exclude"], "In test case arch exclude"),
        (keys["depends_on"] and not keys["depends_on"] <= board.supported,
         f"{board.name} lacks {sorted(keys['depends_on'] - board.supported)} (depends_on)"),
        (keys["min_ram"] > board.ram_kb, f"not enough RAM ({board.ram_kb} < {keys['min_ram']} KiB)"),
        (keys["min_flash"] > board.flash_kb,
         f"not enough flash ({board.flash_kb} < {keys['min_flash']} KiB)"),
        (scenario.harness not in SUPPORTED_HARNESSES,
         f"harness {scenario.harness} is not supported"),
        (_fixture(scenario) and _fixture(scenario) not in selection.fixtures,
         f"missing fixture {_fixture(scenario)}"),
    ]
    return next((why for failed, why in checks if failed), None)


def _fixture(scenario) -> str:
    return str(scenario.keys["harness_config"].get("fixture") or "")
