"""*Overview*: the guide's eight core metrics, each a stat coloured by target and alert threshold
next to its trend (the recorded value at every aggregation interval)."""

from __future__ import annotations

from typing import Any

from plexichat.catalog import MetricEntry
from plexichat.generate import promql
from plexichat.generate.dashboards import panels
from plexichat.generate.options import Options

UID = "plexichat-overview"


def describe(entry: MetricEntry, options: Options) -> str:
    resolved = options.thresholds(entry)
    alert = (
        f"alert {resolved.alert.op} {promql.display(entry, resolved.alert.value)} for "
        f"{resolved.alert.for_}"
        if resolved.alert is not None
        else "no alert in this profile"
    )
    return (
        f"{entry.guide_name}: {entry.description.lower()}. Target {resolved.target.op} "
        f"{promql.display(entry, resolved.target.value)}; {alert}. Green meets the target, "
        f"yellow misses it, red is past the alert threshold."
    )


def trend(entry: MetricEntry, options: Options) -> list[Any]:
    if entry.recording is None:
        return [panels.target(entry.query(selector=panels.SELECTOR), "{{instance}}")]
    return panels.targets(
        *(
            (f"{entry.recorded(w)}{{{panels.JOB_SELECTOR}}}", f"{w} {{{{job}}}}")
            for w in options.aggregation_intervals
        )
    )


def build(options: Options) -> dict[str, Any]:
    cells: list[panels.Cell] = []
    for entry in options.catalog:
        resolved = options.thresholds(entry)
        unit = panels.unit_of(entry)
        cells.append(
            panels.Cell(
                panels.stat(
                    entry.guide_name,
                    describe(entry, options),
                    entry.query(selector=panels.SELECTOR),
                    unit,
                    panels.steps(entry, resolved),
                ),
                6,
                6,
            )
        )
        cells.append(
            panels.Cell(
                panels.timeseries(
                    f"{entry.guide_name} trend",
                    f"{entry.guide_name} averaged over each aggregation interval "
                    f"({', '.join(options.aggregation_intervals)}) from the recording rules; "
                    "lines mark the target and the alert threshold.",
                    trend(entry, options),
                    unit,
                    panels.steps(entry, resolved),
                ),
                18,
                6,
            )
        )
    return panels.dashboard(
        UID,
        "PlexiChat / Overview",
        "The PlexiChat performance guide's core metrics against their targets and alert "
        "thresholds.",
        cells,
        options.profile,
    )
