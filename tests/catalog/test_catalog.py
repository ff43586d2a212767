"""The metric catalog: the packaged metrics.yaml loads, carries the names the design
(``../shared/DESIGN.md``, beside the checkout) fixes, resolves profiles, and every broken
catalog is refused with an error naming file, entry and field."""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.catalog import Catalog, CatalogError, MetricEntry, default_path, load_catalog
from tests.support.tools import promtool, require_tool, requires_tool

IDS = (
    "response_time",
    "request_latency",
    "throughput",
    "error_rate",
    "cpu_usage",
    "memory_usage",
    "db_query_time",
    "cache_hit_ratio",
)

# ../shared/DESIGN.md, "The catalog": id -> (OTel instrument, unit, Prometheus family).
DESIGN_INSTRUMENTS = {
    "response_time": (
        "http.server.request.duration",
        "s",
        "http_server_request_duration_seconds",
    ),
    "request_latency": (
        "plexichat.http.server.time_to_first_byte",
        "s",
        "plexichat_http_server_time_to_first_byte_seconds",
    ),
    "throughput": ("http.server.request.duration", "s", "http_server_request_duration_seconds"),
    "error_rate": ("http.server.request.duration", "s", "http_server_request_duration_seconds"),
    "cpu_usage": ("process.cpu.utilization", "1", "process_cpu_utilization"),
    "memory_usage": ("process.memory.usage", "By", "process_memory_usage_bytes"),
    "db_query_time": (
        "db.client.operation.duration",
        "s",
        "db_client_operation_duration_seconds",
    ),
    "cache_hit_ratio": ("plexichat.cache.requests", "{request}", "plexichat_cache_requests_total"),
}
HTTP_ATTRIBUTES = {"http.request.method", "http.route", "http.response.status_code"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_packaged_catalog_loads_in_file_order(catalog: Catalog) -> None:
    assert tuple(entry.id for entry in catalog.entries) == IDS
    assert isinstance(catalog["error_rate"], MetricEntry)
    assert catalog.source == default_path()
    with pytest.raises(KeyError, match="no catalog entry 'latency'"):
        catalog["latency"]


@pytest.mark.parametrize("entry_id", IDS)
def test_design_names_are_present(catalog: Catalog, entry_id: str) -> None:
    name, unit, family = DESIGN_INSTRUMENTS[entry_id]
    entry = catalog[entry_id]
    instruments = {instrument.name: instrument for instrument in entry.instruments}
    assert name in instruments
    assert instruments[name].unit == unit
    assert family in entry.series


def test_design_attributes(catalog: Catalog) -> None:
    for entry_id in ("response_time", "request_latency"):
        assert set(catalog[entry_id].instrument.attributes) >= HTTP_ATTRIBUTES
    db = catalog.instrument("db.client.operation.duration")
    assert set(db.attributes) >= {"db.system.name", "db.operation.name"}
    requests = catalog.instrument("plexichat.cache.requests")
    assert set(requests.attributes) == {"cache.tier", "cache.result"}
    assert catalog.instrument("plexichat.process.memory.limit").unit == "By"
    assert catalog.instrument("process.cpu.utilization").kind == "gauge"


def test_guide_table_values(catalog: Catalog) -> None:
    expected = {  # (target op, value, alert op, value) in PromQL units
        "response_time": ("<", 0.1, ">", 0.5),
        "request_latency": ("<", 0.05, ">", 0.2),
        "throughput": (">", 1000, "<", 500),
        "error_rate": ("<", 0.001, ">", 0.01),
        "cpu_usage": ("<", 0.7, ">", 0.85),
        "memory_usage": ("<", 0.8, ">", 0.9),
        "db_query_time": ("<", 0.05, ">", 0.2),
        "cache_hit_ratio": (">", 0.9, "<", 0.8),
    }
    for entry_id, (t_op, t_value, a_op, a_value) in expected.items():
        resolved = catalog[entry_id].thresholds(None)
        assert resolved.alert is not None
        assert resolved.target.op == t_op
        assert resolved.target.value == pytest.approx(t_value)
        assert resolved.alert.op == a_op
        assert resolved.alert.value == pytest.approx(a_value)
    assert catalog["response_time"].display_unit == "ms"
    assert catalog["response_time"].scale == 1000


def test_profile_resolution(catalog: Catalog) -> None:
    response_time = catalog["response_time"]
    production = response_time.thresholds("production")
    development = response_time.thresholds("development")
    assert production.alert is not None
    assert development.alert is not None
    assert production.alert.value == pytest.approx(0.5)
    assert production.target.value == pytest.approx(0.05)
    assert development.alert.value == pytest.approx(2.0)
    assert development.target.value == pytest.approx(0.2)
    assert development.alert.for_ == response_time.alert.for_
    assert catalog["throughput"].thresholds("development").alert is None
    assert catalog["throughput"].thresholds("production").alert is not None
    with pytest.raises(
        CatalogError, match="unknown profile 'staging'; known profiles: development, production"
    ):
        response_time.thresholds("staging")


def test_followed_config_keys_override_thresholds(catalog: Catalog) -> None:
    response_time = catalog["response_time"]
    assert response_time.follows.target is not None
    assert response_time.follows.target.key == "latency_optimizer.target_latency_ms"
    assert response_time.follows.alert is not None
    assert response_time.follows.alert.key == "latency_optimizer.max_latency_ms"
    settings = {"latency_optimizer.target_latency_ms": 80, "latency_optimizer.max_latency_ms": 800}
    resolved = response_time.thresholds("production", settings)
    assert resolved.alert is not None
    assert resolved.target.value == pytest.approx(0.08)
    assert resolved.alert.value == pytest.approx(0.8)
    assert catalog["throughput"].thresholds("development", settings).alert is None


def test_duration_histograms_keep_native_buckets(catalog: Catalog) -> None:
    native = {
        i.name: (i.native.schema_, i.native.max_buckets, i.native.zero_threshold)
        for i in catalog.instruments
        if i.native is not None
    }
    assert native == dict.fromkeys(
        [
            "http.server.request.duration",
            "plexichat.http.server.time_to_first_byte",
            "db.client.operation.duration",
            "plexichat.operation.duration",
        ],
        (3, 160, 0.0),
    )


def test_bucket_boundaries_include_thresholds(catalog: Catalog) -> None:
    http = catalog.bucket_boundaries("http.server.request.duration")
    assert {0.05, 0.1, 0.2, 0.5, 2.0} <= set(http)
    assert 500 not in http  # throughput reads the same histogram, in req/s
    assert list(http) == sorted(set(http))
    assert 0.2 in catalog.bucket_boundaries("plexichat.http.server.time_to_first_byte")
    assert 0.2 in catalog.bucket_boundaries("db.client.operation.duration")
    assert 0.3 in catalog.bucket_boundaries("db.client.operation.duration", extra=[0.3])
    with pytest.raises(CatalogError, match="not a histogram"):
        catalog.bucket_boundaries("process.cpu.utilization")


def test_recordings_are_the_entries_own_query_per_job(catalog: Catalog) -> None:
    assert catalog["throughput"].recorded("5m") == "job:http_server_requests:rate5m"
    assert catalog["error_rate"].recorded("1h") == "job:http_server_request_errors:ratio_rate1h"
    recorded = [entry.id for entry in catalog if entry.recording is not None]
    assert recorded == [entry.id for entry in catalog if entry.windowed]
    for entry_id in recorded:
        assert "sum by (job" in catalog[entry_id].query()
    with pytest.raises(CatalogError, match="'cpu_usage' has no recording"):
        catalog["cpu_usage"].recorded("5m")


def test_query_renders_window_and_selector(catalog: Catalog) -> None:
    error_rate = catalog["error_rate"]
    query = error_rate.query("10m", 'job="plexichat"')
    assert "{window}" not in query
    assert "{selector}" not in query
    assert '{http_response_status_code=~"5..", job="plexichat"}[10m]' in query
    assert "[5m]" in error_rate.query()
    assert "[1m]" in catalog["throughput"].query()
    assert "[$__rate_interval]" in error_rate.query("$__rate_interval")
    cpu = "sum by (job, instance) (process_cpu_utilization)"  # no selector: no braces
    assert catalog["cpu_usage"].query("5m") == cpu
    with pytest.raises(CatalogError, match="window"):
        error_rate.query("five minutes")
    with pytest.raises(CatalogError, match="without braces"):
        error_rate.query("5m", '{job="x"}')


def _expressions(catalog: Catalog) -> list[tuple[str, str]]:
    found = []
    for entry in catalog:
        for selector in ("", 'job="plexichat", instance=~".+"'):
            found.append((entry.id, entry.query(selector=selector)))
            breakdown = entry.breakdown_query(selector=selector)
            if breakdown is not None:
                found.append((f"{entry.id}.breakdown", breakdown))
    return found


@requires_tool("promtool")
def test_every_promql_parses(catalog: Catalog, tmp_path: Path) -> None:
    require_tool("promtool")
    for index, (label, expr) in enumerate(_expressions(catalog)):
        rules = {"groups": [{"name": "t", "rules": [{"record": "x:y:z", "expr": expr}]}]}
        path = tmp_path / f"rule{index}.yml"
        path.write_text(yaml.safe_dump(rules), encoding="utf-8")
        code, output = promtool("check", "rules", str(path))
        assert code == 0, f"{label}: {expr}\n{output}"


# --- broken catalogs ---------------------------------------------------------------------


@pytest.fixture
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(default_path().read_text(encoding="utf-8"))
    return copy.deepcopy(loaded)


def _entry(document: dict[str, Any], entry_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = next(e for e in document["metrics"] if e["id"] == entry_id)
    return entry


def _instrument(document: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in document["instruments"] if i["name"] == name)
    return found


def _load(tmp_path: Path, document: object) -> Catalog:
    path = tmp_path / "metrics.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return load_catalog(path)


def test_round_trip_of_the_packaged_document(document: dict[str, Any], tmp_path: Path) -> None:
    assert len(_load(tmp_path, document)) == len(IDS)


def test_bad_alert_op(document: dict[str, Any], tmp_path: Path) -> None:
    _entry(document, "error_rate")["alert"]["op"] = "=>"
    with pytest.raises(CatalogError) as caught:
        _load(tmp_path, document)
    assert str(caught.value) == (
        "metrics.yaml: entry 'error_rate': field 'alert.op': '=>' is not one of '<', '>'"
    )


def _mutate_id(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["id"] = "CpuUsage"


def _duplicate_id(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["id"] = "throughput"


def _bad_instrument_name(d: dict[str, Any]) -> None:
    _instrument(d, "process.cpu.utilization")["name"] = "Process.CPU"


def _empty_unit(d: dict[str, Any]) -> None:
    _instrument(d, "process.cpu.utilization")["unit"] = ""


def _unsorted_buckets(d: dict[str, Any]) -> None:
    _instrument(d, "db.client.operation.duration")["buckets"] = [0.1, 0.05, 1]


def _histogram_without_buckets(d: dict[str, Any]) -> None:
    del _instrument(d, "db.client.operation.duration")["buckets"]


def _no_dashboard(d: dict[str, Any]) -> None:
    del _instrument(d, "plexichat.cache.evictions")["dashboard"]


def _unknown_dashboard(d: dict[str, Any]) -> None:
    _instrument(d, "plexichat.cache.evictions")["dashboard"] = "grafana"


def _instrument_defined_twice(d: dict[str, Any]) -> None:
    d["instruments"].append(dict(_instrument(d, "plexichat.cache.evictions")))


def _unknown_instrument(d: dict[str, Any]) -> None:
    _entry(d, "throughput")["instrument"] = "http.server.requests"


def _unknown_extra_instrument(d: dict[str, Any]) -> None:
    _entry(d, "memory_usage")["extra_instruments"] = ["process.memory.limit"]


def _no_window(d: dict[str, Any]) -> None:
    entry = _entry(d, "throughput")
    entry["promql"] = entry["promql"].replace("[{window}]", "[5m]")


def _selector_missing(d: dict[str, Any]) -> None:
    entry = _entry(d, "db_query_time")
    entry["promql"] = entry["promql"].replace("_sum{ {selector} }", "_sum")


def _bad_for(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["alert"]["for"] = "5 minutes"


def _unknown_profile(d: dict[str, Any]) -> None:
    _entry(d, "throughput")["profiles"]["staging"] = {"alert": None}


def _bad_profile_op(d: dict[str, Any]) -> None:
    _entry(d, "response_time")["profiles"]["production"]["alert"]["op"] = ">="


def _unknown_field(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["treshold"] = 1


def _gauge_windowed_counter(d: dict[str, Any]) -> None:
    entry = _entry(d, "cache_hit_ratio")
    entry["windowed"] = False
    del entry["window"]
    del entry["recording"]
    entry["promql"] = entry["promql"].replace("{window}", "5m")
    entry["breakdown"]["promql"] = entry["breakdown"]["promql"].replace("{window}", "5m")


def _recorded_gauge(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["recording"] = {"metric": "process_cpu", "operation": "ratio"}


def _unread_series(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["extra_instruments"] = ["plexichat.process.memory.limit"]


def _bad_severity(d: dict[str, Any]) -> None:
    _entry(d, "cpu_usage")["alert"]["severity"] = "page"


def _native(d: dict[str, Any], **change: Any) -> None:
    native = _instrument(d, "http.server.request.duration")["native"]
    native.update(change)


def _alert_rule(d: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = d["alerts"][0]
    return found


def _alert_unknown_instrument(d: dict[str, Any]) -> None:
    _alert_rule(d)["instruments"] = ["plexichat.tasks.failed"]


def _alert_bad_name(d: dict[str, Any]) -> None:
    _alert_rule(d)["name"] = "TasksFailing"


def _alert_without_window(d: dict[str, Any]) -> None:
    rule = _alert_rule(d)
    rule["promql"] = rule["promql"].replace("[{window}]", "[5m]")


def _alert_twice(d: dict[str, Any]) -> None:
    d["alerts"].append(dict(_alert_rule(d)))


def _alerts_not_a_list(d: dict[str, Any]) -> None:
    d["alerts"] = {"name": "PlexichatX"}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_mutate_id, "entry 'CpuUsage': field 'id': 'CpuUsage' is not snake_case"),
        (_duplicate_id, "entry 'throughput': field 'id': duplicate id 'throughput'"),
        (_bad_instrument_name, "instrument 'Process.CPU': field 'name': 'Process.CPU' is not"),
        (_empty_unit, "instrument 'process.cpu.utilization': field 'unit'"),
        (_unsorted_buckets, "field 'buckets': bucket boundaries must be strictly"),
        (_histogram_without_buckets, "field 'buckets': a histogram needs at least"),
        (_no_dashboard, "instrument 'plexichat.cache.evictions': field 'dashboard': is required"),
        (_unknown_dashboard, "field 'dashboard': 'grafana' is not one of 'overview', 'http'"),
        (
            _instrument_defined_twice,
            "instrument 'plexichat.cache.evictions': field 'name': defined",
        ),
        (
            _unknown_instrument,
            "entry 'throughput': field 'instrument': 'http.server.requests' names no instrument",
        ),
        (
            _unknown_extra_instrument,
            "field 'extra_instruments.0': 'process.memory.limit' names no instrument",
        ),
        (_no_window, "entry 'throughput': field 'promql': a windowed query must contain"),
        (_selector_missing, "field 'promql': the vector selector db_client_operation_duration"),
        (_bad_for, "field 'alert.for': '5 minutes' is not a Prometheus duration"),
        (_unknown_profile, "entry 'throughput': field 'profiles.staging': unknown field"),
        (_bad_profile_op, "field 'profiles.production.alert.op': '>=' is not one of '<', '>'"),
        (_unknown_field, "entry 'cpu_usage': field 'treshold': unknown field"),
        (_gauge_windowed_counter, "entry 'cache_hit_ratio': field 'windowed': a counter"),
        (_recorded_gauge, "entry 'cpu_usage': field 'recording': only a windowed entry"),
        (_unread_series, "series ['plexichat_process_memory_limit_bytes'] of its instruments"),
        (_bad_severity, "field 'alert.severity': 'page' is not one of 'warning', 'critical'"),
        (
            _alert_unknown_instrument,
            "alert 'PlexichatBackgroundTasksFailing': field 'instruments.0': "
            "'plexichat.tasks.failed' names no instrument",
        ),
        (_alert_bad_name, "alert 'TasksFailing': field 'name': 'TasksFailing' is not Plexichat"),
        (_alert_without_window, "field 'promql': a windowed query must contain the {window}"),
        (_alert_twice, "alert 'PlexichatBackgroundTasksFailing': field 'name': defined twice"),
        (_alerts_not_a_list, "field 'alerts': must be a list"),
        (
            lambda d: _native(d, schema=9),
            "instrument 'http.server.request.duration': field 'native.schema': 9 is not a "
            "schema of -4..8",
        ),
        (lambda d: _native(d, schema=-5), "field 'native.schema': -5 is not a schema of -4..8"),
        (lambda d: _native(d, schema=2.5), "field 'native.schema': 2.5: Input should be a valid"),
        (
            lambda d: _native(d, max_buckets=0),
            "instrument 'http.server.request.duration': field 'native.max_buckets': 0: a series "
            "keeps at least 1 bucket",
        ),
        (
            lambda d: _native(d, zero_threshold=-0.001),
            "field 'native.zero_threshold': -0.001: the zero threshold is 0 or more",
        ),
        (lambda d: _native(d, scale=3), "field 'native.scale': unknown field"),
        (
            lambda d: _entry(d, "cpu_usage").update(quantile=0.95),
            "entry 'cpu_usage': field 'quantile': only a histogram has quantiles, and "
            "process.cpu.utilization is not one",
        ),
        (
            lambda d: _entry(d, "request_latency").update(quantile=95),
            "entry 'request_latency': field 'quantile': 95 is not a quantile between 0 and 1",
        ),
        (
            lambda d: _entry(d, "request_latency").update(quantile=0.99),
            "entry 'request_latency': field 'quantile': the query takes no "
            "histogram_quantile(0.99, ...)",
        ),
        (
            lambda d: _instrument(d, "plexichat.cache.evictions").update(
                native={"schema": 3, "max_buckets": 160}
            ),
            "instrument 'plexichat.cache.evictions': field 'native': only a histogram keeps "
            "native buckets",
        ),
    ],
)
def test_bad_catalog_is_refused(
    document: dict[str, Any], tmp_path: Path, mutate: Any, message: str
) -> None:
    mutate(document)
    with pytest.raises(CatalogError) as caught:
        _load(tmp_path, document)
    assert str(caught.value).startswith("metrics.yaml: ")
    assert message in str(caught.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="cannot read"):
        load_catalog(tmp_path / "missing.yaml")
    broken = tmp_path / "metrics.yaml"
    broken.write_text("version: 1\nmetrics: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"metrics\.yaml: not valid YAML"):
        load_catalog(broken)
    with pytest.raises(CatalogError, match="field 'version': 1 is not 2"):
        _load(tmp_path, {"version": 1, "metrics": []})
    with pytest.raises(CatalogError, match="field 'instruments': must be a non-empty list"):
        _load(tmp_path, {"version": 2, "metrics": []})
    with pytest.raises(CatalogError, match="field 'metrics': must be a non-empty list"):
        _load(tmp_path, {"version": 2, "instruments": [{"name": "x"}], "metrics": []})


# --- what the queries compute, evaluated by promtool on synthetic series ------------------

HTTP_COUNT = "http_server_request_duration_seconds_count"
LOOKUPS = "plexichat_cache_lookups_total"


def _expect(
    tmp_path: Path, series: dict[str, str], expr: str, value: float | None, labels: str = "{}"
) -> None:
    """``promtool test rules``: at 10m ``expr`` is one sample ``value`` with ``labels``, or
    empty."""
    require_tool("promtool")
    samples = [] if value is None else [{"labels": labels, "value": value}]
    test = {
        "rule_files": [],
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "promql_expr_test": [{"expr": expr, "eval_time": "10m", "exp_samples": samples}],
            }
        ],
    }
    path = tmp_path / "test.yml"
    path.write_text(yaml.safe_dump(test), encoding="utf-8")
    code, output = promtool("test", "rules", str(path))
    assert code == 0, output


@requires_tool("promtool")
def test_error_rate_is_zero_when_healthy_and_empty_without_traffic(
    catalog: Catalog, tmp_path: Path
) -> None:
    query = catalog["error_rate"].query("5m", 'job="plexichat"')
    ok = f'{HTTP_COUNT}{{job="plexichat", http_response_status_code="200"}}'
    failed = f'{HTTP_COUNT}{{job="plexichat", http_response_status_code="503"}}'
    job = '{job="plexichat"}'  # values are per job
    _expect(tmp_path, {ok: "0+60x10"}, query, 0, job)
    _expect(tmp_path, {ok: "600x10"}, query, None)  # a flat counter: no traffic, no sample
    _expect(tmp_path, {ok: "0+57x10", failed: "0+3x10"}, query, 0.05, job)


@requires_tool("promtool")
def test_cache_hit_ratio_reads_lookups(catalog: Catalog, tmp_path: Path) -> None:
    query = catalog["cache_hit_ratio"].query("5m")
    hit = f'{LOOKUPS}{{cache_result="hit"}}'
    miss = f'{LOOKUPS}{{cache_result="miss"}}'
    _expect(tmp_path, {miss: "0+10x10"}, query, 0)
    _expect(tmp_path, {hit: "0+9x10", miss: "0+1x10"}, query, 0.9)
