"""Every ``le`` matcher the generators write accepts both spellings of its boundary: ``le="2"``
(Go clients, kept as written by Prometheus 2) and ``le="2.0"`` (our exposition, and the form
Prometheus 3 normalises every classic bucket to). promtool evaluates the generated SLO rule and
the Database dashboard's slow-query panel on series of each spelling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from plexichat.catalog import load_catalog
from plexichat.generate import Options, render
from plexichat.generate.promql import le_matcher
from tests.generate import support
from tests.support.tools import promtool, requires_tool

SLOW = "job:http_server_requests_slow:ratio_rate5m"
_PATTERN = re.compile(r'le=~"(.*)"')


def _pattern(boundary: float) -> str:
    match = _PATTERN.fullmatch(le_matcher(boundary))
    assert match, le_matcher(boundary)
    return match.group(1)


def test_the_matcher_of_an_integral_boundary_takes_both_spellings() -> None:
    assert le_matcher(1.0) == 'le=~"1([.]0)?"'
    assert le_matcher(0.5) == 'le=~"0[.]5"'
    assert le_matcher(1e-05) == 'le=~"1e-05"'
    assert le_matcher(1e6) == 'le=~"1000000([.]0)?|1e[+]06"'  # Prometheus 3, and protobuf


@pytest.mark.parametrize(
    "instrument",
    [
        "http.server.request.duration",
        "db.client.operation.duration",
        "http.server.response.body.size",  # bounds from 1e6 up: also "1e+06"
    ],
)
def test_every_boundary_matches_its_own_spellings_and_no_neighbours(instrument: str) -> None:
    boundaries = load_catalog().bucket_boundaries(instrument)
    spellings = {b: {repr(float(b)), f"{b:g}"} for b in boundaries}  # Python, Go (shortest)
    for boundary in boundaries:
        pattern = _pattern(boundary)  # Prometheus anchors regex matchers, as fullmatch does
        for other, written in spellings.items():
            matched = {s for s in written if re.fullmatch(pattern, s)}
            assert matched == (written if other == boundary else set()), (boundary, other)
    for near in ("10", "0.1", "1.05", "1x0", "11.0"):
        assert not re.fullmatch(_pattern(1.0), near), near


def _samples(le: str) -> list[dict[str, str]]:
    """Minute-by-minute histograms (rates exact in binary floating point, as promtool compares
    exactly): requests 2/s, 1.5/s of them within the boundary; operations 2/s, 1/s within."""
    labels = 'job="plexichat", instance="plexichat:8000", http_route="/api/posts/popular"'
    return [
        {"series": f"http_server_request_duration_seconds_count{{{labels}}}", "values": "0+120x20"},
        {
            "series": f'http_server_request_duration_seconds_bucket{{{labels}, le="{le}"}}',
            "values": "0+90x20",
        },
        {
            "series": 'db_client_operation_duration_seconds_count{job="plexichat", '
            'instance="plexichat:8000", db_operation_name="SELECT"}',
            "values": "0+120x20",
        },
        {
            "series": 'db_client_operation_duration_seconds_bucket{job="plexichat", '
            f'instance="plexichat:8000", db_operation_name="SELECT", le="{le}"}}',
            "values": "0+60x20",
        },
    ]


@requires_tool("promtool")
@pytest.mark.parametrize(("slo_le", "slow_query_le"), [("2", "1"), ("2.0", "1.0")])
def test_the_slo_rule_and_the_slow_query_panel_count_either_spelling(
    tmp_path: Path, slo_le: str, slow_query_le: str
) -> None:
    # The development profile's latency threshold is 2 s (the guide's 0.5 s has one spelling).
    files = render(Options.for_profile("development"), Path("/nonexistent"))
    (tmp_path / "slo.yaml").write_text(files["alerts/slo.yaml"], encoding="utf-8")
    board = support.dashboard(support.DASHBOARDS / "database.json")
    (slow_queries,) = [e for t, e in support.dashboard_queries(board) if t.startswith("Slow q")]
    inputs = _samples(slo_le)[:2] + _samples(slow_query_le)[2:]
    test = {
        "rule_files": ["slo.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "promql_expr_test": [
                    {
                        "expr": SLOW,
                        "eval_time": "10m",
                        "exp_samples": [
                            {"labels": f'{{__name__="{SLOW}", job="plexichat"}}', "value": 0.25}
                        ],
                    },
                    {  # operations slower than 1 s, per second
                        "expr": slow_queries,
                        "eval_time": "10m",
                        "exp_samples": [{"labels": '{db_operation_name="SELECT"}', "value": 1.0}],
                    },
                ],
            }
        ],
    }
    (tmp_path / "le_test.yaml").write_text(yaml.safe_dump(test), encoding="utf-8")
    code, output = promtool("test", "rules", "le_test.yaml", cwd=tmp_path)
    assert code == 0, output
