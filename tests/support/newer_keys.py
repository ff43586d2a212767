"""Keys the shipped files use that a validator here predates, each with the first release that
reads it: one table per validator. ``strip`` takes out of a document only the keys whose first
release is newer than the validator's, so a key stops being stripped by itself once the
validator reaches that release (Debian forky's Prometheus floats); a test asserts the stripped
keys' presence and values itself. ``readable`` rewrites a configuration file so, and names the
feature flags that stand for what it removed; ``check_config`` is ``promtool3 check config`` on
it.

``PROMETHEUS``: configuration keys of the bundles' Prometheus (3.14), against forky's promtool
(``promtool3``, 3.5 when written). ``OPERATOR``: ServiceMonitor fields of the chart's operator
mode, against the prometheus-operator models we validate with (cloudcoil's, 0.80.1: newer
builds need Python 3.14)."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from plexichat.generate.stack.native_histograms import FEATURE_FLAG, RELEASES, Version, for_release
from plexichat.generate.stack.targets import BUNDLED_PROMETHEUS
from tests.support.tools import promtool, version

PROMETHEUS: dict[str, Version] = {
    key: min(row.since for row in RELEASES if key in row.job)
    for key in for_release(BUNDLED_PROMETHEUS).job
}
"""The bundles' scrape keys (their release's row of ``generate.stack.native_histograms``), each
from the first release whose row writes it: ``scrape_native_histograms`` from 3.8,
``always_scrape_classic_histograms`` from 3.0."""
FEATURE_FLAGS = {"scrape_native_histograms": FEATURE_FLAG}
"""What stood for a ``PROMETHEUS`` key, when true, before its first release (3.0 to 3.7)."""
OPERATOR: dict[str, Version] = {
    # ServiceMonitor.spec.scrapeNativeHistograms, operator 0.88.0 (CHANGELOG, #8102).
    "scrapeNativeHistograms": (0, 88, 0),
}


def operator_models() -> Version:
    """The prometheus-operator release of the models installed (``0.80.1.0`` is 0.80.1)."""
    release = importlib.metadata.version("cloudcoil-models-prometheus-operator")
    major, minor, patch = (int(part) for part in release.split(".")[:3])
    return major, minor, patch


def strip(
    mappings: Iterable[dict[str, Any]], table: Mapping[str, Version], validator: Version
) -> dict[str, list[Any]]:
    """Remove from each of ``mappings`` the keys of ``table`` newer than ``validator``; return
    the values removed, by key (a key present nowhere is absent)."""
    newer = {key for key, first in table.items() if validator < first}
    removed: dict[str, list[Any]] = {}
    for mapping in mappings:
        for key in newer & mapping.keys():
            removed.setdefault(key, []).append(mapping.pop(key))
    return removed


def scrape_settings(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The mappings of a Prometheus configuration that hold scrape settings: ``global`` and
    each scrape config."""
    return [config.get("global", {}), *config.get("scrape_configs", [])]


def stand_ins(removed: Mapping[str, list[Any]]) -> list[str]:
    """The feature flags that stand for the ``PROMETHEUS`` keys ``strip`` removed (where any
    was true) on a Prometheus older than them; a flag holds for every job."""
    assert removed.keys() <= FEATURE_FLAGS.keys(), f"nothing stands for {removed} here"
    return [FEATURE_FLAGS[key] for key, values in removed.items() if True in values]


def readable(path: Path, tool: str) -> list[str]:
    """Rewrite the Prometheus configuration at ``path`` as ``tool`` (``prometheus3`` or
    ``promtool3``) reads it: without the keys newer than it, a symlink there replaced by the
    stripped copy, never written through. The feature flags standing for those keys."""
    config = yaml.safe_load(path.read_text())
    removed = strip(scrape_settings(config), PROMETHEUS, version(tool))
    path.unlink()
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return stand_ins(removed)


def check_config(path: Path) -> tuple[int, str]:
    """``promtool3 check config`` on the Prometheus configuration at ``path``, made
    ``readable`` by it first. Its exit status and output."""
    readable(path, "promtool3")
    return promtool("check", "config", str(path), tool="promtool3")
