"""``StackTarget``: the parameters of one deployment of the stack's Prometheus and Alertmanager.

The shipped targets (``COMPOSE``, ``HELM``) use the bundles' timing: scrape and evaluate every
15 s (the generated rules' windows assume it), Alertmanager's grouping at its documented
defaults. ``up_target`` makes ``plexichat-obs up``'s: loopback addresses, its state directory,
the local webhook receiver, a scrape every few seconds, and timing compressed by the stack's
time scale (never used for shipped files).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from plexichat.catalog.model import JOB
from plexichat.generate import promql
from plexichat.generate.dependencies import REDIS_EXPORTER_PORT
from plexichat.generate.node import NODE_EXPORTER_PORT
from plexichat.generate.postgres import POSTGRES_EXPORTER_PORT, SCRAPE_FLOOR_S
from plexichat.generate.stack.native_histograms import NativeHistograms, Version, for_release

RETENTION_TIME = "30d"
"""The guide's ``metrics.retention_period``."""
UP_RETENTION_SIZE = "1GB"
"""``up`` keeps its TSDB under ``.stack/`` on a workstation: a demo needs far less."""
BUNDLED_PROMETHEUS: Version = (3, 14, 0)
"""The Prometheus release the bundles pin (compose/.env ``PROMETHEUS_IMAGE``, the chart's
``prometheus.image.tag``; a test holds both to it): their configuration is this release's."""


@dataclass(frozen=True)
class Timing:
    """Prometheus' scrape and evaluation intervals and Alertmanager's notification timing, as
    Prometheus durations."""

    scrape_interval: str
    evaluation_interval: str
    group_wait: str  # how long a new alert group waits for more alerts before notifying
    group_interval: str  # how long before a changed group (new alert, resolved) notifies again
    repeat_interval: str  # how long before an unchanged firing group is notified again
    # How often the always-firing Watchdog is notified again: the period an external
    # dead-man's switch expects a heartbeat in (page when none came for a few of these).
    heartbeat_interval: str


SHIPPED_TIMING = Timing("15s", "15s", "30s", "5m", "4h", "1m")


@dataclass(frozen=True)
class StackTarget:
    """Where and how one stack runs Prometheus and Alertmanager.

    ``None`` means "left to the target's own mechanism": the chart fills the service targets
    (Kubernetes discovery or its Service), the Alertmanager address, the webhook and heartbeat
    URLs and the retention from its values (``templates/prometheus/configmap.yaml`` and friends).
    """

    name: str
    job: str
    timing: Timing
    environment: str | None
    rule_files: tuple[str, ...]
    service_targets: tuple[str, ...] | None
    prometheus_address: str  # host:port Prometheus scrapes itself at
    alertmanager_address: str | None
    webhook_url: str | None
    heartbeat_url: str | None  # where the Watchdog goes: an external dead-man's switch
    prometheus_config_file: str
    prometheus_storage: str
    alertmanager_config_file: str
    alertmanager_storage: str
    retention_time: str | None
    retention_size: str | None
    enable_lifecycle: bool  # POST /-/reload (and /-/quit): on where nothing restarts Prometheus
    prometheus_listen: str | None = None  # --web.listen-address; None: the default :9090
    query_lookback: str | None = None  # --query.lookback-delta; None: Prometheus' 5m
    alert_resend_delay: str | None = None  # --rules.alert.resend-delay; None: Prometheus' 1m
    alertmanager_listen: str | None = None
    # host:port of redis_exporter (job redis); None: no Redis, or the chart adds the job itself
    # (templates/prometheus/_config.tpl) when its values run Redis and the exporter.
    redis_exporter_address: str | None = None
    # host:port of postgres_exporter (job postgres); None: the service uses no PostgreSQL, or
    # the chart adds the job itself when its values give the service a database URL.
    postgres_exporter_address: str | None = None
    # host:port of node_exporter (job node); None: the target runs none (the default), or the
    # chart adds the job itself (pod discovery of its DaemonSet) when nodeExporter.enabled.
    node_exporter_address: str | None = None
    # True: the optional exporters' jobs (postgres, node) find their target in a file beside
    # the configuration, <job>.targets.yaml, which only the source's Compose override mounts
    # (file_sd: a missing file is no target and no error), so the overrides add up instead of
    # each replacing prometheus.yml; their addresses above are what those files say.
    optional_targets_from_files: bool = False
    # Not None: the service's job stores its native histograms, as this row of the version
    # table says for the target's Prometheus (native_histograms.py: the job's keys, the feature
    # flag, whether the classic series stay); the bundles' pinned release, or the one `up`
    # runs with --native-histograms. None: text and classic series only (up's default).
    native_histograms: NativeHistograms | None = None


