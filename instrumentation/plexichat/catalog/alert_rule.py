"""``AlertRule``: an alert on our own instruments, beyond the guide's table (the catalog's
``alerts:`` section).

The guide's table (``metrics:``) is what the README, the Overview and ``status`` show; an
alert that belongs to none of its rows -- background tasks failing -- is defined here instead,
with the same PromQL template scheme (``{window}``, ``{selector}``; see :mod:`.loader`) and the
same threshold fields, so its threshold, window and ``for:`` live in the catalog like every
other alert's.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from plexichat.catalog import validation as v
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.model import Alert, Duration, Instrument, NonEmpty

ALERT_NAME = re.compile(r"^Plexichat(?:[A-Z][a-z0-9]*)+$")
"""``PlexichatBackgroundTasksFailing``: our prefix, then PascalCase words."""


class AlertRule(BaseModel):
    """One alerting rule: ``promql`` (the value, per ``by`` labels) compared with ``alert``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[
        str,
        AfterValidator(lambda s: v.check_pattern(s, ALERT_NAME, "PlexichatPascalCase")),
    ]
    title: NonEmpty
    """What the value is, for the summary: ``Background task failure ratio``."""
    description: NonEmpty
    """What firing means (the runbook's first paragraph)."""
    instruments: tuple[Instrument, ...] = Field(min_length=1)
    """The instruments the query reads (named, defined under ``instruments:``)."""
    window: Duration
    promql: NonEmpty
    """Windowed: ``{window}`` and ``{selector}`` placeholders, as the table's entries."""
    value_unit: NonEmpty
    display_unit: NonEmpty
    scale: float = 1.0
    alert: Alert
    runbook: NonEmpty
    """What to look at first."""

    @field_validator("promql")
    @classmethod
    def _promql(cls, value: str, info: ValidationInfo) -> str:
        found = info.data.get("instruments", ())
        series = tuple(i.prometheus_series for i in found if isinstance(i, Instrument))
        v.check_template(value, series, windowed=True)
        unread = [s for s in series if not v.series_read(value, [s])]
        if unread:
            raise ValueError(f"the query reads none of the series {unread}")
        return value

    def query(self, window: str | None = None, selector: str = "") -> str:
        """The PromQL of the value at ``window`` (default: the rule's) for ``selector``."""
        if "{" in selector or "}" in selector:
            raise CatalogError(
                f"alert {self.name!r}: selector {selector!r} must be label matchers without braces"
            )
        chosen = window if window is not None else self.window
        try:
            v.check_window(chosen)
        except ValueError as exc:
            raise CatalogError(f"alert {self.name!r}: window: {exc}") from None
        return v.fill_selector(self.promql, selector.strip()).replace(v.WINDOW, chosen)

    def display(self, value: float) -> str:
        """A value in the display unit: ``5 %``."""
        return f"{value * self.scale:.10g} {self.display_unit}"
