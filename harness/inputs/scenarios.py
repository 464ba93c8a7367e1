"""Zephyr test suites as they are: sample.yaml / testcase.yaml -> scenarios.

A scenario is one entry of the file's `tests:` with `common:` merged in, the way
the workspace's twister merges them (strings are joined with a space, `filter`
with `and`, any other value given in both keeps `common`'s), and each key cast
to twister's type (a `set` or `list` may be a whitespace-separated string).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml

from harness.errors import UsageError

FILES = ("testcase.yaml", "sample.yaml")
# twister's testcase_valid_keys (Zephyr 3.0-3.4): key -> (type, default)
KEYS: dict[str, tuple[str, object]] = {
    "tags": ("set", set()), "type": ("str", "integration"), "extra_args": ("list", []),
    "extra_configs": ("list", []), "build_only": ("bool", False), "build_on_all": ("bool", False),
    "skip": ("bool", False), "slow": ("bool", False), "timeout": ("int", 60),
    "min_ram": ("int", 8), "min_flash": ("int", 32), "modules": ("list", []),
    "depends_on": ("set", set()), "arch_allow": ("set", set()), "arch_exclude": ("set", set()),
    "extra_sections": ("list", []), "integration_platforms": ("list", []),
    "platform_exclude": ("set", set()), "platform_allow": ("set", set()),
    "toolchain_exclude": ("set", set()), "toolchain_allow": ("set", set()),
    "filter": ("str", ""), "harness": ("str", ""), "harness_config": ("map", {}),
    # newer twister (3.4): accepted and honoured where it matters
    "ignore_faults": ("bool", False), "ignore_qemu_crash": ("bool", False),
    "platform_type": ("list", []), "required_snippets": ("list", []),
    "sysbuild": ("bool", False), "levels": ("list", []), "testing": ("map", {}),
    "vendor_allow": ("set", set()), "vendor_exclude": ("set", set()),
    "simulation_exclude": ("list", []), "seed": ("int", 0),
    # Zephyr 4.x twister (config_parser.testsuite_valid_keys)
    "extra_conf_files": ("list", []), "extra_overlay_confs": ("list", []),
    "extra_dtc_overlay_files": ("list", []), "required_applications": ("items", []),
    "integration_toolchains": ("list", []), "testcases": ("list", []),
    "platform_key": ("list", []),
}
# Keys that change nothing in how a scenario is built or judged on an emulator.
INERT = {"type", "build_on_all", "modules", "extra_sections", "integration_platforms",
         "toolchain_exclude", "toolchain_allow", "platform_type", "levels", "testing",
         "vendor_allow", "vendor_exclude", "simulation_exclude", "seed", "sysbuild",
         "ignore_qemu_crash", "integration_toolchains", "testcases"}
CONFIG_KEYS = {"type", "regex", "ordered", "record", "fixture", "repeat", "pytest_root",
               "pytest_args", "pytest_dut_scope", "shell_commands", "shell_commands_file",
               "robot_testsuite", "robot_option", "robot_test_path", "ztest_suite_repeat",
               "ztest_test_repeat", "ztest_test_shuffle"}


@dataclass(frozen=True)
class Scenario:
    name: str                   # twister's scenario name, e.g. kernel.memory_protection
    source: Path                # the app directory (CMakeLists.txt)
    yaml_path: Path
    keys: dict = field(default_factory=dict, compare=False, hash=False)

    def __getitem__(self, key: str):
        return self.keys[key]

    @property
    def harness(self) -> str:
        return self.keys["harness"] or ("console" if self.keys["harness_config"] else "")

    @property
    def tags(self) -> set:
        return self.keys["tags"]

    @property
    def ignores_faults(self) -> bool:
        """Zephyr 3.0: the `ignore_faults` tag; 3.4 also a key."""
        return "ignore_faults" in self.tags or bool(self.keys["ignore_faults"])

    def kconfig_lines(self, arch: str, platform: str) -> list[str]:
        """`extra_configs` as twister applies them to a platform (TestInstance
        create_overlay): `arch:<arch>:CONFIG_...` and `platform:<name>:CONFIG_...` only
        where they match; then harness_config's ztest_suite_repeat, ztest_test_repeat
        and ztest_test_shuffle."""
        out = []
        for line in self.keys["extra_configs"]:
            kind, _, rest = line.partition(":")
            name, _, config = rest.partition(":")
            if kind in ("arch", "platform") and config and ":" not in config:
                if name == (arch if kind == "arch" else platform):
                    out.append(config)
            else:
                out.append(line)
        config = self.keys["harness_config"] or {}
        suite, test = config.get("ztest_suite_repeat"), config.get("ztest_test_repeat")
        if suite or test or config.get("ztest_test_shuffle"):
            out.append("CONFIG_ZTEST_REPEAT=y")
            out += [f"CONFIG_ZTEST_SUITE_REPEAT_COUNT={suite}"] if suite else []
            out += [f"CONFIG_ZTEST_TEST_REPEAT_COUNT={test}"] if test else []
            out += ["CONFIG_ZTEST_SHUFFLE=y"] if config.get("ztest_test_shuffle") else []
        return out

    def cmake_args(self, arch: str = "", platform: str = "", simulation: str = "") -> list[str]:
        """`extra_args` as twister passes them to CMake (TestInstance cmake and
        cmake_assemble_args): `arch:`, `platform:` and `simulation:` prefixed ones only
        where they match, `-D` added when missing, double quotes dropped except in
        CONFIG_ options; then the files and snippets the scenario names (twister 4.x:
        CONF_FILE, DTC_OVERLAY_FILE, SNIPPET; extra_overlay_confs go into OVERLAY_CONFIG)."""
        wanted = {"arch": arch, "platform": platform, "simulation": simulation}
        args = []
        for arg in self.keys["extra_args"]:
            parts = arg.split(":")
            if parts[0] in wanted and len(parts) == 3:
                if parts[1] == wanted[parts[0]]:
                    args.append(parts[2])
            else:
                args.append(arg)
        args = [a if a.startswith(("CONFIG_", "SB_CONFIG_", "-DCONFIG_")) else a.replace('"', "")
                for a in args]
        args = [a if a.startswith("-") else f"-D{a}" for a in args]
        for key, var in (("extra_conf_files", "CONF_FILE"),
                         ("extra_dtc_overlay_files", "DTC_OVERLAY_FILE"),
                         ("required_snippets", "SNIPPET")):
            if self.keys[key]:
                args.append(f"-D{var}={';'.join(self.keys[key])}")
        return args


def discover(root: Path) -> list[Path]:
    """Every sample.yaml / testcase.yaml at or under `root` (like twister's -T)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise UsageError(f"test root {root} is not a directory", "pass -T DIR (an app or tests dir)")
    stated = [p for name in FILES for p in root.rglob(name) if not _in_build_dir(p, root)]
    found = [p for p in stated if (p.parent / "CMakeLists.txt").is_file()]
    if not found:           # never a silent "nothing ran" for a root the user named
        hint = (f"{stated[0]} has no CMakeLists.txt beside it (an app directory needs one)"
                if stated else "pass an app or tests directory of a Zephyr workspace")
        raise UsageError(f"no test suite (sample.yaml or testcase.yaml of a Zephyr app) "
                         f"at or under {root}", hint)
    return sorted(set(found))


def load(path: Path, warn: Callable[[str], None] = lambda m: None) -> list[Scenario]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    tests = data.get("tests") if isinstance(data, dict) else None
    if not isinstance(tests, dict) or not tests:
        raise UsageError(f"{path}: needs a 'tests:' mapping of scenario names",
                         "see Zephyr's docs on sample.yaml / testcase.yaml")
    common = data.get("common") or {}
    return [Scenario(name, Path(path).parent.resolve(), Path(path).resolve(),
                     _typed(_merge(common, body or {}), f"{path}: {name}", warn))
            for name, body in tests.items()]


def load_dir(app_dir: Path, warn: Callable[[str], None] = lambda m: None) -> list[Scenario]:
    """The scenarios of one app directory (its own sample.yaml / testcase.yaml)."""
    return [s for name in FILES if (Path(app_dir) / name).is_file()
            for s in load(Path(app_dir) / name, warn)]


def _merge(common: dict, own: dict) -> dict:
    merged = dict(common)
    for key, value in own.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], str) and isinstance(value, str):
            merged[key] = f"({merged[key]}) and ({value})" if key == "filter" \
                else f"{merged[key]} {value}"
        # twister keeps common's value for any other type given in both
    return merged


