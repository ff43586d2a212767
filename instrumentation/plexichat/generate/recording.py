"""Recording rules: each catalog entry with a ``recording:`` block, at the guide's
``aggregation_intervals``.

Named ``level:metric:operation`` (``job:http_server_requests:rate5m``, from the entry's
``recording``). The expression is the entry's own query (its values are per job) with an
empty selector, so a dashboard trend and an alert read the same number. Nothing here writes
PromQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plexichat.generate.options import Options


def _rules(options: Options) -> Iterator[dict[str, Any]]:
    for entry in options.catalog:
        if entry.recording is None:
            continue
        for window in options.aggregation_intervals:
            # The name keeps the unscaled window (dashboards read it); see Options.window.
            yield {"record": entry.recorded(window), "expr": entry.query(options.window(window))}


def groups(options: Options) -> list[dict[str, Any]]:
    """The one recording-rule group, ``plexichat-recording``."""
    return [{"name": "plexichat-recording", "rules": list(_rules(options))}]
