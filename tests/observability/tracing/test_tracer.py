"""The lean tracer: sampling, W3C parsing, and OTLP encoding decoded by opentelemetry-proto."""

from __future__ import annotations

import json
import os
import random

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from plexichat.observability.tracing.encoding import SpanEncoder
from plexichat.observability.tracing.export import SpanExporter, SpanRecord
from plexichat.observability.tracing.tracer import SERVER, LeanTracer, parse_traceparent

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


class Collect:
    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def __call__(self, payload: bytes) -> None:
        self.payloads.append(payload)


def make_tracer(sampler: str, ratio: float = 0.1) -> tuple[LeanTracer, Collect]:
    sink = Collect()
    exporter = SpanExporter(SpanEncoder({"service.name": "t"}, "scope", "1"), sink, delay=3600)
    return LeanTracer(sampler, ratio, exporter), sink


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"00-{TRACE}-{PARENT}-01", (int(TRACE, 16), int(PARENT, 16), True)),
        (f"00-{TRACE}-{PARENT}-00", (int(TRACE, 16), int(PARENT, 16), False)),
        (f"01-{TRACE}-{PARENT}-01-future", (int(TRACE, 16), int(PARENT, 16), True)),
        (f"00-{TRACE}-{PARENT}-01-extra", None),  # version 00 has exactly four fields
        (f"ff-{TRACE}-{PARENT}-01", None),
        (f"00-{'0' * 32}-{PARENT}-01", None),
        (f"00-{TRACE}-{'0' * 16}-01", None),
        (f"00-{TRACE.upper()}-{PARENT}-01", None),
        ("00-xyz-abc-01", None),
        ("garbage", None),
    ],
)
def test_traceparent_parsing_follows_w3c(
    header: str, expected: tuple[int, int, bool] | None
) -> None:
    assert parse_traceparent(header) == expected


def test_ratio_sampler_samples_about_its_share_of_root_requests() -> None:
    tracer, _ = make_tracer("parentbased_traceidratio", 0.1)
    sampled = 0
    for _ in range(20_000):
        span = tracer.server_span([], "GET", "http")
        if span is not None:
            sampled += 1
            tracer.finish(span)
    assert 1_600 < sampled < 2_400


def test_parent_based_follows_the_parent_flag() -> None:
    tracer, _ = make_tracer("parentbased_always_off")
    yes = [(b"traceparent", f"00-{TRACE}-{PARENT}-01".encode())]
    no = [(b"traceparent", f"00-{TRACE}-{PARENT}-00".encode())]
    span = tracer.server_span(yes, "GET", "http")
    assert span is not None
    assert (span.trace_id, span.parent_id) == (int(TRACE, 16), int(PARENT, 16))
    tracer.finish(span)
    assert tracer.server_span(no, "GET", "http") is None
    assert tracer.server_span([], "GET", "http") is None


def test_non_parent_based_sampler_ignores_the_parent_flag() -> None:
    tracer, _ = make_tracer("always_on")
    span = tracer.server_span([(b"traceparent", f"00-{TRACE}-{PARENT}-00".encode())], "GET", "h")
    assert span is not None
    tracer.finish(span)
    off, _ = make_tracer("always_off")
    assert off.server_span([(b"traceparent", f"00-{TRACE}-{PARENT}-01".encode())], "G", "h") is None


def test_unknown_sampler_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown sampler 'sometimes'"):
        make_tracer("sometimes")


def test_children_nest_and_everything_decodes_as_otlp() -> None:
    tracer, sink = make_tracer("always_on")
    headers = [
        (b"traceparent", f"00-{TRACE}-{PARENT}-01".encode()),
        (b"tracestate", b"vendor=x"),
    ]
    server = tracer.server_span(headers, "GET", "http")
    assert server is not None
    child = tracer.child_span("SELECT sqlite", 3, [("db.system.name", "sqlite"), ("n", -5)])
    assert child is not None
    child.attributes.append(("ratio", 0.5))
    child.attributes.append(("ok", True))
    tracer.finish(child, error=True)
    tracer.finish(server)
    assert tracer.child_span("after", 1, []) is None  # no current span once finished
    tracer.exporter.shutdown(timeout=5)

    request = ExportTraceServiceRequest()
    request.ParseFromString(b"".join(sink.payloads))
    resource_spans = request.resource_spans[0]
    assert resource_spans.resource.attributes[0].value.string_value == "t"
    scope_spans = resource_spans.scope_spans[0]
    assert (scope_spans.scope.name, scope_spans.scope.version) == ("scope", "1")
    child_msg, server_msg = scope_spans.spans
    assert server_msg.kind == SERVER
    assert server_msg.trace_id.hex() == TRACE
    assert server_msg.parent_span_id.hex() == PARENT
    assert server_msg.trace_state == "vendor=x"
    assert child_msg.parent_span_id == server_msg.span_id
    assert child_msg.status.code == 2
    attrs = {kv.key: kv.value for kv in child_msg.attributes}
    assert attrs["n"].int_value == -5
    assert attrs["ratio"].double_value == 0.5
    assert attrs["ok"].bool_value is True
    assert server_msg.end_time_unix_nano >= child_msg.end_time_unix_nano


