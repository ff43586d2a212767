"""``plexichat-obs serve`` honours async_settings.event_loop_policy and max_connections."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

import pytest

from plexichat.config import ConfigError, Settings, load_settings
from plexichat.service import server


def _settings(tmp_path: Path, policy: str, max_connections: int = 1000) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "service": {"data_dir": str(tmp_path)},
            "performance": {
                "monitoring_enabled": False,
                "async_settings": {"event_loop_policy": policy},
                "resource_limits": {"max_connections": max_connections},
            },
        },
    )


@pytest.mark.parametrize("policy", ["asyncio", "uvloop"])
def test_the_configured_event_loop_runs(tmp_path: Path, policy: str) -> None:
    if policy == "uvloop" and importlib.util.find_spec("uvloop") is None:
        pytest.skip("uvloop is not installed")
    config = server.uvicorn_config(_settings(tmp_path, policy, 7))
    assert config.loop == policy
    assert config.limit_concurrency == 7
    factory = config.get_loop_factory()
    assert factory is not None
    loop = factory()
    try:
        expected = "uvloop" if policy == "uvloop" else "asyncio"
        assert type(loop).__module__.split(".")[0] == expected
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_uvloop_asked_for_but_missing_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="event_loop_policy"):
        server.event_loop(_settings(tmp_path, "uvloop"))


def test_several_workers_without_the_redis_tier_are_refused(tmp_path: Path) -> None:
    settings = load_settings(
        environ={}, overrides={"service": {"data_dir": str(tmp_path), "workers": 2}}
    )
    with pytest.raises(ConfigError, match=r"performance\.caching\.redis_cache\.enabled"):
        server.serve(settings)
    assert not (tmp_path / "plexichat.db").exists()  # refused before touching anything


@pytest.mark.parametrize(
    ("given", "uvicorn_level"), [("warn", "warning"), ("DEBUG", "debug"), ("Info", "info")]
)
def test_the_server_log_level_takes_the_configuration_s_spellings(
    tmp_path: Path, given: str, uvicorn_level: str
) -> None:
    """One rule for log levels (``config.scalars.log_level``), for ``performance_logging_level``
    and ``serve --log-level`` alike; uvicorn gets its lowercase name."""
    config = server.uvicorn_config(_settings(tmp_path, "asyncio"), log_level=given)
    assert config.log_level == uvicorn_level
    with pytest.raises(ValueError, match="not a log level"):
        server.server_options(_settings(tmp_path, "asyncio"), log_level="loud")
