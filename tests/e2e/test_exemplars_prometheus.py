"""Exemplars end to end: a real Prometheus (``--enable-feature=exemplar-storage``) scrapes the
example app, one process and four workers, every request traced; the trace ids it stores
are ones the OTLP receiver received, and it never rejects an exemplar as out of order."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.otlp_receiver import HttpReceiver
from tests.support.processes import stop
from tests.support.prometheus_server import exemplars as stored_exemplars
from tests.support.scrape import value
from tests.support.service import service_environment
from tests.support.tools import free_port, require_tool
from tests.support.workers import Load, serving, wait_for

pytestmark = pytest.mark.integration

APP = "tests.support.example_app:app"


def test_prometheus_stores_exemplars_that_lead_to_received_traces(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    prometheus = require_tool("prometheus")
    env = {
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__ENDPOINT": receiver.endpoint,
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__METRICS_ENABLED": "false",
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__TRACING__SAMPLER": "always_on",
    }
    single_port, multi_port, prometheus_port = free_port(), free_port(), free_port()
    uvicorn = [sys.executable, "-m", "uvicorn", APP, "--log-level", "warning"]
    config = {
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": job,
                "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
            }
            for job, port in (("single", single_port), ("workers", multi_port))
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    with (
        serving([*uvicorn, "--port", str(single_port)], tmp_path / "single", single_port, 0, env),
        serving(
            [*uvicorn, "--port", str(multi_port), "--workers", "4"],
            tmp_path / "workers",
            multi_port,
            4,
            env,
        ),
        (tmp_path / "prometheus.log").open("wb") as log,
    ):
        process = subprocess.Popen(
            [
                prometheus,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prometheus_port}",
                "--enable-feature=exemplar-storage",
            ],
            env=service_environment(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        api = f"http://127.0.0.1:{prometheus_port}"
        loads = [
            Load(f"http://127.0.0.1:{port}", ["/hello/a", "/slow"], pause_s=0.02)
            for port in (single_port, multi_port)
        ]
        started = time.time()
        try:
            for load in loads:
                load.start()

            def exemplars(job: str) -> list[dict[str, str]]:
                selector = f'http_server_request_duration_seconds_bucket{{job="{job}"}}'
                found = stored_exemplars(api, selector, started - 60, time.time() + 60)
                return [e["labels"] for series in found for e in series["exemplars"]]

            # a few scrapes after the first (which comes ~6 s after start)
            wait_for(lambda: len(exemplars("single")) >= 5, 30, "exemplars of one process")
            wait_for(lambda: len(exemplars("workers")) >= 5, 30, "exemplars of four workers")
            time.sleep(3)
            for load in loads:
                load.stop()
            own = httpx.get(f"{api}/metrics").text
            for job in ("single", "workers"):
                stored = exemplars(job)
                assert all(len(e["span_id"]) == 16 for e in stored)

                def unreceived(stored: list[dict[str, str]] = stored) -> set[str]:
                    received = {s.trace_id.hex() for s in receiver.received.spans()}
                    return {e["trace_id"] for e in stored} - received

                # spans leave in batches: the last ones may still be on their way
                wait_for(lambda: not unreceived(), 10, f"{job}: traces of {unreceived()}")
            assert value(own, "prometheus_target_scrapes_exemplar_out_of_order_total") == 0
            assert value(own, "prometheus_target_scrapes_sample_out_of_order_total") == 0
        finally:
            for load in loads:
                load.stop()
            stop(process)
