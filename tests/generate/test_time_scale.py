"""The time scale of test and demo stacks (``Options.scaled``): every ``for:`` and range window
multiplied, windows kept long enough for ``rate()``, recorded names unchanged, and the result
still valid for promtool. Shipped files use scale 1 (``generate --check`` keeps them so)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from plexichat.generate import Options, promql
from plexichat.generate.postgres import SCRAPE_FLOOR_S
from plexichat.generate.stack.targets import up_min_window_s, up_timing
from plexichat.generate.writer import rule_texts
from tests.support.tools import promtool, requires_tool

_WINDOW = re.compile(r"\[(\w+)\]")


def _rules(options: Options) -> list[dict[str, object]]:
    return [
        rule
        for text in rule_texts(options).values()
        for group in yaml.safe_load(text)["groups"]
        for rule in group["rules"]
    ]


def test_durations_scale_and_windows_keep_four_scrapes() -> None:
    options = Options.for_profile("development").scaled(0.01, min_window_s=4)
    assert options.hold("5m") == "3s"
    assert options.hold("2m") == "1200ms"
    assert options.window("1h") == "36s"
    assert options.window("1m") == "4s"  # 0.6 s would hold no two scrapes
    assert Options().window("5m") == "5m"
    with pytest.raises(ValueError, match="> 0"):
        Options().scaled(0)


def test_up_windows_keep_four_scrapes_of_its_slowest_job() -> None:
    scrape = up_timing(0.01).scrape_interval
    assert up_min_window_s(scrape, postgres=False) == 4 * promql.seconds(scrape)
    # Job postgres is scraped at most every SCRAPE_FLOOR_S: four of its samples, not two.
    assert up_min_window_s(scrape, postgres=True) == 4 * SCRAPE_FLOOR_S > 4 * promql.seconds(scrape)


def test_scaled_rules_scale_every_for_and_window_but_keep_names() -> None:
    shipped = Options.for_profile("development")
    scaled = shipped.scaled(0.01, min_window_s=4)
    before, after = _rules(shipped), _rules(scaled)
    assert [r.get("record") or r.get("alert") for r in before] == [
        r.get("record") or r.get("alert") for r in after
    ]
    for old, new in zip(before, after, strict=True):
        if "for" in old:
            expected = promql.seconds(str(old["for"])) * 0.01
            assert promql.seconds(str(new["for"])) == pytest.approx(expected)
        old_windows = _WINDOW.findall(str(old["expr"]))
        new_windows = _WINDOW.findall(str(new["expr"]))
        assert len(old_windows) == len(new_windows)
        for w_old, w_new in zip(old_windows, new_windows, strict=True):
            expected = max(promql.seconds(w_old) * 0.01, 4)
            assert promql.seconds(w_new) == pytest.approx(expected), (old, new)
        assert old.get("labels") == new.get("labels")


@requires_tool("promtool")
def test_scaled_rules_pass_promtool(tmp_path: Path) -> None:
    for name, text in rule_texts(Options.for_profile(None).scaled(0.02, 4)).items():
        (tmp_path / name).write_text(text)
        code, output = promtool("check", "rules", str(tmp_path / name))
        assert code == 0, output
