"""Environment variables as configuration sources: the standard ``OTEL_*`` ones and ours.

``PLEXICHAT_<PATH>`` sets the key at ``<PATH>``, levels separated by ``__`` and matched without
regard to case (``PLEXICHAT_SERVICE__PORT=9000``). A key that holds text (a password, URL, host,
path or name: see ``textkeys``) takes the variable's value verbatim, every character kept and
nothing parsed, so ``PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PASSWORD='&x #1'`` is that
password and an empty variable is the empty string. Any other key reads its value as a YAML
scalar or flow collection, so ``false``, ``12``, ``256MB`` and ``[a, b]`` mean what they say
(there an empty variable is null). Any ``PLEXICHAT_`` variable that names no key is an error,
except the guide's reserved names below.

The standard OpenTelemetry variables listed in ``OTEL_KEYS`` are mapped onto
``performance.observability`` (and ``OTEL_SDK_DISABLED=true`` onto ``monitoring_enabled``); an
empty one counts as unset, as the OpenTelemetry specification says. Others are left to the SDK.
"""

import re
from collections.abc import Callable, Mapping
from typing import get_args
from urllib.parse import unquote

import yaml

from plexichat.config.aliases import canonicalize
from plexichat.config.errors import ConfigError
from plexichat.config.files import yaml_problem
from plexichat.config.observability import HistogramAggregation, Sampler
from plexichat.config.textkeys import is_text_key
from plexichat.config.tree import Tree, leaves, nest

PREFIX = "PLEXICHAT_"
RESERVED = frozenset(
    {
        "PLEXICHAT_PROFILE",
        "PLEXICHAT_LOG_LEVEL",
        "PLEXICHAT_PERFORMANCE_PROFILING",
        "PLEXICHAT_SERVE_ARGUMENTS",
        "PLEXICHAT_SERVE_PARENT",
    }
)
"""Read by their own code, never configuration keys: the guide's three, and the handoff from
``plexichat-obs serve --workers N`` to its workers (``plexichat.service.workers``)."""
_SERVICE_LINK = re.compile(
    r"PLEXICHAT_(SERVICE_HOST|SERVICE_PORT(_\w+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?)"
)
_OBSERVABILITY = ("performance", "observability")
_SAMPLERS: tuple[str, ...] = get_args(Sampler)
"""What ``OTEL_TRACES_SAMPLER`` may name: the samplers the configuration accepts."""
_AGGREGATIONS: tuple[str, ...] = get_args(HistogramAggregation)
"""What ``OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION`` may name, in any case (the
OTLP/HTTP exporter reads it so; the gRPC one only in lower case, which no longer matters: the
exporters are handed the aggregation this configuration chose)."""

Source = tuple[str, Tree]
"""A variable's name and the (not yet canonical) tree it sets."""


def plexichat_sources(environ: Mapping[str, str]) -> list[Source]:
    """One source per ``PLEXICHAT_`` variable, sorted by name."""
    found: list[Source] = []
    keys: list[tuple[tuple[str, ...], str]] = []  # canonical key path, variable
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in RESERVED:
            continue
        if _SERVICE_LINK.fullmatch(name):
            raise ConfigError(
                name,
                "names no key; it looks like a Kubernetes service link of a Service named "
                "'plexichat' (expected enableServiceLinks: false on the pod)",
            )
        path = tuple(name[len(PREFIX) :].lower().split("__"))
        if "" in path:
            raise ConfigError(
                name,
                "names no key (expected PLEXICHAT_<SECTION>__<KEY>, e.g. PLEXICHAT_SERVICE__PORT)",
            )
        key = next(leaves(canonicalize(nest(path, None), name)[0]))
        _reject_overlap(name, key, keys)
        keys.append((key, name))
        found.append((name, nest(path, _value(name, environ[name], key))))
    return found


def _value(name: str, text: str, key: tuple[str, ...]) -> object:
    """The variable's text for a key that holds text, else its text read as YAML."""
    if is_text_key(key):
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(name, f"{text!r} is not a YAML value ({yaml_problem(error)})") from None


def _reject_overlap(
    name: str, key: tuple[str, ...], keys: list[tuple[tuple[str, ...], str]]
) -> None:
    """Two variables setting the same key (``PLEXICHAT_METRICS__X`` and
    ``PLEXICHAT_PERFORMANCE__METRICS__X``, or two spellings of case) leave no clear winner."""
    for other_key, other in keys:
        overlap = min(len(key), len(other_key))
        if key[:overlap] == other_key[:overlap]:
            raise ConfigError(name, f"sets the same key as {other} (expected one of them)")


