"""The version table of native histograms (``plexichat.generate.stack.native_histograms``): which
row holds for a release, what each row makes of the service's job and Prometheus' flags, and
that the two real Prometheus releases here accept their own row's configuration and refuse the
keys of the rows after it (the table's facts, held against the tools themselves); the bundles'
rows are their pinned image's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.catalog.model import JOB
from plexichat.generate.stack import prometheus
from plexichat.generate.stack.native_histograms import (
    FEATURE_FLAG,
    RELEASES,
    NativeHistograms,
    UnsupportedPrometheusError,
    Version,
    for_release,
)
from plexichat.generate.stack.targets import BUNDLED_PROMETHEUS, COMPOSE, HELM, up_target
from plexichat.stack.ports import DEFAULT_PORTS
from tests.deploy.image_facts import pins
from tests.support.tools import promtool, requires_tool, version

PORTS = {k: v for k, v in DEFAULT_PORTS.items() if k not in ("postgres_exporter", "node_exporter")}
"""``up``'s ports without the optional exporters: the base stack."""
NATIVE = "--enable-feature=native-histograms"
SCRAPE_NATIVE = {"scrape_native_histograms": True, "always_scrape_classic_histograms": True}


@pytest.mark.parametrize(
    ("release", "flag", "job", "keeps_classic"),
    [
        ((2, 40, 0), True, {}, False),
        ((2, 42, 0), True, {}, False),
        ((2, 44, 9), True, {}, False),
        ((2, 45, 0), True, {"scrape_classic_histograms": True}, True),
        ((2, 55, 1), True, {"scrape_classic_histograms": True}, True),
        ((3, 0, 0), True, {"always_scrape_classic_histograms": True}, True),
        ((3, 5, 3), True, {"always_scrape_classic_histograms": True}, True),
        ((3, 7, 9), True, {"always_scrape_classic_histograms": True}, True),
        ((3, 8, 0), False, SCRAPE_NATIVE, True),
        ((3, 14, 0), False, SCRAPE_NATIVE, True),
        ((4, 0, 0), False, SCRAPE_NATIVE, True),
    ],
)
def test_each_release_gets_its_rows_flag_keys_and_classic_series(
    release: Version, flag: bool, job: dict[str, bool], keeps_classic: bool
) -> None:
    row = for_release(release)
    assert (row.feature_flag, dict(row.job), row.keeps_classic) == (flag, job, keeps_classic)


@pytest.mark.parametrize("release", [(2, 39, 9), (2, 0, 0), (1, 8, 2)])
def test_a_release_older_than_native_histograms_is_refused_by_name(release: Version) -> None:
    with pytest.raises(UnsupportedPrometheusError) as refused:
        for_release(release)
    assert str(refused.value) == (
        f"Prometheus {'.'.join(map(str, release))} stores no native histograms (the first "
        "release that does is 2.40.0)"
    )


def test_the_rows_are_in_release_order_and_each_names_its_source() -> None:
    releases = [row.since for row in RELEASES]
    assert releases == sorted(set(releases))
    for row in RELEASES:
        assert row.source.startswith(".".join(map(str, row.since)) + ":"), row


def _written(row: NativeHistograms | None) -> tuple[dict[str, Any], list[str]]:
    target = up_target(Path("/s"), PORTS, 0.01, row)
    return prometheus.config(target), prometheus.flags(target)


def _jobs(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {job["job_name"]: job for job in config["scrape_configs"]}


@pytest.mark.parametrize("row", RELEASES, ids=lambda row: ".".join(map(str, row.since)))
def test_up_writes_the_rows_keys_on_the_service_job_and_its_flag(row: NativeHistograms) -> None:
    config, flags = _written(row)
    plain_config, plain_flags = _written(None)
    jobs, plain_jobs = _jobs(config), _jobs(plain_config)
    assert jobs[JOB] == plain_jobs[JOB] | dict(row.job)
    assert {name: job for name, job in jobs.items() if name != JOB} == {
        name: job for name, job in plain_jobs.items() if name != JOB
    }
    assert config["global"] == plain_config["global"]
    assert flags == plain_flags + ([NATIVE] if row.feature_flag else [])


def test_up_without_native_histograms_stays_on_text_and_classic_series() -> None:
    config, flags = _written(None)
    assert not any(key.endswith("_histograms") for key in _jobs(config)[JOB])
    assert not [flag for flag in flags if FEATURE_FLAG in flag]
    assert "--enable-feature=exemplar-storage" in flags


def test_the_bundles_are_their_pinned_prometheus_row() -> None:
    pinned = {pin.where: pin.reference for pin in pins() if pin.repository == "prom/prometheus"}
    tag = "v" + ".".join(map(str, BUNDLED_PROMETHEUS))
    assert pinned == {
        "compose/.env PROMETHEUS_IMAGE": f"prom/prometheus:{tag}",
        "values.yaml prometheus.image": f"prom/prometheus:{tag}",
    }
    for target in (COMPOSE, HELM):
        assert target.native_histograms == for_release(BUNDLED_PROMETHEUS)
        assert NATIVE not in prometheus.flags(target)


@pytest.mark.parametrize("tool", ["promtool", "promtool3"])
@requires_tool("promtool", "promtool3")
def test_a_real_prometheus_reads_its_rows_configuration_and_refuses_the_later_rows_keys(
    tool: str, tmp_path: Path
) -> None:
    """Debian's 2.42 and forky's 3.x: their own row passes ``promtool check config``; a later
    row's key (one the release predates) and an earlier row's renamed key are refused."""
    own = for_release(version(tool))
    path = tmp_path / "prometheus.yml"
    for row in RELEASES:
        path.write_text(yaml.safe_dump(_written(row)[0]))
        code, output = promtool("check", "config", str(path), tool=tool)
        unknown = set(row.job) - set(own.job)
        assert (code == 0) is (not unknown), (row.since, output)
        if unknown:
            assert [key for key in unknown if f"field {key} not found" in output], output
