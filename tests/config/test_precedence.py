"""Each configuration source overrides the ones below it, and profiles select their file."""

from pathlib import Path

import pytest
import yaml

from plexichat.catalog import PROFILES
from plexichat.config import Settings, load_settings
from plexichat.config.files import DEFAULTS_DIR, DEFAULTS_FILE

_RECORD = {"profile", "sources", "explicit_keys"}
NAME = "PLEXICHAT_PERFORMANCE__OBSERVABILITY__SERVICE_NAME"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_defaults_file_is_applied_first_and_agrees_with_the_model() -> None:
    settings = load_settings(environ={})
    assert settings.sources == [str(DEFAULTS_FILE)]
    assert settings.model_dump(exclude=_RECORD) == Settings().model_dump(exclude=_RECORD)
    assert settings.explicit_keys == frozenset()  # the base file is not an explicit choice


def test_every_key_of_the_model_is_in_the_packaged_defaults_file() -> None:
    def keys(tree: object, prefix: str = "") -> set[str]:
        if isinstance(tree, dict) and tree:
            return set().union(*(keys(v, f"{prefix}{k}.") for k, v in tree.items()))
        return {prefix.rstrip(".")}

    model = Settings().model_dump(mode="json", exclude=_RECORD)
    packaged = yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))
    assert keys(packaged) == keys(model)


def test_profile_file_overrides_the_packaged_defaults() -> None:
    settings = load_settings(profile="production", environ={})
    assert settings.performance.latency_optimizer.target_latency_ms == 50
    assert settings.sources[1] == str(DEFAULTS_DIR / "production" / "performance.yaml")


def test_config_file_overrides_the_profile(tmp_path: Path) -> None:
    path = write(tmp_path, "performance: {latency_optimizer: {target_latency_ms: 70}}")
    settings = load_settings(profile="production", config_file=path, environ={})
    assert settings.performance.latency_optimizer.target_latency_ms == 70
    assert settings.performance.latency_optimizer.max_latency_ms == 500  # rest of the profile


def test_otel_variables_override_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, "performance: {observability: {service_name: from-file}}")
    settings = load_settings(config_file=path, environ={"OTEL_SERVICE_NAME": "from-otel"})
    assert settings.performance.observability.service_name == "from-otel"


def test_plexichat_variables_override_otel_variables() -> None:
    environ = {"OTEL_SERVICE_NAME": "from-otel", NAME: "from-plexichat"}
    settings = load_settings(environ=environ)
    assert settings.performance.observability.service_name == "from-plexichat"


def test_overrides_override_plexichat_variables() -> None:
    settings = load_settings(
        environ={"PLEXICHAT_SERVICE__PORT": "9000"}, overrides={"service": {"port": 9100}}
    )
    assert settings.service.port == 9100


def test_sources_are_listed_in_the_order_they_apply(tmp_path: Path) -> None:
    path = write(tmp_path, "service: {port: 1}")
    environ = {"PLEXICHAT_SERVICE__HOST": "0.0.0.0", "OTEL_SERVICE_NAME": "x", "HOME": "/root"}
    settings = load_settings("development", path, environ, {"service": {"port": 2}})
    assert settings.sources == [
        str(DEFAULTS_FILE),
        str(DEFAULTS_DIR / "development" / "performance.yaml"),
        str(path),
        "OTEL_SERVICE_NAME",
        "PLEXICHAT_SERVICE__HOST",
        "overrides",
    ]


def test_sections_merge_key_by_key_across_sources(tmp_path: Path) -> None:
    path = write(tmp_path, "redis_cache: {host: redis.internal}")
    settings = load_settings(profile="production", config_file=path, environ={})
    redis = settings.performance.caching.redis_cache
    assert (redis.host, redis.max_connections, redis.db) == ("redis.internal", 100, 0)


def test_profile_from_plexichat_profile_variable() -> None:
    settings = load_settings(environ={"PLEXICHAT_PROFILE": "production"})
    assert settings.profile == "production"
    assert settings.performance.caching.redis_cache.host == "redis-cluster"


def test_profile_argument_wins_over_the_variable() -> None:
    settings = load_settings(profile="development", environ={"PLEXICHAT_PROFILE": "production"})
    assert settings.profile == "development"
    assert settings.performance.latency_optimizer.target_latency_ms == 200


def test_production_profile_has_the_guide_s_values() -> None:
    performance = load_settings(profile="production", environ={}).performance
    assert performance.metrics_collection_interval == 15
    assert performance.latency_optimizer.max_latency_ms == 500
    assert performance.caching.memory_cache.max_size == 512 * 1024**2
    assert performance.caching.redis_cache.enabled is True
    assert performance.database.connection_pool.max_overflow == 100
    assert performance.async_settings.event_loop_policy == "uvloop"


def test_development_profile_has_the_guide_s_values() -> None:
    performance = load_settings(profile="development", environ={}).performance
    assert performance.caching.redis_cache.enabled is False
    assert performance.performance_logging_level == "DEBUG"
    assert performance.caching.memory_cache.max_size == 128 * 1024**2
    assert performance.latency_optimizer.optimization_level == "moderate"


def test_no_profile_by_default() -> None:
    settings = load_settings(environ={"PLEXICHAT_PROFILE": ""})
    assert settings.profile is None
    assert settings.performance.latency_optimizer.target_latency_ms == 100


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PLEXICHAT_PERFORMANCE__MONITORING_ENABLED", "false", False),
        ("plexichat_ignored", "x", True),  # not our prefix (case matters for the prefix)
    ],
)
def test_plexichat_variable_values_are_yaml(variable: str, value: str, expected: bool) -> None:
    settings = load_settings(environ={variable: value})
    assert settings.performance.monitoring_enabled is expected


def test_plexichat_variable_keys_ignore_case_and_take_yaml_collections() -> None:
    environ = {
        "PLEXICHAT_Service__Port": "9000",
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__EXCLUDED_PATHS": "[/metrics, /ping]",
        "PLEXICHAT_METRICS__RETENTION_PERIOD": "15d",  # the guide's top-level spelling
    }
    settings = load_settings(environ=environ)
    assert settings.service.port == 9000
    assert settings.performance.observability.excluded_paths == ["/metrics", "/ping"]
    assert settings.performance.metrics.retention_period == "15d"


def test_reserved_variables_are_not_keys() -> None:
    environ = {"PLEXICHAT_LOG_LEVEL": "DEBUG", "PLEXICHAT_PERFORMANCE_PROFILING": "true"}
    assert load_settings(environ=environ).sources == [str(DEFAULTS_FILE)]


def test_effective_database_url_defaults_to_sqlite_in_the_data_dir() -> None:
    service = load_settings(environ={"PLEXICHAT_SERVICE__DATA_DIR": "/var/lib/plexichat"}).service
    assert service.effective_database_url == "sqlite+aiosqlite:////var/lib/plexichat/plexichat.db"
    url = "postgresql+asyncpg://u@db/plexichat"
    assert (
        load_settings(
            environ={}, overrides={"service": {"database_url": url}}
        ).service.effective_database_url
        == url
    )


def test_the_profiles_are_the_catalog_s_and_each_has_its_packaged_file() -> None:
    """One list of profiles (the catalog's, whose entries override thresholds per profile);
    the packaged configuration has a file for each and for no other."""
    found = sorted(p.parent.name for p in DEFAULTS_DIR.glob("*/performance.yaml"))
    assert found == sorted(PROFILES)
