"""``FaultSwitch``: the faults a running service injects -- the configured ``faults`` section,
replaced while it runs by ``faults.control_file`` when one is set.

The file holds a fault spec as ``--fault`` takes it (``error_rate=0.2,latency_ms=300``) or
``off``. It is looked at no more than once a second, from the request path (a ``stat``; the
file is read only when its inode, size or modification time changed), so a change takes effect
within a second and costs nothing otherwise. A missing file means the configured faults; a bad
spec is logged with the file and key and the faults in force stay.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable

from plexichat.config import ConfigError
from plexichat.config.faults import FaultsConfig

CHECK_INTERVAL_S = 1.0
logger = logging.getLogger("plexichat.service.faults")


class InjectedFaultError(RuntimeError):
    """A failure the ``faults`` section asked for (the message names its key)."""


class FaultSwitch:
    """The faults in force: the configured ones, replaced by the control file's spec."""

    def __init__(
        self, configured: FaultsConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = configured.control_file
        self.configured = configured
        self.current = configured
        self._clock = clock
        self._stamp: tuple[int, int, int] | None = None
        self._next_check = 0.0

    def faults(self) -> FaultsConfig:
        """The faults in force now; looks at the control file at most once a second."""
        if self.path is None:
            return self.current
        now = self._clock()
        if now >= self._next_check:
            self._next_check = now + CHECK_INTERVAL_S
            self._refresh()
        return self.current

    def _refresh(self) -> None:
        assert self.path is not None
        try:
            st = os.stat(self.path)
            stamp: tuple[int, int, int] | None = (st.st_ino, st.st_size, st.st_mtime_ns)
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        self._stamp = stamp
        if stamp is None:
            self.current = self.configured
            logger.warning("fault switch %s is gone: the configured faults apply", self.path)
            return
        try:
            text = self.path.read_text(encoding="utf-8")
            self.current = self.configured.with_spec(text, str(self.path))
        except (OSError, UnicodeDecodeError, ConfigError) as exc:
            logger.error("%s (the faults in force stay)", exc)
            return
        logger.warning("fault switch %s: now %r", self.path, text.strip() or "off")
