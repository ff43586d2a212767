"""A catalog instrument is on its dashboard without dashboard code: one that no designed panel
reads gets a default panel from its kind (the README's "Add a metric")."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
import yaml

from plexichat.catalog import Catalog, Instrument, load_catalog
from plexichat.catalog.model import Dashboard
from plexichat.generate.dashboards import DASHBOARDS
from plexichat.generate.options import Options
from tests.generate import support
from tests.support.tools import promtool, requires_tool

NEW = (
    Instrument(
        name="plexichat.examples.done",
        kind="counter",
        unit="{job}",
        description="Jobs finished.",
        attributes=("job.kind", "job.outcome"),
        dashboard="business",
    ),
    Instrument(
        name="plexichat.examples.sent",
        kind="counter",
        unit="By",
        description="Bytes the jobs sent.",
        dashboard="business",
    ),
    Instrument(
        name="plexichat.examples.duration",
        kind="histogram",
        unit="s",
        description="How long jobs take.",
        buckets=(0.1, 1, 10),
        dashboard="business",
        exemplars=True,
    ),
    Instrument(
        name="plexichat.examples.backlog",
        kind="gauge",
        unit="{job}",
        description="Jobs waiting.",
        attributes=("job.kind",),
        dashboard="business",
        merge="sum",
    ),
    Instrument(
        name="plexichat.examples.spooled",
        kind="gauge",
        unit="By",
        description="Bytes waiting to be sent.",
        dashboard="business",
        merge="sum",
    ),
)


def _with_new_instruments() -> Options:
    shipped = load_catalog()
    catalog = Catalog(shipped.entries, [*shipped.instruments, *NEW], alerts=shipped.alerts)
    return Options(catalog=catalog)


def _panels(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {panel["title"]: panel for panel in board["panels"]}


def _exprs(panel: dict[str, Any]) -> list[str]:
    return [target["expr"] for target in panel["targets"]]


@pytest.fixture(scope="module")
def business() -> dict[str, Any]:
    return DASHBOARDS["business"](_with_new_instruments())


def test_each_kind_gets_its_default_panel_after_the_designed_ones(
    business: dict[str, Any],
) -> None:
    shipped = DASHBOARDS["business"](Options())
    found = _panels(business)
    assert [p["title"] for p in business["panels"]] == [
        *(p["title"] for p in shipped["panels"]),
        *(i.name for i in NEW),
    ]
    selector = 'job=~"$job", instance=~"$instance"'
    done = found["plexichat.examples.done"]
    assert _exprs(done) == [
        f"sum by (job_kind, job_outcome) (rate(plexichat_examples_done_total{{{selector}}}[5m]))"
    ]
    assert done["targets"][0]["legendFormat"] == "{{job_kind}} {{job_outcome}}"
    assert done["fieldConfig"]["defaults"]["unit"] == "ops"
    assert done["description"].startswith("Jobs finished.")
    sent = found["plexichat.examples.sent"]
    assert _exprs(sent) == [f"sum(rate(plexichat_examples_sent_bytes_total{{{selector}}}[5m]))"]
    assert sent["fieldConfig"]["defaults"]["unit"] == "Bps"
    duration = found["plexichat.examples.duration"]
    assert _exprs(duration) == [  # the native histogram where stored, else the classic buckets
        f"histogram_quantile({q}, sum (rate(plexichat_examples_duration_seconds{{{selector}}}"
        f"[5m])))\nor histogram_quantile({q}, sum by (le) "
        f"(rate(plexichat_examples_duration_seconds_bucket{{{selector}}}[5m])))"
        for q in (0.5, 0.95, 0.99)
    ]
    assert [t.get("exemplar", False) for t in duration["targets"]] == [True, False, False]
    assert duration["fieldConfig"]["defaults"]["unit"] == "s"
    backlog = found["plexichat.examples.backlog"]
    assert _exprs(backlog) == [
        f"sum by (instance, job_kind) (plexichat_examples_backlog{{{selector}}})"
    ]


def test_default_panels_start_at_zero_unless_the_value_may_be_negative(
    business: dict[str, Any],
) -> None:
    """A counter's rate, a histogram's quantiles and a size cannot go below 0; a gauge of jobs
    may (an up-down counter is allowed to), so its floor is the data's."""
    found = _panels(business)
    floors = {i.name: found[i.name]["fieldConfig"]["defaults"].get("min") for i in NEW}
    assert floors == {
        "plexichat.examples.done": 0,
        "plexichat.examples.sent": 0,
        "plexichat.examples.duration": 0,
        "plexichat.examples.backlog": None,
        "plexichat.examples.spooled": 0,
    }


def test_every_dashboard_an_instrument_may_name_is_generated() -> None:
    """The catalog's ``dashboard:`` choices are the generated dashboards: none names a
    dashboard that would never show it. Dependencies and Stack health draw the watched
    catalog (what the stack reads from others), so no instrument of ours lives there."""
    assert set(get_args(Dashboard)) == set(DASHBOARDS) - {"dependencies", "stack_health"}


def test_a_designed_panel_replaces_the_default(business: dict[str, Any]) -> None:
    """Business designs the panels of the guide's business counters: they get no default."""
    designed = {"plexichat.user_registrations", "plexichat.messages_sent", "plexichat.api_calls"}
    assert {i.name for i in load_catalog().instruments} >= designed
    assert designed & set(_panels(business)) == set()


@requires_tool("promtool")
def test_default_panel_queries_parse(business: dict[str, Any], tmp_path: Path) -> None:
    exprs = [
        support.fill(expr)
        for title, panel in _panels(business).items()
        if title.startswith("plexichat.examples.")
        for expr in _exprs(panel)
    ]
    assert len(exprs) == 7
    rules = [{"record": f"check:default_panel:n{i}", "expr": e} for i, e in enumerate(exprs)]
    path = tmp_path / "defaults.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "parse", "rules": rules}]}))
    code, output = promtool("check", "rules", str(path))
    assert code == 0, output
