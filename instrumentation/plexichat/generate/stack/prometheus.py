"""Prometheus' configuration file and command-line flags, as data, for one ``StackTarget``.

The scrape job of the service is the rules' job (``plexichat``), with a ``service`` label set by
relabelling (the same for static targets and the chart's Kubernetes discovery, which prepends
its own relabelling). Where the target says so (the bundles, ``up --native-histograms``), that
job also stores the service's native histograms, and keeps their classic series where its
Prometheus can (:func:`_service_job`).
Prometheus scrapes itself and Alertmanager too, so their health is in the
same TSDB, ``redis_exporter`` (job ``redis``) where the target runs Redis and
``postgres_exporter`` (job ``postgres``, never scraped more often than ``SCRAPE_FLOOR_S``) where
its service uses PostgreSQL, ``node_exporter`` (job ``node``) where it runs one -- in Compose
from a targets file beside the configuration that only the source's override mounts
(:func:`targets_file`). Flags: where the configuration and the TSDB are, the retention (the
guide's ``metrics.retention_period``, or a size cap, whichever comes first: a full disk
crash-loops Prometheus), exemplar storage (the trace ids the service puts on latency buckets),
the native histograms' feature flag where the target's Prometheus needs it (before 3.8), and
where nothing else restarts Prometheus, ``--web.enable-lifecycle`` so a changed
configuration or rule file is picked up with ``POST /-/reload``, and under ``up``'s time scale a
look-back and an alert re-send delay as much shorter as its time runs faster.
"""

from __future__ import annotations

from typing import Any

from plexichat.generate import promql
from plexichat.generate.dependencies import REDIS_JOB
from plexichat.generate.node import NODE_JOB
from plexichat.generate.postgres import POSTGRES_JOB, SCRAPE_FLOOR_S
from plexichat.generate.stack.native_histograms import FEATURE_FLAG
from plexichat.generate.stack.targets import StackTarget
from plexichat.generate.watchers import ALERTMANAGER_JOB, PROMETHEUS_JOB

SERVICE_LABEL = "service"


def _service_job(target: StackTarget) -> dict[str, Any]:
    """The service's job. Where ``target.native_histograms`` is set, it stores the native
    histograms of the service's duration histograms and, from Prometheus 2.45 on, keeps their
    classic ``_bucket``/``_count``/``_sum`` series, with the exemplars on the classic buckets:
    the keys (and before 3.8 the feature flag, :func:`flags`) are that row's of
    ``native_histograms.RELEASES``. On this job only, not in ``global``: the native buckets we
    emit are the ones the catalog chose and a test scrapes
    (``tests/e2e/test_prometheus3_histograms.py``), the exporters' and Prometheus' own
    histograms stay as the rules read them (classic), and in the chart's operator mode the same
    settings are the ServiceMonitor's, as global ones are not ours to set there
    (``templates/operator/servicemonitor.yaml``)."""
    job: dict[str, Any] = {"job_name": target.job, "metrics_path": "/metrics"}
    if target.native_histograms is not None:
        job |= target.native_histograms.job
    if target.service_targets is not None:
        job["static_configs"] = [{"targets": list(target.service_targets)}]
    job["relabel_configs"] = [{"target_label": SERVICE_LABEL, "replacement": target.job}]
    return job


OPTIONAL_JOBS = (POSTGRES_JOB, NODE_JOB)
"""The exporters' jobs a target may run or not (``StackTarget.optional_targets_from_files``)."""


def targets_file(job: str) -> str:
    """The file, beside the configuration, an optional job reads its target from."""
    return f"{job}.targets.yaml"


def targets(job: str, address: str) -> list[dict[str, Any]]:
    """The content of ``targets_file(job)``: file_sd's list of target groups."""
    return [{"targets": [address]}]


def _exporter_job(job: str, address: str, target: StackTarget) -> dict[str, Any]:
    entry: dict[str, Any] = {"job_name": job}
    if job == POSTGRES_JOB and promql.seconds(target.timing.scrape_interval) < SCRAPE_FLOOR_S:
        floor = promql.duration(SCRAPE_FLOOR_S)
        entry |= {"scrape_interval": floor, "scrape_timeout": floor}
    if target.optional_targets_from_files and job in OPTIONAL_JOBS:
        entry["file_sd_configs"] = [{"files": [targets_file(job)]}]
    else:
        entry["static_configs"] = [{"targets": [address]}]
    return entry


def config(target: StackTarget) -> dict[str, Any]:
    """``prometheus.yml`` for ``target``, as data: global timing, rule files, Alertmanager and
    the scrape jobs."""
    timing = target.timing
    global_: dict[str, Any] = {
        "scrape_interval": timing.scrape_interval,
        "evaluation_interval": timing.evaluation_interval,
    }
    if target.environment is not None:
        global_["external_labels"] = {"environment": target.environment}
    document: dict[str, Any] = {"global": global_, "rule_files": list(target.rule_files)}
    if target.alertmanager_address is not None:
        document["alerting"] = {
            "alertmanagers": [{"static_configs": [{"targets": [target.alertmanager_address]}]}]
        }
    scrape = [
        _service_job(target),
        {"job_name": PROMETHEUS_JOB, "static_configs": [{"targets": [target.prometheus_address]}]},
    ]
    if target.alertmanager_address is not None:
        scrape.append(
            {
                "job_name": ALERTMANAGER_JOB,
                "static_configs": [{"targets": [target.alertmanager_address]}],
            }
        )
    exporters = (
        (REDIS_JOB, target.redis_exporter_address),
        (POSTGRES_JOB, target.postgres_exporter_address),
        (NODE_JOB, target.node_exporter_address),
    )
    for job, address in exporters:
        if address is not None:
            scrape.append(_exporter_job(job, address, target))
    document["scrape_configs"] = scrape
    return document


def flags(target: StackTarget) -> list[str]:
    """Prometheus' command-line flags for ``target`` (see the module docstring)."""
    args = [
        f"--config.file={target.prometheus_config_file}",
        f"--storage.tsdb.path={target.prometheus_storage}",
    ]
    if target.retention_time is not None:
        args.append(f"--storage.tsdb.retention.time={target.retention_time}")
    if target.retention_size is not None:  # whichever of time and size comes first
        args.append(f"--storage.tsdb.retention.size={target.retention_size}")
    if target.prometheus_listen is not None:
        args.append(f"--web.listen-address={target.prometheus_listen}")
    if target.query_lookback is not None:
        args.append(f"--query.lookback-delta={target.query_lookback}")
    if target.alert_resend_delay is not None:
        args.append(f"--rules.alert.resend-delay={target.alert_resend_delay}")
    if target.enable_lifecycle:
        args.append("--web.enable-lifecycle")
    # Keep the exemplars (trace ids on latency buckets) the service exposes in OpenMetrics.
    args.append("--enable-feature=exemplar-storage")
    if target.native_histograms is not None and target.native_histograms.feature_flag:
        args.append(f"--enable-feature={FEATURE_FLAG}")  # before 3.8 (native_histograms.py)
    return args
