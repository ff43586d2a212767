# syntax=docker/dockerfile:1
# Image of the instrumented PlexiChat service; docker-compose.yml and the Helm chart both run it.
#   docker build -t plexichat-observability:0.1.0 .
# Configuration comes from the same PLEXICHAT_* / OTEL_* variables as everywhere else
# (see config/performance.yaml); the defaults below make it listen on 0.0.0.0:8000, keep its
# state (the SQLite database) under /data and write the performance log (slow queries, cache
# tier changes) to stdout with the access log, where `docker logs` / `kubectl logs` read it.

# Pinned to a patch release; compose/image-facts.yaml records what the bundles rely on in it.
# Python 3.11 gets security patches until 2027-10. The newest patch is what the floating tag
# points at: `docker pull python:3.11-slim-bookworm && docker run --rm python:3.11-slim-bookworm
# python -V` (or the python tags on Docker Hub); bump the tag here and its entry in the facts.
ARG PYTHON_IMAGE=python:3.11.17-slim-bookworm

# --- build: install the package and its service extras into a venv --------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY instrumentation ./instrumentation
# Only prebuilt wheels (no compiler in either stage); pip itself is dropped from the venv.
RUN /opt/venv/bin/pip install --only-binary=:all: --no-binary=plexichat-observability \
        ".[service,postgres]" \
    && /opt/venv/bin/python -m pip uninstall --yes pip

# --- runtime: the venv, a non-root user and nothing else -------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="plexichat-observability" \
      org.opencontainers.image.description="The instrumented PlexiChat chat service" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 plexichat \
    && useradd --system --uid 10001 --gid plexichat --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin plexichat \
    && mkdir /data \
    && chown plexichat:plexichat /data
COPY --from=build /opt/venv /opt/venv
# Worker processes: more than 1 needs the Redis tier and merges the workers' metrics through
# PLEXICHAT_PERFORMANCE__OBSERVABILITY__MULTIPROCESS_DIR (a tmpfs; unset: one under /dev/shm).
# Compose and the chart set both and mount a sized tmpfs.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PLEXICHAT_SERVICE__HOST=0.0.0.0 \
    PLEXICHAT_SERVICE__PORT=8000 \
    PLEXICHAT_SERVICE__DATA_DIR=/data \
    PLEXICHAT_SERVICE__WORKERS=1 \
    PLEXICHAT_PERFORMANCE__PERFORMANCE_LOG_FILE=-
USER 10001:10001
WORKDIR /data
# No VOLUME: Compose and the chart mount /data themselves, and an image VOLUME leaves an
# anonymous volume behind for every container that does not (secrets-init, one-off runs).
EXPOSE 8000
# uvicorn drains in-flight requests and runs the lifespan shutdown on SIGTERM (PID 1 here).
STOPSIGNAL SIGTERM
# Slim images have no curl or wget: the image's own Python asks /healthz.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
ENTRYPOINT ["plexichat-obs", "serve"]
