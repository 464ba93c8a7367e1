"""The project's data as package data: `harness.data.boards` is the repository's
boards/, `harness.data.firmware` its firmware/ and `harness.data.robot` its robot/
(mapped in pyproject.toml), so an installed wheel carries them and an editable
install reads them in place."""
