"""The CI files the project ships."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_workflow_passes_yamllint():
    pytest.importorskip("yamllint", reason="pip install '.[test]' (yamllint) to lint the workflow")
    proc = subprocess.run([sys.executable, "-m", "yamllint", "-d",
                           "{extends: default, rules: {line-length: {max: 100}, truthy: disable, "
                           "document-start: disable}}", ".github/workflows/firmware.yml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_ci_run_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    command = "bash .ci/setup && .venv/bin/python -m pytest -q -rs"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()


def test_workflow_installs_renode_and_runs_the_renode_boards():
    import yaml

    from harness import matrix
    flow = (ROOT / ".github" / "workflows" / "firmware.yml").read_text()
    assert "bash .ci/setup" in flow and "harness setup --renode" in (ROOT / ".ci" / "setup").read_text()
    assert "zephyr-isolation-harness/renode" in flow               # the install is cached
    assert "--matrix .ci/matrix.yaml" in flow
    runs = matrix.load_file(str(ROOT / ".ci" / "matrix.yaml"))
    on_renode = {e.board for e in runs if e.emulator == "renode"}
    assert on_renode == {"mps2_an385", "stm32f4_disco", "nrf52840dk_nrf52840"}
    assert yaml.safe_load(flow)["jobs"]["merge"]["needs"] == "suites"


def test_apt_packages_name_only_boards_the_project_ships():
    import re
    text = (ROOT / ".ci" / "apt-packages.txt").read_text()
    named = set(re.findall(r"\(([a-z0-9_]+)\)", text))
    shipped = {p.stem for p in (ROOT / "boards").glob("*.yaml")}
    assert named and named <= shipped, named - shipped


def test_setup_waits_for_the_dpkg_lock_instead_of_failing():
    text = (ROOT / ".ci" / "setup").read_text()
    calls = [line for line in text.splitlines() if "apt-get" in line and not line.lstrip().startswith("#")]
    assert calls and all("${lock[@]}" in line for line in calls), calls
    assert re.search(r"lock=\(-o DPkg::Lock::Timeout=\d+\)", text)
