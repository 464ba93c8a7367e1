"""Front ends: thin adapters from a user's entry point to the pipeline.

`cli` (the `harness` command and its subcommands `checklog`, `doctor`), `west_command`
(`west harness`), `pytest_plugin` + `pytest_fixtures`, `robot` (the Robot Framework
library, imported as `harness.robot.Emulation`) and `progress` (the matrix's live view).
None of them judges or builds anything itself.
"""
