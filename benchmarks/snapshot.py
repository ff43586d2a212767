"""Freeze the instrumentation under test, so every round measures the same code.

Others commit to the tree while a run takes ten minutes; each server process imports
``plexichat`` afresh. ``snapshot`` extracts ``instrumentation/`` of ``HEAD`` or of any other
revision (``git archive``; a before/after comparison) or copies the working tree's, and servers
get it first on ``PYTHONPATH``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
    )
    return done.stdout.strip()


def snapshot(source: str) -> tuple[dict[str, str], str]:
    """(environment for the servers, description of the code measured)."""
    target = Path(tempfile.mkdtemp(prefix="plexichat-bench-src-"))
    commit = _git("rev-parse", "--short", "HEAD")
    if source != "worktree":
        revision = "HEAD" if source == "head" else source
        archive = subprocess.run(
            ["git", "archive", "--format=tar", revision, "instrumentation"],
            cwd=ROOT, capture_output=True, timeout=60, check=True,
        )  # fmt: skip
        with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
            tar.extractall(target, filter="data")
        described = (
            f"{commit} (HEAD, committed instrumentation only)"
            if source == "head"
            else f"{_git('rev-parse', '--short', revision)} ({revision})"
        )
    else:
        shutil.copytree(
            ROOT / "instrumentation",
            target / "instrumentation",
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
        dirty = _git("status", "--porcelain", "--", "instrumentation")
        described = f"{commit} + working tree" + (" (uncommitted changes)" if dirty else "")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(target / "instrumentation"), str(ROOT)])
    # plexichat is a namespace package (no __file__): ask one of its regular packages.
    where = subprocess.run(
        [sys.executable, "-c", "import plexichat.observability as p; print(p.__file__)"],
        env=env, capture_output=True, text=True, timeout=30, check=True,
    ).stdout.strip()  # fmt: skip
    if not where.startswith(str(target)):
        raise RuntimeError(f"snapshot not picked up: plexichat imported from {where}")
    return env, described
