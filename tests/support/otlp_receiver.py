"""A test OTLP receiver: decodes real exporter traffic with ``opentelemetry-proto``.

No collector, Jaeger or Tempo can be installed here, so this stands in for one. It is not a
mock of the exporter: the official OTLP exporters send it real HTTP or gRPC requests, and it
decodes them with the protocol's own message classes.
"""

from __future__ import annotations

import gzip
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from google.protobuf.message import Message
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class Received:
    """What a receiver decoded, shared by its HTTP and gRPC front ends."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.traces: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self.headers: list[dict[str, str]] = []

    def spans(self) -> list[Any]:
        with self.lock:
            return [
                span
                for req in self.traces
                for rs in req.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]

    def resource_attributes(self) -> dict[str, str]:
        with self.lock:
            resources = [rs.resource for req in self.traces for rs in req.resource_spans]
            resources += [rm.resource for req in self.metrics for rm in req.resource_metrics]
        return {kv.key: kv.value.string_value for r in resources for kv in r.attributes}

    def metric_names(self) -> set[str]:
        with self.lock:
            return {
                m.name
                for req in self.metrics
                for rm in req.resource_metrics
                for sm in rm.scope_metrics
                for m in sm.metrics
            }


class HttpReceiver:
    """OTLP/HTTP (protobuf, gzip aware) on a free loopback port."""

    def __init__(self) -> None:
        self.received = Received()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                with received.lock:
                    received.headers.append({k.lower(): v for k, v in self.headers.items()})
                    if self.path == "/v1/traces":
                        msg = trace_service_pb2.ExportTraceServiceRequest()
                        msg.ParseFromString(body)
                        received.traces.append(msg)
                        reply: Message = trace_service_pb2.ExportTraceServiceResponse()
                    elif self.path == "/v1/metrics":
                        msg2 = metrics_service_pb2.ExportMetricsServiceRequest()
                        msg2.ParseFromString(body)
                        received.metrics.append(msg2)
                        reply = metrics_service_pb2.ExportMetricsServiceResponse()
                    else:
                        self.send_error(404)
                        return
                data = reply.SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GrpcReceiver:
    """OTLP/gRPC on a free loopback port."""

    def __init__(self) -> None:
        self.received = Received()
        received = self.received

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                with received.lock:
                    received.traces.append(request)
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                with received.lock:
                    received.metrics.append(request)
                return metrics_service_pb2.ExportMetricsServiceResponse()

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self.server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.endpoint = f"http://127.0.0.1:{port}"
        self.server.start()

    def close(self) -> None:
        self.server.stop(grace=None)
