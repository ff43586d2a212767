"""Environment variables: ``PLEXICHAT_<PATH>`` problems, and the standard ``OTEL_*`` mapping."""

import pytest

from plexichat.config import ConfigError, load_settings

OBS = "PLEXICHAT_PERFORMANCE__OBSERVABILITY__"


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


def test_empty_plexichat_variable_is_null() -> None:
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