COMPOSE = StackTarget(
    name="compose",
    job=JOB,
    timing=SHIPPED_TIMING,
    environment="compose",
    # optional/: where a source's Compose override mounts its rule file (the rules/ mount is
    # read-only; a glob matching nothing is no error).
    rule_files=("rules/*.yaml", "optional/*.yaml"),
    service_targets=("plexichat:8000",),
    prometheus_address="localhost:9090",
    alertmanager_address="alertmanager:9093",
    webhook_url="http://receiver:9095/alerts",
    # The local receiver logs the heartbeat; point it at a dead-man's switch in an override.
    heartbeat_url="http://receiver:9095/watchdog",
    prometheus_config_file="/etc/prometheus/prometheus.yml",
    prometheus_storage="/prometheus",
    alertmanager_config_file="/etc/alertmanager/alertmanager.yml",
    alertmanager_storage="/alertmanager",
    retention_time=RETENTION_TIME,
    # The size cap is a deployment's choice: compose/.env holds it.
    retention_size="${PROMETHEUS_RETENTION_SIZE:?set in compose/.env}",
    enable_lifecycle=True,
    redis_exporter_address=f"redis-exporter:{REDIS_EXPORTER_PORT}",
    # docker-compose.postgres.yml and docker-compose.node.yml run these and mount their
    # targets files (compose/prometheus/<job>.targets.yaml).
    postgres_exporter_address=f"postgres-exporter:{POSTGRES_EXPORTER_PORT}",
    node_exporter_address=f"node-exporter:{NODE_EXPORTER_PORT}",
    optional_targets_from_files=True,
    native_histograms=for_release(BUNDLED_PROMETHEUS),
)

HELM = StackTarget(
    name="helm",
    job=JOB,
    timing=SHIPPED_TIMING,
    environment=None,
    rule_files=("rules/*.yaml",),
    service_targets=None,
    prometheus_address="localhost:9090",
    alertmanager_address=None,
    webhook_url=None,
    heartbeat_url=None,
    prometheus_config_file="/etc/prometheus/prometheus.yml",
    prometheus_storage="/prometheus",
    alertmanager_config_file="/etc/alertmanager/alertmanager.yml",
    alertmanager_storage="/alertmanager",
    retention_time=None,
    retention_size=None,
    # Config changes roll the pod (checksum/config): no unauthenticated /-/quit in a cluster.
    enable_lifecycle=False,
    native_histograms=for_release(BUNDLED_PROMETHEUS),
)


def _clamp(duration: str, scale: float, low_s: float, high_s: float) -> str:
    return promql.duration(min(max(promql.seconds(duration) * scale, low_s), high_s))


def up_timing(time_scale: float) -> Timing:
    """``up``'s timing: a scrape every 5 s (1 s when time is compressed), notifications within
    seconds rather than minutes, everything scaled by ``time_scale`` within sane bounds."""
    scrape = _clamp(SHIPPED_TIMING.scrape_interval, time_scale, 1, 5)
    return Timing(
        scrape_interval=scrape,
        evaluation_interval=scrape,
        group_wait=_clamp(SHIPPED_TIMING.group_wait, time_scale, 1, 10),
        group_interval=_clamp(SHIPPED_TIMING.group_interval, time_scale, 2, 60),
        repeat_interval=_clamp(SHIPPED_TIMING.repeat_interval, time_scale, 60, 4 * 3600),
        # At least 10 s: the receiver echoes every heartbeat into up's output.
        heartbeat_interval=_clamp(SHIPPED_TIMING.heartbeat_interval, time_scale, 10, 60),
    )


def up_lookback(time_scale: float) -> str | None:
    """How far back an instant query looks for a series' last sample, under the time scale.

    Prometheus keeps answering with a series' last sample for 5 minutes unless a staleness
    marker ends it sooner; a target whose last scrape failed just as its job was removed is
    such a series (``up == 0`` for 5 minutes). A stack running F times faster looks back F
    times less, but at least four scrapes."""
    if time_scale == 1:
        return None
    scrape = promql.seconds(up_timing(time_scale).scrape_interval)
    return promql.duration(max(300 * time_scale, 4 * scrape))


