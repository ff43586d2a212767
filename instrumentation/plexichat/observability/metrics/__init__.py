"""Metrics: lean hot-path series, their registry, and the readers and exporter that carry them.

Laid out as the OpenTelemetry SDK's ``sdk/metrics``: :mod:`.instruments` (pre-bound series
families), :mod:`.native` (native, base-2 exponential, buckets beside a histogram's classic
ones), :mod:`.registry` (families converted to the SDK's data model on collection),
:mod:`.points` (what a collection reads out), :mod:`.exposition` (the Prometheus rendering,
exemplars included), :mod:`.readers` (the OTLP exporter's merge with the SDK's own
instruments) and :mod:`.exporters` (the OTLP metric exporter from configuration).

Multi-worker mode: :mod:`.slots` (a worker's series in an mmap'ed file), :mod:`.directory`
(the slots of an instance, their liveness by ``flock``, the elected leader),
:mod:`.sharing` (a registry's series moved into its worker's slot), :mod:`.merge` (every
slot merged at collection) and :mod:`.listener` (the extra Prometheus port, on the leader).

The modules are layered, each importing only modules below it (under ``TYPE_CHECKING`` too),
so a change below never needs the ones above: storage (:mod:`.slots`, :mod:`.directory`) and
:mod:`.native`;
:mod:`.instruments`, which declares what it needs of a store as a ``Protocol``; :mod:`.points`;
:mod:`.sharing` and :mod:`.merge`, siblings handed the registry's families as a callable;
:mod:`.registry`, which wires them; :mod:`.exposition` and :mod:`.readers`, which read it.
"""
