"""``plexichat-obs status``: find Prometheus and the thresholds, look, show, set the exit status.

Without ``--prometheus``, the Prometheus of the ``up`` running from ``--dir`` is asked (and its
profile and time scale apply), else ``http://127.0.0.1:9090`` with the guide's table. Exit
status (:class:`~plexichat.exit_code.ExitCode`): ``OK``; ``CRITICAL`` while a critical alert
fires; ``FAILURE`` when Prometheus cannot be asked. With ``--watch S`` it looks again every S
seconds until SIGINT (Ctrl-C) or SIGTERM, and exits with the status of the last look. Both
signals are handled explicitly: a process started in the background by a non-interactive
shell (a CI job, ``cmd &`` in a script) inherits SIGINT *ignored*, and Python then never
raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from rich.live import Live

from plexichat.catalog.model import JOB
from plexichat.exit_code import ExitCode
from plexichat.generate import Options, promql
from plexichat.stack import state as stack_state
from plexichat.stack import status_view, view
from plexichat.stack.layout import DEFAULT_DIR
from plexichat.stack.prometheus_api import PrometheusAPI, PrometheusError
from plexichat.stack.status import Status, collect

DEFAULT_PROMETHEUS = "http://127.0.0.1:9090"


@dataclass(frozen=True)
class StatusOptions:
    """What ``status`` was asked: which Prometheus (``None``: the running stack's), profile
    (``none``: the guide's table), job, ``--watch`` interval, JSON or not."""

    prometheus: str | None = None
    directory: Path = DEFAULT_DIR
    profile: str | None = None  # development | production | none; None: the stack's
    job: str = JOB
    watch_s: float | None = None
    json_output: bool = False


def generation_options(options: StatusOptions) -> tuple[str, Options]:
    """Prometheus' URL and the catalog options (profile, time scale) to read it with."""
    running = stack_state.locate(options.directory)
    url = options.prometheus or (running.prometheus_url if running else DEFAULT_PROMETHEUS)
    same_stack = running is not None and url.rstrip("/") == running.prometheus_url
    if options.profile is not None:
        profile = None if options.profile == "none" else options.profile
    else:
        profile = running.profile if running is not None and same_stack else None
    generated = Options.for_profile(profile, job=options.job)
    if running is not None and same_stack and running.time_scale != 1:
        min_window = 4 * promql.seconds(running.scrape_interval)
        generated = generated.scaled(running.time_scale, min_window_s=min_window)
    return url, generated


def exit_status(status: Status) -> ExitCode:
    """``CRITICAL`` while a critical alert fires, else ``OK``."""
    return ExitCode.CRITICAL if status.critical_firing else ExitCode.OK


def run_status(options: StatusOptions) -> int:
    """``plexichat-obs status``: look once (or every ``--watch`` seconds) and show; the exit
    status."""
    url, generated = generation_options(options)
    console = view.console()
    with PrometheusAPI(url) as api:
        if options.watch_s is None:
            try:
                status = collect(api, generated)
            except PrometheusError as exc:
                print(f"plexichat-obs status: {exc}", file=sys.stderr)
                return ExitCode.FAILURE
            if options.json_output:
                print(status_view.as_json(status))
            else:
                status_view.show(console, status)
            return exit_status(status)
        return _watch(api, generated, options, console.is_terminal and not options.json_output)


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


def _watch(api: PrometheusAPI, generated: Options, options: StatusOptions, live: bool) -> int:
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
                    status = collect(api, generated)
                    code = exit_status(status)
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
