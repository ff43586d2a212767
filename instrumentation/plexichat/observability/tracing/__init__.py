"""Tracing: the lean tracer, its spans, their OTLP encoding and the export thread.

Laid out as the OpenTelemetry SDK's ``sdk/trace``: :mod:`.tracer` (sampling and span
records), :mod:`.spans` (``span()`` for code inside a request), :mod:`.encoding` (OTLP
protobuf), :mod:`.export` (the background exporter and its transports), :mod:`.setup`
(building all of it from configuration) and :mod:`.log_context` (trace ids on log lines).
"""
