"""Keys accepted without effect yet are listed, logged when set, and marked in the defaults."""

import logging
from pathlib import Path

import pytest
import yaml

from plexichat.config import INERT_KEYS, Settings, inert_keys_set, load_settings, log_inert_keys
from plexichat.config.files import DEFAULTS_FILE
from plexichat.config.inert import GENERATION_KEYS, is_inert
from plexichat.generate import Options

MARK = "(accepted, not yet in effect)"


def test_nothing_is_inert_when_nothing_is_set() -> None:
    assert inert_keys_set(load_settings(environ={})) == []


def test_keys_set_by_a_file_and_a_variable(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("latency_optimizer: {optimization_level: moderate}\nservice: {port: 1}\n")
    environ = {"PLEXICHAT_PERFORMANCE__METRICS__RETENTION_PERIOD": "7d"}
    settings = load_settings(config_file=path, environ=environ)
    assert inert_keys_set(settings) == [
        "performance.latency_optimizer.optimization_level",
        "performance.metrics.retention_period",
    ]


def test_a_profile_s_inert_keys_are_listed() -> None:
    keys = inert_keys_set(load_settings(profile="production", environ={}))
    assert "performance.async_settings.max_workers" not in keys  # optimize_context()
    assert "performance.async_settings.thread_pool_size" not in keys  # service/resources.py
    assert "performance.caching.redis_cache.host" not in keys  # the cache tiers are live
    assert "performance.async_settings.event_loop_policy" not in keys
    assert "performance.database.connection_pool.max_size" not in keys


def test_one_log_line_lists_them(caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(environ={"PLEXICHAT_METRICS__RETENTION_PERIOD": "7d"})
    logger = logging.getLogger("test.config")
    with caplog.at_level(logging.INFO, logger="test.config"):
        assert log_inert_keys(settings, logger) == ["performance.metrics.retention_period"]
    assert [r.getMessage() for r in caplog.records] == [
        "configuration keys accepted but not yet in effect: "
        "performance.metrics.retention_period "
        "(sources: PLEXICHAT_METRICS__RETENTION_PERIOD)"
    ]


def test_no_log_line_when_none_is_set(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        log_inert_keys(load_settings(environ={}), logging.getLogger("test.config"))
    assert caplog.records == []


def test_every_inert_key_exists() -> None:
    tree = Settings().model_dump()
    for key in INERT_KEYS:
        node = tree
        for part in key.split("."):
            assert isinstance(node, dict), key
            assert part in node, key
            node = node[part]


def test_defaults_file_marks_exactly_the_inert_keys() -> None:
    lines = DEFAULTS_FILE.read_text(encoding="utf-8").splitlines()
    marked: list[str] = []
    unmarked: list[str] = []

    def walk(node: yaml.Node, prefix: str) -> None:
        assert isinstance(node, yaml.MappingNode)
        for key_node, value_node in node.value:
            key = f"{prefix}{key_node.value}"
            if isinstance(value_node, yaml.MappingNode) and value_node.value:
                walk(value_node, f"{key}.")
            else:
                line = lines[key_node.start_mark.line]
                (marked if MARK in line else unmarked).append(key)

    root = yaml.compose(DEFAULTS_FILE.read_text(encoding="utf-8"))
    assert root is not None
    walk(root, "")
    assert [key for key in marked if not is_inert(key)] == []
    assert [key for key in unmarked if is_inert(key)] == []


def test_aggregation_intervals_act_at_generation_time_and_are_not_called_inert(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = "performance.metrics.aggregation_intervals"
    assert key in GENERATION_KEYS
    assert not is_inert(key)
    settings = load_settings(environ={"PLEXICHAT_METRICS__AGGREGATION_INTERVALS": '["2m"]'})
    with caplog.at_level(logging.DEBUG):
        assert log_inert_keys(settings, logging.getLogger("test.config")) == []
    assert caplog.records == []
    # The generator reads them: the recording rules are made for the profile's windows.
    production = load_settings(profile="production", environ={}).performance.metrics
    assert Options.for_profile("production").aggregation_intervals == tuple(
        production.aggregation_intervals
    )
