"""``plexichat-obs up``: the whole stack as child processes, from the shipped configuration.

``Supervisor.run`` checks the programs and ports first (a missing one is one line naming its
Debian package), takes the state directory's lock (a second ``up`` is refused), writes the
Prometheus and Alertmanager configuration of the ``up`` target and the rules of the profile,
and when the service's settings give it a PostgreSQL URL (``service.database_url``, read as
the service reads it: ``PLEXICHAT_SERVICE__DATABASE_URL``) ``postgres_exporter``'s data source
files, which the exporter alone reads (job ``postgres`` is in the configuration only then;
likewise ``node_exporter`` and job ``node`` only with ``--node-exporter``; with
``--native-histograms`` it reads the release of the ``prometheus`` on PATH first, and the
service's job stores native histograms as that release can, ``native_histograms.RELEASES``),
starts each component in order and waits until it is healthy, prints what runs where, then
streams the webhook receiver's notifications. Ctrl-C or SIGTERM (or a child that dies, except
Redis: the service survives it, degraded, and ``RedisDown`` says so) stops everything in
reverse order: SIGTERM, SIGKILL after 10 s, then checks that no port is left bound.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

import yaml
from rich.console import Console

from plexichat.config import ConfigError, load_settings
from plexichat.config.faults import FaultsConfig
from plexichat.exit_code import ExitCode
from plexichat.generate import Options
from plexichat.generate.node import NODE_JOB
from plexichat.generate.postgres import POSTGRES_JOB
from plexichat.generate.stack import alertmanager as alertmanager_config
from plexichat.generate.stack import prometheus as prometheus_config
from plexichat.generate.stack.native_histograms import (
    NativeHistograms,
    UnsupportedPrometheusError,
    Version,
    dotted,
    for_release,
)
from plexichat.generate.stack.targets import StackTarget, up_min_window_s, up_target
from plexichat.generate.writer import rule_texts
from plexichat.stack import components, ports, view
from plexichat.stack.binaries import (
    BINARIES,
    MissingBinaryError,
    VersionError,
    locate_all,
    release,
)
from plexichat.stack.components import Component
from plexichat.stack.layout import DEFAULT_DIR, StackDir
from plexichat.stack.notifications import Notification
from plexichat.stack.postgres_source import DataSource, DataSourceError
from plexichat.stack.process import StartError
from plexichat.stack.state import AlreadyRunningError, ComponentState, StackLock, StackState
from plexichat.stack.state import write as write_state

POLL_S = 0.25
WRITTEN_BY = "# Written by `plexichat-obs up` from plexichat.generate.stack (the compose and helm\n"
WRITTEN_BY += "# bundles' files come from the same code); rewritten at every start.\n"


@dataclass(frozen=True)
class UpOptions:
    """What ``up`` was asked: state directory, profile, traffic (req/s and identities), fault,
    time scale, ports, whether to watch the host with node_exporter, and whether the service's
    job stores native histograms."""

    directory: Path = DEFAULT_DIR
    profile: str | None = "development"
    traffic_rps: float | None = None
    identities: int | None = None
    fault: str | None = None
    time_scale: float = 1.0
    ports: str | None = None
    node_exporter: bool = False
    native_histograms: bool = False


class _Stop(Exception):  # noqa: N818 (a signal, not an error)
    """Raised from the signal handler: stop the stack."""


def _dump(document: dict[str, Any]) -> str:
    return WRITTEN_BY + yaml.safe_dump(document, sort_keys=False, width=1000)


class Supervisor:
    """Starts the stack's components in order, watches them, and stops them in reverse (see the
    module docstring)."""

    def __init__(self, options: UpOptions, out: TextIO | None = None) -> None:
        self.options = options
        self.stack = StackDir(options.directory)
        self.console: Console = view.console(out)
        self.started: list[Component] = []
        self.ports: dict[str, int] = {}
        self.stopping = False
        self.gone: set[str] = set()  # survivable components that have exited
        self.postgres: DataSource | None = None  # the service's PostgreSQL, if it uses one
        self.prometheus_release: Version | None = None  # read with --native-histograms only

    def say(self, message: str, style: str = "") -> None:
        """Print a progress line."""
        self.console.print(message, style=style or None, markup=False)

    def error(self, message: str) -> None:
        """Print an error line, prefixed with the command's name."""
        self.console.print(f"plexichat-obs up: {message}", style="bold red", markup=False)

    # --- preparation -------------------------------------------------------------------

    def _check_fault(self) -> None:
        if self.options.fault is None:
            return
        if self.options.profile == "production":
            raise ConfigError(
                "--fault", "fault injection is refused under the 'production' profile"
            )
        FaultsConfig().with_spec(self.options.fault, "--fault")

    def _postgres(self) -> DataSource | None:
        """The service's PostgreSQL, from the settings it will load (its profile, up's
        environment); ``None`` when it uses SQLite."""
        environ = {k: v for k, v in os.environ.items() if k != "PLEXICHAT_PROFILE"}
        settings = load_settings(profile=self.options.profile, environ=environ)
        return DataSource.from_url(settings.service.database_url)

    @property
    def optional_sources(self) -> frozenset[str]:
        """The optional watched sources this stack runs: ``postgres`` when the service uses
        PostgreSQL, ``node`` with ``--node-exporter``."""
        jobs = {POSTGRES_JOB} if self.postgres is not None else set()
        return frozenset(jobs | ({NODE_JOB} if self.options.node_exporter else set()))

    def _native_histograms(self, prometheus: str) -> NativeHistograms | None:
        """What the service's job needs to store native histograms on the ``prometheus`` that
        runs (``None`` without ``--native-histograms``); ``VersionError`` when its release
        cannot be read, ``UnsupportedPrometheusError`` when it has none."""
        if not self.options.native_histograms:
            return None
        self.prometheus_release = release(prometheus)
        try:
            return for_release(self.prometheus_release)
        except UnsupportedPrometheusError as exc:
            raise UnsupportedPrometheusError(
                f"{prometheus}: {exc}; put a newer prometheus first on PATH, or run up "
                "without --native-histograms"
            ) from None

    def _warn_classic_dropped(self, histograms: NativeHistograms | None) -> None:
        if histograms is None or histograms.keeps_classic:
            return
        assert self.prometheus_release is not None
        self.say(
            f"warning: Prometheus {dotted(self.prometheus_release)} keeps only the native "
            "histogram of a histogram that has one, so the classic _bucket, _count and _sum "
            "series of the service's duration histograms and their exemplars are not stored; "
            "the rules and dashboards read the native histograms (Prometheus 2.45 or later "
            "keeps both)",
            "yellow",
        )

    def _needs(self, binary: str) -> bool:
        """Whether this stack runs ``binary`` (the optional exporters only when watched)."""
        if binary == "postgres_exporter":
            return self.postgres is not None
        if binary == "node_exporter":
            return self.options.node_exporter
        return True

    def _rules(self, target: StackTarget) -> Options:
        watches_postgres = target.postgres_exporter_address is not None
        options = Options.for_profile(self.options.profile)
        if self.optional_sources:  # PostgreSQL's, the host's rules only where watched
            options = options.with_sources(self.optional_sources)
        window_s = up_min_window_s(target.timing.scrape_interval, watches_postgres)
        return options.scaled(self.options.time_scale, min_window_s=window_s)

    def _write_configuration(self, target: StackTarget) -> None:
        prometheus_dir = self.stack.component("prometheus")
        (prometheus_dir / "prometheus.yml").write_text(_dump(prometheus_config.config(target)))
        rules_dir = prometheus_dir / "rules"
        texts = rule_texts(self._rules(target))
        for stale in rules_dir.glob("*.yaml"):
            if stale.name not in texts:
                stale.unlink()
        for name, text in texts.items():
            (rules_dir / name).write_text(text, encoding="utf-8")
        (self.stack.component("alertmanager") / "alertmanager.yml").write_text(
            _dump(alertmanager_config.config(target))
        )
        self.stack.fault.write_text((self.options.fault or "off") + "\n", encoding="utf-8")
        self.stack.notifications.touch()
        if self.postgres is not None:
            exporter = self.stack.component("postgres_exporter")
            exporter.mkdir(mode=0o700, exist_ok=True)
            exporter.chmod(0o700)  # the password file is for the exporter, run as up's user
            self.postgres.write(exporter / "source")

    def _components(self, binaries: dict[str, str], target: StackTarget) -> list[Component]:
        p, s = self.ports, self.stack
        traffic = self.options.traffic_rps is not None
        chosen = [
            components.redis(binaries["redis"], s, p["redis"]),
            components.redis_exporter(
                binaries["redis_exporter"], s, p["redis"], p["redis_exporter"]
            ),
        ]
        if self.postgres is not None:
            chosen.append(
                components.postgres_exporter(
                    binaries["postgres_exporter"],
                    s,
                    p["postgres_exporter"],
                    s.component("postgres_exporter") / "source",
                )
            )
        if self.options.node_exporter:
            chosen.append(
                components.node_exporter(binaries["node_exporter"], s, p["node_exporter"])
            )
        chosen += [
            components.service(s, p, profile=self.options.profile, traffic=traffic),
            components.receiver(s, p["receiver"]),
            components.alertmanager(
                binaries["alertmanager"], s, p["alertmanager"], alertmanager_config.flags(target)
            ),
            components.prometheus(
                binaries["prometheus"], s, p["prometheus"], prometheus_config.flags(target)
            ),
        ]
        if self.options.traffic_rps is not None:
            rps = self.options.traffic_rps
            identities = self.options.identities or components.identities_for(rps)
            url = f"http://{ports.HOST}:{p['service']}"
            chosen.append(components.loadgen(s, url, rps, identities))
        return chosen

    # --- life cycle ----------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stopping:
            return
        self.stopping = True
        raise _Stop

    def run(self) -> int:
        """Run the stack until Ctrl-C, SIGTERM or a component's death; the exit status (0, 1
        failure, 2 bad usage)."""
        try:
            self.postgres = self._postgres()
            needed = [name for name in BINARIES if self._needs(name)]
            binaries = locate_all(needed)
            histograms = self._native_histograms(binaries["prometheus"])
            self._check_fault()
            requested = ports.parse(self.options.ports)
        except (MissingBinaryError, VersionError, UnsupportedPrometheusError) as exc:
            self.error(str(exc))
            return ExitCode.FAILURE
        except (ConfigError, DataSourceError, ports.PortError) as exc:
            self.error(str(exc))
            return ExitCode.USAGE
        if self.postgres is None:  # no exporter: no port for it, no job postgres
            requested.pop("postgres_exporter")
        if not self.options.node_exporter:  # likewise node_exporter and job node
            requested.pop("node_exporter")
        lock = StackLock(self.stack)
        try:
            lock.acquire()
        except AlreadyRunningError as exc:
            self.error(str(exc))
            return ExitCode.FAILURE
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        try:
            self._warn_classic_dropped(histograms)
            return self._run(binaries, requested, histograms)
        except _Stop:
            return ExitCode.OK
        finally:
            self.stopping = True
            self._stop_all()
            lock.release()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _run(
        self,
        binaries: dict[str, str],
        requested: dict[str, int],
        histograms: NativeHistograms | None,
    ) -> int:
        try:
            self.ports = ports.resolve(requested)
        except ports.PortError as exc:
            self.error(str(exc))
            return ExitCode.USAGE
        self.stack.create()
        root = self.stack.root.resolve()
        target = up_target(root, self.ports, self.options.time_scale, histograms)
        self._write_configuration(target)
        chosen = self._components(binaries, target)
        try:
            for component in chosen:
                self.say(f"starting {component.name} ...")
                component.child.start()
                self.started.append(component)
                took = component.child.wait_ready(
                    component.ready, component.timeout_s, component.ready_what
                )
                self.say(f"  {component.name} {component.ready_what} in {took:.1f} s")
        except StartError as exc:
            self.error(str(exc))
            return ExitCode.FAILURE
        state = self._state(target)
        write_state(self.stack, state)
        self._print_started(state)
        return self._stream()

    def _state(self, target: StackTarget) -> StackState:
        def url(name: str) -> str:
            return f"http://{ports.HOST}:{self.ports[name]}"

        return StackState(
            pid=os.getpid(),
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            directory=str(self.stack.root.resolve()),
            profile=self.options.profile,
            time_scale=self.options.time_scale,
            scrape_interval=target.timing.scrape_interval,
            prometheus_url=url("prometheus"),
            alertmanager_url=url("alertmanager"),
            service_url=url("service"),
            native_histograms=target.native_histograms is not None,
            classic_histograms=target.native_histograms is None
            or target.native_histograms.keeps_classic,
            prometheus_version=None
            if self.prometheus_release is None
            else dotted(self.prometheus_release),
            components={
                c.name: ComponentState(
                    pid=c.child.pid,
                    url=c.url,
                    log=str(c.child.log),
                    data=str(c.data) if c.data is not None else None,
                )
                for c in self.started
            },
        )

    def _print_started(self, state: StackState) -> None:
        plain = not self.console.is_terminal
        profile = state.profile or "none (the guide's table)"
        self.say("")
        self.say(f"PlexiChat stack is up: profile {profile}; Ctrl-C stops it.", "bold")
        self.console.print(view.startup_table(state, plain))
        if state.time_scale != 1:
            self.say(
                f"Time scale {state.time_scale:g}: every for: and rule window is multiplied by "
                f"{state.time_scale:g} (rules in {self.stack.component('prometheus')}/rules; "
                "shipped rules never are), scrapes every "
                f"{state.scrape_interval}.",
                "yellow",
            )
        if state.native_histograms:
            self.say(view.native_histograms(state))
        if self.options.traffic_rps is None:
            self.say("Traffic: none (--traffic RPS runs the load generator).")
        if self.options.profile != "production":
            fault = self.options.fault or "none"
            self.say(
                f"Faults: {fault}; change them while it runs with `plexichat-obs fault SPEC` "
                f"(or `plexichat-obs fault off`), which writes {self.stack.fault}."
            )
        self.say(
            "Grafana is not packaged for Debian, so the dashboards need "
            "`docker compose -f compose/docker-compose.yml up`. Here: `plexichat-obs status` "
            "shows the guide's table live, `plexichat-obs snapshot --out DIR` draws every "
            "dashboard as a PNG."
        )
        self.say(f"Notifications (also in {self.stack.notifications}):", "bold")

    def _stream(self) -> int:
        with self.stack.notifications.open("r", encoding="utf-8") as feed:
            feed.seek(0, 2)
            pending = ""
            while True:
                pending += feed.read()
                *lines, pending = pending.split("\n")
                for line in lines:
                    if line.strip():
                        self.console.print(view.notification(Notification.from_json(line)))
                failed = self._check_children()
                if failed is not None:
                    return failed
                time.sleep(POLL_S)

    def _check_children(self) -> int | None:
        for component in self.started:
            status = component.child.poll()
            if status is None:
                continue
            if component.restart_on_success and status == 0:
                self.say(f"{component.name}: segment finished, starting the next one")
                component.child.start()
                continue
            if component.survivable is not None:
                if component.name not in self.gone:
                    self.gone.add(component.name)
                    self.error(
                        f"{component.name} exited with status {status} (log "
                        f"{component.child.log}); the stack keeps running: "
                        f"{component.survivable}"
                    )
                continue
            self.error(
                f"{component.name} exited with status {status} (log {component.child.log}); "
                "stopping the stack"
            )
            return ExitCode.FAILURE
        return None

    def _stop_all(self) -> None:
        if not self.started:
            return
        self.say("stopping ...")
        for component in reversed(self.started):
            how = component.child.stop()
            self.say(f"  {component.name} (PID {component.child.pid}) {how}")
        self.started.clear()
        deadline = time.monotonic() + 5
        left = [name for name, port in self.ports.items() if ports.bound(port)]
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [name for name, port in self.ports.items() if ports.bound(port)]
        for name in left:
            self.error(f"port {self.ports[name]} ({name}) is still bound after the stop")
        if not left:
            self.say("stopped; no process of the stack is left and its ports are free")


def up(options: UpOptions, out: TextIO | None = None) -> int:
    """``plexichat-obs up`` with ``options``, printing to ``out``; the exit status."""
    return Supervisor(options, out).run()
