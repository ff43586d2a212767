"""``plexichat`` and ``plexichat.core`` are namespace packages (PEP 420): this distribution
installs beside an application that owns other ``plexichat.*`` modules, as the guide's own
``plexichat.core.*`` import path implies.

Both distributions are really built and installed by pip into one target directory (our wheel
from this checkout, and a small second distribution providing ``plexichat/core/other.py``),
then a fresh interpreter that cannot see the checkout imports from both.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.support.paths import ROOT

pytestmark = pytest.mark.integration

OTHER_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "plexichat-other-app"
version = "1.0"

[tool.setuptools.packages.find]
namespaces = true
"""

PROBE = textwrap.dedent(
    """\
    import json, sys
    # Drop the checkout (the editable install's path entry): only the target directory counts.
    sys.path[:] = [p for p in sys.path if not p.rstrip("/").endswith("instrumentation")]
    import plexichat
    import plexichat.core.other
    import plexichat.core.performance
    from plexichat.core.logging_unified import get_performance_logger
    from plexichat.observability import __version__
    print(json.dumps({
        "plexichat_file": getattr(plexichat, "__file__", None),
        "other": plexichat.core.other.ANSWER,
        "other_file": plexichat.core.other.__file__,
        "performance_file": plexichat.core.performance.__file__,
        "logger": type(get_performance_logger()).__name__,
        "version": __version__,
    }))
    """
)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our distribution and the other one, installed by pip into one directory."""
    root = tmp_path_factory.mktemp("namespace")
    other = root / "other"
    (other / "plexichat" / "core").mkdir(parents=True)
    (other / "pyproject.toml").write_text(OTHER_PYPROJECT, encoding="utf-8")
    (other / "plexichat" / "core" / "other.py").write_text("ANSWER = 42\n", encoding="utf-8")
    # A copy of what the sdist holds, so pip's in-tree build writes nothing into the checkout.
    ours = root / "ours"
    ours.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, ours / name)
    shutil.copytree(
        ROOT / "instrumentation",
        ours / "instrumentation",
        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
    )
    target = root / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--quiet"]
    subprocess.run(
        [*pip, "--no-deps", "--target", str(target), str(ours), str(other)],
        check=True,
        capture_output=True,
        cwd=root,
    )
    return target


def test_both_distributions_import_side_by_side(target: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        cwd=target,
    )
    found = json.loads(result.stdout)
    assert found["plexichat_file"] is None  # a namespace package has no __init__.py
    assert found["other"] == 42
    assert Path(found["other_file"]).is_relative_to(target)
    assert Path(found["performance_file"]).is_relative_to(target)
    assert found["logger"] == "PerformanceLogger"
    assert found["version"] == "0.1.0"


def test_the_wheel_marks_every_package_typed_and_no_namespace(target: Path) -> None:
    plexichat = target / "plexichat"
    assert not (plexichat / "__init__.py").exists()
    assert not (plexichat / "core" / "__init__.py").exists()
    # PEP 561: py.typed in each regular package, never in a shared namespace directory.
    assert not (plexichat / "py.typed").exists()
    assert not (plexichat / "core" / "py.typed").exists()
    packages = [p.parent for p in plexichat.glob("**/__init__.py")]
    top_level = {
        p for p in packages if (p.parent / "__init__.py").exists() is False and p != plexichat
    }
    assert {p.relative_to(plexichat).as_posix() for p in top_level} == {
        "catalog",
        "config",
        "core/logging_unified",
        "core/performance",
        "generate",
        "loadgen",
        "observability",
        "service",
        "stack",
    }
    for package in top_level:
        assert (package / "py.typed").is_file(), package
    assert (plexichat / "catalog" / "metrics.yaml").is_file()
    assert (plexichat / "config" / "defaults" / "production" / "performance.yaml").is_file()
