"""Throughput/CPU benchmark of PlexiChat's HTTP instrumentation against its peers.

Run it with ``scripts/bench`` (see ``docs/benchmarks.md``). Modules: ``apps`` (one FastAPI app
per variant, same endpoint), ``serve`` (uvicorn in its own process), ``sink`` (OTLP/HTTP sink
that discards what it gets), ``load`` (wrk and /proc CPU accounting), ``runner`` (interleaved
rounds), ``report`` (medians, spreads, ratios and verdicts).
"""
