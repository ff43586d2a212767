"""Where the checkout and the performance guide are, for tests that read files."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The checkout's root directory."""


def _find_guide() -> Path:
    """``shared/SEED-performance-guide.md`` beside the checkout or beside one of its parents
    (a git worktree under ``wt/`` sits one level deeper than the main clone)."""
    for folder in ROOT.parents:
        candidate = folder / "shared" / "SEED-performance-guide.md"
        if candidate.is_file():
            return candidate
    return ROOT.parent / "shared" / "SEED-performance-guide.md"


GUIDE = _find_guide()
"""The PlexiChat performance guide (the error names this path when it is missing)."""
