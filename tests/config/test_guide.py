"""Every configuration snippet of the performance guide loads, and its values land in Settings."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from plexichat.config import Settings, load_settings, parse_size
from plexichat.config.files import DEFAULTS_DIR
from tests.support.paths import GUIDE

_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
_MAPPING_KEY = re.compile(r"[a-z_]+:\s*")


def guide_config_blocks() -> list[tuple[str, str]]:
    """(title, text) of each config block: every ```yaml block, and each ```python block whose
    first line of content is a top-level YAML key (the guide labels some config as python)."""
    blocks = []
    for match in _FENCE.finditer(GUIDE.read_text(encoding="utf-8")):
        language, text = match[1], match[2]
        lines = [line for line in text.splitlines() if line.strip() and line[0] != "#"]
        if language == "yaml" or (
            language == "python" and lines and _MAPPING_KEY.fullmatch(lines[0])
        ):
            title = text.splitlines()[0] if text.startswith("#") else lines[0]
            blocks.append((title.strip(), text))
    return blocks


def leaf_values(
    tree: dict[str, Any], prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], Any]]:
    found = []
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            found += leaf_values(value, (*prefix, key))
        else:
            found.append(((*prefix, key), value))
    return found


CANONICAL = {
    "latency_optimizer": ("performance", "latency_optimizer"),
    "memory_cache": ("performance", "caching", "memory_cache"),
    "redis_cache": ("performance", "caching", "redis_cache"),
    "query_cache": ("performance", "caching", "query_cache"),
    "database": ("performance", "database"),
    "api": ("performance", "api"),
    "background_tasks": ("performance", "background_tasks"),
    "metrics": ("performance", "metrics"),
    "performance": ("performance",),
}


def value_at(settings: Settings, path: tuple[str, ...]) -> Any:
    node: Any = settings
    for key in (*CANONICAL[path[0]], *path[1:]):
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    return node


def test_the_guide_is_where_the_tests_expect_it() -> None:
    assert GUIDE.is_file(), f"the guide must sit beside the repository: {GUIDE.resolve()}"


def test_the_guide_has_the_nine_config_blocks_we_know() -> None:
    titles = [title for title, _ in guide_config_blocks()]
    assert titles == [
        "# config/performance.yaml",
        "# Configuration",
        "# Configuration",
        "# Configuration",
        "# config/performance.yaml",
        "# Database performance",
        "# Metrics collection configuration",
        "# config/production/performance.yaml",
        "# config/development/performance.yaml",
    ]


@pytest.mark.parametrize(
    ("title", "text"), guide_config_blocks(), ids=lambda v: str(v).split("\n")[0][:40]
)
def test_every_value_of_a_guide_block_lands_in_settings(
    title: str, text: str, tmp_path: Path
) -> None:
    path = tmp_path / "performance.yaml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(config_file=path, environ={})
    leaves = leaf_values(yaml.safe_load(text))
    assert leaves, title
    for key_path, given in leaves:
        loaded = value_at(settings, key_path)
        if isinstance(given, str) and isinstance(loaded, int):
            given = parse_size(given)  # sizes: "512MB"
        assert loaded == given, (title, key_path)


@pytest.mark.parametrize("profile", ["development", "production"])
def test_profile_files_hold_the_guide_s_profile_configuration(profile: str) -> None:
    guide = {
        title: yaml.safe_load(text)
        for title, text in guide_config_blocks()
        if title == f"# config/{profile}/performance.yaml"
    }
    packaged = (DEFAULTS_DIR / profile / "performance.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(packaged) == guide[f"# config/{profile}/performance.yaml"]
