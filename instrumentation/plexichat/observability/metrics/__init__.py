"""Metrics: lean hot-path series, their registry, and the readers and exporter that carry them.

Laid out as the OpenTelemetry SDK's ``sdk/metrics``: :mod:`.instruments` (pre-bound series
families), :mod:`.registry` (families converted to the SDK's data model on collection),
:mod:`.readers` (the Prometheus reader and the OTLP exporter that merge them with the SDK's
own instruments) and :mod:`.exporters` (the OTLP metric exporter from configuration).
"""
