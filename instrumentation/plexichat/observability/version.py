"""The installed distribution's version (``service.version`` and the instrumentation scope)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plexichat-observability")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"
