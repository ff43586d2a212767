"""``load_settings``: every configuration source, merged in order of precedence.

Lowest first: the model's defaults, the packaged ``defaults/performance.yaml``, the profile's
``defaults/<profile>/performance.yaml``, ``config_file``, the standard ``OTEL_*`` variables, the
``PLEXICHAT_*`` variables (one source each), then ``overrides`` (command-line flags).

Each source is validated as it is merged: the tree merged so far is validated whole, so an error
names the source that brought it (every earlier source had validated cleanly).
"""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from plexichat.config.aliases import canonicalize, warn_renamed
from plexichat.config.environment import otel_sources, plexichat_sources
from plexichat.config.faults import check_faults_allowed
from plexichat.config.files import DEFAULTS_FILE, profile_file, read_yaml
from plexichat.config.settings import Settings
from plexichat.config.tree import Tree, dotted, leaves, merge
from plexichat.config.validation import validate

OVERRIDES = "overrides"
"""How command-line overrides are named in ``Settings.sources`` and in errors."""


def load_settings(
    profile: str | None = None,
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Load the settings.

    ``profile`` is ``"development"``, ``"production"`` or ``None`` (then ``PLEXICHAT_PROFILE``,
    if set); ``environ`` defaults to ``os.environ``; ``overrides`` is a nested mapping of keys to
    values from command-line flags. Raises ``ConfigError`` naming the source, key and problem.
    """
    environ = os.environ if environ is None else environ
    if profile is None:
        profile = environ.get("PLEXICHAT_PROFILE", "").strip() or None
        profile_source = "PLEXICHAT_PROFILE"
    else:
        profile_source = "load_settings(profile=...)"

    sources: list[tuple[str, Tree]] = [(str(DEFAULTS_FILE), read_yaml(DEFAULTS_FILE))]
    if profile is not None:
        path = profile_file(profile, profile_source)
        sources.append((str(path), read_yaml(path)))
    if config_file is not None:
        sources.append((os.fspath(config_file), read_yaml(Path(config_file))))
    sources += otel_sources(environ)
    sources += plexichat_sources(environ)
    if overrides:
        sources.append((OVERRIDES, dict(overrides)))

    merged: Tree = {}
    explicit: set[str] = set()
    settings = Settings()
    for name, raw in sources:
        tree, spellings = canonicalize(raw, name)
        warn_renamed(spellings, name)
        merged = merge(merged, tree)
        settings = validate(merged, name, spellings)
        if name != str(DEFAULTS_FILE):
            explicit.update(dotted(path) for path in leaves(tree))
    check_faults_allowed(settings.faults, profile)
    return settings.model_copy(
        update={
            "profile": profile,
            "sources": [name for name, _ in sources],
            "explicit_keys": frozenset(explicit),
        }
    )