def _typed(data: dict, where: str, warn) -> dict:
    out = {}
    for key, value in data.items():
        if key not in KEYS:
            warn(f"{where}: key '{key}' is not understood by the harness; ignored")
            continue
        out[key] = _cast(value, KEYS[key][0], f"{where}: {key}")
    for key, (_, default) in KEYS.items():
        out.setdefault(key, type(default)(default) if isinstance(default, (set, list, dict))
                       else default)
    for key in set(out["harness_config"]) - CONFIG_KEYS:
        warn(f"{where}: harness_config key '{key}' is not understood by the harness; ignored")
    return out


def _cast(value, kind: str, where: str):
    try:
        if kind == "items":                   # a list of mappings, kept as they are
            return list(value) if isinstance(value, list) else [value]
        if kind in ("set", "list"):
            items = value.split() if isinstance(value, str) else list(value or [])
            return set(map(str, items)) if kind == "set" else [str(i) for i in items]
        if kind == "int":
            return int(value)
        if kind == "bool":
            return bool(value)
        if kind == "str":
            return str(value).strip()
        if kind == "map":
            if not isinstance(value, dict):
                raise TypeError("not a mapping")
            return value
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{where}: expected a {kind} ({exc})") from None
    return value


def _in_build_dir(path: Path, root: Path) -> bool:
    """A copy of sources inside a build directory (one with a CMakeCache.txt) is no scenario."""
    return any((d / "CMakeCache.txt").is_file() for d in path.parents
               if d == root or root in d.parents)
