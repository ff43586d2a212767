"""The tables of keys newer than our validators (``tests/support/newer_keys.py``) are true: a
key is stripped exactly while its validator predates it, and that validator then really refuses
it (or drops it), so stripping hides nothing the validator could check; once the validator
reaches the key's release it reads the key and nothing is stripped."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from cloudcoil.models.prometheus_operator import v1 as monitoring

from tests.support import newer_keys
from tests.support.tools import promtool, requires_tool, version


def test_strip_takes_only_the_keys_newer_than_the_validator_from_the_scrape_settings() -> None:
    config = {
        "global": {"scrape_interval": "15s", "scrape_native_histograms": False},
        "scrape_configs": [{"job_name": "a", "scrape_native_histograms": True}, {"job_name": "b"}],
    }
    removed = newer_keys.strip(newer_keys.scrape_settings(config), newer_keys.PROMETHEUS, (3, 7, 9))
    assert removed == {"scrape_native_histograms": [False, True]}
    assert config == {
        "global": {"scrape_interval": "15s"},
        "scrape_configs": [{"job_name": "a"}, {"job_name": "b"}],
    }
    assert newer_keys.stand_ins(removed) == ["native-histograms"]
    kept = {"scrape_configs": [{"job_name": "a", "scrape_native_histograms": True}]}
    settings = newer_keys.scrape_settings(kept)
    assert newer_keys.strip(settings, newer_keys.PROMETHEUS, (3, 8, 0)) == {}
    assert kept["scrape_configs"][0]["scrape_native_histograms"] is True


@requires_tool("promtool3")
@pytest.mark.parametrize("key", sorted(newer_keys.PROMETHEUS))
def test_promtool3_refuses_a_key_exactly_while_it_predates_it(key: str, tmp_path: Path) -> None:
    path = tmp_path / "prometheus.yml"
    job = {"job_name": "a", key: True, "static_configs": [{"targets": ["a.example:1"]}]}
    path.write_text(yaml.safe_dump({"scrape_configs": [job]}))
    code, output = promtool("check", "config", str(path), tool="promtool3")
    if version("promtool3") < newer_keys.PROMETHEUS[key]:
        assert code == 1, output
        assert f"field {key} not found" in output
    else:
        assert code == 0, output
    code, output = newer_keys.check_config(path)  # stripped while refused, else as it is
    assert code == 0, output


@pytest.mark.parametrize("field", sorted(newer_keys.OPERATOR))
def test_the_operator_models_drop_a_field_exactly_while_they_predate_it(field: str) -> None:
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "a"},
        "spec": {"selector": {}, "endpoints": [{"port": "http"}], field: True},
    }
    parsed = monitoring.ServiceMonitor.model_validate(monitor)
    kept = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")["spec"]
    assert (field in kept) == (newer_keys.operator_models() >= newer_keys.OPERATOR[field])
