"""PlexiChat's configuration: the guide's ``performance.yaml`` tree, profiles and overrides.

    from plexichat.config import load_settings

    settings = load_settings(profile="production")
    settings.performance.latency_optimizer.target_latency_ms  # 50

Sources, lowest precedence first: the model's defaults, the packaged
``config/performance.yaml``, ``config/<profile>/performance.yaml``, ``config_file``, the standard
``OTEL_*`` variables, ``PLEXICHAT_<SECTION>__<KEY>`` variables, then ``overrides`` (command-line
flags). The guide's top-level spellings (``memory_cache:``, ``database:``, ``metrics:``...) are
aliases of their place under ``performance:``; a renamed key's old name still works, with a
``DeprecatedKeyWarning``. Every problem is a ``ConfigError`` naming the source, the key, what was
given and what was expected. Keys accepted without effect yet are in ``INERT_KEYS``;
``log_inert_keys`` says at start-up which of them were set.
"""

from plexichat.config.environment import RESERVED as RESERVED_VARIABLES
from plexichat.config.errors import ConfigError, DeprecatedKeyWarning
from plexichat.config.files import profiles
from plexichat.config.inert import INERT_KEYS, inert_keys_set, log_inert_keys
from plexichat.config.loader import load_settings
from plexichat.config.settings import Settings
from plexichat.config.sizes import parse_size

__all__ = [
    "INERT_KEYS",
    "RESERVED_VARIABLES",
    "ConfigError",
    "DeprecatedKeyWarning",
    "Settings",
    "inert_keys_set",
    "load_settings",
    "log_inert_keys",
    "parse_size",
    "profiles",
]
