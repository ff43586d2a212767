"""*Business*: registrations, messages, API calls and active users; operations timed with the
performance logger."""

from __future__ import annotations

from typing import Any

from plexichat.generate import promql
from plexichat.generate.dashboards import board, panels
from plexichat.generate.options import Options

WINDOW = "5m"


def _rate(series: str) -> str:
    return f"sum(rate({series}{{{panels.SELECTOR}}}[{WINDOW}])) * 60"


def build(options: Options) -> dict[str, Any]:
    """The Business dashboard as Grafana 11 JSON."""
    counters = (
        ("User registrations", "plexichat_user_registrations_total", "New accounts"),
        ("Messages sent", "plexichat_messages_sent_total", "Direct messages sent"),
        ("API calls", "plexichat_api_calls_total", "Requests to /api routes"),
    )
    cells = [
        panels.Cell(
            panels.stat(
                "Active users",
                "Distinct users who wrote in the last 15 minutes (gauge active_users). With "
                "Redis every instance reports the same fleet-wide count, so this is the max "
                "over instances, not their sum (a user who wrote to two is one user).",
                f"max(plexichat_active_users{{{panels.SELECTOR}}})",
                "short",
            ),
            6,
            6,
        ),
        *(
            panels.Cell(
                panels.stat(
                    f"{title} / min", f"{text} per minute ({series}).", _rate(series), "short"
                ),
                6,
                6,
            )
            for title, series, text in counters
        ),
        panels.Cell(
            panels.timeseries(
                "Activity per minute",
                "Registrations, messages and API calls per minute over 5m windows.",
                panels.targets(*((_rate(series), title) for title, series, _ in counters)),
            ),
            16,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Active users",
                "Active users per instance.",
                [panels.target(f"plexichat_active_users{{{panels.SELECTOR}}}", "{{instance}}")],
            ),
            8,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Timed operations p95",
                "95th percentile duration of the operations timed with the performance logger "
                "(timer(), record_timer(), @time_function, @performance_profile), by operation "
                "(plexichat.operation.duration): the service's user_register, message_send, "
                "post_create, comment_create, feed_read (popular posts) and user_posts_read, "
                "failures included, and any the application times itself.",
                [
                    panels.target(
                        promql.histogram_quantile(
                            0.95,
                            "plexichat_operation_duration_seconds",
                            panels.SELECTOR,
                            WINDOW,
                            ("operation",),
                        ),
                        "{{operation}}",
                    )
                ],
                "s",
            ),
            24,
            8,
        ),
    ]
    return board.dashboard(
        "business", "PlexiChat / Business", "What PlexiChat's users do.", cells, options
    )
