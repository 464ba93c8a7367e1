# West loads this file for `west harness`; the command lives in the harness package.
try:
    from harness.frontends.west_command import HarnessCommand  # noqa: F401
except ImportError as exc:  # west runs under a Python without the harness installed
    _WHY = str(exc)        # `exc` itself is unbound once the except clause ends
    from west.commands import WestCommand

    class HarnessCommand(WestCommand):
        def __init__(self):
            super().__init__("harness", "firmware harness (not installed)", "")

        def do_add_parser(self, parser_adder):
            return parser_adder.add_parser(self.name, help=self.help)

        def do_run(self, args, unknown):
            self.die(f"the harness package is not importable here ({_WHY}); run west from the "
                     "harness's virtualenv (.venv/bin/west) or pip install the harness")
