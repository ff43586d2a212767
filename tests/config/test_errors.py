"""Configuration problems are ``ConfigError``s naming the source, the key, the value given and
what was expected."""

from pathlib import Path

import pytest

from plexichat.config import ConfigError, load_settings


def load_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text, encoding="utf-8")
    load_settings(config_file=path, environ={})


def message(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_file(tmp_path, text)
    return str(caught.value).replace(str(tmp_path / "x.yaml"), "x.yaml")


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def test_unknown_key_names_file_and_path_and_suggests(tmp_path: Path) -> None:
    assert message(tmp_path, "performance: {cachng: {}}") == (
        "x.yaml: unknown key 'performance.cachng' (did you mean 'caching'?)"
    )


def test_unknown_top_level_key(tmp_path: Path) -> None:
    assert message(tmp_path, "perfomance: {}") == (
        "x.yaml: unknown key 'perfomance' (did you mean 'performance'?)"
    )


def test_unknown_key_under_an_alias_is_told_as_written(tmp_path: Path) -> None:
    assert message(tmp_path, "redis_cache: {hots: x}") == (
        "x.yaml: unknown key 'redis_cache.hots' (= performance.caching.redis_cache.hots)"
        " (did you mean 'host'?)"
    )


def test_loader_records_are_not_keys(tmp_path: Path) -> None:
    assert "unknown key 'profile'" in message(tmp_path, "profile: production")


def test_bad_size(tmp_path: Path) -> None:
    text = "performance: {caching: {memory_cache: {max_size: 500 parsecs}}}"
    assert message(tmp_path, text) == (
        "x.yaml: performance.caching.memory_cache.max_size: '500 parsecs' is not a size"
        " (expected e.g. 256MB, 1GB or a number of bytes)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "service: {port: eighty}",
            "x.yaml: service.port: 'eighty' is not valid (expected a valid integer,"
            " unable to parse string as an integer)",
        ),
        (
            "performance: {latency_optimizer: {optimization_level: fast}}",
            "x.yaml: performance.latency_optimizer.optimization_level: 'fast' is not valid"
            " (expected 'conservative', 'moderate' or 'aggressive')",
        ),
        (
            "performance: {metrics: 5}",
            "x.yaml: performance.metrics: 5 is not a section"
            " (expected a mapping of keys to values)",
        ),
        (
            "performance: {performance_logging_level: LOUD}",
            "x.yaml: performance.performance_logging_level: 'LOUD' is not a log level"
            " (expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL)",
        ),
        (
            "api: {rate_limiting: {burst_rate: 5/min}}",
            "x.yaml: api.rate_limiting.burst_rate (= performance.api.rate_limiting.burst_rate):"
            " '5/min' is not a rate (expected N/second, N/minute or N/hour, e.g. 100/minute)",
        ),
        (
            "metrics: {aggregation_intervals: [1m, 5 minutes]}",
            "x.yaml: metrics.aggregation_intervals[1]"
            " (= performance.metrics.aggregation_intervals[1]): '5 minutes' is not a"
            " Prometheus duration (expected e.g. 30s, 5m, 1h, 30d or 1h30m)",
        ),
        (
            "latency_optimizer: {compression: {level: 10}}",
            "x.yaml: latency_optimizer.compression.level"
            " (= performance.latency_optimizer.compression.level): 10 is not valid"
            " (expected a number less than or equal to 9)",
        ),
        (
            "performance: {latency_optimizer: {target_latency_ms: 2000}}",
            "x.yaml: performance.latency_optimizer: target_latency_ms (2000) is above"
            " max_latency_ms (1000) (expected target <= max)",
        ),
        (
            "performance: {observability: {otlp: {endpoint: 'collector:4317'}}}",
            "x.yaml: performance.observability.otlp.endpoint: 'collector:4317' is not a URL"
            " (expected http://host:port or https://...)",
        ),
    ],
)
def test_wrong_values(tmp_path: Path, text: str, expected: str) -> None:
    assert message(tmp_path, text) == expected


def test_every_problem_of_a_file_is_reported(tmp_path: Path) -> None:
    lines = message(tmp_path, "service: {port: x, host: [a]}").splitlines()
    assert len(lines) == 2
    assert all(line.startswith("x.yaml: service.") for line in lines)


def test_alias_and_canonical_place_in_one_file(tmp_path: Path) -> None:
    text = "memory_cache: {ttl: 1}\nperformance: {caching: {memory_cache: {ttl: 2}}}"
    assert message(tmp_path, text) == (
        "x.yaml: 'memory_cache.ttl' and 'performance.caching.memory_cache.ttl' both set"
        " performance.caching.memory_cache.ttl (expected one spelling)"
    )


def test_alias_and_canonical_place_may_set_different_keys(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("database: {connection_pool: {min_size: 1}}\nperformance: {database: {}}")
    pool = load_settings(config_file=path, environ={}).performance.database.connection_pool
    assert pool.min_size == 1


def test_key_given_twice_in_a_file(tmp_path: Path) -> None:
    text = "performance: {monitoring_enabled: true}\nperformance: {monitoring_enabled: false}\n"
    assert message(tmp_path, text) == (
        "x.yaml: not valid YAML: key 'performance' is given twice (line 2, column 1)"
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read the file"):
        load_settings(config_file=tmp_path / "nope.yaml", environ={})


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert "expected a mapping of keys at the top, got a list" in message(tmp_path, "- a\n")


def test_error_names_the_source_that_brought_the_value(tmp_path: Path) -> None:
    # production sets max_latency_ms 500; a file raising the target above it is the culprit
    path = tmp_path / "x.yaml"
    path.write_text("latency_optimizer: {target_latency_ms: 600}")
    with pytest.raises(ConfigError) as caught:
        load_settings(profile="production", config_file=path, environ={})
    assert caught.value.source == str(path)


def test_unknown_profile() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"PLEXICHAT_PROFILE": "staging"})
    assert str(caught.value) == (
        "PLEXICHAT_PROFILE: unknown profile 'staging' (expected 'development' or 'production')"
    )


def test_bad_override_names_the_overrides() -> None:
    with pytest.raises(ConfigError, match=r"^overrides: service\.port: 'x' is not valid"):
        load_settings(environ={}, overrides={"service": {"port": "x"}})
