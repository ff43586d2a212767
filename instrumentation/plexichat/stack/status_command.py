"""``plexichat-obs status``: find Prometheus, the thresholds and the receiver, look, show, set
the exit status.

Without ``--prometheus``, the Prometheus of the ``up`` running from ``--dir`` is asked (and its
profile and time scale apply), else ``http://127.0.0.1:9090`` with the guide's table. The
heartbeat (``plexichat.stack.heartbeat``) is read from ``--receiver URL``, else from the
receiver of that same ``up``, every heartbeat interval of ``up``'s timing at its time scale
(the bundles' 1m for any other stack); with neither, its delivery is not checked. Exit status
(:class:`~plexichat.exit_code.ExitCode`): ``OK``; ``CRITICAL`` while a critical alert fires;
``FAILURE`` when Prometheus cannot be asked. A late heartbeat is shown loudly but keeps that
status: ``--check``, the monitoring probe's mode, exits ``ALERTING_BROKEN`` when the Watchdog
does not fire or its heartbeat is late, and ``FAILURE`` when the receiver cannot be asked
(before ``CRITICAL``: a critical alert that fires while alerting is broken reaches nobody).
With ``--watch S`` it looks again every S seconds until SIGINT (Ctrl-C) or SIGTERM, and exits
with the status of the last look. Both signals are handled explicitly: a process started in
the background by a non-interactive shell (a CI job, ``cmd &`` in a script) inherits SIGINT
*ignored*, and Python then never raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from rich.live import Live

from plexichat.catalog.model import JOB
from plexichat.exit_code import ExitCode
from plexichat.generate import Options, promql
from plexichat.generate.stack.targets import SHIPPED_TIMING, up_min_window_s, up_timing
from plexichat.stack import heartbeat, status_view, view
from plexichat.stack import state as stack_state
from plexichat.stack.layout import DEFAULT_DIR
from plexichat.stack.prometheus_api import PrometheusAPI, PrometheusError
from plexichat.stack.state import StackState
from plexichat.stack.status import Status, collect

DEFAULT_PROMETHEUS = "http://127.0.0.1:9090"


@dataclass(frozen=True)
class StatusOptions:
    """What ``status`` was asked: which Prometheus (``None``: the running stack's), profile
    (``none``: the guide's table), job, receiver (``None``: the running stack's), ``--watch``
    interval, ``--check`` or not, JSON or not."""

    prometheus: str | None = None
    directory: Path = DEFAULT_DIR
    profile: str | None = None  # development | production | none; None: the stack's
    job: str = JOB
    receiver: str | None = None  # base URL answering GET /arrivals
    watch_s: float | None = None
    check: bool = False
    json_output: bool = False


def _prometheus(options: StatusOptions) -> tuple[str, StackState | None]:
    """Prometheus' URL, and the running ``up`` it belongs to (``None``: none)."""
    running = stack_state.locate(options.directory)
    url = options.prometheus or (running.prometheus_url if running else DEFAULT_PROMETHEUS)
    same_stack = running is not None and url.rstrip("/") == running.prometheus_url
    return url, running if same_stack else None


def generation_options(options: StatusOptions) -> tuple[str, Options]:
    """Prometheus' URL and the catalog options (profile, time scale) to read it with."""
    url, running = _prometheus(options)
    if options.profile is not None:
        profile = None if options.profile == "none" else options.profile
    else:
        profile = running.profile if running is not None else None
    generated = Options.for_profile(profile, job=options.job)
    if running is not None and running.time_scale != 1:
        postgres = "postgres_exporter" in running.components
        min_window = up_min_window_s(running.scrape_interval, postgres)
        generated = generated.scaled(running.time_scale, min_window_s=min_window)
    return url, generated


def heartbeat_source(options: StatusOptions) -> tuple[str | None, float]:
    """The receiver's base URL to ask for the heartbeat (``None``: none to ask) and the
    heartbeat interval in seconds (``up``'s at its time scale, else the bundles')."""
    _, running = _prometheus(options)
    timing = up_timing(running.time_scale) if running is not None else SHIPPED_TIMING
    receiver = options.receiver
    if receiver is None and running is not None and "receiver" in running.components:
        url = urlsplit(running.components["receiver"].url or "")
        receiver = f"{url.scheme}://{url.netloc}" if url.netloc else None
    return receiver, promql.seconds(timing.heartbeat_interval)


def look(api: PrometheusAPI, generated: Options, receiver: str | None, interval_s: float) -> Status:
    """One look at Prometheus, then at ``receiver`` for the heartbeat every ``interval_s``."""
    status = collect(api, generated)
    beat = heartbeat.check(receiver, interval_s, status.watchdog_since)
    return replace(status, heartbeat=beat)


def exit_status(status: Status, check: bool = False) -> ExitCode:
    """``CRITICAL`` while a critical alert fires, else ``OK``; with ``check``, first
    ``ALERTING_BROKEN`` when alerting is, ``FAILURE`` when the receiver cannot be asked."""
    if check and status.alerting_broken:
        return ExitCode.ALERTING_BROKEN
    if check and status.heartbeat.unreachable:
        return ExitCode.FAILURE
    return ExitCode.CRITICAL if status.critical_firing else ExitCode.OK


def run_status(options: StatusOptions) -> int:
    """``plexichat-obs status``: look once (or every ``--watch`` seconds) and show; the exit
    status."""
    url, generated = generation_options(options)
    receiver, interval_s = heartbeat_source(options)
    console = view.console()
    with PrometheusAPI(url) as api:
        once = functools.partial(look, api, generated, receiver, interval_s)
        if options.watch_s is None:
            try:
                status = once()
            except PrometheusError as exc:
                print(f"plexichat-obs status: {exc}", file=sys.stderr)
                return ExitCode.FAILURE
            if options.json_output:
                print(status_view.as_json(status))
            else:
                status_view.show(console, status)
            return exit_status(status, options.check)
        return _watch(once, options, console.is_terminal and not options.json_output)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``KeyboardInterrupt`` inside, whatever was inherited."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _watch(once: Callable[[], Status], options: StatusOptions, live: bool) -> int:
    assert options.watch_s is not None
    code = ExitCode.OK
    console = view.console()
    display = Live(console=console, auto_refresh=False) if live else None
    try:
        with _stopped_by_signals():
            if display is not None:
                display.start()
            while True:
                try:
                    status = once()
                    code = exit_status(status, options.check)
                    if display is not None:
                        display.update(status_view.render(status, plain=False), refresh=True)
                    elif options.json_output:
                        print(status_view.as_json(status).replace("\n", ""), flush=True)
                    else:
                        status_view.show(console, status)
                        console.print()
                except PrometheusError as exc:
                    code = ExitCode.FAILURE
                    print(f"plexichat-obs status: {exc}", file=sys.stderr, flush=True)
                time.sleep(options.watch_s)
    except KeyboardInterrupt:
        return code
    finally:
        if display is not None:
            display.stop()
