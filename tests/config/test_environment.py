"""Environment variables: ``PLEXICHAT_<PATH>`` problems, and the standard ``OTEL_*`` mapping."""

from collections.abc import Callable
from typing import get_args

import pytest

from plexichat.config import ConfigError, Settings, load_settings
from plexichat.config.observability import Sampler
from tests.support.hostile import EMPTY, HOSTILE_TEXT

OBS = "PLEXICHAT_PERFORMANCE__OBSERVABILITY__"
PASSWORD = "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PASSWORD"
Read = Callable[[Settings], object]


def error(environ: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    return str(caught.value)


def test_bad_value_names_the_variable() -> None:
    assert error({"PLEXICHAT_SERVICE__PORT": "eighty"}) == (
        "PLEXICHAT_SERVICE__PORT: service.port: 'eighty' is not valid (expected a valid integer,"
        " unable to parse string as an integer)"
    )


def test_variable_naming_no_key() -> None:
    assert error({"PLEXICHAT_PERFORMANCE__CACHNG": "1"}) == (
        "PLEXICHAT_PERFORMANCE__CACHNG: unknown key 'performance.cachng' (did you mean 'caching'?)"
    )


def test_variable_naming_no_section() -> None:
    assert error({"PLEXICHAT_PORT_NUMBER": "1"}).startswith(
        "PLEXICHAT_PORT_NUMBER: unknown key 'port_number'"
    )


def test_kubernetes_service_link_is_explained() -> None:
    assert "enableServiceLinks: false" in error({"PLEXICHAT_SERVICE_PORT": "tcp://10.0.0.1:80"})


def test_empty_level_in_a_variable_name() -> None:
    assert error({"PLEXICHAT_SERVICE____PORT": "1"}).startswith(
        "PLEXICHAT_SERVICE____PORT: names no key"
    )


def test_value_that_is_not_yaml() -> None:
    assert error({f"{OBS}EXCLUDED_PATHS": "[/a"}).startswith(
        f"{OBS}EXCLUDED_PATHS: '[/a' is not a YAML value"
    )


def test_two_variables_for_one_key() -> None:
    environ = {"PLEXICHAT_METRICS__RETENTION_PERIOD": "1d", "PLEXICHAT_PERFORMANCE__METRICS": "{}"}
    assert error(environ) == (
        "PLEXICHAT_PERFORMANCE__METRICS: sets the same key as PLEXICHAT_METRICS__RETENTION_PERIOD"
        " (expected one of them)"
    )


@pytest.mark.parametrize("text", [*HOSTILE_TEXT.values(), EMPTY], ids=[*HOSTILE_TEXT, "empty"])
def test_text_keys_take_the_variable_verbatim(text: str) -> None:
    environ = {
        PASSWORD: text,
        "PLEXICHAT_SERVICE__HOST": text,
        "PLEXICHAT_SERVICE__DATABASE_URL": text,
        "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__CLIENT_HEADER": text,
        f"{OBS}SERVICE_VERSION": text,
        f"{OBS}OTLP__HEADERS__AUTHORIZATION": text,  # a mapping's text values, one by one
    }
    settings = load_settings(environ=environ)
    assert settings.performance.caching.redis_cache.password == text
    assert settings.service.host == text
    assert settings.service.database_url == text
    assert settings.performance.api.rate_limiting.client_header == text
    assert settings.performance.observability.service_version == text
    assert settings.performance.observability.otlp.headers == {"authorization": text}


@pytest.mark.parametrize(
    ("variable", "text", "read"),
    [
        ("PLEXICHAT_SERVICE__DATA_DIR", " /srv/a b#1", lambda s: str(s.service.data_dir)),
        (  # "-" is a YAML list item: as text it is stdout
            "PLEXICHAT_PERFORMANCE__PERFORMANCE_LOG_FILE",
            "-",
            lambda s: s.performance.performance_log_file,
        ),
        (  # a Literal of strings, checked by the model as written
            "PLEXICHAT_PERFORMANCE__ASYNC_SETTINGS__EVENT_LOOP_POLICY",
            "uvloop",
            lambda s: s.performance.async_settings.event_loop_policy,
        ),
        (  # through the guide's alias: the canonical key decides
            "PLEXICHAT_REDIS_CACHE__KEY_PREFIX",
            "#app: ",
            lambda s: s.performance.caching.redis_cache.key_prefix,
        ),
    ],
)
def test_other_text_keys_are_verbatim_too(variable: str, text: str, read: Read) -> None:
    assert read(load_settings(environ={variable: text})) == text


def test_text_keys_still_get_the_models_checks() -> None:
    assert error({"PLEXICHAT_PERFORMANCE__ASYNC_SETTINGS__EVENT_LOOP_POLICY": "trio"}) == (
        "PLEXICHAT_PERFORMANCE__ASYNC_SETTINGS__EVENT_LOOP_POLICY: "
        "performance.async_settings.event_loop_policy: 'trio' is not valid "
        "(expected 'asyncio' or 'uvloop')"
    )
    assert "'30 days' is not a Prometheus duration" in error(
        {"PLEXICHAT_METRICS__RETENTION_PERIOD": "30 days"}
    )


@pytest.mark.parametrize(
    ("variable", "text", "read", "value"),
    [
        ("PLEXICHAT_SERVICE__PORT", "9000", lambda s: s.service.port, 9000),
        ("PLEXICHAT_FAULTS__ENABLED", "true", lambda s: s.faults.enabled, True),
        (
            "PLEXICHAT_MEMORY_CACHE__MAX_SIZE",
            "1GB",
            lambda s: s.performance.caching.memory_cache.max_size,
            1024**3,
        ),
        (
            "PLEXICHAT_QUERY_CACHE__EXCLUDE_TABLES",
            "[a, b]",
            lambda s: s.performance.caching.query_cache.exclude_tables,
            ["a", "b"],
        ),
        (
            f"{OBS}OTLP__HEADERS",
            "{x-tenant: '7'}",
            lambda s: s.performance.observability.otlp.headers,
            {"x-tenant": "7"},
        ),
        (  # an empty variable of a typed key is null
            "PLEXICHAT_PERFORMANCE__METRICS__EXPORTERS__PROMETHEUS__PORT",
            "",
            lambda s: s.performance.metrics.exporters.prometheus.port,
            None,
        ),
    ],
)
def test_typed_keys_keep_yaml_parsing(variable: str, text: str, read: Read, value: object) -> None:
    assert read(load_settings(environ={variable: text})) == value


def test_an_empty_endpoint_variable_turns_otlp_export_off() -> None:
    environ = {f"{OBS}OTLP__ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    otlp = load_settings(environ=environ).performance.observability.otlp
    assert otlp.endpoint == "http://c:4318"  # an empty OTEL_ variable is unset
    otlp = load_settings(
        environ={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", f"{OBS}OTLP__ENDPOINT": ""}
    ).performance.observability.otlp
    assert otlp.endpoint is None


def test_otel_variables_map_onto_observability() -> None:
    environ = {
        "OTEL_SERVICE_NAME": "chat",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod,team=a%20b,service.name=x",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20t,x-tenant=7",
        "OTEL_EXPORTER_OTLP_TIMEOUT": "500",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_TRACES_SAMPLER_ARG": "0.5",
    }
    observability = load_settings(environ=environ).performance.observability
    assert observability.service_name == "chat"  # OTEL_SERVICE_NAME beats service.name
    assert observability.environment == "prod"
    assert observability.resource_attributes["team"] == "a b"
    assert observability.otlp.endpoint == "http://collector:4317"
    assert observability.otlp.protocol == "grpc"
    assert observability.otlp.headers == {"authorization": "Bearer t", "x-tenant": "7"}
    assert observability.otlp.timeout_seconds == 0.5
    assert (observability.tracing.sampler, observability.tracing.sampler_arg) == ("always_on", 0.5)


@pytest.mark.parametrize("sampler", get_args(Sampler))
def test_otel_traces_sampler_names_every_configurable_sampler(sampler: str) -> None:
    """The variable and the ``tracing.sampler`` key accept the same samplers (one list)."""
    settings = load_settings(environ={"OTEL_TRACES_SAMPLER": sampler})
    assert settings.performance.observability.tracing.sampler == sampler


def test_older_deployment_environment_attribute() -> None:
    environ = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=staging"}
    assert load_settings(environ=environ).performance.observability.environment == "staging"


@pytest.mark.parametrize(("value", "enabled"), [("true", False), ("TRUE", False), ("false", True)])
def test_otel_sdk_disabled(value: str, enabled: bool) -> None:
    settings = load_settings(environ={"OTEL_SDK_DISABLED": value})
    assert settings.performance.monitoring_enabled is enabled


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon", "'soon' is not a timeout (expected milliseconds"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "'http/json' is not supported"),
        ("OTEL_TRACES_SAMPLER", "jaeger_remote", "'jaeger_remote' is not supported"),
        ("OTEL_TRACES_SAMPLER_ARG", "half", "'half' is not a number"),
        ("OTEL_TRACES_SAMPLER_ARG", "2", "performance.observability.tracing.sampler_arg: 2.0"),
        ("OTEL_RESOURCE_ATTRIBUTES", "team", "'team' is not a key=value pair"),
        ("OTEL_EXPORTER_OTLP_HEADERS", "a=1,,b=2", "'' is not a key=value pair"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector", "'collector' is not a URL"),
        ("OTEL_SDK_DISABLED", "yes", "'yes' is not a boolean"),
    ],
)
def test_bad_otel_value_names_the_variable(variable: str, value: str, expected: str) -> None:
    assert error({variable: value}).startswith(f"{variable}: ")
    assert expected in error({variable: value})


def test_other_otel_variables_are_left_to_the_sdk() -> None:
    settings = load_settings(environ={"OTEL_METRICS_EXPORTER": "console"})
    assert len(settings.sources) == 1
