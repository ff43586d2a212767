"""``service``: our own top-level section for the instrumented PlexiChat chat service."""

from pathlib import Path

from pydantic import Field

from plexichat.config.base import Section


class ServiceConfig(Section):
    """Where the chat API listens and where it keeps its data."""

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)  # 0: any free port (tests)
    data_dir: Path = Path("data")
    database_url: str | None = None  # None: SQLite file <data_dir>/plexichat.db
    seed_demo_data: bool = True
    workers: int = Field(default=1, ge=1)  # worker processes (serve --workers N)

    @property
    def effective_database_url(self) -> str:
        """The SQLAlchemy URL to use: ``database_url``, or the SQLite file in ``data_dir``."""
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'plexichat.db').as_posix()}"
