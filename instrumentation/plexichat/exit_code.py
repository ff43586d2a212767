"""The exit statuses of every ``plexichat-obs`` command, one meaning per number.

A leaf: the commands' modules (``stack``, ``loadgen``, ``service``) return these, ``cli`` passes
them on, and scripts can test for them by name.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a ``plexichat-obs`` command's exit status means."""

    OK = 0
    """Done (``status``: no critical alert fires; with ``--check``, alerting works too)."""
    FAILURE = 1
    """It could not do its job: Prometheus or the service unreachable (``status --check``: the
    receiver too), a component that would not start or died, a missing binary, a server that
    failed to start."""
    USAGE = 2
    """Bad usage or configuration; the message names the flag, or the file and the key."""
    CRITICAL = 3
    """``status``: a critical alert fires (the last look's, with ``--watch``)."""
    ALERTING_BROKEN = 4
    """``status --check``: no alert can reach anyone: the Watchdog does not fire in Prometheus,
    or its heartbeat has not reached the receiver for two heartbeat intervals (it wins over
    ``CRITICAL``: a critical alert that fires then reaches nobody). Plain ``status`` shows it
    without this exit status."""
