"""Serve one variant: ``python -m benchmarks.serve VARIANT PORT [--sink URL]``.

uvicorn with uvloop and httptools, one worker, no access log. The runner starts this under
``taskset -c 0`` and reads the process's CPU time from ``/proc``.
"""

from __future__ import annotations

import argparse

import uvicorn

from benchmarks.apps import VARIANTS, build


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve")
    parser.add_argument("variant", choices=VARIANTS)
    parser.add_argument("port", type=int)
    parser.add_argument("--sink", default=None, help="OTLP/HTTP base URL")
    parser.add_argument("--metrics-interval", type=int, default=5, help="seconds")
    args = parser.parse_args(argv)
    app = build(args.variant, args.sink, args.metrics_interval)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        workers=1,
        access_log=False,
        log_level="warning",
        lifespan="on",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