def up_min_window_s(scrape_interval: str, postgres: bool) -> float:
    """The shortest rule window of ``up`` under a compressed time scale: four scrapes of its
    slowest job, so that every rate and increase sees several samples.

    Job ``postgres`` (when ``postgres``) is never scraped more often than ``SCRAPE_FLOOR_S``:
    four of up's 1 s scrapes held two of its samples, and one deadlock kept
    ``PostgresDeadlocks``' increase above 0 for about 2 s -- it fired in Prometheus and was
    resolved before Alertmanager's group wait ended, so no receiver ever heard of it. The
    ``up`` status command reads with the same window (the stack state's scrape interval, and
    ``postgres_exporter`` among its components)."""
    scrape = promql.seconds(scrape_interval)
    return 4 * (max(scrape, SCRAPE_FLOOR_S) if postgres else scrape)


def up_resend_delay(time_scale: float) -> str | None:
    """How often Prometheus re-sends a firing (or just resolved) alert to Alertmanager, under
    the time scale.

    Prometheus sends an alert when it changes, then again every minute; only that re-send
    makes good a send that failed or found no Alertmanager (none is known for up to 5 s after
    every ``/-/reload``, while discovery settles). A stack running F times faster re-sends F
    times sooner, at most once an evaluation: at scale 0.01 every second, so a resolution
    dropped after a reload arrives a second late instead of a minute, and an Alertmanager
    that refuses fails often enough for ``PrometheusNotificationErrors``' scaled window. The
    price: Alertmanager forgets an alert not re-sent for 4 re-send delays (4 s here, less
    than a reload's 5 s) and then hears of it again as new."""
    if time_scale == 1:
        return None
    evaluation = promql.seconds(up_timing(time_scale).evaluation_interval)
    return promql.duration(max(60 * time_scale, evaluation))


def up_target(
    root: Path,
    ports: dict[str, int],
    time_scale: float = 1.0,
    native_histograms: NativeHistograms | None = None,
) -> StackTarget:
    """``plexichat-obs up``'s target: everything on 127.0.0.1, state under ``root``; with job
    ``postgres`` when ``ports`` has one for ``postgres_exporter`` (``up`` gives it one only
    when the service uses PostgreSQL), with job ``node`` when it has one for ``node_exporter``
    (only with ``--node-exporter``); the service's native histograms stored as
    ``native_histograms`` says (``--native-histograms``: the row of the Prometheus it runs)."""
    host = "127.0.0.1"
    postgres = ports.get("postgres_exporter")
    node = ports.get("node_exporter")
    return StackTarget(
        name="up",
        job=JOB,
        timing=up_timing(time_scale),
        environment="up",
        rule_files=(str(root / "prometheus" / "rules" / "*.yaml"),),
        service_targets=(f"{host}:{ports['service']}",),
        prometheus_address=f"{host}:{ports['prometheus']}",
        alertmanager_address=f"{host}:{ports['alertmanager']}",
        webhook_url=f"http://{host}:{ports['receiver']}/alerts",
        heartbeat_url=f"http://{host}:{ports['receiver']}/watchdog",
        prometheus_config_file=str(root / "prometheus" / "prometheus.yml"),
        prometheus_storage=str(root / "prometheus" / "data"),
        alertmanager_config_file=str(root / "alertmanager" / "alertmanager.yml"),
        alertmanager_storage=str(root / "alertmanager" / "data"),
        retention_time=RETENTION_TIME,
        retention_size=UP_RETENTION_SIZE,
        enable_lifecycle=True,
        prometheus_listen=f"{host}:{ports['prometheus']}",
        query_lookback=up_lookback(time_scale),
        alert_resend_delay=up_resend_delay(time_scale),
        alertmanager_listen=f"{host}:{ports['alertmanager']}",
        redis_exporter_address=f"{host}:{ports['redis_exporter']}",
        postgres_exporter_address=f"{host}:{postgres}" if postgres is not None else None,
        node_exporter_address=f"{host}:{node}" if node is not None else None,
        native_histograms=native_histograms,
    )
