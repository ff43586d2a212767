"""The latency optimizer's ASGI middleware, one small class per file."""

from .body_limit import BodySizeLimitMiddleware
from .gzip import GzipMiddleware
from .rate_limit import RateLimitMiddleware
from .timeout import TimeoutMiddleware

__all__ = ["BodySizeLimitMiddleware", "GzipMiddleware", "RateLimitMiddleware", "TimeoutMiddleware"]
