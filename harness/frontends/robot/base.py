"""What every keyword group of the Emulation library shares: the session, the running
device, timeouts, the UART log and the error boundary."""
from __future__ import annotations

import os
from pathlib import Path

from robot.api import logger

from harness import boundary
from harness.inputs.config import project_session


class KeywordBase:
    """The state Emulation.__init__ sets: _settings, _session, _device,
    _default_timeout, _logged (UART lines already copied into Robot's log)."""

    @property
    def session(self):
        if self._session is None:
            self._session = self._call(lambda: project_session(
                dict(os.environ), Path.cwd(), workspace_arg=self._settings["workspace"],
                out=self._settings["out"], config_file=self._settings["config"],
                say=logger.console))
        return self._session

    @property
    def device(self):
        if not self._device:
            raise AssertionError("no emulation running: use Start Emulation first")
        return self._device

    def _timeout(self, timeout) -> float:
        return float(timeout) if timeout is not None else self._default_timeout

    def _log_new(self) -> None:
        """Log the UART transcript into Robot's log, from the keyword's (main) thread."""
        device = self._device
        if device and len(device.history) > self._logged:
            logger.info("UART:\n" + "\n".join(device.transcript()[self._logged:]))
            self._logged = len(device.history)

    @staticmethod
    def _call(fn):
        """Run `fn` inside the harness's one error boundary: a failure fails the keyword
        with 'VERDICT: message' (the verdict result.json and the CLI give it)."""
        try:
            return fn()
        except AssertionError:
            raise
        except Exception as exc:               # noqa: BLE001  the boundary
            raise AssertionError(boundary.failure(exc).line()) from None
