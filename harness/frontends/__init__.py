"""Front ends: thin adapters from a user's entry point to the pipeline.

`cli` (the `harness` command, one module per subcommand), `doctor` (what `harness
doctor` checks), `west_command` (`west harness`), `pytest_plugin` + `pytest_fixtures`,
`robot` (the Robot Framework library, imported as `harness.robot.Emulation`) and
`progress` (live progress of builds and matrices). None of them judges or builds
anything itself.
"""
