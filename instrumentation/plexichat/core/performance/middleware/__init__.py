"""The latency optimizer's ASGI middleware, one small class per file."""

from plexichat.core.performance.middleware.body_limit import BodySizeLimitMiddleware
from plexichat.core.performance.middleware.gzip import GzipMiddleware
from plexichat.core.performance.middleware.rate_limit import RateLimitMiddleware
from plexichat.core.performance.middleware.timeout import TimeoutMiddleware

__all__ = ["BodySizeLimitMiddleware", "GzipMiddleware", "RateLimitMiddleware", "TimeoutMiddleware"]