def otel_sources(environ: Mapping[str, str]) -> list[Source]:
    """One source per standard OpenTelemetry variable we map, in the order of ``OTEL_KEYS``."""
    found: list[Source] = []
    for name, convert in OTEL_KEYS.items():
        value = environ.get(name, "").strip()
        if value:
            tree = convert(value, name)
            if tree:
                found.append((name, tree))
    return found


def _key_value_list(value: str, name: str) -> dict[str, str]:
    """``k=v,k2=v2`` (W3C Baggage-like, percent-encoded) as a mapping."""
    pairs: dict[str, str] = {}
    for item in value.split(","):
        key, equals, item_value = item.partition("=")
        if not equals or not key.strip():
            raise ConfigError(name, f"{item!r} is not a key=value pair (expected k1=v1,k2=v2)")
        pairs[unquote(key.strip())] = unquote(item_value.strip())
    return pairs


def _resource_attributes(value: str, name: str) -> Tree:
    attributes = _key_value_list(value, name)
    observability: Tree = {"resource_attributes": attributes}
    for key in ("deployment.environment", "deployment.environment.name"):
        if key in attributes:
            observability["environment"] = attributes[key]
    if "service.name" in attributes:  # OTEL_SERVICE_NAME, applied after, wins (as specified)
        observability["service_name"] = attributes["service.name"]
    if "service.version" in attributes:
        observability["service_version"] = attributes["service.version"]
    return nest(_OBSERVABILITY, observability)


def _timeout(value: str, name: str) -> Tree:
    try:
        milliseconds = float(value)
    except ValueError:
        milliseconds = -1.0
    if not milliseconds > 0:
        raise ConfigError(name, f"{value!r} is not a timeout (expected milliseconds, e.g. 2000)")
    return nest((*_OBSERVABILITY, "otlp", "timeout_seconds"), milliseconds / 1000)


def _choice(path: tuple[str, ...], choices: tuple[str, ...]) -> Callable[[str, str], Tree]:
    def convert(value: str, name: str) -> Tree:
        if value.lower() not in choices:
            expected = ", ".join(choices)
            raise ConfigError(name, f"{value!r} is not supported (expected one of {expected})")
        return nest((*_OBSERVABILITY, *path), value.lower())

    return convert


def _sampler_arg(value: str, name: str) -> Tree:
    try:
        return nest((*_OBSERVABILITY, "tracing", "sampler_arg"), float(value))
    except ValueError:
        raise ConfigError(name, f"{value!r} is not a number (expected e.g. 0.1)") from None


def _sdk_disabled(value: str, name: str) -> Tree:
    if value.lower() not in ("true", "false"):
        raise ConfigError(name, f"{value!r} is not a boolean (expected true or false)")
    return {"performance": {"monitoring_enabled": False}} if value.lower() == "true" else {}


def _plain(*path: str) -> Callable[[str, str], Tree]:
    return lambda value, _name: nest((*_OBSERVABILITY, *path), value)


OTEL_KEYS: Mapping[str, Callable[[str, str], Tree]] = {
    "OTEL_RESOURCE_ATTRIBUTES": _resource_attributes,
    "OTEL_SERVICE_NAME": _plain("service_name"),
    "OTEL_EXPORTER_OTLP_ENDPOINT": _plain("otlp", "endpoint"),
    "OTEL_EXPORTER_OTLP_PROTOCOL": _choice(("otlp", "protocol"), ("http/protobuf", "grpc")),
    "OTEL_EXPORTER_OTLP_HEADERS": lambda value, name: nest(
        (*_OBSERVABILITY, "otlp", "headers"), _key_value_list(value, name)
    ),
    "OTEL_EXPORTER_OTLP_TIMEOUT": _timeout,
    "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION": _choice(
        ("otlp", "histogram_aggregation"), _AGGREGATIONS
    ),
    "OTEL_TRACES_SAMPLER": _choice(("tracing", "sampler"), _SAMPLERS),
    "OTEL_TRACES_SAMPLER_ARG": _sampler_arg,
    "OTEL_SDK_DISABLED": _sdk_disabled,
}
"""The standard variables we read, in the order they apply, each with its conversion."""
