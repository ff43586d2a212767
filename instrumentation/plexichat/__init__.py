"""PlexiChat observability: instrumentation, metric catalog, generators and the chat service."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plexichat-observability")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
