"""*SLO*: error budget left and burn rates of the availability and latency SLOs."""

from __future__ import annotations

from typing import Any

from grafanalib import core  # type: ignore[import-untyped]

from plexichat.generate import promql
from plexichat.generate import slo as slo_rules
from plexichat.generate.dashboards import board, panels
from plexichat.generate.options import Options


def build(options: Options) -> dict[str, Any]:
    """The SLO dashboard as Grafana 11 JSON: budget left and burn rates of each SLO ``options``
    makes."""
    cells: list[panels.Cell] = []
    for objective in slo_rules.slos(options):
        sel = f"{{{panels.JOB_SELECTOR}}}"
        budget = promql.number(objective.budget)
        cells.append(
            panels.Cell(
                panels.stat(
                    f"{objective.name.capitalize()}: error budget left",
                    f"SLO: {objective.description}, over {options.slo_window}. Share of the error "
                    f"budget ({promql.percent(objective.budget)} bad) not yet spent in the "
                    "SLO window.",
                    f"1 - {objective.sli(options.slo_window)}{sel} / {budget}",
                    "percentunit",
                    [
                        core.Threshold("red", 0, 0.0),
                        core.Threshold("yellow", 1, 0.25),
                        core.Threshold("green", 2, 0.5),
                    ],
                    minimum=None,  # an overspent budget is negative: its sparkline shows how far
                ),
                6,
                8,
            )
        )
        cells.append(
            panels.Cell(
                panels.timeseries(
                    f"{objective.name.capitalize()}: burn rate",
                    "How many times faster than sustainable the budget burns, per alert window "
                    "(1 spends exactly the budget in the SLO window). Alerts at "
                    + ", ".join(
                        f"{promql.number(slo_rules.burn_factor(w, options.slo_window))}x "
                        f"over {w.long}"
                        for w in slo_rules.BURN_WINDOWS
                    )
                    + " (with the short window agreeing).",
                    panels.targets(
                        *(
                            (f"{objective.sli(w.long)}{sel} / {budget}", f"{w.long} {{{{job}}}}")
                            for w in slo_rules.BURN_WINDOWS
                        )
                    ),
                    "short",
                ),
                18,
                8,
            )
        )
    return board.dashboard(
        "slo",
        "PlexiChat / SLO",
        "Service level objectives of PlexiChat: error budget and multi-window burn rates.",
        cells,
        options,
    )