def test_a_full_queue_drops_and_counts_instead_of_growing() -> None:
    sink = Collect()
    exporter = SpanExporter(SpanEncoder({}, "s", "1"), sink, max_queue=10, delay=3600)
    record: SpanRecord = (1, 2, 0, "", "n", 1, 0, 1, (), False)
    for _ in range(25):
        exporter.submit(record)
    assert exporter.dropped == 15
    exporter.shutdown(timeout=5)


def test_encoding_is_byte_identical_to_opentelemetry_proto() -> None:
    from opentelemetry.proto.common.v1.common_pb2 import (
        AnyValue,
        InstrumentationScope,
        KeyValue,
    )
    from opentelemetry.proto.resource.v1.resource_pb2 import Resource
    from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

    encoder = SpanEncoder({"service.name": "svc", "n": 3}, "scope", "1.0")
    attributes = (("http.route", "/a/{b}"), ("url.path", "/a/" + "x" * 200), ("code", 503))
    ours = encoder.request(
        [
            encoder.span(
                2**100 + 5,
                77,
                99,
                "k=v",
                "GET /a/{b}",
                SERVER,
                10**18,
                10**18 + 5,
                attributes,
                True,
            ),
            encoder.span(1, 2, 0, "", "SELECT", 3, 5, 6, (("ok", False), ("r", 0.25)), False),
        ]
    )

    def kv(key: str, value: object) -> KeyValue:
        if isinstance(value, bool):
            return KeyValue(key=key, value=AnyValue(bool_value=value))
        if isinstance(value, int):
            return KeyValue(key=key, value=AnyValue(int_value=value))
        if isinstance(value, float):
            return KeyValue(key=key, value=AnyValue(double_value=value))
        return KeyValue(key=key, value=AnyValue(string_value=str(value)))

    reference = ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(attributes=[kv("service.name", "svc"), kv("n", 3)]),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name="scope", version="1.0"),
                        spans=[
                            Span(
                                trace_id=(2**100 + 5).to_bytes(16, "big"),
                                span_id=(77).to_bytes(8, "big"),
                                trace_state="k=v",
                                parent_span_id=(99).to_bytes(8, "big"),
                                name="GET /a/{b}",
                                kind=Span.SpanKind.ValueType(SERVER),
                                start_time_unix_nano=10**18,
                                end_time_unix_nano=10**18 + 5,
                                attributes=[kv(k, v) for k, v in attributes],
                                status=Status(code=Status.StatusCode.STATUS_CODE_ERROR),
                            ),
                            Span(
                                trace_id=(1).to_bytes(16, "big"),
                                span_id=(2).to_bytes(8, "big"),
                                name="SELECT",
                                kind=Span.SpanKind.SPAN_KIND_CLIENT,
                                start_time_unix_nano=5,
                                end_time_unix_nano=6,
                                attributes=[kv("ok", False), kv("r", 0.25)],
                            ),
                        ],
                    )
                ],
            )
        ]
    ).SerializeToString()
    assert ours == reference


def _trace_ids(tracer: LeanTracer, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        span = tracer.server_span([], "GET", "http")
        assert span is not None
        ids.append(span.trace_id)
        tracer.finish(span)
    return ids


def test_forked_children_draw_their_own_ids() -> None:
    # gunicorn --preload builds the app (and its tracer) once, then forks the workers.
    tracer, _ = make_tracer("always_on")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its ids and leave without running pytest's teardown
        try:
            os.write(write_end, json.dumps(_trace_ids(tracer, 4)).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        child = json.loads(pipe.read())
    os.waitpid(pid, 0)
    parent = _trace_ids(tracer, 4)
    assert len(child) == 4
    assert not set(child) & set(parent)


def test_seeding_the_random_module_does_not_fix_trace_ids() -> None:
    tracer, _ = make_tracer("always_on")
    random.seed(0)
    first = _trace_ids(tracer, 2)
    random.seed(0)
    assert _trace_ids(tracer, 2) != first
