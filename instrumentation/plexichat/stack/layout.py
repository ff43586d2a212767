"""``StackDir``: where ``plexichat-obs up`` keeps everything (default ``.stack/``, git-ignored).

::

    .stack/
      up.lock              held (flock) while an `up` runs: a second one is refused
      stack.json           what runs where (URLs, PIDs, logs, profile, time scale) while it runs
      notifications.jsonl  every alert the webhook receiver got, one JSON line each
      fault                the service's runtime fault switch (`plexichat-obs fault`)
      logs/<component>.log output of each child
      prometheus/          prometheus.yml, rules/*.yaml (generated for the profile), data/
      alertmanager/        alertmanager.yml, data/
      redis/               Redis' working directory (nothing is persisted)
      postgres_exporter/   source/: its data source files (the password among them), only
                           when the service uses PostgreSQL; the directory is up's user's alone
      service/             performance.yaml (up's settings for the service), data/ (SQLite)

Configuration files are rewritten on every start; data directories survive restarts like
Compose volumes do (delete the directory to start from nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(".stack")


@dataclass(frozen=True)
class StackDir:
    """The paths of one state directory (see the module docstring)."""

    root: Path

    @property
    def lock(self) -> Path:
        """The lock file an ``up`` holds while it runs."""
        return self.root / "up.lock"

    @property
    def state(self) -> Path:
        """``stack.json``: what runs where."""
        return self.root / "stack.json"

    @property
    def notifications(self) -> Path:
        """The receiver's notification log (JSON lines)."""
        return self.root / "notifications.jsonl"

    @property
    def fault(self) -> Path:
        """The service's fault control file."""
        return self.root / "fault"

    def log(self, component: str) -> Path:
        """The log file of ``component``."""
        return self.root / "logs" / f"{component}.log"

    def component(self, name: str) -> Path:
        """The working directory of component ``name``."""
        return self.root / name

    def create(self) -> None:
        """Create the directories the components need (idempotent)."""
        for name in (
            "logs",
            "prometheus/rules",
            "prometheus/data",
            "alertmanager/data",
            "redis",
            "service/data",
        ):
            (self.root / name).mkdir(parents=True, exist_ok=True)
