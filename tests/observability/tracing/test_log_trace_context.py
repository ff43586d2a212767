"""Access-log lines of the served service end with the trace context of sampled requests."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.support.otlp_receiver import HttpReceiver
from tests.support.service import serving

pytestmark = pytest.mark.integration
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_access_log_lines_name_the_trace_of_sampled_requests(
    tmp_path: Path, receiver: HttpReceiver
) -> None:
    env = {
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__ENDPOINT": receiver.endpoint,
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__OTLP__METRICS_ENABLED": "false",
        # parent-based: a sampled traceparent is followed, an unsampled one is not
        "PLEXICHAT_PERFORMANCE__OBSERVABILITY__TRACING__SAMPLER": "parentbased_always_off",
    }
    with serving(tmp_path, env, args=["--access-log"]) as service:
        sampled = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
        unsampled = f"00-{'c' * 32}-00f067aa0ba902b7-00"
        assert httpx.get(f"{service.url}/api/users/1", headers={"traceparent": sampled}).is_success
        assert httpx.get(
            f"{service.url}/api/users/2", headers={"traceparent": unsampled}
        ).is_success
        deadline = time.monotonic() + 10
        while not receiver.received.spans() and time.monotonic() < deadline:
            time.sleep(0.1)
        output = service.output
    server_spans = [s for s in receiver.received.spans() if s.kind == 2]  # SERVER
    assert [s.trace_id.hex() for s in server_spans] == [TRACE_ID]
    line = next(line for line in output.splitlines() if "GET /api/users/1 " in line)
    assert line.endswith(f"trace_id={TRACE_ID} span_id={server_spans[0].span_id.hex()}")
    other = next(line for line in output.splitlines() if "GET /api/users/2 " in line)
    assert other.endswith('" 200 OK'), other
